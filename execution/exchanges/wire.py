"""How the venues' REST answers spell values: decimals as JSON text, waits in Retry-After headers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def dec(value: Any, default: str = "0") -> Decimal:
    """A venue's number (text, int, float or empty) as a Decimal; empty or missing is `default`."""
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def fmt(value: Decimal) -> str:
    """A Decimal as the venue wants it: plain digits, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    """The Retry-After header in seconds (any case), None when absent or not a number."""
    if not headers:
        return None
    raw = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None
