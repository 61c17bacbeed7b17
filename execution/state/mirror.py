"""Local first, then Firestore through the outbox: the executor's state sink when Firestore is set.

The local store writes every document and record first (the fallback that always works) and
tells the mirror, which queues it in the on-disk outbox. A background thread drains the outbox
into Firestore in batches. The trading loop never waits for Firestore: an outage, a slow call or
a quota error only makes the outbox grow; when Firestore answers again the queue is sent in
order. Writes to one document are coalesced: at most one per `interval_for(path)` (never less
than a second), so a year of running fits Firestore's free daily quota (bench/firestore_cost.py).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from execution import clock, logs
from execution.state.firestore_store import FirestoreTarget, jsonable
from execution.state.local import LocalStore
from execution.state.outbox import Outbox
from execution.state.store import StateSink

MIN_INTERVAL_MS = 1_000
BATCH = 400  # Firestore allows 500 writes per batch
BATCH_BYTES = 2_000_000  # and a request under 4 MiB (a day bucket of minute points is ~50 kB)


class DocIntervals:
    """How often each kind of document may be written to Firestore (ms)."""

    def __init__(self, state_ms: int = 60_000, day_ms: int = 60_000, summary_ms: int = 600_000):
        self.state_ms = max(state_ms, MIN_INTERVAL_MS)
        self.day_ms = max(day_ms, MIN_INTERVAL_MS)
        self.summary_ms = max(summary_ms, MIN_INTERVAL_MS)

    @classmethod
    def from_env(cls, env: dict[str, str]) -> "DocIntervals":
        def seconds(name: str, default: float) -> int:
            raw = env.get(name) or ""
            try:
                return int(float(raw) * 1000) if raw else int(default * 1000)
            except ValueError:
                from execution.settings import ConfigError

                raise ConfigError(".env", name, "seconds (a number >= 1)", raw) from None

        return cls(seconds("FIRESTORE_DOC_INTERVAL_S", 60), seconds("FIRESTORE_NAV_DAY_INTERVAL_S", 60),
                   seconds("FIRESTORE_SUMMARY_INTERVAL_S", 600))

    def __call__(self, path: str) -> int:
        if path.startswith("history/nav/"):
            return self.day_ms
        if path.startswith("history/"):
            return self.summary_ms
        return self.state_ms


class FirestoreMirror:
    def __init__(self, target_factory: Callable[[], FirestoreTarget], outbox: Outbox, intervals: DocIntervals,
                 wall_ms: Callable[[], int] = clock.wall_ms, max_backoff_s: float = 30.0):
        self._factory = target_factory
        self.target: FirestoreTarget | None = None
        self.outbox = outbox
        self.intervals = intervals
        self._wall = wall_ms
        self.max_backoff_s = max_backoff_s
        self.log = logs.get()
        self._last_sent: dict[str, int] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.down = False
        self.sent = 0
        self._thread = threading.Thread(target=self._run, name="firestore-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- called from the trading thread (cheap, never blocks on the network) -------------------
    def on_written(self, path: str, doc: dict) -> None:
        self.outbox.put_doc(path, jsonable(doc))

    def on_appended(self, collection: str, record: dict) -> None:
        self.outbox.put_record(f"{collection}/{record['id']}", jsonable(record))
        self._wake.set()

    # -- the drain thread -------------------------------------------------------------------------
    def _sendable(self, final: bool) -> tuple[list, float]:
        rows = self.outbox.peek(BATCH * 2)
        now = self._wall()
        out, wait_ms, size = [], 500.0, 0
        for r in rows:
            last = self._last_sent.get(r.path)
            interval = MIN_INTERVAL_MS if final else self.intervals(r.path)
            if r.coalesce_doc and last is not None and now - last < interval:
                wait_ms = min(wait_ms, interval - (now - last))
                continue
            size += r.size
            if out and size > BATCH_BYTES:
                break
            out.append(r)
            if len(out) == BATCH:
                break
        return out, wait_ms

    def _send_once(self, final: bool = False) -> tuple[bool, float]:
        """Send one batch. Returns (progress made, ms to wait before the next try)."""
        rows, wait_ms = self._sendable(final)
        if not rows:
            return False, wait_ms
        try:
            if self.target is None:
                self.target = self._factory()
            self.target.commit([(r.path, r.data) for r in rows])
        except Exception as exc:  # noqa: BLE001 - any failure means "not now"; the rows stay queued
            if not self.down:
                self.down = True
                self.log.warning("[state] firestore not answering (%s): %d write(s) queued in %s; trading "
                                 "continues on local state", _why(exc), self.outbox.count(), self.outbox.path)
            raise _Down() from exc
        self.outbox.ack(rows)
        now = self._wall()
        for r in rows:
            if r.coalesce_doc:
                self._last_sent[r.path] = now
        self.sent += len(rows)
        if self.down:
            self.down = False
            self.log.info("[state] firestore answering again: backfilled, %d write(s) still queued",
                          self.outbox.count())
        return True, 0.0

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                progressed, wait_ms = self._send_once()
                backoff = 0.5
            except _Down:
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.max_backoff_s)
                continue
            except Exception as exc:  # noqa: BLE001 - the mirror thread must outlive anything
                self.log.error("[state] firestore mirror error: %s", _why(exc))
                self._stop.wait(1.0)
                continue
            if not progressed:
                self._wake.wait(wait_ms / 1000.0)
                self._wake.clear()

    def close(self, timeout_s: float = 10.0) -> int:
        """Stop the thread, then try (bounded) to send what is queued. Returns what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.outbox.count():
            try:
                progressed, wait_ms = self._send_once(final=True)
            except _Down:
                progressed, wait_ms = False, 500.0  # still down: retry until the deadline
            if not progressed:
                time.sleep(min(wait_ms, 1000) / 1000.0)
        left = self.outbox.count()
        if left:
            self.log.warning("[state] %d firestore write(s) still queued in %s: sent on the next start", left,
                             self.outbox.path)
        if self.target is not None:
            self.target.close()
        return left


class _Down(Exception):
    pass


def _why(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    return logs.redact(text.splitlines()[0][:200])


class MirrorSink(StateSink):
    """The local store with the Firestore mirror attached."""

    def __init__(self, local: LocalStore, mirror: FirestoreMirror):
        self.local, self.mirror = local, mirror
        local.on_written = mirror.on_written
        local.on_appended = mirror.on_appended

    def put(self, doc: str, value: dict) -> None:
        self.local.put(doc, value)

    def put_file(self, name: str, value: dict) -> None:
        self.local.put_file(name, value)

    def append(self, collection: str, record: dict) -> None:
        self.local.append(collection, record)

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float) -> None:
        self.local.nav_point(ts_ms, nav, drawdown_pct)

    def flush(self, force: bool = False) -> None:
        self.local.flush(force)

    def close(self) -> None:
        self.local.close()
        self.mirror.close()


def outbox_path(state_dir: Path) -> Path:
    return Path(state_dir) / "firestore_outbox.sqlite"
