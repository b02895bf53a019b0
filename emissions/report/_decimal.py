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


SIGNIFICANT_DIGITS = 3
"""Digits kept at least by :func:`dec_str_sig` for small non-zero values."""


def dec_sig(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> Decimal:
    """Like :func:`dec`, but a non-zero value keeps at least 3 significant digits.

    ``0.000123`` with quantum ``0.001`` gives ``0.000123``, not ``0.000``: no non-zero
    quantity exports as zero. Values of 0.1 or more are quantised exactly like :func:`dec`.
    """
    exact = Decimal(repr(float(value)))
    if exact == 0 or not exact.is_finite():
        return dec(value, quantum)
    finest = Decimal(1).scaleb(exact.adjusted() - SIGNIFICANT_DIGITS + 1)
    return dec(value, min(quantum, finest))


def dec_str_sig(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> str:
    """:func:`dec_sig` as a Decimal string without exponent (``^-?\\d+(\\.\\d+)?$``)."""
    return format(dec_sig(value, quantum), "f")


def num(value: float, quantum: Decimal = DEFAULT_QUANTUM) -> float:
    """A JSON number rounded like ``dec`` (for the greenlane JSON, not for iLEAP)."""
    return float(dec(value, quantum))
