"""Decimal quantisation for reported numbers (never exponents, never floats in exports)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

KG_QUANTUM = Decimal("0.001")
"""Emissions are reported to the gram [kg, 3 dp]."""
DEFAULT_QUANTUM = Decimal("0.001")


def dec(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> Decimal:
    """Quantise a float to a Decimal (banker's rounding); -0 becomes 0."""
    d = Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_EVEN)
    return d + 0 if d != 0 else Decimal(0).quantize(quantum)


def dec_str(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> str:
    """Decimal string without exponent, matching ``^-?\\d+(\\.\\d+)?$`` (iLEAP)."""
    return format(dec(value, quantum), "f")


def num(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> float:
    """A JSON number rounded like ``dec`` (for the greenlane JSON, not for iLEAP)."""
    return float(dec(value, quantum))
