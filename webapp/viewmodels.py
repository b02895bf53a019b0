"""Ready-made dictionaries for the UI templates and their scripts (no arithmetic in Jinja).

Numbers come from the stored plan (``routing.plan_to_dict``), the stored footprints
(``emissions.report.footprints_to_geojson``) and the target trajectory
(``emissions.intensity.default_target``); this module only selects and labels them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy.engine import Row

from greenlane.emissions.intensity import default_target
from greenlane.emissions.report.geojson import footprints_to_geojson
from greenlane.emissions.units import intensity_g_per_tkm, kg_to_t
from greenlane.webapp import store
from greenlane.webapp.db import as_utc

OBJECTIVES = {
    "cheapest": "Cheapest",
    "greenest": "Greenest",
    "carbon_price": "Carbon price",
    "target": "Meet the target",
}
MODE_LABELS = {
    "road": "Road",
    "rail": "Rail",
    "sea": "Sea",
    "air": "Air",
    "inland_water": "Inland water",
}
REPORT_FORMATS = (
    ("csv", "CSV"),
    ("geojson", "GeoJSON"),
    ("pdf", "PDF"),
    ("ileap.json", "iLEAP JSON"),
)


def objective_label(options: dict[str, Any]) -> str:
    """How the plan was asked for, in the UI's words (with its market scenario, if any)."""
    if options.get("objective") == "co2e":
        label = OBJECTIVES["greenest"]
    elif options.get("co2e_cap_kg"):
        label = f"Trade-off point (≤ {options['co2e_cap_kg']:,.0f} kg CO2e)"
    elif options.get("target_year"):
        label = f"{OBJECTIVES['target']} ({options['target_year']})"
    elif options.get("carbon_price_cny_per_t"):
        label = f"{OBJECTIVES['carbon_price']} ({options['carbon_price_cny_per_t']:g} CNY/t)"
    else:
        label = OBJECTIVES["cheapest"]
    return " · ".join([label, *scenario_labels(options)])


def scenario_labels(options: dict[str, Any]) -> list[str]:
    """A plan's market scenario in words: ``EUA at 120 EUR/t``, ``bunker +30 %`` (from request
    options or a plan JSON's ``options.scenario``)."""
    values = {**(options.get("scenario") or {}), **options}
    out = []
    if values.get("eua_eur_per_t") is not None:
        out.append(f"EUA at {values['eua_eur_per_t']:g} EUR/t")
    for key, word in (
        ("bunker_price_factor", "bunker"),
        ("jet_price_factor", "jet fuel"),
        ("rate_card_index", "rate cards"),
    ):
        factor = values.get(key)
        if factor is not None and factor != 1.0:
            out.append(f"{word} {(factor - 1) * 100:+.4g} %")
    return out


def _time(text: str | None) -> str:
    if not text:
        return ""
    return datetime.fromisoformat(text).strftime("%Y-%m-%d %H:%M")


def plan_year(row: Row[Any]) -> int:
    """The year a plan's KPI point is drawn at: its target year, else its first departure."""
    year = (row.result.get("options") or {}).get("target_year")
    if year:
        return int(year)
    starts = [s["ready_at"] for s in row.request.get("shipments", []) if s.get("ready_at")]
    if starts:
        return datetime.fromisoformat(min(starts)).year
    return as_utc(row.created_at).year  # type: ignore[union-attr]


def summary_view(row: Row[Any]) -> dict[str, Any]:
    """Headline numbers of a plan."""
    s = row.result["summary"]
    options = row.result.get("options") or {}
    solver = row.result.get("solver") or {}
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "state": row.state,
        "objective": objective_label(options),
        "created_at": as_utc(row.created_at).strftime("%Y-%m-%d %H:%M UTC"),  # type: ignore[union-attr]
        "accepted_at": (
            as_utc(row.accepted_at).strftime("%Y-%m-%d %H:%M UTC")  # type: ignore[union-attr]
            if row.accepted_at
            else None
        ),
        "shipments_planned": s["shipments_planned"],
        "shipments_unplanned": s["shipments_unplanned"],
        "cost_cny": s["cost_cny"],
        "regulatory_cost_cny": s.get("regulatory_cost_cny"),
        "internal_carbon_cost_cny": s.get("internal_carbon_cost_cny"),
        "co2e_wtw_kg": s["co2e_wtw_kg"],
        "co2e_ttw_kg": s["co2e_ttw_kg"],
        "co2e_wtw_t": kg_to_t(s["co2e_wtw_kg"]),
        "intensity_g_per_tkm": s["intensity_g_per_tkm"],
        # The reports' basis: WTW over tonne-km on the shortest feasible distance (SFD).
        "intensity_actual_g_per_tkm": intensity_g_per_tkm(s["co2e_wtw_kg"], s["tkm"]),
        "on_time_share": s["on_time_share"],
        "on_time_pct": round(100 * s["on_time_share"]),
        "primary_pct": round(100 * float(s.get("primary_data_share") or 0.0)),
        "tkm": s["tkm"],
        "solver_status": solver.get("status", ""),
        "wall_s": solver.get("wall_s"),
        "gap": solver.get("gap"),
        "shadow_price": solver.get("shadow_price_cny_per_t"),
        "target_message": solver.get("message"),
        "dataset_id": row.dataset_id or "default",
        "dataset_sha256": str(dict(row.data_sha256).get("dataset", "")),
    }


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """Readable names of vehicle types and energy carriers (``data/`` tables) by id."""
    from greenlane.emissions.factors import load_factors
    from greenlane.fleet.catalog import vehicle_types

    vehicles = {k: v.name for k, v in vehicle_types().items()}
    carriers = {k: c.name for k, c in load_factors().carriers.items()}
    return vehicles, carriers


def _place_names(row: Row[Any]) -> dict[str, str]:
    """Hub and site names by id (the network of the dataset the plan was made on)."""
    from greenlane.webapp import datasets

    ds = datasets.dataset_of((row.request.get("options") or {}).get("dataset_id"))
    return {h.hub_id: h.name for h in datasets.network_of(ds).hubs.values()}


COST_LABELS = {
    "freight": "freight",
    "energy": "energy",
    "toll": "toll",
    "eu_ets": "EU ETS",
    "fueleu": "FuelEU",
    "saf_mandate": "SAF mandate",
    "ets2": "ETS2",
}
"""Display names of the leg cost components (``legs[].cost_breakdown``)."""


def cost_parts(breakdown: dict[str, Any]) -> list[tuple[str, Any]]:
    """(label, CNY) of a leg's non-zero cost components, in :data:`COST_LABELS` order."""
    return [(label, breakdown[k]) for k, label in COST_LABELS.items() if breakdown.get(k)]


def shipment_views(row: Row[Any]) -> list[dict[str, Any]]:
    """Per-shipment tables: legs with times, cost, CO2e WTW/TTW and intensity."""
    out = []
    vehicles, carriers = _names()
    places = _place_names(row)
    intensity_by_tce: dict[str, float] = {}
    for fp in row.result["shipments"]:
        for leg in (fp.get("footprint") or {}).get("legs", []):
            intensity_by_tce[leg["tce_id"]] = leg.get("intensity_wtw_g_per_tkm")
    for s in row.result["shipments"]:
        tces = [t for t in (s.get("footprint") or {}).get("legs", []) if t["kind"] == "leg"]
        resolved = _resolved(s)
        places = {**places, **{r["hub_id"]: r["name"] for r in resolved}}
        legs = []
        for i, leg in enumerate(s["legs"]):
            tce = tces[i] if i < len(tces) else {}
            legs.append(
                {
                    "mode": leg["mode"],
                    "mode_label": MODE_LABELS.get(leg["mode"], leg["mode"]),
                    "origin": leg["origin"],
                    "destination": leg["destination"],
                    "vehicle": leg["vehicle_id"],
                    "carrier": leg["energy_carrier"],
                    "vehicle_name": vehicles.get(leg["vehicle_id"], leg["vehicle_id"]),
                    "carrier_name": carriers.get(leg["energy_carrier"], leg["energy_carrier"]),
                    "origin_name": places.get(leg["origin"], leg["origin"]),
                    "destination_name": places.get(leg["destination"], leg["destination"]),
                    "departure": _time(leg["departure_at"]),
                    "arrival": _time(leg["arrival_at"]),
                    "distance_km": leg["distance_km"],
                    "cost_cny": leg["cost_cny"],
                    "cost_parts": cost_parts(leg.get("cost_breakdown") or {}),
                    "price_basis": "; ".join(
                        [leg.get("price_basis", "operating_cost"), *leg.get("price_rules", [])]
                    ),
                    "co2e_wtw_kg": leg["co2e_wtw_kg"],
                    "co2e_ttw_kg": leg["co2e_ttw_kg"],
                    "intensity_g_per_tkm": tce.get("intensity_wtw_g_per_tkm"),
                    "shared_with": leg.get("shipments_sharing", 1),
                    "service_id": leg.get("service_id") or "",
                    "cutoff": _time(leg.get("cutoff_at")),
                    "data_quality": leg.get("data_quality") or "modelled",
                    "transport_carrier": leg.get("carrier") or "",
                    "customs_h": (leg.get("customs_dwell_h") or 0.0)
                    + (leg.get("customs_en_route_h") or 0.0),
                    "customs_rule": "; ".join(
                        r for r in (leg.get("customs_rule"), leg.get("customs_en_route_rule")) if r
                    ),
                }
            )
        hub_wtw = [t for t in (s.get("footprint") or {}).get("legs", []) if t["kind"] == "hub"]
        out.append(
            {
                "shipment_id": s["shipment_id"],
                "origin": s["origin"],
                "destination": s["destination"],
                "mass_t": s["mass_t"],
                "path": s.get("path", ""),
                "cost_cny": s["cost_cny"],
                "co2e_wtw_kg": s["co2e_wtw_kg"],
                "co2e_ttw_kg": s["co2e_ttw_kg"],
                "intensity_g_per_tkm": s["intensity_g_per_tkm"],
                "arrival": _time(s["arrival_at"]),
                "due": _time(s["due_at"]),
                "on_time": s["on_time"],
                "legs": legs,
                "hubs": len(hub_wtw),
                "hub_co2e_wtw_kg": [h["co2e_wtw_kg"] for h in hub_wtw],
                "resolved": resolved,
            }
        )
    return out


def _resolved(s: dict[str, Any]) -> list[dict[str, Any]]:
    """Where the shipment's places resolved, for the ends not given as a hub id."""
    out = []
    for end in ("origin", "destination"):
        r = s.get(f"{end}_resolved")
        if r and r["query"] != r["hub_id"]:
            links = ", ".join(f"{x['hub_id']} {x['gcd_km']:.0f} km" for x in r["road_links"])
            out.append({**r, "end": end, "links": links})
    return out


def chart_data(row: Row[Any]) -> dict[str, Any]:
    """Trade-off points, the chosen point, and the intensity trajectory with the plan's KPI."""
    target = default_target()
    s = row.result["summary"]
    return {
        "pareto": [
            {"x": p["co2e_wtw_kg"], "y": p["cost_cny"], "intensity": p["intensity_g_per_tkm"]}
            for p in (row.pareto or [])
        ],
        "chosen": {
            "x": s["co2e_wtw_kg"],
            "y": s["cost_cny"],
            "intensity": s["intensity_g_per_tkm"],
        },
        "trajectory": [{"x": y, "y": v} for y, v in target.trajectory()],
        "baseline": {"year": target.baseline_year, "value": target.baseline_intensity_g_per_tkm},
        "target": {
            "year": target.target_year,
            "value": target.intensity_g_per_tkm(target.target_year),
            "reduction_pct": round(100 * target.reduction_share),
        },
        "plan_point": {"x": plan_year(row), "y": s["intensity_g_per_tkm"]},
        "target_source": target.source,
    }


def map_geojson(row: Row[Any]) -> dict[str, Any]:
    """The plan's TCEs as GeoJSON (legs along their geometry, hubs as points)."""
    return footprints_to_geojson(store.footprints_from_json(row.footprints))


def stop_route_views(row: Row[Any]) -> list[dict[str, Any]]:
    """The stop-level first/last-mile routes as stored (``plan_to_dict['stop_routes']``)."""
    out = []
    for r in row.result.get("stop_routes", []):
        out.append(
            {
                **r,
                "departure": _time(r["departure_at"]),
                "return": _time(r["return_at"]),
                "leg_label": "first mile" if r["leg"] == "first_mile" else "last mile",
                "sequence": " → ".join([r["depot"], *(s["site"] for s in r["stops"]), r["depot"]]),
            }
        )
    return out


def plan_page(row: Row[Any]) -> dict[str, Any]:
    """Everything the results page shows."""
    return {
        "summary": summary_view(row),
        "shipments": shipment_views(row),
        "unplanned": row.result.get("unplanned", []),
        "stop_routes": stop_route_views(row),
        "stop_dropped": row.result.get("stop_dropped", []),
        "stop_level_routing": bool(row.result.get("options", {}).get("stop_level_routing")),
        "charts": chart_data(row),
        "geojson": map_geojson(row),
        "formats": REPORT_FORMATS,
        "modes": sorted({leg["mode"] for s in row.result["shipments"] for leg in s["legs"]}),
        "scenario_of": row.request.get("scenario_of"),
        "pinned": row.request.get("pinned") or [],
    }


SHIPMENT_COLUMNS = (
    ("Shipment", "shipment_id"),
    ("Origin", "origin"),
    ("Destination", "destination"),
    ("Mass [t]", "mass_t"),
    ("Path", "path"),
    ("Cost [CNY]", "cost_cny"),
    ("CO2e WTW [kg]", "co2e_wtw_kg"),
    ("CO2e TTW [kg]", "co2e_ttw_kg"),
    ("g CO2e/tkm (great-circle)", "intensity_g_per_tkm"),
    ("Arrival (UTC)", "arrival"),
    ("Due (UTC)", "due"),
    ("On time", "on_time"),
)
LEG_COLUMNS = (
    ("Mode", "mode_label"),
    ("From", "origin_name"),
    ("From id", "origin"),
    ("To", "destination_name"),
    ("To id", "destination"),
    ("Vehicle", "vehicle_name"),
    ("Energy", "carrier_name"),
    ("Departure (UTC)", "departure"),
    ("Arrival (UTC)", "arrival"),
    ("Distance [km]", "distance_km"),
    ("Cost [CNY]", "cost_cny"),
    ("CO2e WTW [kg]", "co2e_wtw_kg"),
    ("CO2e TTW [kg]", "co2e_ttw_kg"),
    ("g CO2e/tkm (SFD)", "intensity_g_per_tkm"),
)


def shipments_xlsx(
    name: str,
    shipments: list[dict[str, Any]],
    provenance: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The shipment table as a workbook: one sheet of shipments, one of legs, and (if given)
    a ``Provenance`` sheet of ``(item, value)`` rows (plan, dataset id and sha256, ...).

    Text is stored as text (``data_type='s'``), so an id like ``=1+1`` never becomes a
    formula; numbers stay numbers.
    """
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    def put(ws: Any, values: list[Any]) -> None:
        ws.append(values)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text, never a formula

    wb = Workbook()
    ships = wb.worksheets[0]
    ships.title = "Shipments"
    legs = wb.create_sheet("Legs")
    put(ships, [label for label, _ in SHIPMENT_COLUMNS])
    put(legs, ["Shipment"] + [label for label, _ in LEG_COLUMNS])
    for sheet in (ships, legs):
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
    for s in shipments:
        put(ships, [_cell(s, k) for _, k in SHIPMENT_COLUMNS])
        for leg in s["legs"]:
            put(legs, [s["shipment_id"]] + [leg[k] for _, k in LEG_COLUMNS])
    if provenance:
        about = wb.create_sheet("Provenance")
        put(about, ["Item", "Value"])
        about["A1"].font = about["B1"].font = Font(bold=True)
        for item, value in provenance:
            put(about, [item, value])
    wb.properties.title = name
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def provenance_rows(row: Row[Any]) -> list[tuple[str, str]]:
    """What a plan was made from: plan id, dataset id and sha256, data hashes, software."""
    hashes = dict(row.data_sha256)
    out = [
        ("plan_id", str(row.id)),
        ("dataset_id", str(row.dataset_id or "default")),
        ("dataset_sha256", str(hashes.get("dataset", ""))),
    ]
    out += [(f"data_sha256.{k}", str(v)) for k, v in sorted(hashes.items()) if k != "dataset"]
    out.append(("software_version", str(row.software_version)))
    return out


def _cell(shipment: dict[str, Any], key: str) -> Any:
    value = shipment[key]
    if key == "on_time":
        return "yes" if value else "no"
    return value


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Side-by-side rows of two plans' headline numbers with the change B - A."""
    metrics = (
        ("Cost [CNY]", "cost_cny", 0),
        ("CO2e WTW [kg]", "co2e_wtw_kg", 0),
        ("CO2e TTW [kg]", "co2e_ttw_kg", 0),
        ("Intensity, great-circle basis [g CO2e/tkm]", "intensity_g_per_tkm", 2),
        ("Intensity, SFD [g CO2e/tkm]", "intensity_actual_g_per_tkm", 2),
        ("On time [%]", "on_time_pct", 0),
        ("Shipments planned", "shipments_planned", 0),
    )
    rows = []
    for label, key, dp in metrics:
        va, vb = a[key], b[key]
        delta = vb - va
        pct = (100 * delta / va) if va else None
        rows.append({"label": label, "a": va, "b": vb, "delta": delta, "pct": pct, "dp": dp})
    return rows


def compare_paths(row_a: Row[Any], row_b: Row[Any]) -> list[dict[str, Any]]:
    """Per shipment: the path each plan chose."""
    pa = {s["shipment_id"]: s for s in row_a.result["shipments"]}
    pb = {s["shipment_id"]: s for s in row_b.result["shipments"]}
    out = []
    for sid in sorted(set(pa) | set(pb)):
        sa, sb = pa.get(sid), pb.get(sid)
        out.append(
            {
                "shipment_id": sid,
                "a": " → ".join(leg["mode"] for leg in sa["legs"]) if sa else "unplanned",
                "b": " → ".join(leg["mode"] for leg in sb["legs"]) if sb else "unplanned",
                "a_co2e": sa["co2e_wtw_kg"] if sa else None,
                "b_co2e": sb["co2e_wtw_kg"] if sb else None,
                "same": bool(sa and sb and sa.get("path") == sb.get("path")),
            }
        )
    return out
