"""Readers over Firestore, and the fallback to local files: what the dashboard, heartbeat and CLI use.

Both readers answer the same calls as `LocalReader` and say where the answer came from
(`Snapshot.source`) and how old it is. Document reads per dashboard load are bounded: the
current-value documents in one batched read, the last N trades, and at most three NAV-history
documents for any range (see layout.history_plan).
"""

from __future__ import annotations

from collections.abc import Callable

from execution import clock, logs
from execution.state.firestore_store import FirestoreTarget
from execution.state.layout import DOCS, history_plan
from execution.state.reader import LocalReader, Snapshot, bucket_points


class FirestoreReader:
    """Reads `hedge/{env}/...`. Each document (and each collection's tail) is kept `cache_ms`: the
    executor writes a document at most once a minute by default, so a dashboard refreshing every
    few seconds costs at most one read per document per `cache_ms`, whoever is watching."""

    source = "firestore"

    def __init__(self, target: FirestoreTarget, cache_ms: int = 0, wall_ms: Callable[[], int] = clock.wall_ms):
        self.target = target
        self.cache_ms = cache_ms
        self._wall = wall_ms
        self._docs: dict[str, tuple[int, dict | None]] = {}
        self._tails: dict[str, tuple[int, int, list[dict]]] = {}

    def _get(self, paths: list[str]) -> dict[str, dict]:
        now = self._wall()
        missing = [p for p in paths if p not in self._docs or now - self._docs[p][0] >= self.cache_ms]
        if missing:
            got = self.target.get_docs(missing)
            if self.cache_ms > 0:
                for p in list(self._docs):
                    if now - self._docs[p][0] >= self.cache_ms:
                        del self._docs[p]
                for p in missing:
                    self._docs[p] = (now, got.get(p))
            else:
                return got
        out: dict[str, dict] = {}
        for p in paths:
            doc = self._docs.get(p, (0, None))[1]
            if doc is not None:
                out[p] = doc
        return out

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.source, read_at_ms=self._wall())
        docs = self._get([f"state/{d}" for d in DOCS])
        for path, doc in docs.items():
            name = path.split("/", 1)[1]
            snap.docs[name] = doc
            snap.updated_at_ms = max(snap.updated_at_ms, int(doc.get("updated_at_ms") or 0))
        return snap

    def recent(self, collection: str, n: int) -> list[dict]:
        now = self._wall()
        hit = self._tails.get(collection)
        if hit is not None and now - hit[0] < self.cache_ms and hit[1] >= n:
            return hit[2][-n:] if n > 0 else []
        rows = self.target.recent(collection, n)
        if self.cache_ms > 0:
            self._tails[collection] = (now, n, rows)
        return rows

    def recent_trades(self, n: int = 5) -> list[dict]:
        return self.recent("trades", n)

    def nav_history(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        """Every point for ranges up to two days, hourly up to two months, daily beyond: at most
        three document reads (layout.history_plan), however long the fund has run."""
        return [p[:3] for p in self.nav_points(start_ms, end_ms)]

    def nav_points(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float, float | None]]:
        """As nav_history, with the BTC mark beside each point (None where the bucket has none)."""
        out: list[tuple[int, float, float, float | None]] = []
        plan = history_plan(max(start_ms, 0), end_ms)
        docs = self._get(plan)
        for path in plan:
            out.extend(bucket_points(docs.get(path) or {}, start_ms, end_ms))
        return out

    def named(self, name: str) -> dict:
        return {}  # the named files (peak_state, synced_state) are the executor's local files


class FallbackReader:
    """Firestore first; local files when Firestore does not answer. Never raises for an outage.

    After a failure Firestore is not asked again for `retry_after_ms`, so a page or a heartbeat
    does not pay a timeout on every read while it is down."""

    def __init__(
        self,
        primary: FirestoreReader,
        fallback: LocalReader,
        retry_after_ms: int = 30_000,
        wall_ms=clock.wall_ms,
        reconnect=None,
    ):
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

    def nav_points(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float, float | None]]:
        return self._try("nav_points", start_ms, end_ms)[0]

    def named(self, name: str) -> dict:
        return self.fallback.named(name)
