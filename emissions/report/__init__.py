"""Renderings of a footprint: the stable JSON, iLEAP ShipmentFootprint, tables."""

from emissions.report.footprint_json import footprint_to_dict, tce_to_dict
from emissions.report.ileap import to_ileap_shipment_footprint

__all__ = ["footprint_to_dict", "tce_to_dict", "to_ileap_shipment_footprint"]
