"""Validators for environment values: each says in words what it expected, for the one-line error.

Used as `Annotated[float, number(lo=1)]` in the groups of `execution.settings.env`. A validator
receives the raw string (empty and blank values never reach it: they mean "not set", the
default) and returns the typed value, or raises a `config` error whose context carries
`expected` and `got`, which `errors.from_validation_error` turns into
`config error: .env: field 'X': expected <expected>, got <got>`.

Every number is refused when it is not finite (nan, inf, or a value such as 1e400 that only a
float overflow would turn into inf), whatever its bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def refuse(expected: str, got: Any) -> PydanticCustomError:
    return PydanticCustomError("config", "expected {expected}", {"expected": expected, "got": got})


def bounds_text(lo: float | Decimal | None, hi: float | Decimal | None, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]" if not lo_open else f" in ({lo}, {hi}]"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


def _in_bounds(value: Any, lo: Any, hi: Any, lo_open: bool) -> bool:
    if lo is not None and (value <= lo if lo_open else value < lo):
        return False
    return hi is None or value <= hi


def number(
    lo: float | None = None,
    hi: float | None = None,
    *,
    lo_open: bool = False,
    expected: str | None = None,
    keywords: Mapping[str, Any] | None = None,
) -> BeforeValidator:
    """A finite float within the bounds; `keywords` maps words (any case, e.g. SPEED=max) to values."""
    text = expected or f"a number{bounds_text(lo, hi, lo_open)}"

    def parse(raw: Any) -> Any:
        if keywords and isinstance(raw, str) and raw.strip().lower() in keywords:
            return keywords[raw.strip().lower()]
        try:
            if len(str(raw)) > 64:
                raise ValueError
            value = float(raw)
        except (TypeError, ValueError):
            raise refuse(text, raw) from None
        if not math.isfinite(value) or not _in_bounds(value, lo, hi, lo_open):
            raise refuse(text, raw)
        return value

    return BeforeValidator(parse)


def decimal(lo: Decimal | None = None, hi: Decimal | None = None, *, expected: str | None = None) -> BeforeValidator:
    """A finite Decimal (and one a float can hold) within [lo, hi]."""
    text = expected or f"a decimal number{bounds_text(lo, hi)}"

    def parse(raw: Any) -> Decimal:
        try:
            if len(str(raw)) > 64:
                raise InvalidOperation
            value = Decimal(str(raw).strip())
        except InvalidOperation:
            raise refuse(text, raw) from None
        if not value.is_finite() or not math.isfinite(float(value)) or not _in_bounds(value, lo, hi, False):
            raise refuse(text, raw)
        return value

    return BeforeValidator(parse)


def integer(lo: int, hi: int, *, expected: str | None = None) -> BeforeValidator:
    """An integer within [lo, hi]."""
    text = expected or f"an integer{bounds_text(lo, hi)}"

    def parse(raw: Any) -> int:
        try:
            if len(str(raw)) > 64:
                raise ValueError
            value = int(str(raw).strip())
        except ValueError:
            raise refuse(text, raw) from None
        if not lo <= value <= hi:
            raise refuse(text, raw)
        return value

    return BeforeValidator(parse)


def whole(hi: int = 2**32 - 1, *, expected: str | None = None) -> BeforeValidator:
    """A non-negative integer up to `hi`, written with ASCII digits only ("²" is a digit to
    str.isdigit, not to int)."""
    text = expected or f"an integer in [0, {hi}]"

    def parse(raw: Any) -> int:
        if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw <= hi:
            return raw
        if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or len(raw) > len(str(hi)):
            raise refuse(text, raw)
        value = int(raw)
        if value > hi:
            raise refuse(text, raw)
        return value

    return BeforeValidator(parse)


def flag() -> BeforeValidator:
    """true/false, 1/0, yes/no, on/off (any case)."""

    def parse(raw: Any) -> bool:
        if isinstance(raw, bool):
            return raw
        low = str(raw).strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise refuse("true or false", raw)

    return BeforeValidator(parse)


def choice(
    choices: tuple[str, ...] | Mapping[str, Any],
    *,
    expected: str | None = None,
    normalize: Callable[[str], str] | None = None,
) -> BeforeValidator:
    """One of `choices` (a mapping maps the accepted spelling to the value); `normalize` (e.g.
    upper-casing) is applied first and the error shows the normalized text."""
    text = expected or f"one of {list(choices)}"

    def parse(raw: Any) -> Any:
        shown = normalize(str(raw)) if normalize else raw
        if shown not in choices:
            raise refuse(text, shown)
        return choices[shown] if isinstance(choices, Mapping) else shown

    return BeforeValidator(parse)


def pattern(regex: str, expected: str) -> BeforeValidator:
    """Text (surrounding blanks removed) that matches `regex` whole, e.g. a Firestore path segment."""
    import re

    compiled = re.compile(regex)

    def parse(raw: Any) -> str:
        text = str(raw).strip()
        if not compiled.fullmatch(text):
            raise refuse(expected, raw)
        return text

    return BeforeValidator(parse)


def stripped() -> BeforeValidator:
    """Text with surrounding blanks removed (a stray space from a .env edit is never meant)."""
    return BeforeValidator(lambda raw: str(raw).strip())


def time_zone(*, expected: str = "an IANA time zone") -> BeforeValidator:
    """An IANA zone name such as Europe/Zurich; any spelling of UTC is UTC."""

    def parse(raw: Any) -> str:
        name = str(raw).strip()
        if name.upper() == "UTC":
            return "UTC"
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise refuse(expected, raw) from None
        return name

    return BeforeValidator(parse)


APPROVE_TOKEN_MIN_CHARS = 16
APPROVE_TOKEN_MIN_GUESSES_LOG10 = 16  # zxcvbn's estimate: about 53 bits against a guided guesser
ZXCVBN_MAX_CHARS = 72  # zxcvbn raises ValueError beyond this


def approval_token_problem(token: str) -> str | None:
    """Why APPROVE_TOKEN is too weak to protect the two-man rule, or None. A resume-confirm proof
    stored in the control log lets anyone who reads it test guesses offline, so the token must
    resist a guided guesser (zxcvbn's estimate, dictionary words and patterns included); the
    token itself never appears in the answer."""
    if len(token) < APPROVE_TOKEN_MIN_CHARS:
        return f"{len(token)} characters"
    from zxcvbn import zxcvbn

    guesses = float(zxcvbn(token[:ZXCVBN_MAX_CHARS])["guesses_log10"])  # a longer token is only stronger
    if guesses < APPROVE_TOKEN_MIN_GUESSES_LOG10:
        return f"{len(token)} characters guessed in about 10^{guesses:.0f} tries"
    return None
