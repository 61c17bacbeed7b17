"""Numbers operators type (a capital flow's amount, an arbitrage size, a command's --timeout or
--rounds): plain ASCII decimals, read exactly as typed. Decimal and float would accept `1e3`,
`nan`, `Infinity` and Arabic-Indic digits; here what is typed is what is booked, sent or waited
for, or the operator is told which field is wrong."""

from __future__ import annotations

import argparse
import math
import re
from collections.abc import Callable
from decimal import Decimal

_PLAIN = re.compile(r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:_[0-9]{3})+)(?:\.[0-9]+)?", re.ASCII)
MAX_CHARS = 40


class NotAPlainNumber(ValueError):
    pass


def plain_decimal(
    text: object, field: str, example: str, max_abs: Decimal, max_decimals: int, negative: bool = False
) -> Decimal:
    """`text` as a non-zero Decimal (`_` allowed as a thousands mark); NotAPlainNumber naming `field`."""
    raw = str(text).strip()
    shown = repr(raw if len(raw) <= MAX_CHARS else raw[:MAX_CHARS] + "...")
    if len(raw) > MAX_CHARS or not _PLAIN.fullmatch(raw):
        raise NotAPlainNumber(f"{field} must be a number such as {example}, got {shown}")
    value = Decimal(raw.replace("_", ""))
    if value == 0 or (value < 0 and not negative):
        raise NotAPlainNumber(f"{field} must be a {'non-zero' if negative else 'positive'} number, got {shown}")
    if abs(value) > max_abs:
        raise NotAPlainNumber(f"{field} {shown} is beyond {max_abs:,f}: check the figure")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -max_decimals:
        raise NotAPlainNumber(f"{field} {shown} has more than {max_decimals} decimals")
    return value


# -- argparse types: a command's numeric options, refused in one usage line (exit 2) before it acts
_INT = re.compile(r"[+-]?[0-9]{1,19}", re.ASCII)


def int_arg(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: a plain integer in [lo, hi] (a negative --rounds would close nothing)."""

    def convert(text: str) -> int:
        raw = text.strip()
        if not _INT.fullmatch(raw) or not lo <= int(raw) <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer in [{lo}, {hi}], got {text[:MAX_CHARS]!r}")
        return int(raw)

    return convert


def number_arg(hi: float, lo: float = 0.0, unit: str = "a number", lo_included: bool = False) -> Callable[[str], float]:
    """argparse type: a plain decimal in (lo, hi], or [lo, hi] (`inf` would wait forever, `nan` crash a sleep)."""
    shown = f"{'[' if lo_included else '('}{lo:g}, {hi:g}]"

    def convert(text: str) -> float:
        raw = text.strip()
        value = float(raw) if _PLAIN.fullmatch(raw) and len(raw) <= MAX_CHARS else math.nan
        if not ((lo <= value) if lo_included else (lo < value)) or not value <= hi:  # NaN fails both
            raise argparse.ArgumentTypeError(f"expected {unit} in {shown}, got {text[:MAX_CHARS]!r}")
        return value

    return convert


def seconds_arg(hi: float, zero: bool = False) -> Callable[[str], float]:
    """argparse type: seconds in (0, hi], or [0, hi] when `zero` (no wait) makes sense."""
    return number_arg(hi, unit="seconds", lo_included=zero)
