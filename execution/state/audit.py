"""Does Firestore hold what the local journals hold? A periodic audit, so a store that lost data is noticed.

Every FIRESTORE_AUDIT_INTERVAL_S (default 3600 s; 0 = never) the mirror's thread, when its
outbox is empty (everything queued so far was acknowledged), compares each journal (trades,
funding, signals, incidents, alerts, commands, acks) with its Firestore collection, per UTC day
of the records' `ts`: the count and a digest of the document ids. Records Firestore lacks are
queued again (same ids: sending twice is harmless) and every difference becomes a `Finding`,
which the engine turns into an ops alert (`execution/audit_alerts.py`).

Cost: a day is read (ids only, one billed read per document) until it has matched once after it
ended; such days are remembered (outbox cursors `audit:<collection>:<day>`) and not read again,
unless the collection's total in Firestore (one aggregation read per 1,000 documents, every
audit) falls below the local total, which re-opens every day of that collection.
"""

from __future__ import annotations

import hashlib
import queue
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from execution import clock, logs
from execution.state.firestore_store import jsonable, record_doc_id
from execution.state.layout import COLLECTION_FILES, day_of
from execution.state.outbox import Outbox

DAY_MS = 86_400_000


class AuditTarget(Protocol):
    def count(self, collection: str) -> int: ...

    def ids_between(self, collection: str, start_ms: int, end_ms: int) -> set[str]: ...


@dataclass(frozen=True)
class Finding:
    collection: str
    day: str
    local: int
    remote: int
    resent: int
    digest_local: str
    digest_remote: str

    def text(self) -> str:
        return (
            f"FIRESTORE AUDIT {self.collection} {self.day}: local {self.local} record(s), Firestore {self.remote}; "
            f"{self.resent} missing record(s) queued again"
        )


def digest(ids: set[str]) -> str:
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def local_days(path: Path, end_offset: int) -> dict[str, dict[str, dict]]:
    """day -> {document id: record} of the journal's complete lines before `end_offset`."""
    import json

    out: dict[str, dict[str, dict]] = {}
    try:
        with open(path, "rb") as fh:
            data = fh.read(end_offset)
    except OSError:
        return out
    for raw in data.splitlines():
        try:
            rec = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        ts = rec.get("ts") if isinstance(rec, dict) else None
        if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not 0 < ts < 4_102_444_800_000:
            continue
        out.setdefault(day_of(int(ts)), {})[record_doc_id(rec)] = rec
    return out


class FirestoreAudit:
    def __init__(self, state_dir: Path, outbox: Outbox, interval_ms: int, wall_ms: Callable[[], int] = clock.wall_ms):
        self.state_dir = Path(state_dir)
        self.outbox = outbox
        self.interval_ms = interval_ms
        self._wall = wall_ms
        self._next = wall_ms() + min(interval_ms, 60_000)  # the first audit soon after start
        self.findings: queue.SimpleQueue[Finding] = queue.SimpleQueue()
        self.runs = 0
        self.log = logs.get()

    def due(self) -> bool:
        return self.interval_ms > 0 and self._wall() >= self._next

    def run(self, target: AuditTarget, public: Callable[[str, dict], dict]) -> list[Finding]:
        """One audit (call with the outbox empty). `public` gives what Firestore may hold of a record."""
        self._next = self._wall() + self.interval_ms
        self.runs += 1
        today = day_of(self._wall())
        found: list[Finding] = []
        for collection, name in COLLECTION_FILES.items():
            offset = self.outbox.cursor(name) or 0
            days = local_days(self.state_dir / name, offset)
            if not days:
                continue
            total = sum(len(r) for r in days.values())
            reopen = target.count(collection) < total
            for day in sorted(days):
                key = f"audit:{collection}:{day}"
                if not reopen and self.outbox.cursor(key):
                    continue
                finding = self._check_day(target, collection, day, days[day], public)
                if finding is not None:
                    found.append(finding)
                    self.findings.put(finding)
                elif day < today and self._yesterday(today) != day:
                    self.outbox.set_cursor(key, 1)  # over and complete: not read again
        if found:
            for f in found:
                self.log.error("[state] %s", f.text())
        else:
            self.log.info("[state] firestore audit: every journal day matches")
        return found

    def _check_day(
        self,
        target: AuditTarget,
        collection: str,
        day: str,
        records: dict[str, dict],
        public: Callable[[str, dict], dict],
    ) -> Finding | None:
        start = _day_start(day)
        remote = target.ids_between(collection, start, start + DAY_MS)
        ids = set(records)
        if ids <= remote:
            return None
        missing = sorted(ids - remote)
        rows = [(f"{collection}/{rid}", jsonable(public(collection, records[rid]))) for rid in missing]
        self.outbox.put_records(rows)
        return Finding(collection, day, len(ids), len(remote), len(missing), digest(ids), digest(remote))

    @staticmethod
    def _yesterday(today: str) -> str:
        return day_of(_day_start(today) - DAY_MS)


def _day_start(day: str) -> int:
    from datetime import UTC, datetime

    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
