"""Renderings of a footprint: the stable JSON, iLEAP/PACT, CSV tables, GeoJSON, PDF.

The PDF renderer (ReportLab) is imported lazily: ``footprint_report_pdf`` loads it on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenlane.emissions.report.footprint_json import footprint_to_dict, tce_to_dict
from greenlane.emissions.report.geojson import footprints_to_geojson
from greenlane.emissions.report.ileap import to_ileap_shipment_footprint, to_ileap_tad
from greenlane.emissions.report.pact import to_pact_product_footprint
from greenlane.emissions.report.tables import (
    SummaryRow,
    footprints_to_csv,
    summary_rows,
    summary_to_csv,
    write_csv,
    write_summary_csv,
)

if TYPE_CHECKING:
    from greenlane.emissions.report.pdf import footprint_report_pdf

__all__ = [
    "SummaryRow",
    "footprint_report_pdf",
    "footprint_to_dict",
    "footprints_to_csv",
    "footprints_to_geojson",
    "summary_rows",
    "summary_to_csv",
    "tce_to_dict",
    "to_ileap_shipment_footprint",
    "to_ileap_tad",
    "to_pact_product_footprint",
    "write_csv",
    "write_summary_csv",
]


def __getattr__(name: str) -> Any:
    if name == "footprint_report_pdf":
        from greenlane.emissions.report.pdf import footprint_report_pdf

        return footprint_report_pdf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
