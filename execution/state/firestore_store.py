"""Firestore as seen by this project: logical state paths mapped under `hedge/{env}/`.

    state/<doc>                 -> hedge/{env}/state/<doc>
    history/nav/<day>           -> hedge/{env}/nav_days/<day>
    history/nav_hourly/<month>  -> hedge/{env}/nav_hourly/<month>
    history/nav_daily/all       -> hedge/{env}/nav_daily/all
    <collection>/<record id>    -> hedge/{env}/<collection>/<record id>   (trades, funding, signals, ...)

Every call has a timeout and no library-level retry: the mirror thread decides when to retry,
so nothing here can hold a caller for long.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from execution.settings import StoreEnv

CALL_TIMEOUT_S = 5.0
_HISTORY = {"history/nav/": "nav_days/", "history/nav_hourly/": "nav_hourly/", "history/nav_daily/": "nav_daily/"}


@dataclass(frozen=True)
class FirestoreConfig:
    project: str
    database: str = "(default)"
    env: str = "prod"
    emulator_host: str = ""  # shown in describe(); the client library reads the variable itself

    @classmethod
    def from_store(cls, store: StoreEnv) -> FirestoreConfig | None:
        """None when no FIRESTORE_PROJECT is set (local files only)."""
        if not store.firestore_project:
            return None
        return cls(store.firestore_project, store.firestore_database, store.env_name, store.emulator_host)

    def describe(self) -> str:
        where = f" emulator={self.emulator_host}" if self.emulator_host else ""
        return f"firestore project={self.project} database={self.database} env={self.env}{where}"


def firestore_path(env: str, logical: str) -> str:
    for prefix, target in _HISTORY.items():
        if logical.startswith(prefix):
            logical = target + logical[len(prefix) :]
            break
    if logical.count("/") != 1 or not all(logical.split("/")):
        raise ValueError(f"not a document path: {logical!r}")
    return f"hedge/{env}/{logical}"


class FirestoreTarget:
    """One Firestore database: batched writes, bounded reads."""

    def __init__(self, cfg: FirestoreConfig, timeout_s: float = CALL_TIMEOUT_S):
        from google.cloud import firestore

        self.cfg = cfg
        self.timeout_s = timeout_s
        self._firestore = firestore
        self.client = firestore.Client(project=cfg.project, database=cfg.database)
        self.reads = 0
        self.writes = 0

    def doc(self, logical: str):
        return self.client.document(firestore_path(self.cfg.env, logical))

    def ping(self) -> float:
        """Milliseconds for one read; raises if Firestore does not answer."""
        t0 = time.monotonic()
        self.doc("state/nav").get(retry=None, timeout=self.timeout_s)
        self.reads += 1
        return (time.monotonic() - t0) * 1000

    def commit(self, writes: list[tuple[str, dict]]) -> None:
        batch = self.client.batch()
        for logical, data in writes:
            batch.set(self.doc(logical), data)
        batch.commit(retry=None, timeout=self.timeout_s)
        self.writes += len(writes)

    def get_docs(self, logicals: list[str]) -> dict[str, dict]:
        refs = [self.doc(p) for p in logicals]
        out: dict[str, dict] = {}
        by_path = {r.path: p for r, p in zip(refs, logicals, strict=False)}
        for snap in self.client.get_all(refs, retry=None, timeout=self.timeout_s):
            self.reads += 1
            data = snap.to_dict() if snap.exists else None  # None only for a missing document
            if data is not None:
                out[by_path[snap.reference.path]] = data
        return out

    def recent(self, collection: str, n: int) -> list[dict]:
        if n <= 0:
            return []
        col = self.client.collection(f"hedge/{self.cfg.env}/{collection}")
        query = col.order_by("ts", direction=self._firestore.Query.DESCENDING).limit(n)
        rows = [s.to_dict() for s in query.get(retry=None, timeout=self.timeout_s)]
        self.reads += max(len(rows), 1)
        return list(reversed(rows))

    def count(self, collection: str) -> int:
        """Documents in a collection: one aggregation read per 1,000 (the audit's cheap check)."""
        col = self.client.collection(f"hedge/{self.cfg.env}/{collection}")
        result = col.count().get(retry=None, timeout=self.timeout_s)
        value = int(result[0][0].value)
        self.reads += max(1, (value + 999) // 1000)
        return value

    def ids_between(self, collection: str, start_ms: int, end_ms: int) -> set[str]:
        """Ids of a collection's documents with start_ms <= ts < end_ms (ids only; one read each)."""
        from google.cloud.firestore_v1.base_query import FieldFilter

        col = self.client.collection(f"hedge/{self.cfg.env}/{collection}")
        query = col.where(filter=FieldFilter("ts", ">=", start_ms)).where(filter=FieldFilter("ts", "<", end_ms))
        ids = {snap.id for snap in query.select([]).stream(retry=None, timeout=self.timeout_s)}
        self.reads += max(1, len(ids))
        return ids

    def all_ids(self, collection: str) -> list[str]:
        """Every document id of a collection (tests and audits; costs one read per document)."""
        col = self.client.collection(f"hedge/{self.cfg.env}/{collection}")
        return [d.id for d in col.list_documents()]

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # noqa: BLE001 - closing must not fail a shutdown
            pass


def record_doc_id(record: dict) -> str:
    """The record's own `id` as a Firestore document id (idempotent: the same record always lands on
    the same document). '/' is escaped; an id Firestore cannot take becomes a hash of itself, and a
    record without an id a hash of its content."""
    import hashlib

    from execution.state.atomic import dumps

    rid = record.get("id")
    if rid is None or rid == "":
        return "sha-" + hashlib.sha256(dumps(record).encode()).hexdigest()[:40]
    safe = str(rid).replace("%", "%25").replace("/", "%2F")
    if safe in (".", "..") or (safe.startswith("__") and safe.endswith("__")) or len(safe.encode()) > 1500:
        return "sha-" + hashlib.sha256(str(rid).encode()).hexdigest()[:40]
    return safe


def jsonable(doc: dict) -> dict[str, Any]:
    """Decimals and enums as the local JSON has them: Firestore stores exactly what the file says."""
    import json

    from execution.state.atomic import dumps

    return json.loads(dumps(doc))
