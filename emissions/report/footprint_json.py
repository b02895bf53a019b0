"""The greenlane footprint JSON: stable field names integrations read."""

from __future__ import annotations

from typing import Any

from greenlane.emissions.chain import primary_data_share, wtw_by_data_type
from greenlane.emissions.model import TCE, Footprint, Location
from greenlane.emissions.report._decimal import num


def _loc(loc: Location | None) -> dict[str, Any] | None:
    if loc is None:
        return None
    out: dict[str, Any] = {"lat": loc.lat, "lon": loc.lon}
    for key in ("name", "locode", "iata", "country"):
        if getattr(loc, key):
            out[key] = getattr(loc, key)
    return out


def tce_to_dict(tce: TCE) -> dict[str, Any]:
    """One TCE or hub as a JSON object [kg CO2e, km, tkm, MJ, g CO2e/tkm].

    ``distance_km`` is the SFD the activity ``tkm`` is on; ``distance_actual_km`` the distance
    covered that the energy is on.
    """
    return {
        "tce_id": tce.tce_id,
        "prev_tce_ids": list(tce.prev_tce_ids),
        "kind": tce.kind,
        "mode": str(tce.mode) if tce.mode else None,
        "hub": tce.hub,
        "mass_t": tce.mass_t,
        "distance_km": num(tce.distance_km),
        "distance_basis": str(tce.distance_basis) if tce.distance_basis else None,
        "distance_actual_km": (
            num(tce.distance_actual_km) if tce.distance_actual_km is not None else None
        ),
        "tkm": num(tce.activity_tkm),
        "energy_mj": num(tce.energy_mj) if tce.energy_mj is not None else None,
        "energy_carrier": tce.energy_carrier,
        "co2e_wtw_kg": num(tce.co2e_wtw_kg),
        "co2e_ttw_kg": num(tce.co2e_ttw_kg),
        "co2e_wtt_kg": num(tce.co2e_wtt_kg),
        "co2e_refrigerant_kg": num(tce.co2e_refrigerant_kg),
        "temperature_control": tce.temperature_control,
        "intensity_wtw_g_per_tkm": num(tce.intensity_wtw_g_per_tkm),
        "intensity_ttw_g_per_tkm": num(tce.intensity_ttw_g_per_tkm),
        "method": str(tce.method),
        "data_type": str(tce.data_type),
        "toc_id": tce.toc_id,
        "hoc_id": tce.hoc_id,
        "origin": _loc(tce.origin),
        "destination": _loc(tce.destination),
        "factors": [f.to_dict() for f in tce.factors],
        "rules": list(tce.rules),
    }


def footprint_to_dict(fp: Footprint) -> dict[str, Any]:
    """The footprint document printed by ``greenlane footprint`` and served by the API."""
    t = fp.totals
    return {
        "shipment_id": fp.shipment_id,
        "mass_t": fp.mass_t,
        "totals": {
            "co2e_wtw_kg": num(t.co2e_wtw_kg),
            "co2e_ttw_kg": num(t.co2e_ttw_kg),
            "co2e_wtt_kg": num(t.co2e_wtt_kg),
            "tkm": num(t.tkm),
            "distance_km": num(t.distance_km),
            "intensity_wtw_g_per_tkm": num(t.intensity_wtw_g_per_tkm),
            "intensity_ttw_g_per_tkm": num(t.intensity_ttw_g_per_tkm),
        },
        "legs": [tce_to_dict(x) for x in fp.tces],
        "data_quality": {
            "primary_data_share": num(primary_data_share(fp.tces)),
            "co2e_wtw_kg_by_data_type": {k: num(v) for k, v in wtw_by_data_type(fp.tces).items()},
        },
        "method": {
            "standard": "ISO 14083:2023; GLEC Framework v3",
            "scope": "well-to-wheel = well-to-tank + tank-to-wheel, kg CO2e",
            "factor_set": fp.factor_set,
            "gwp_basis": fp.gwp_basis,
            "data_sha256": fp.data_sha256,
        },
        **({"meta": dict(fp.meta)} if fp.meta else {}),
    }
