"""ISO 14083:2023 / GLEC v3 accounting: WTW = WTT + TTW per transport chain element and hub.

The bottom layer of greenlane: imports no routing, fleet, web or solver code. Quantities carry
their unit in the name (``distance_km``, ``mass_t``, ``co2e_wtw_kg``, ``g_per_tkm``); unit
conversions live in :mod:`greenlane.emissions.units` only.
"""

from greenlane.emissions.chain import (
    footprint,
    footprint_from_chain,
    hub_tce,
    leg_distance_km,
    tce_from_energy,
    tce_from_intensity,
    tce_modelled,
    totals,
)
from greenlane.emissions.errors import DataError, FactorNotFound, GreenlaneError, InputError
from greenlane.emissions.factors import HOC, TOC, Factors, co2e_of_energy_kg, load_factors
from greenlane.emissions.intensity import Target, default_target, make_target
from greenlane.emissions.model import (
    TCE,
    DataType,
    DistanceBasis,
    EnergyCarrier,
    FactorRef,
    Footprint,
    Location,
    Method,
    Mode,
    Totals,
)
from greenlane.emissions.tables import TableRow, read_table

__all__ = [
    "HOC",
    "TCE",
    "TOC",
    "DataError",
    "DataType",
    "DistanceBasis",
    "EnergyCarrier",
    "FactorNotFound",
    "FactorRef",
    "Factors",
    "Footprint",
    "GreenlaneError",
    "InputError",
    "Location",
    "Method",
    "Mode",
    "TableRow",
    "Target",
    "Totals",
    "co2e_of_energy_kg",
    "default_target",
    "footprint",
    "footprint_from_chain",
    "hub_tce",
    "leg_distance_km",
    "load_factors",
    "make_target",
    "read_table",
    "tce_from_energy",
    "tce_from_intensity",
    "tce_modelled",
    "totals",
]
