"""Shared fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@pytest.fixture
def ileap_schema():
    """Load an iLEAP/PACT JSON schema by file name, as a draft-07 validator."""
    from jsonschema import Draft7Validator

    def _load(name: str) -> Draft7Validator:
        return Draft7Validator(json.loads((TESTS / "data" / "ileap" / name).read_text()))

    return _load


@pytest.fixture
def example_chain() -> dict:
    """The demo chain truck–terminal–electric rail–terminal–truck (CLECAT Case A shape)."""
    return json.loads((ROOT / "data" / "examples" / "clecat_case_a_de_580km.json").read_text())
