"""Small input checks shared by the fleet modules."""

from __future__ import annotations

import math

from greenlane.emissions.errors import InputError


def real(value: object, field_name: str) -> float:
    """``value`` as a finite float (bools refused); else InputError naming ``field_name``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", field=field_name)
    return float(value)
