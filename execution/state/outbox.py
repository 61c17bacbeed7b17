"""The Firestore outbox: writes waiting for Firestore, on disk, in order, crash-safe (SQLite).

Current-value documents are coalesced (one row per document, the latest content wins); journal
records are one row each. A row is removed only after Firestore acknowledged it, and only if it
was not replaced meanwhile (version check), so nothing is lost and a record is never sent with
stale content. WAL journaling: a killed process loses no committed row.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    data TEXT NOT NULL,
    coalesce_doc INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS outbox_one_row_per_doc ON outbox(path) WHERE coalesce_doc = 1;
"""


@dataclass(frozen=True)
class Pending:
    seq: int
    path: str
    data: dict
    coalesce_doc: bool
    version: int
    size: int = 0  # bytes of JSON: batches stay under Firestore's request size


class Outbox:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._conn() as c:
            c.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def put_doc(self, path: str, data: dict) -> None:
        self._conn().execute(
            "INSERT INTO outbox(path, data, coalesce_doc) VALUES (?, ?, 1) "
            "ON CONFLICT(path) WHERE coalesce_doc = 1 DO UPDATE SET data = excluded.data, version = version + 1",
            (path, json.dumps(data, separators=(",", ":"))))

    def put_record(self, path: str, data: dict) -> None:
        self._conn().execute("INSERT INTO outbox(path, data, coalesce_doc) VALUES (?, ?, 0)",
                             (path, json.dumps(data, separators=(",", ":"))))

    def peek(self, limit: int = 500) -> list[Pending]:
        rows = self._conn().execute("SELECT seq, path, data, coalesce_doc, version FROM outbox ORDER BY seq LIMIT ?",
                                    (limit,)).fetchall()
        return [Pending(s, p, json.loads(d), bool(c), v, len(d)) for s, p, d, c, v in rows]

    def ack(self, sent: list[Pending]) -> None:
        conn = self._conn()
        conn.execute("BEGIN")
        conn.executemany("DELETE FROM outbox WHERE seq = ? AND version = ?", [(p.seq, p.version) for p in sent])
        conn.execute("COMMIT")

    def count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
