"""Where state lives: the same names locally (STATE_DIR) and in Firestore (hedge/{env}/...).

Current-value documents (small, read in one round trip by the dashboard):
    state/nav  state/positions  state/control  state/screener  state/leaderboard  state/signals
NAV history: one bucket document per UTC day, parallel arrays (Firestore has no nested arrays):
    history/nav/YYYY-MM-DD.json  {"day": "...", "ts": [...], "nav": [...], "dd": [...]}
Append-only records, one per line locally and one document per record in Firestore:
    trades, funding, signals, incidents, alerts (ops alerts), commands (operator control log), acks
Files operators already know: peak_state.json, synced_state.json (the executor's restart
snapshot), trade_log.json (the most recent trades; the complete log is trade_log.jsonl).
"""
from __future__ import annotations

from datetime import datetime, timezone

DOCS = ("nav", "positions", "control", "screener", "leaderboard", "signals", "arbitrage")

COLLECTION_FILES = {
    "trades": "trade_log.jsonl",
    "funding": "funding_log.jsonl",
    "signals": "signals.jsonl",
    "incidents": "incidents.jsonl",
    "alerts": "ops_alerts.jsonl",
    "commands": "control_log.jsonl",
    "acks": "control_acks.jsonl",
}

NAMED_FILES = ("peak_state", "synced_state", "trade_log")

RECENT_TRADES_KEPT = 50


def day_of(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")
