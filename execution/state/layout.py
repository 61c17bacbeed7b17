"""Where state lives: the same names locally (STATE_DIR) and in Firestore (hedge/{env}/...).

Current-value documents (small, read in one round trip by the dashboard):
    state/nav  state/positions  state/control  state/screener  state/leaderboard  state/signals
NAV history, parallel arrays (Firestore has no nested arrays), at three resolutions so that any
time range costs at most a few document reads however long the fund has run:
    history/nav/YYYY-MM-DD        every point of one UTC day    {"day", "ts": [...], "nav": [...], "dd": [...], "btc": [...]}
    history/nav_hourly/YYYY-MM    the last point of each hour    {"month", "ts", "nav", "dd", "btc"}
    history/nav_daily/all         the last point of each day     {"resolution": "1d", "ts", "nav", "dd", "btc"}
`btc` is the benchmark's mark (BENCHMARK_SYMBOL on the screener venue, BTC by default) at each
point, null where it was not known; buckets written before it was recorded have no `btc`.
Append-only records, one per line locally and one document per record in Firestore:
    trades, funding, signals, incidents, alerts (ops alerts), commands (operator control log), acks,
    capital_flows (deposits and withdrawals, apart from P&L)
Files operators already know: peak_state.json, synced_state.json (the executor's restart
snapshot), trade_log.json (the most recent trades; the complete log is trade_log.jsonl).
"""

from __future__ import annotations

from datetime import UTC, datetime

DOCS = ("nav", "positions", "control", "screener", "leaderboard", "signals", "arbitrage")

COLLECTION_FILES = {
    "trades": "trade_log.jsonl",
    "funding": "funding_log.jsonl",
    "signals": "signals.jsonl",
    "incidents": "incidents.jsonl",
    "alerts": "ops_alerts.jsonl",
    "commands": "control_log.jsonl",
    "acks": "control_acks.jsonl",
    "capital_flows": "capital_flows.jsonl",
}

NAMED_FILES = ("peak_state", "synced_state", "trade_log")

RECENT_TRADES_KEPT = 50


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def month_of(ts_ms: int) -> str:
    return day_of(ts_ms)[:7]


def bucket_path(day: str) -> str:
    return f"history/nav/{day}"


def hourly_path(month: str) -> str:
    return f"history/nav_hourly/{month}"


def daily_path() -> str:
    return "history/nav_daily/all"


FULL_RESOLUTION_MAX_MS = 2 * 86_400_000  # ranges up to 2 days read every point
HOURLY_MAX_MS = 62 * 86_400_000  # up to ~2 months read hourly points; longer ranges daily points


def history_plan(start_ms: int, end_ms: int) -> list[str]:
    """The documents that answer a NAV-history range: at most 3, whatever the history length."""
    span = end_ms - start_ms
    if span <= FULL_RESOLUTION_MAX_MS:
        days, t = [], start_ms - start_ms % 86_400_000
        while t <= end_ms:
            days.append(bucket_path(day_of(t)))
            t += 86_400_000
        return days
    if span <= HOURLY_MAX_MS:
        (y, m), (end_y, end_m) = (tuple(map(int, month_of(t).split("-"))) for t in (start_ms, end_ms))
        months = []
        while (y, m) <= (end_y, end_m):
            months.append(hourly_path(f"{y:04d}-{m:02d}"))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return months
    return [daily_path()]
