"""The guards from the fund's trading engine runbook, each a `BaseGuard` (execution/guard.py).

    funding.py       no entry on the side that pays a funding spike; trims open legs before it
    depeg.py         the USDT peg (a reference market) out of bounds holds new risk; clears itself
    daily_stop.py    the daily loss limit stops new risk until the next day, then re-arms itself
    warmup.py        no entries for WARMUP_SEC after start
    denylist.py      symbols never traded; reloaded on SIGHUP or `ctl denylist-reload`
    min_notional.py  entries below MIN_NOTIONAL_BLOCK_USD are refused

They are configured in config/risk_limits.json (execution/settings/guards.py) and composed in
`execution/assembly.py` `build_guards`, after the account breakers (execution/breakers.py).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc(ts_ms: int) -> str:
    """A market time as operators read it in a log line: 2026-01-01 08:00Z."""
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%MZ")
