"""The executor's journals (trade log, funding, signals, incidents, alerts, acks) behind one writer.

Every record carries a `seq` in write order. On resume, records already journaled after the
snapshot (found by id) are not written again, so a killed run never journals anything twice;
skipping one still moves the counter past its `seq`, so the records after it get the numbers
an uninterrupted run gives them (the journals end byte-identical).
A component that must see what is journaled (the venue reconciler indexes the trade log) asks
with `watch`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from execution.state.store import StateSink


class Journal:
    def __init__(self, sink: StateSink, seq: int = 0, already_journaled: Mapping[str, int] | None = None):
        self.sink = sink
        self.seq = seq
        self.already_journaled: dict[str, int] = dict(already_journaled or {})  # id -> its seq
        self._watchers: dict[str, list[Callable[[dict], None]]] = {}

    def seen(self, record_id: str) -> bool:
        """True when a record with this id was journaled before a restart; the counter then moves
        past it, as if it had been written again."""
        seq = self.already_journaled.get(record_id)
        if seq is None:
            return False
        self.seq = max(self.seq, seq)
        return True

    def watch(self, collection: str, callback: Callable[[dict], None]) -> None:
        """Call `callback(record)` after each record appended to `collection`."""
        self._watchers.setdefault(collection, []).append(callback)

    def append(self, collection: str, record: dict) -> None:
        record_id = record.get("id")
        if isinstance(record_id, str) and self.seen(record_id):
            record["seq"] = self.already_journaled[record_id]  # the seq it was written with (the caller may keep it)
            return
        self.seq += 1
        record["seq"] = self.seq
        self.sink.append(collection, record)
        for callback in self._watchers.get(collection, ()):
            callback(record)
