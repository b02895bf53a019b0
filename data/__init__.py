"""Reference data of greenlane: CSV/GeoJSON tables, each row with its source."""

from pathlib import Path

__all__ = ["DATA_DIR"]

DATA_DIR = Path(__file__).resolve().parent
"""Folder holding the shipped reference tables."""
