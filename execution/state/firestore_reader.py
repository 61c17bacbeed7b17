"""Readers over Firestore, and the fallback to local files: what the dashboard, heartbeat and CLI use.

Both readers answer the same calls as `LocalReader` and say where the answer came from
(`Snapshot.source`) and how old it is. Document reads per dashboard load are bounded: the
current-value documents in one batched read, the last N trades, and at most three NAV-history
documents for any range (see layout.history_plan).
"""
from __future__ import annotations

from execution import clock, logs
from execution.state.firestore_store import FirestoreTarget
from execution.state.layout import DOCS, history_plan
from execution.state.reader import LocalReader, Snapshot


class FirestoreReader:
    source = "firestore"

    def __init__(self, target: FirestoreTarget):
        self.target = target

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.source, read_at_ms=clock.wall_ms())
        docs = self.target.get_docs([f"state/{d}" for d in DOCS])
        for path, doc in docs.items():
            name = path.split("/", 1)[1]
            snap.docs[name] = doc
            snap.updated_at_ms = max(snap.updated_at_ms, int(doc.get("updated_at_ms") or 0))
        return snap

    def recent(self, collection: str, n: int) -> list[dict]:
        return self.target.recent(collection, n)

    def recent_trades(self, n: int = 5) -> list[dict]:
        return self.recent("trades", n)

    def nav_history(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        out: list[tuple[int, float, float]] = []
        docs = self.target.get_docs(history_plan(max(start_ms, 0), end_ms))
        for path in history_plan(max(start_ms, 0), end_ms):
            b = docs.get(path) or {}
            out.extend((t, n, d) for t, n, d in zip(b.get("ts", []), b.get("nav", []), b.get("dd", []))
                       if start_ms <= t <= end_ms)
        return out

    def named(self, name: str) -> dict:
        return {}  # the named files (peak_state, synced_state) are the executor's local files


class FallbackReader:
    """Firestore first; local files when Firestore does not answer. Never raises for an outage.

    After a failure Firestore is not asked again for `retry_after_ms`, so a page or a heartbeat
    does not pay a timeout on every read while it is down."""

    def __init__(self, primary: FirestoreReader, fallback: LocalReader, retry_after_ms: int = 30_000,
                 wall_ms=clock.wall_ms, reconnect=None):
        """`reconnect()` builds a fresh FirestoreReader after an outage (a gRPC channel that saw the
        outage can stay in its own back-off for minutes)."""
        self.primary, self.fallback = primary, fallback
        self._reconnect = reconnect
        self._stale_client = False
        self.retry_after_ms = retry_after_ms
        self._wall = wall_ms
        self._down_until = 0
        self.log = logs.get()
        self.last_problem = ""

    def _try(self, name: str, *args):
        if self._wall() < self._down_until:
            return getattr(self.fallback, name)(*args), self.last_problem
        if self._stale_client and self._reconnect is not None:
            try:
                self.primary = self._reconnect()
                self._stale_client = False
            except Exception:  # noqa: BLE001 - a client that cannot be built is just another outage
                pass
        try:
            result = getattr(self.primary, name)(*args)
            self.last_problem = ""
            return result, None
        except Exception as exc:  # noqa: BLE001 - any Firestore failure: fall back
            problem = f"firestore unreachable ({exc.__class__.__name__}); showing local state"
            if problem != self.last_problem:
                self.log.warning("[state] %s", problem)
            self.last_problem = problem
            self._down_until = self._wall() + self.retry_after_ms
            self._stale_client = True
            return getattr(self.fallback, name)(*args), problem

    def snapshot(self) -> Snapshot:
        snap, problem = self._try("snapshot")
        if problem:
            snap.problems.insert(0, problem)
        return snap

    def recent(self, collection: str, n: int) -> list[dict]:
        return self._try("recent", collection, n)[0]

    def recent_trades(self, n: int = 5) -> list[dict]:
        return self.recent("trades", n)

    def nav_history(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        return self._try("nav_history", start_ms, end_ms)[0]

    def named(self, name: str) -> dict:
        return self.fallback.named(name)
