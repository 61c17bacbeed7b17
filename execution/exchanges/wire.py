"""How the venues' REST answers spell values: decimals as JSON text, waits in Retry-After headers,
and the one way a parser reads a field it relies on (`Fields`).

A venue's answer is untrusted input: a field may be null, missing, text where a number belongs,
"NaN", "Infinity", "1e400", a 5,000-digit integer, a list or an object, a string of a megabyte.
`Fields` reads one object of an answer and either returns a value the model can hold (a finite
Decimal of bounded size and the documented sign, a time within years 0..9999, a bounded text, a
known enum value) or raises `MalformedAnswer` naming the field, with a short sketch of what was
there instead (never more than a few dozen characters of it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from execution.exchanges.errors import MalformedAnswer
from execution.models import Listing, SymbolFilters

E = TypeVar("E")
T = TypeVar("T")

#: 9999-12-31T23:59:59.999Z in epoch ms: the last instant a date can be shown (datetime's year 9999)
MAX_MS = 253_402_300_799_999
MAX_NUMBER_TEXT = 64  # characters: no venue number is longer
MAX_EXPONENT = 24  # |value| < 1e25: above every price, size, notional cap and balance a venue lists
MIN_EXPONENT = -30  # a non-zero value of at least 1e-30: below every tick, step and rate
MAX_TEXT = 128  # an id, a symbol, an asset, a type name
MAX_LEVERAGE = 1000  # above every venue's maximum (125 on both today)
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_MISSING = object()


def dec(value: Any, default: str = "0") -> Decimal:
    """A trusted number (text, int, float or empty) as a Decimal; empty or missing is `default`.
    Values from a venue's answer are read with `Fields.num` instead."""
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


def sketch(value: Any) -> str:
    """What a hostile value looks like, in a few dozen characters at most (never its whole text:
    a 5,000-digit integer has no str(), a string may be megabytes long)."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, int):
        return repr(value) if value.bit_length() <= 128 else f"an integer of {value.bit_length()} bits"
    if isinstance(value, (str, bytes)):
        return repr(value[:40]) + (f"... ({len(value)} characters)" if len(value) > 40 else "")
    if isinstance(value, (float, Decimal)):
        return repr(value)[:48]
    if isinstance(value, Mapping):
        return f"an object of {len(value)} keys"
    if isinstance(value, (list, tuple)):
        return f"a list of {len(value)}"
    return f"a {type(value).__name__}"


def number(value: Any) -> Decimal | str:
    """`value` (JSON text or number) as a finite Decimal of bounded size, or why it is not one.
    -0 reads as 0."""
    if isinstance(value, bool):
        return "is a boolean, not a number"
    if isinstance(value, int):
        if value.bit_length() > 100:
            return "is out of range"
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))  # nan / inf read as NaN / Infinity, refused below
    elif isinstance(value, str):
        if len(value) > MAX_NUMBER_TEXT or not _NUMBER.fullmatch(value):
            return "is not a plain decimal number"
        try:
            d = Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only what Decimal reads
            return "is not a plain decimal number"
    else:
        return "is not a number"
    if not d.is_finite():
        return "is not a finite number"
    if d.is_zero():
        return d.copy_abs()
    if not MIN_EXPONENT <= d.adjusted() <= MAX_EXPONENT:
        return "is out of range"
    return d


class Fields:
    """One object of a venue's answer, read field by field. `what` names it in errors, e.g.
    "positionRisk" (a field then is "positionRisk.positionAmt")."""

    __slots__ = ("aliases", "row", "venue", "what")

    def __init__(self, row: Any, venue: str, what: str, aliases: Mapping[str, str] | None = None):
        """`aliases`: the venue's own name of a field read under another name (a stream event
        translated to the REST order's terms), for the error messages."""
        if not isinstance(row, Mapping):
            raise MalformedAnswer(venue, what, f"expected an object, got {sketch(row)}")
        self.row: Mapping[str, Any] = row
        self.venue = venue
        self.what = what
        self.aliases = aliases or {}

    def bad(self, key: str, problem: str, value: Any = _MISSING) -> MalformedAnswer:
        shown = "" if value is _MISSING else f" (got {sketch(value)})"
        return MalformedAnswer(self.venue, f"{self.what}.{self.aliases.get(key, key)}", f"{problem}{shown}")

    def has(self, key: str) -> bool:
        """The field is there with a value (not null, not "")."""
        return self._given(key) is not None

    def _given(self, key: str, value: Any = _MISSING) -> Any:
        """The field's value (or `value`, read in its place); None when it is null, "" or absent."""
        raw = self.row.get(key) if value is _MISSING else value
        return None if raw is None or raw == "" else raw

    def _default(self, key: str, default: T | None) -> T:
        """What stands for a field that is not there: `default`; a required one (None) is refused."""
        if default is None:
            raise self.bad(key, "missing")
        return default

    def _decimal(self, key: str, raw: Any) -> Decimal:
        d = number(raw)
        if isinstance(d, str):
            raise self.bad(key, d, raw)
        return d

    def get(self, key: str, default: Any = None) -> Any:
        """The raw value (for presence tests and values read by a helper below)."""
        return self.row.get(key, default)

    def num(
        self,
        key: str,
        default: str | None = None,
        *,
        positive: bool = False,
        nonneg: bool = False,
        value: Any = _MISSING,
    ) -> Decimal:
        """A finite Decimal; null / "" / absent is `default` (None: the field is required).
        `positive`: > 0; `nonneg`: >= 0 (the default too). `value`: read this instead of the field
        (a value the caller took from elsewhere in the answer, still named by `key`)."""
        raw = self._given(key, value)
        if raw is None:
            return Decimal(self._default(key, default))
        d = self._decimal(key, raw)
        if positive and d <= 0:
            raise self.bad(key, "must be > 0", raw)
        if nonneg and d < 0:
            raise self.bad(key, "must be >= 0", raw)
        return d

    def integer(self, key: str, default: int | None = None, *, low: int, high: int, value: Any = _MISSING) -> int:
        """A whole number in [low, high] (a decimal is truncated, as the venues' "3.00" leverage)."""
        raw = self._given(key, value)
        if raw is None:
            return self._default(key, default)
        n = int(self._decimal(key, raw))
        if not low <= n <= high:
            raise self.bad(key, f"must be within {low}..{high}", raw)
        return n

    def ms(self, key: str, default: int | None = None, *, value: Any = _MISSING) -> int:
        """An epoch-millisecond time within years 1970..9999; null / "" / absent is `default`."""
        raw = self._given(key, value)
        if raw is None:
            return self._default(key, default)
        d = self._decimal(key, raw)
        if d != d.to_integral_value() or not 0 <= d <= MAX_MS:
            raise self.bad(key, "is not an epoch-ms time within years 1970..9999", raw)
        return int(d)

    def text(self, key: str, default: str | None = None, *, cut: bool = False, value: Any = _MISSING) -> str:
        """Text (a JSON integer id reads as its digits); null / absent is `default` (None: required
        and not empty). Longer than MAX_TEXT: refused, or `cut` to it (free text such as a note)."""
        raw = self._given(key, value)
        if raw is None:
            return self._default(key, default)
        if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() <= 128:
            return str(raw)
        if not isinstance(raw, str):
            raise self.bad(key, "is not text", raw)
        if len(raw) > MAX_TEXT:
            if not cut:
                raise self.bad(key, f"is longer than {MAX_TEXT} characters", raw)
            return raw[:MAX_TEXT]
        return raw

    def flag(self, key: str, default: bool | None = False) -> bool:
        """A JSON boolean (or its text "true" / "false", as OKX writes them); null / "" / absent is
        `default` (None: required)."""
        raw = self._given(key)
        if raw is None:
            return self._default(key, default)
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        raise self.bad(key, "is not a boolean", raw)

    def choice(self, key: str, table: Mapping[str, E], default: str | None = None) -> E:
        """The table's value for the field's text; null / "" / absent is `default`'s. An unknown
        value (or a missing one without a default) is refused."""
        raw = self._given(key)
        if raw is None:
            raw = self._default(key, default)
        if not isinstance(raw, str) or raw not in table:
            raise self.bad(key, f"is not one of {', '.join(sorted(table))[:80]}", raw)
        return table[raw]

    def rows(self, key: str, *, required: bool = True) -> list[Any]:
        """A list field (absent / null: [] unless `required`)."""
        raw = self.row.get(key)
        if raw is None and not required:
            return []
        if not isinstance(raw, list):
            raise self.bad(key, "expected a list", raw)
        return raw


def rows_of(payload: Any, venue: str, what: str) -> list[Any]:
    """An answer that must be a JSON list."""
    if not isinstance(payload, list):
        raise MalformedAnswer(venue, what, f"expected a list, got {sketch(payload)}")
    return payload


def listing_of(
    entries: Iterable[Any],
    parse: Callable[[Any], SymbolFilters | None],
    name_key: str,
    venue: str,
    what: str,
    noun: str,
) -> Listing:
    """The instruments of an exchangeInfo / instruments answer: every entry that reads (`parse`
    returns None for one that is not wanted); one that does not read is in `skipped` under its
    name (`name_key`) or its place, so one odd entry does not take every symbol's rules away.
    MalformedAnswer when none reads."""
    out = Listing()
    for i, entry in enumerate(entries):
        try:
            filters = parse(entry)
        except MalformedAnswer as exc:
            name = entry.get(name_key) if isinstance(entry, Mapping) else None
            out.skipped[name if isinstance(name, str) and 0 < len(name) <= 64 else f"#{i}"] = exc.message
            continue
        if filters is not None:
            out[filters.symbol] = filters
    if out.skipped and not out:
        raise MalformedAnswer(venue, what, f"no {noun} reads (first: {next(iter(out.skipped.values()))})")
    return out
