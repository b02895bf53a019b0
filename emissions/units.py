"""The only unit conversion constants of greenlane.

Everything else multiplies by these names, never by a bare number.
"""

from __future__ import annotations

KG_PER_T = 1000.0
"""Kilograms per tonne [kg/t]."""
G_PER_KG = 1000.0
"""Grams per kilogram [g/kg]."""
G_PER_T = KG_PER_T * G_PER_KG
"""Grams per tonne [g/t]."""
MJ_PER_KWH = 3.6
"""Megajoules per kilowatt-hour [MJ/kWh]."""
KWH_PER_MWH = 1000.0
"""Kilowatt-hours per megawatt-hour [kWh/MWh]."""
MJ_PER_GJ = 1000.0
"""Megajoules per gigajoule [MJ/GJ]."""
L_PER_M3 = 1000.0
"""Litres per cubic metre [l/m3]."""
KM_PER_NM = 1.852
"""Kilometres per nautical mile [km/nmi]."""
M_PER_KM = 1000.0
"""Metres per kilometre [m/km]."""
S_PER_H = 3600.0
"""Seconds per hour [s/h]."""
H_PER_DAY = 24.0
"""Hours per day [h/d]."""
PCT = 100.0
"""Percent per unit fraction [%]."""


def g_to_kg(value_g: float) -> float:
    """Convert grams to kilograms [g -> kg]."""
    return value_g / G_PER_KG


def kg_to_t(value_kg: float) -> float:
    """Convert kilograms to tonnes [kg -> t]."""
    return value_kg / KG_PER_T


def t_to_kg(value_t: float) -> float:
    """Convert tonnes to kilograms [t -> kg]."""
    return value_t * KG_PER_T


def kwh_to_mj(value_kwh: float) -> float:
    """Convert kilowatt-hours to megajoules [kWh -> MJ]."""
    return value_kwh * MJ_PER_KWH


def mj_to_kwh(value_mj: float) -> float:
    """Convert megajoules to kilowatt-hours [MJ -> kWh]."""
    return value_mj / MJ_PER_KWH


def nm_to_km(value_nm: float) -> float:
    """Convert nautical miles to kilometres [nmi -> km]."""
    return value_nm * KM_PER_NM


def g_per_tkm_to_kg(intensity_g_per_tkm: float, activity_tkm: float) -> float:
    """Emissions of an activity at an intensity [g/tkm x tkm -> kg]."""
    return g_to_kg(intensity_g_per_tkm * activity_tkm)


def intensity_g_per_tkm(co2e_kg: float, activity_tkm: float) -> float:
    """Emission intensity of an activity [kg / tkm -> g/tkm]; 0 when there is no activity."""
    if activity_tkm <= 0:
        return 0.0
    return co2e_kg * G_PER_KG / activity_tkm
