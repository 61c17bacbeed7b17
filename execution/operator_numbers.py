"""Numbers operators type (a capital flow's amount, an arbitrage size): plain ASCII decimals, read
exactly as typed. Decimal itself would accept `1e3`, `nan`, `Infinity` and Arabic-Indic digits;
here what is typed is what is booked or sent, or the operator is told which field is wrong."""

from __future__ import annotations

import re
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
