"""Inputs and results of first/last-mile vehicle routing.

Times are hours from the plan start [h]; masses kg, volumes m3, distances km, energy MJ (a
battery level kWh, a hydrogen level kg), money CNY, emissions kg CO2e.
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import Field

from greenlane.data import DATA_DIR
from greenlane.emissions.errors import InputError
from greenlane.emissions.model import DistanceBasis
from greenlane.emissions.tables import OptFloat, TableRow, Text, Year, read_table, within
from greenlane.fleet.model import EnergyPrices, VehicleType

STOP_KINDS = ("delivery", "pickup")
"""``delivery``: loaded at the depot, unloaded at the stop; ``pickup``: the reverse."""
StationKind = Literal["charging", "swap", "hydrogen"]
STATION_KINDS: tuple[str, ...] = get_args(StationKind)
"""Charging and swap stations serve battery vehicles, hydrogen stations fuel-cell vehicles."""
STATION_TABLE = "charging_stations.csv"


@dataclass(frozen=True, slots=True)
class Depot:
    """A hub where vehicles start and end, open from ``open_h`` to ``close_h`` [h]."""

    depot_id: str
    lat: float
    lon: float
    open_h: float = 0.0
    close_h: float = 24.0
    region: str | None = None

    @classmethod
    def from_hub(cls, hub: Any, open_h: float = 0.0, close_h: float = 24.0) -> Depot:
        """A depot at a ``routing.network.model.Hub`` (uses its id, position and price region)."""
        return cls(hub.hub_id, hub.lat, hub.lon, open_h, close_h, getattr(hub, "region", None))


@dataclass(frozen=True, slots=True)
class Stop:
    """A customer visit: demand [kg, m3, pallets], service [h], time window [h].

    ``drop_penalty_cny`` makes the stop optional at that price; a mandatory stop (None) that
    cannot be served is still reported, with its reason, never silently dropped.
    ``depot_id`` limits the stop to vehicles based at that depot.
    """

    stop_id: str
    lat: float
    lon: float
    kind: str = "delivery"
    mass_kg: float = 0.0
    volume_m3: float = 0.0
    pallets: float = 0.0
    service_h: float = 0.0
    tw_start_h: float = 0.0
    tw_end_h: float | None = None
    drop_penalty_cny: float | None = None
    depot_id: str | None = None


@dataclass(frozen=True, slots=True)
class FleetEntry:
    """``count`` vehicles of a ``fleet`` type based at a depot.

    ``carrier`` defaults to the vehicle's regional carrier (grid mix) at the depot;
    ``volume_m3``/``pallets`` are needed only when stops state those demands;
    ``initial_charge_share``/``reserve_share`` [-] set the battery/tank level at departure and
    the level never to go below. ``vehicle`` overrides the catalogue row (scenarios, tests).

    Battery-electric entries may set their own ``battery_kwh``, empty-vehicle consumption
    ``consumption_kwh_per_km``, payload slope ``consumption_kwh_per_tkm`` (consumption =
    empty + slope x payload [t]; None keeps the vehicle type's) and ``charge_power_kw``;
    ``charge_curve`` makes charging non-linear: segments ``(state of charge up to [-], power
    [kW])`` with rising states ending at 1.0 and power never rising (e.g. ``((0.8, 150.0),
    (1.0, 50.0))``: full power to 80 %, a third above, the constant-current / constant-voltage
    shape of lithium-ion charging modelled piecewise-linearly by Montoya et al. 2017,
    Transportation Research Part B 103:87-110). A station's own power caps every segment.
    """

    type_id: str
    count: int = 1
    depot_id: str | None = None
    end_depot_id: str | None = None
    carrier: str | None = None
    volume_m3: float | None = None
    pallets: float | None = None
    shift_h: float | None = None
    initial_charge_share: float = 1.0
    reserve_share: float = 0.0
    vehicle: VehicleType | None = None
    battery_kwh: float | None = None
    consumption_kwh_per_km: float | None = None
    consumption_kwh_per_tkm: float | None = None
    charge_power_kw: float | None = None
    charge_curve: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True, slots=True)
class Station:
    """A public charging, battery-swap or hydrogen station.

    A visit refills at ``power_kw`` [kW] or ``h2_kg_per_h`` [kg/h] (the vehicle's own rate or
    charging curve when lower, or when the station states none): to full with the OR-Tools
    engine, partially (what the route needs) with the E-VRPTW engine; a swap takes
    ``swap_time_h`` [h].
    """

    station_id: str
    name: str
    kind: str
    lat: float
    lon: float
    power_kw: float | None = None
    h2_kg_per_h: float | None = None
    swap_time_h: float | None = None
    source: str = ""
    status: str = "operating"


@dataclass(frozen=True, slots=True)
class DistanceMatrix:
    """User road distances [km] between place ids (depots, stops, stations), row -> column."""

    ids: tuple[str, ...]
    km: tuple[tuple[float, ...], ...]

    def __post_init__(self) -> None:
        n = len(self.ids)
        if len(set(self.ids)) != n or len(self.km) != n or any(len(r) != n for r in self.km):
            raise InputError(
                "the distance matrix must be square with unique ids", field="distance_matrix"
            )
        if any(v < 0 for r in self.km for v in r):
            raise InputError("distances must be >= 0", field="distance_matrix")

    def lookup(self) -> dict[str, int]:
        """Row/column index of each id."""
        return {pid: i for i, pid in enumerate(self.ids)}


def read_distance_matrix(path: str | Path) -> DistanceMatrix:
    """A user matrix from JSON ``{"ids": [...], "distance_km": [[...]]}`` or a CSV whose header
    is ``id,<id1>,<id2>,...`` and whose rows start with their id [km]."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".json":
            doc = json.loads(path.read_text(encoding="utf-8"))
            return DistanceMatrix(
                tuple(doc["ids"]), tuple(tuple(float(x) for x in r) for r in doc["distance_km"])
            )
        with open(path, encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
        ids = tuple(h.strip() for h in rows[0][1:])
        by_id = {r[0].strip(): tuple(float(x) for x in r[1:]) for r in rows[1:] if r}
        return DistanceMatrix(ids, tuple(by_id[i] for i in ids))
    except (OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise InputError(f"cannot read distance matrix: {exc}", field="distance_matrix") from None


class StationRow(TableRow):
    """A row of ``charging_stations.csv``: a charging, swap or hydrogen station."""

    station_id: Text
    name: Text
    kind: StationKind
    lat: Annotated[float, Field(ge=-90.0, le=90.0)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0)]
    power_kw: Annotated[OptFloat, within(0.0)]
    h2_kg_per_h: Annotated[OptFloat, within(0.0)]
    swap_time_h: Annotated[OptFloat, within(0.0)]
    source: Text
    year: Year
    status: str = "operating"


@cache
def load_stations(data_dir: Path = DATA_DIR) -> tuple[Station, ...]:
    """Stations of ``data/charging_stations.csv`` (each row with its source) [cached]."""
    return tuple(
        Station(
            row.station_id,
            row.name,
            row.kind,
            row.lat,
            row.lon,
            row.power_kw,
            row.h2_kg_per_h,
            row.swap_time_h,
            row.source,
            row.status,
        )
        for row in read_table(data_dir / STATION_TABLE, StationRow)
    )


@dataclass(frozen=True)
class VrpProblem:
    """A first/last-mile routing problem.

    ``stations`` None takes the operating stations of ``data/`` within ``station_radius_km``
    of a depot or stop (at most ``max_stations``, nearest first); each may be visited
    ``station_copies`` times per fleet entry. ``distance_matrix`` overrides great-circle x
    detour (``distance_basis`` of ``data/distance_rules.csv``) for the pairs it lists.
    ``pairs`` are ``(pickup_stop_id, delivery_stop_id)``: the pickup's demand is carried to the
    delivery stop on the same vehicle. ``energy_prices`` is the energy price table (None: the
    shipped one); ``data_dir`` the folder of the vehicle types, factors, prices and stations (a
    dataset's; None: the shipped ``data/``).
    """

    depots: tuple[Depot, ...]
    stops: tuple[Stop, ...]
    fleet: tuple[FleetEntry, ...]
    pairs: tuple[tuple[str, str], ...] = ()
    stations: tuple[Station, ...] | None = None
    carbon_price_cny_per_t: float = 0.0
    region: str | None = None
    distance_matrix: DistanceMatrix | None = None
    distance_basis: DistanceBasis = DistanceBasis.SFD
    station_radius_km: float = 100.0
    max_stations: int = 8
    station_copies: int = 2
    factor_sets: tuple[str, ...] = ()
    energy_prices: EnergyPrices | None = None
    data_dir: Path | None = None


# ------------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class Visit:
    """One place on a route: times [h], load on board when leaving [kg, m3, pallets], and the
    battery [kWh] / hydrogen [kg] level on arrival and the amount refilled there."""

    place_id: str
    kind: str
    arrival_h: float
    start_h: float
    departure_h: float
    load_kg: float
    load_m3: float
    load_pallets: float
    level_arrival: float | None = None
    refilled: float | None = None


@dataclass(frozen=True, slots=True)
class RouteArc:
    """One driven arc with its actual payload [t], energy [MJ] and emissions [kg CO2e]."""

    from_id: str
    to_id: str
    distance_km: float
    payload_t: float
    energy_mj: float
    co2e_wtt_kg: float
    co2e_ttw_kg: float
    distance_rule: str

    @property
    def co2e_wtw_kg(self) -> float:
        """Well-to-wheel emissions [kg CO2e]."""
        return self.co2e_wtt_kg + self.co2e_ttw_kg


@dataclass(frozen=True)
class VehicleRoute:
    """A vehicle's route with exact (actual-load) energy, emissions and cost [CNY]."""

    vehicle_id: str
    fleet_index: int
    type_id: str
    carrier: str
    depot_id: str
    end_depot_id: str
    store_unit: str | None
    visits: tuple[Visit, ...]
    arcs: tuple[RouteArc, ...]
    distance_km: float
    duration_h: float
    energy_mj: float
    co2e_wtt_kg: float
    co2e_ttw_kg: float
    fixed_cny: float
    distance_cny: float
    time_cny: float
    energy_cny: float
    carbon_cny: float

    @property
    def co2e_wtw_kg(self) -> float:
        """Well-to-wheel emissions [kg CO2e]."""
        return self.co2e_wtt_kg + self.co2e_ttw_kg

    @property
    def cost_cny(self) -> float:
        """Fixed + distance + time + energy + carbon price x WTW [CNY]."""
        return (
            self.fixed_cny + self.distance_cny + self.time_cny + self.energy_cny + self.carbon_cny
        )

    def stop_ids(self) -> list[str]:
        """Stops served, in order."""
        return [v.place_id for v in self.visits if v.kind == "stop"]


@dataclass(frozen=True, slots=True)
class DroppedStop:
    """A stop left out of the plan, and why."""

    stop_id: str
    reason: str
    penalty_cny: float | None = None


@dataclass(frozen=True)
class VrpSolution:
    """Routes, dropped stops and solver facts. ``notes`` state every approximation made."""

    routes: tuple[VehicleRoute, ...]
    dropped: tuple[DroppedStop, ...]
    status: str
    engine: str
    objective_cny: float
    wall_time_s: float
    notes: tuple[str, ...] = ()
    data_sha256: str = ""
    violations: tuple[str, ...] = field(default=())

    @property
    def cost_cny(self) -> float:
        """Total plan cost incl. carbon price, without drop penalties [CNY]."""
        return sum(r.cost_cny for r in self.routes)

    @property
    def co2e_wtw_kg(self) -> float:
        """Total well-to-wheel emissions [kg CO2e]."""
        return sum(r.co2e_wtw_kg for r in self.routes)

    @property
    def distance_km(self) -> float:
        """Total driven distance [km]."""
        return sum(r.distance_km for r in self.routes)

    def route_of(self, stop_id: str) -> VehicleRoute | None:
        """The route serving a stop, if any."""
        return next((r for r in self.routes if stop_id in r.stop_ids()), None)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready document (totals first)."""
        routes = []
        for r in self.routes:
            d = asdict(r)
            d.update(co2e_wtw_kg=r.co2e_wtw_kg, cost_cny=r.cost_cny)
            routes.append(d)
        return {
            "status": self.status,
            "engine": self.engine,
            "cost_cny": round(self.cost_cny, 2),
            "co2e_wtw_kg": round(self.co2e_wtw_kg, 3),
            "distance_km": round(self.distance_km, 3),
            "vehicles_used": len(self.routes),
            "objective_cny": round(self.objective_cny, 2),
            "wall_time_s": round(self.wall_time_s, 2),
            "dropped": [asdict(d) for d in self.dropped],
            "notes": list(self.notes),
            "data_sha256": self.data_sha256,
            "violations": list(self.violations),
            "routes": routes,
        }
