"""An in-memory state sink: research backtests run the executor's engine without files,
Firestore or a log, and read what it journaled straight from here.

Journal records are kept as the engine wrote them (Decimals included); `records` returns them as
the trade log has them on disk (the same JSON encoding), so a backtest's trades can be compared
with a replay's `trade_log.jsonl` line for line. Documents are dropped: nobody reads them.
"""

from __future__ import annotations

import json

from execution.state.atomic import dumps
from execution.state.layout import COLLECTION_FILES
from execution.state.store import StateSink


class MemorySink(StateSink):
    def __init__(self) -> None:
        self.journals: dict[str, list[dict]] = {}
        self.nav_ts: list[int] = []
        self.nav: list[float] = []

    def put(self, doc: str, value: dict) -> None:
        return None

    def put_file(self, name: str, value: dict) -> None:
        return None

    def append(self, collection: str, record: dict) -> None:
        if collection not in COLLECTION_FILES:
            raise ValueError(f"unknown collection {collection!r} (known: {sorted(COLLECTION_FILES)})")
        self.journals.setdefault(collection, []).append(record)

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float, btc: float | None = None) -> None:
        if self.nav_ts and ts_ms <= self.nav_ts[-1]:
            return
        self.nav_ts.append(ts_ms)
        self.nav.append(nav)

    def flush(self, force: bool = False) -> None:
        return None

    def records(self, collection: str) -> list[dict]:
        """The journal as its file would hold it (Decimals written as JSON numbers)."""
        return [json.loads(dumps(r)) for r in self.journals.get(collection, [])]
