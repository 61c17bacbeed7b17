"""The guards' settings, from config/risk_limits.json (every field optional, defaults below).

    FUNDING_GUARD_ENABLED            true
    FUNDING_GUARD_BPS                5     no new entry on the paying side at/above this next rate
    FUNDING_GUARD_TRIM_BPS           15    an open leg on the paying side at/above this is trimmed
    FUNDING_GUARD_TRIM_PCT           100   how much of the leg (100 = close it)
    FUNDING_GUARD_TRIM_LEAD_MINUTES  30    how long before the funding time the trim is sent
    DEPEG_GUARD_ENABLED              true
    DEPEG_REFERENCE                  binance_um:USDCUSDT  the market that shows the USDT peg
    DEPEG_BPS                        50    |price - 1| at/above this holds new risk
    DEPEG_CLEAR_MINUTES              60    back inside this long: the guard clears by itself
    WARMUP_SEC                       300   no entries this long after start
    DENYLIST_FILE                    denylist.txt  (in CONFIG_DIR; "" = none)
    MIN_NOTIONAL_BLOCK_USD           10    an entry below this notional is refused

The daily stop uses KILL_DAILY_LOSS_PCT and DAY_BOUNDARY_TZ of the same file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from execution.settings.errors import ConfigError
from execution.settings.fields import _Fields
from execution.settings.names import VENUES
from execution.settings.text_file import read_text_file

GUARD_FIELDS = (
    "FUNDING_GUARD_ENABLED",
    "FUNDING_GUARD_BPS",
    "FUNDING_GUARD_TRIM_BPS",
    "FUNDING_GUARD_TRIM_PCT",
    "FUNDING_GUARD_TRIM_LEAD_MINUTES",
    "DEPEG_GUARD_ENABLED",
    "DEPEG_REFERENCE",
    "DEPEG_BPS",
    "DEPEG_CLEAR_MINUTES",
    "WARMUP_SEC",
    "DENYLIST_FILE",
    "MIN_NOTIONAL_BLOCK_USD",
)


@dataclass(frozen=True)
class GuardLimits:
    funding_enabled: bool = True
    funding_bps: float = 5.0
    funding_trim_bps: float = 15.0
    funding_trim_pct: float = 100.0
    funding_trim_lead_minutes: float = 30.0
    depeg_enabled: bool = True
    depeg_reference: tuple[str, str] = ("binance_um", "USDCUSDT")
    depeg_bps: float = 50.0
    depeg_clear_minutes: float = 60.0
    warmup_sec: float = 300.0
    denylist_path: Path | None = None
    denylist: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # as read at start
    min_notional_block_usd: Decimal = Decimal(10)


def read_guards(f: _Fields, config_dir: Path) -> GuardLimits:
    """The guard fields of risk_limits.json (`f`), validated; the denylist file is read once here
    so a bad one stops the start with exit 2 (a bad reload later keeps the previous list)."""
    d = GuardLimits()
    g = GuardLimits(
        funding_enabled=f.boolean("FUNDING_GUARD_ENABLED", d.funding_enabled),
        funding_bps=f.number("FUNDING_GUARD_BPS", d.funding_bps, lo=0, hi=10_000),
        funding_trim_bps=f.number("FUNDING_GUARD_TRIM_BPS", d.funding_trim_bps, lo=0, hi=10_000),
        funding_trim_pct=f.number("FUNDING_GUARD_TRIM_PCT", d.funding_trim_pct, lo=0, hi=100, lo_open=True),
        funding_trim_lead_minutes=f.number(
            "FUNDING_GUARD_TRIM_LEAD_MINUTES", d.funding_trim_lead_minutes, lo=0, hi=480, lo_open=True
        ),
        depeg_enabled=f.boolean("DEPEG_GUARD_ENABLED", d.depeg_enabled),
        depeg_reference=_reference(f, f.source),
        depeg_bps=f.number("DEPEG_BPS", d.depeg_bps, lo=0, hi=10_000, lo_open=True),
        depeg_clear_minutes=f.number("DEPEG_CLEAR_MINUTES", d.depeg_clear_minutes, lo=0, hi=7 * 24 * 60),
        warmup_sec=f.number("WARMUP_SEC", d.warmup_sec, lo=0, hi=86_400),
        min_notional_block_usd=f.decimal("MIN_NOTIONAL_BLOCK_USD", str(d.min_notional_block_usd), lo=0),
        **_denylist(f, config_dir),
    )
    if g.funding_enabled and g.funding_trim_bps < g.funding_bps:
        raise ConfigError(
            f.source, "FUNDING_GUARD_TRIM_BPS", f">= FUNDING_GUARD_BPS {g.funding_bps:g}", g.funding_trim_bps
        )
    return g


def _reference(f: _Fields, source: str) -> tuple[str, str]:
    raw = f.string("DEPEG_REFERENCE", "binance_um:USDCUSDT")
    venue, _, symbol = raw.partition(":")
    if venue not in VENUES or not symbol.strip():
        raise ConfigError(source, "DEPEG_REFERENCE", f"venue:SYMBOL with venue one of {list(VENUES)}", raw)
    return venue, symbol.strip()


_BARE_FILE_NAME = (
    re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}"),
    "a file name in CONFIG_DIR (letters, digits, '.', '_', '-'), or \"\" for none",
)


def _denylist(f: _Fields, config_dir: Path) -> dict:
    from execution.denylist import DenylistError, parse  # late: execution.denylist imports this package

    # a bare name, never a path: a parse error would echo the first line of any file it pointed at
    name = f.string("DENYLIST_FILE", "denylist.txt", pattern=_BARE_FILE_NAME)
    if not name:
        return {"denylist_path": None, "denylist": frozenset()}
    path = config_dir / name
    text = read_text_file(path)  # strict: a directory, a FIFO, binary data or a dangling link -> exit 2
    if text is None:
        return {"denylist_path": path, "denylist": frozenset()}  # optional: an absent file denies nothing
    try:
        entries = parse(text).entries
    except DenylistError as exc:
        raise ConfigError(str(path), f"line {exc.line}", exc.expected, exc.got) from None
    return {"denylist_path": path, "denylist": entries}
