"""The numbers of the 8-hour update: a finite Decimal from the state's JSON (`dec`), rounded
half-even for display; the payload carries the same rounded values as JSON numbers (`num`).
Pure."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation


def dec(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        d = Decimal(str(value).strip()) if isinstance(value, (int, float, str, Decimal)) else None
    except InvalidOperation:
        return None
    return d if d is not None and d.is_finite() else None


def rounded(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def num(d: Decimal | None, places: int) -> float | None:
    """A payload number: rounded like the text shows it."""
    return None if d is None else float(rounded(d, places))


def signed(d: Decimal, places: int = 2) -> str:
    q = rounded(d, places)
    if q == 0:
        q = abs(q)  # never "-0.00"
    return f"{q:+,.{places}f}"


def plain(d: Decimal) -> str:
    """0.33600000 -> 0.336, 4.0 -> 4, 1E+1 -> 10."""
    return f"{d.normalize():f}"
