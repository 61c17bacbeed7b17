"""The executor's journals (trade log, funding, signals, incidents, alerts, acks) behind one writer.

Every record carries a `seq` in write order. On resume, records already journaled after the
snapshot (found by id) are not written again, so a killed run never journals anything twice.
"""

from __future__ import annotations

from execution.state.store import StateSink


class Journal:
    def __init__(self, sink: StateSink, seq: int = 0, already_journaled: set[str] | None = None):
        self.sink = sink
        self.seq = seq
        self.already_journaled: set[str] = already_journaled or set()

    def seen(self, record_id: str) -> bool:
        """True when a record with this id was journaled before a restart."""
        return record_id in self.already_journaled

    def append(self, collection: str, record: dict) -> None:
        if record.get("id") in self.already_journaled:
            return
        self.seq += 1
        record["seq"] = self.seq
        self.sink.append(collection, record)
