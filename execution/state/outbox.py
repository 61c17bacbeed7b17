"""The Firestore outbox: writes waiting for Firestore, on disk, in order, crash-safe (SQLite).

Current-value documents are coalesced (one row per document, the latest content wins); journal
records are one row each. A row is removed only after Firestore acknowledged it, and only if it
was not replaced meanwhile (version check), so nothing is lost and a record is never sent with
stale content. WAL journaling: a killed process loses no committed row.

Cursors make "local first, then outbox" crash-safe: a record's row and the byte offset of its
local journal up to which everything is queued are committed in one transaction, so after a
SIGKILL between the local append and the outbox insert the next start finds the gap (journal
longer than its cursor) and queues what is missing. Rows Firestore refuses for good (a document
too large, a value it cannot store) go to `dead` with the reason, instead of blocking the queue.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
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
CREATE TABLE IF NOT EXISTS cursor (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dead (
    seq INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    data TEXT NOT NULL,
    error TEXT NOT NULL
);
"""

_UPSERT_DOC = (
    "INSERT INTO outbox(path, data, coalesce_doc) VALUES (?, ?, 1) "
    "ON CONFLICT(path) WHERE coalesce_doc = 1 DO UPDATE SET data = excluded.data, version = version + 1"
)
_SET_CURSOR = "INSERT INTO cursor(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value"


@dataclass(frozen=True)
class Pending:
    seq: int
    path: str
    data: dict
    coalesce_doc: bool
    version: int
    size: int = 0  # bytes of JSON: batches stay under Firestore's request size


def _json(data: dict) -> str:
    return json.dumps(data, separators=(",", ":"))


class Outbox:
    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._conn().executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # survives a killed process; fsync at checkpoints
            self._local.conn = conn
        return conn

    # -- writers (the trading thread, the catch-up at start, the control-log tailer) --------------
    def put_doc(self, path: str, data: dict, cursor: tuple[str, int] | None = None) -> None:
        conn = self._conn()
        if cursor is None:
            conn.execute(_UPSERT_DOC, (path, _json(data)))
            return
        with _transaction(conn):
            conn.execute(_UPSERT_DOC, (path, _json(data)))
            conn.execute(_SET_CURSOR, cursor)

    def put_record(self, path: str, data: dict, cursor: tuple[str, int] | None = None) -> None:
        self.put_records([(path, data)], cursor)

    def put_records(self, rows: Iterable[tuple[str, dict]], cursor: tuple[str, int] | None = None) -> None:
        """Queue records, and move the cursor of their journal, in one transaction."""
        conn = self._conn()
        with _transaction(conn):
            conn.executemany(
                "INSERT INTO outbox(path, data, coalesce_doc) VALUES (?, ?, 0)", ((p, _json(d)) for p, d in rows)
            )
            if cursor is not None:
                conn.execute(_SET_CURSOR, cursor)

    def cursor(self, name: str) -> int | None:
        row = self._conn().execute("SELECT value FROM cursor WHERE name = ?", (name,)).fetchone()
        return None if row is None else int(row[0])

    def set_cursor(self, name: str, value: int) -> None:
        self._conn().execute(_SET_CURSOR, (name, value))

    # -- the drain thread ---------------------------------------------------------------------------
    def peek(self, limit: int = 500) -> list[Pending]:
        rows = (
            self._conn()
            .execute("SELECT seq, path, data, coalesce_doc, version FROM outbox ORDER BY seq LIMIT ?", (limit,))
            .fetchall()
        )
        return [Pending(s, p, json.loads(d), bool(c), v, len(d)) for s, p, d, c, v in rows]

    def ack(self, sent: list[Pending]) -> None:
        conn = self._conn()
        with _transaction(conn):
            conn.executemany("DELETE FROM outbox WHERE seq = ? AND version = ?", [(p.seq, p.version) for p in sent])

    def bury(self, row: Pending, error: str) -> None:
        """Firestore refused this row for good: keep it (with why) out of the queue."""
        conn = self._conn()
        with _transaction(conn):
            conn.execute(
                "INSERT OR REPLACE INTO dead(seq, path, data, error) VALUES (?, ?, ?, ?)",
                (row.seq, row.path, _json(row.data), error[:500]),
            )
            conn.execute("DELETE FROM outbox WHERE seq = ? AND version = ?", (row.seq, row.version))

    def count(self) -> int:
        return self._conn().execute("SELECT COUNT(*) FROM outbox").fetchone()[0]

    def backlog(self) -> tuple[int, int | None, int]:
        """(rows waiting, seq of the oldest waiting row or None, rows set aside): read only, for the
        metrics (execution/metrics_state.py)."""
        depth, oldest = self._conn().execute("SELECT COUNT(*), MIN(seq) FROM outbox").fetchone()
        dead = self._conn().execute("SELECT COUNT(*) FROM dead").fetchone()[0]
        return int(depth), (None if oldest is None else int(oldest)), int(dead)

    def dead(self) -> list[tuple[str, str]]:
        return [(p, e) for p, e in self._conn().execute("SELECT path, error FROM dead ORDER BY seq")]

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


class _transaction:
    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type, exc, tb) -> None:
        self.conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
