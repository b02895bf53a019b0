"""Vehicle, vessel and aircraft types, energy use by payload, range, refuelling and cost.

``fleet`` knows vehicles and fuels and asks ``emissions`` what a MJ of a carrier emits.
"""

from greenlane.fleet.catalog import (
    default_energy_prices,
    energy_prices,
    fx_rates,
    vehicle_type,
    vehicle_types,
)
from greenlane.fleet.cost import (
    Cost,
    energy_price,
    leg_cost_cny,
    regional_carrier,
    scale_energy_prices,
    scale_fuel_prices,
)
from greenlane.fleet.energy import (
    energy_mj_per_km,
    energy_mj_per_tkm,
    profile,
    range_km,
    refuel_h,
    refuel_stops,
    resolve_vehicle,
)
from greenlane.fleet.model import EnergyPrice, EnergyPrices, FxRate, VehicleType

__all__ = [
    "Cost",
    "EnergyPrice",
    "EnergyPrices",
    "FxRate",
    "VehicleType",
    "default_energy_prices",
    "energy_mj_per_km",
    "energy_mj_per_tkm",
    "energy_price",
    "energy_prices",
    "fx_rates",
    "leg_cost_cny",
    "profile",
    "range_km",
    "refuel_h",
    "refuel_stops",
    "regional_carrier",
    "resolve_vehicle",
    "scale_energy_prices",
    "scale_fuel_prices",
    "vehicle_type",
    "vehicle_types",
]
