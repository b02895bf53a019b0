"""The public chain JSON: pydantic models that validate a shipment's transport chain.

The same models validate ``greenlane footprint FILE`` and ``POST /api/v1/footprints``.
Unknown fields are rejected, so a unit typo (``distance_m``) names the field at fault.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)

from greenlane.emissions.errors import InputError
from greenlane.emissions.factors import ENERGY_UNITS
from greenlane.emissions.model import DataType, DistanceBasis, Mode

EnergyUnit = Literal["MJ", "GJ", "kWh", "MWh", "kg", "t", "l", "m3"]
assert set(EnergyUnit.__args__) == set(ENERGY_UNITS)  # type: ignore[attr-defined]


MAX_MASS_T = 1.0e6
"""Largest shipment mass accepted [t] (a large bulk carrier carries 4e5 t)."""
MAX_DISTANCE_KM = 5.0e4
"""Longest leg accepted [km] (more than once round the Earth's circumference)."""
MAX_AMOUNT = 1.0e12
"""Largest energy amount accepted, in any unit."""
MAX_INTENSITY = 1.0e6
"""Largest intensity accepted [g CO2e/tkm or kg CO2e/t]."""
MAX_NAME_CHARS = 200
"""Longest identifier or name accepted [characters]."""
MAX_LEGS = 200
"""Most legs and hubs in one chain."""
SeaPassage = Literal[
    "babalmandab",
    "bosporus",
    "gibraltar",
    "suez",
    "panama",
    "ormuz",
    "northwest",
    "malacca",
    "sunda",
    "chili",
    "south_africa",
    "bering",
]
"""Passages a sea leg may close (``sea_restrictions``), as the ``searoute`` network names them."""


def _not_bool(value: Any) -> Any:
    """JSON ``true``/``false`` are not numbers (pydantic would read them as 1 and 0)."""
    if isinstance(value, bool):
        raise ValueError(f"must be a number, not {str(value).lower()}")
    return value


Real = Annotated[float, BeforeValidator(_not_bool)]
TemperatureControl = Literal["ambient", "chilled", "frozen", "mixed"]
"""Temperature condition of the goods on a leg or at a hub (reported with the TCE)."""
"""A finite number; booleans refused."""
Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME_CHARS)]
"""A non-empty identifier or name of at most ``MAX_NAME_CHARS`` characters."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class LocationIn(_Strict):
    """A place: coordinates [deg] and optional codes."""

    lat: Real = Field(ge=-90, le=90)
    lon: Real = Field(ge=-180, le=180)
    name: Name | None = None
    locode: str | None = Field(default=None, pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")
    iata: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")


class TocIn(_Strict):
    """A transport operation category: a default ``toc_id`` or a stated intensity [g CO2e/tkm]."""

    toc_id: Name | None = None
    co2e_wtw_g_per_tkm: Real | None = Field(default=None, ge=0, le=MAX_INTENSITY)
    co2e_ttw_g_per_tkm: Real | None = Field(default=None, ge=0, le=MAX_INTENSITY)
    distance_basis: DistanceBasis | None = None
    load_factor: Real | None = Field(default=None, gt=0, le=1)
    empty_running_share: Real | None = Field(default=None, ge=0, lt=1)
    data_type: DataType | None = None

    @model_validator(mode="after")
    def _one_source(self) -> TocIn:
        if self.toc_id is None and (
            self.co2e_wtw_g_per_tkm is None or self.co2e_ttw_g_per_tkm is None
        ):
            raise ValueError("give toc_id or both co2e_wtw_g_per_tkm and co2e_ttw_g_per_tkm")
        if self.toc_id is not None and self.co2e_wtw_g_per_tkm is not None:
            raise ValueError("give toc_id or a stated intensity, not both")
        if (
            self.co2e_ttw_g_per_tkm is not None
            and self.co2e_wtw_g_per_tkm is not None
            and self.co2e_ttw_g_per_tkm > self.co2e_wtw_g_per_tkm
        ):
            raise ValueError("co2e_ttw_g_per_tkm exceeds co2e_wtw_g_per_tkm")
        return self


class ReeferShareIn(_Strict):
    """The shipment's share of a vehicle's energy by loading-unit equivalents.

    A reefer unit (TEU, pallet, swap body) counts ``reefer_factor`` ambient units (default
    ``data/cold_chain.csv``: 1.17 on ships, CLECAT 2024 Example 4; 1.12 on road and rail).
    """

    reefer_units: Real = Field(ge=0, le=MAX_AMOUNT)
    ambient_units: Real = Field(ge=0, le=MAX_AMOUNT)
    shipment_units: Real = Field(gt=0, le=MAX_AMOUNT)
    shipment_reefer: StrictBool
    reefer_factor: Real | None = Field(default=None, ge=1, le=10)


class EnergyIn(_Strict):
    """Energy used by the vehicle on the leg, allocated to the shipment by its tkm share.

    ``blend`` maps other carriers to their **energy** share (e.g. ``{"saf_hefa_uco": 0.3}``);
    the named ``carrier`` takes the rest.
    """

    carrier: Name
    amount: Real = Field(gt=0, le=MAX_AMOUNT)
    unit: EnergyUnit
    share_of_vehicle: Real | None = Field(default=None, gt=0, le=1)
    vehicle_activity_tkm: Real | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    reefer_share: ReeferShareIn | None = None
    blend: dict[Name, Real] | None = Field(default=None, max_length=10)

    @model_validator(mode="after")
    def _one_share(self) -> EnergyIn:
        shares = ("share_of_vehicle", "vehicle_activity_tkm", "reefer_share")
        if sum(getattr(self, k) is not None for k in shares) > 1:
            raise ValueError("give one of share_of_vehicle, vehicle_activity_tkm, reefer_share")
        if self.blend is not None and (
            any(not 0 <= s <= 1 for s in self.blend.values()) or sum(self.blend.values()) > 1
        ):
            raise ValueError("blend shares must lie in [0, 1] and sum to at most 1")
        return self


class LegRefrigerantIn(_Strict):
    """Refrigerant lost by the leg's temperature-control unit (ISO 14083 Annex I).

    ``refill_kg`` is the measured annual refill (primary data); otherwise ``charge_kg`` x
    ``annual_leak_rate`` (defaults 5.5 kg and 50 %, ``data/cold_chain.csv``).
    ``annual_activity_tkm`` is the unit's (or its TOC's) transport activity per year.
    """

    refrigerant: Name
    annual_activity_tkm: Real = Field(gt=0, le=MAX_AMOUNT)
    refill_kg: Real | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    charge_kg: Real | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    annual_leak_rate: Real | None = Field(default=None, gt=0, le=1)

    @model_validator(mode="after")
    def _one_source(self) -> LegRefrigerantIn:
        if self.refill_kg is not None and (
            self.charge_kg is not None or self.annual_leak_rate is not None
        ):
            raise ValueError("give refill_kg (measured) or charge_kg/annual_leak_rate, not both")
        return self


class LegIn(_Strict):
    """A transport leg: distance (or coordinates) and exactly one of energy, toc or vehicle."""

    mode: Mode
    tce_id: Name | None = None
    distance_km: Real | None = Field(default=None, gt=0, le=MAX_DISTANCE_KM)
    distance_basis: DistanceBasis | None = None
    origin: LocationIn | None = None
    destination: LocationIn | None = None
    sea_restrictions: list[SeaPassage] | None = Field(default=None, max_length=12)
    energy: list[EnergyIn] | None = Field(default=None, min_length=1)
    toc: TocIn | None = None
    vehicle: dict[str, Any] | None = None
    departure_at: AwareDatetime | None = None
    arrival_at: AwareDatetime | None = None
    temperature_control: TemperatureControl | None = None
    refrigerant: LegRefrigerantIn | None = None

    @model_validator(mode="after")
    def _complete(self) -> LegIn:
        given = [k for k in ("energy", "toc", "vehicle") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of energy, toc or vehicle")
        if self.distance_km is None and (self.origin is None or self.destination is None):
            raise ValueError("give distance_km or both origin and destination")
        return self


class MeteredEnergyIn(_Strict):
    """Energy metered at a hub over the period: a table ``carrier`` or stated factors per unit.

    ``groups`` names the groups of goods it serves (e.g. ``["chilled"]`` for cooling); none
    means all goods.
    """

    amount: Real = Field(gt=0, le=MAX_AMOUNT)
    unit: EnergyUnit
    carrier: Name | None = None
    label: Name | None = None
    co2e_ttw_g_per_unit: Real | None = Field(default=None, ge=0, le=MAX_INTENSITY)
    co2e_wtt_g_per_unit: Real | None = Field(default=None, ge=-MAX_INTENSITY, le=MAX_INTENSITY)
    groups: list[Name] | None = Field(default=None, min_length=1, max_length=20)

    @model_validator(mode="after")
    def _one_factor(self) -> MeteredEnergyIn:
        stated = self.co2e_ttw_g_per_unit is not None or self.co2e_wtt_g_per_unit is not None
        if (self.carrier is None) == (not stated) or (
            stated and (self.co2e_ttw_g_per_unit is None or self.co2e_wtt_g_per_unit is None)
        ):
            raise ValueError(
                "give carrier or both co2e_ttw_g_per_unit and co2e_wtt_g_per_unit, not both"
            )
        return self


class HubRefrigerantIn(_Strict):
    """Refrigerant refilled at a hub over the period [kg] and the groups it cools."""

    refrigerant: Name
    refill_kg: Real = Field(gt=0, le=MAX_AMOUNT)
    groups: list[Name] | None = Field(default=None, min_length=1, max_length=20)


class MeteredHocIn(_Strict):
    """A HOC from a hub's metered energy and refrigerant refills (ISO 14083 §9.5.3).

    ``activity_t`` maps each group of goods (chilled, frozen, ambient, ...) to the tonnes that
    left the hub in the period; ``group`` is the shipment's group.
    """

    activity_t: dict[Name, Real] = Field(min_length=1, max_length=20)
    group: Name
    energy: list[MeteredEnergyIn] = Field(default_factory=list, max_length=100)
    refrigerants: list[HubRefrigerantIn] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _positive(self) -> MeteredHocIn:
        if any(not 0 < t <= MAX_AMOUNT for t in self.activity_t.values()):
            raise ValueError("activity_t must be > 0 t for every group")
        if not self.energy and not self.refrigerants:
            raise ValueError("give metered energy or refrigerants")
        return self


class HocIn(_Strict):
    """A hub operation category: a default ``hoc_id``, stated intensities [kg CO2e/t] or
    ``metered`` energy and refrigerants."""

    hoc_id: Name | None = None
    co2e_wtw_kg_per_t: Real | None = Field(default=None, ge=0, le=MAX_INTENSITY)
    co2e_ttw_kg_per_t: Real | None = Field(default=None, ge=0, le=MAX_INTENSITY)
    metered: MeteredHocIn | None = None
    data_type: DataType | None = None

    @model_validator(mode="after")
    def _one_source(self) -> HocIn:
        stated = self.co2e_wtw_kg_per_t is not None or self.co2e_ttw_kg_per_t is not None
        if sum((self.hoc_id is not None, stated, self.metered is not None)) != 1:
            raise ValueError("give one of hoc_id, stated intensities or metered")
        if (
            self.hoc_id is None
            and self.metered is None
            and (self.co2e_wtw_kg_per_t is None or self.co2e_ttw_kg_per_t is None)
        ):
            raise ValueError("give hoc_id or both co2e_wtw_kg_per_t and co2e_ttw_kg_per_t")
        if (
            self.co2e_ttw_kg_per_t is not None
            and self.co2e_wtw_kg_per_t is not None
            and self.co2e_ttw_kg_per_t > self.co2e_wtw_kg_per_t
        ):
            raise ValueError("co2e_ttw_kg_per_t exceeds co2e_wtw_kg_per_t")
        return self


class HubIn(_Strict):
    """A hub operation between legs; its activity is the tonnes leaving it."""

    hub: Name
    hoc: HocIn
    tce_id: Name | None = None
    location: LocationIn | None = None
    temperature_control: TemperatureControl | None = None


class ChainIn(_Strict):
    """A shipment's transport chain document."""

    shipment_id: Name
    mass_t: Real = Field(gt=0, le=MAX_MASS_T)
    volume_m3: Real | None = Field(default=None, gt=0, le=MAX_AMOUNT)
    factor_sets: list[Name] = Field(default_factory=list, max_length=10)
    gwp_basis: Literal["AR6", "AR5", "FEEMS"] = "AR6"
    legs: list[LegIn | HubIn] = Field(min_length=1, max_length=MAX_LEGS)


def _field_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        elif item in ("LegIn", "HubIn"):
            continue
        else:
            parts.append(f".{item}" if parts else str(item))
    return "".join(parts)


def parse_chain(doc: Mapping[str, Any]) -> ChainIn:
    """Validate a chain document; raise InputError naming the first field at fault."""
    if not isinstance(doc, Mapping):
        raise InputError("the chain must be a JSON object", field="$")
    legs = doc.get("legs")
    if isinstance(legs, list):
        parsed: list[LegIn | HubIn] = []
        for i, item in enumerate(legs):
            model = HubIn if isinstance(item, Mapping) and "hub" in item else LegIn
            try:
                parsed.append(model.model_validate(item))
            except ValidationError as exc:
                err = exc.errors()[0]
                path = _field_path(("legs", i, *err["loc"]))
                raise InputError(err["msg"], field=path) from None
        doc = {**doc, "legs": parsed}
    try:
        return ChainIn.model_validate(doc)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(err["msg"], field=_field_path(tuple(err["loc"])) or "$") from None
