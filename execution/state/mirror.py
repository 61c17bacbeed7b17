"""Local first, then Firestore through the outbox: the executor's state sink when Firestore is set.

The local store writes every document and record first (the fallback that always works) and
tells the mirror, which queues it in the on-disk outbox. A background thread drains the outbox
into Firestore in batches. The trading loop never waits for Firestore: an outage, a slow call or
a quota error only makes the outbox grow; when Firestore answers again the queue is sent in
order. Writes to one document are coalesced: at most one per `interval_for(path)` (never less
than a second), so a year of running fits Firestore's free daily quota (bench/firestore_cost.py).

Crash safety: each queued record carries the offset of its local journal (one transaction), so
`catch_up` at start queues whatever a killed process had written locally but not yet queued; the
same tailing mirrors the operator commands the CLI appends to control_log.jsonl. A row Firestore
refuses for good is set aside (outbox `dead` table, an error line) instead of blocking the rest.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from execution import clock, logs
from execution.settings import StoreEnv
from execution.state.atomic import read_json
from execution.state.audit import FirestoreAudit
from execution.state.firestore_store import jsonable, record_doc_id
from execution.state.layout import COLLECTION_FILES
from execution.state.local import LocalStore
from execution.state.outbox import Outbox, Pending
from execution.state.store import StateSink

MIN_INTERVAL_MS = 1_000
BATCH = 400  # Firestore allows 500 writes per batch
BATCH_BYTES = 2_000_000  # and a request under 10 MiB (a day bucket of minute points is ~50 kB)
EXTERNAL = ("commands",)  # journals other processes append (the operator CLI): tailed, not hooked
DOCS_CURSOR = "docs_ms"  # wall time of the last document queued
CATCH_UP_SLACK_MS = 2_000  # file mtimes are coarse: re-queue documents this close to the cursor
CHUNK = 4 << 20
DOWN_REMINDER_MS = 300_000


class DocIntervals:
    """How often each kind of document may be written to Firestore (ms)."""

    def __init__(self, state_ms: int = 60_000, day_ms: int = 60_000, summary_ms: int = 600_000):
        self.state_ms = max(state_ms, MIN_INTERVAL_MS)
        self.day_ms = max(day_ms, MIN_INTERVAL_MS)
        self.summary_ms = max(summary_ms, MIN_INTERVAL_MS)

    @classmethod
    def from_store(cls, store: StoreEnv) -> DocIntervals:
        """FIRESTORE_DOC_INTERVAL_S, FIRESTORE_NAV_DAY_INTERVAL_S, FIRESTORE_SUMMARY_INTERVAL_S."""
        return cls(
            int(store.doc_interval_s * 1000),
            int(store.nav_day_interval_s * 1000),
            int(store.summary_interval_s * 1000),
        )

    def __call__(self, path: str) -> int:
        if path.startswith("history/nav/"):
            return self.day_ms
        if path.startswith("history/"):
            return self.summary_ms
        return self.state_ms


class WriteTarget(Protocol):
    """What the mirror needs of a Firestore database: FirestoreTarget (a benchmark counts writes with a fake)."""

    def commit(self, writes: list[tuple[str, dict]]) -> None: ...
    def close(self) -> None: ...


class FirestoreMirror:
    def __init__(
        self,
        target_factory: Callable[[], WriteTarget],
        outbox: Outbox,
        intervals: DocIntervals,
        wall_ms: Callable[[], int] = clock.wall_ms,
        max_backoff_s: float = 30.0,
        state_dir: Path | None = None,
        audit: FirestoreAudit | None = None,
    ):
        self._factory = target_factory
        self.target: WriteTarget | None = None
        self.outbox = outbox
        self.intervals = intervals
        self._wall = wall_ms
        self.max_backoff_s = max_backoff_s
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.audit = audit  # checks now and then that Firestore holds what the journals hold
        self.log = logs.get()
        self._last_sent: dict[str, int] = {}
        self._urgent_until = 0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._behind = False
        self.down = False
        self._down_logged_at = 0
        self.sent = 0
        self.commits = 0
        self._thread = threading.Thread(target=self._run, name="firestore-mirror", daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- called from the trading thread (cheap, never blocks on the network) -------------------
    def on_written(self, path: str, doc: dict) -> None:
        with self._lock:
            if self._behind:
                return  # the drain thread's catch-up queues it from the local file
            try:
                self.outbox.put_doc(path, jsonable(doc), (DOCS_CURSOR, self._wall()))
            except Exception as exc:  # noqa: BLE001 - never the trading loop's problem
                self._fell_behind(exc)

    def on_appended(self, collection: str, record: dict, end_offset: int | None = None) -> None:
        if collection in EXTERNAL:
            return  # the control-log tailer queues it (with everything the CLI appended)
        with self._lock:
            if self._behind:
                return
            cursor = (COLLECTION_FILES[collection], end_offset) if end_offset is not None else None
            try:
                self.outbox.put_record(record_path(collection, record), jsonable(record), cursor)
            except Exception as exc:  # noqa: BLE001
                self._fell_behind(exc)
        self._wake.set()

    def _fell_behind(self, exc: Exception) -> None:
        """The outbox could not take a write (disk full, database locked): stop queueing from the
        trading thread; the drain thread catches up from the local files (cursors) once it can."""
        self._behind = True
        self.log.error(
            "[state] firestore outbox write failed (%s): trading goes on; the mirror will catch up "
            "from the local files",
            _why(exc),
        )
        self._wake.set()

    def expedite(self) -> None:
        """State documents go out at the 1-second floor for a moment (after an operator command,
        so the dashboard shows a HOLD within seconds, not at the next regular interval)."""
        self._urgent_until = self._wall() + 2 * MIN_INTERVAL_MS
        self._wake.set()

    # -- start-up and tailing -----------------------------------------------------------------
    def catch_up(self) -> tuple[int, int]:
        """Queue what the local state has and the outbox never saw: journal records past their
        cursors (a process killed between the two writes, or Firestore newly configured on an
        existing state directory) and documents written since the last one queued.
        Returns (records, documents) queued. Runs before trading starts."""
        if self.state_dir is None:
            return 0, 0
        records = sum(self.tail(collection) for collection in COLLECTION_FILES)
        mark = self.outbox.cursor(DOCS_CURSOR)
        docs = 0
        for sub in ("state", "history"):
            for f in sorted((self.state_dir / sub).rglob("*.json")):
                if f.name.startswith("."):
                    continue
                try:
                    if mark is not None and f.stat().st_mtime_ns // 1_000_000 < mark - CATCH_UP_SLACK_MS:
                        continue
                    doc = read_json(f)
                except (OSError, ValueError):
                    continue
                if isinstance(doc, dict):
                    self.outbox.put_doc(f.relative_to(self.state_dir).with_suffix("").as_posix(), jsonable(doc))
                    docs += 1
        self.outbox.set_cursor(DOCS_CURSOR, self._wall())
        if records or docs:
            self.log.info(
                "[state] firestore catch-up: %d record(s) and %d document(s) from local state queued", records, docs
            )
        return records, docs

    def tail(self, collection: str) -> int:
        """Queue the complete records of a local journal past its cursor. Returns how many."""
        assert self.state_dir is not None
        name = COLLECTION_FILES[collection]
        path = self.state_dir / name
        try:
            size = path.stat().st_size
        except OSError:
            return 0
        offset = self.outbox.cursor(name) or 0
        if size < offset:  # the journal was replaced: start over (ids make resending harmless)
            offset = 0
        queued = 0
        while offset < size:
            with open(path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(min(CHUNK, size - offset))
            end = data.rfind(b"\n")
            if end < 0:
                break  # a line still being written (or one longer than CHUNK: waits for the next pass)
            rows = []
            for raw in data[: end + 1].splitlines():
                rec = _parse(raw)
                if rec is not None:
                    rows.append((record_path(collection, rec), jsonable(_public(collection, rec))))
            offset += end + 1
            self.outbox.put_records(rows, (name, offset))
            queued += len(rows)
        if queued:
            self._wake.set()
        return queued

    # -- the drain thread -------------------------------------------------------------------------
    def _sendable(self, final: bool) -> tuple[list[Pending], float]:
        rows = self.outbox.peek(BATCH * 2)
        now = self._wall()
        urgent = now < self._urgent_until
        out: list[Pending] = []
        wait_ms, size = 500.0, 0
        for r in rows:
            last = self._last_sent.get(r.path)
            floor = final or (urgent and r.path.startswith("state/"))
            interval = MIN_INTERVAL_MS if floor else self.intervals(r.path)
            if r.coalesce_doc and last is not None and now - last < interval:
                wait_ms = min(wait_ms, interval - (now - last))
                continue
            size += r.size
            if out and size > BATCH_BYTES:
                break
            out.append(r)
            if len(out) == (1 if self.down else BATCH):  # while down, probe with one row: cheap to encode
                break
        return out, max(wait_ms, 10.0)

    def _commit(self, rows: list[Pending]) -> None:
        assert self.target is not None
        self.target.commit([(r.path, r.data) for r in rows])
        self.commits += 1

    def _connect(self) -> None:
        """Open the Firestore client on first use; a failure counts as Firestore being down."""
        if self.target is None:
            try:
                self.target = self._factory()
            except Exception as exc:
                self._went_down(exc)
                raise _Down() from exc

    def _send_once(self, final: bool = False) -> tuple[bool, float]:
        """Send one batch. Returns (progress made, ms to wait before the next try)."""
        rows, wait_ms = self._sendable(final)
        if not rows:
            return False, wait_ms
        self._connect()
        try:
            self._commit(rows)
            done = rows
        except Exception as exc:
            if not refused(exc):
                self._went_down(exc)
                raise _Down() from exc
            done = self._isolate(rows, exc)
        self.outbox.ack(done)
        now = self._wall()
        for r in done:
            if r.coalesce_doc:
                self._last_sent[r.path] = now
        self.sent += len(done)
        if self.down:
            self.down = False
            self.log.info(
                "[state] firestore answering again: backfilled, %d write(s) still queued", self.outbox.count()
            )
        return True, 0.0

    def _isolate(self, rows: list[Pending], exc: Exception) -> list[Pending]:
        """A batch was refused: send its rows one by one and set aside only those refused alone."""
        if len(rows) == 1:
            self._bury(rows[0], exc)
            return []
        done = []
        for r in rows:
            try:
                self._commit([r])
                done.append(r)
            except Exception as one:
                if not refused(one):
                    self.outbox.ack(done)  # keep what went through; the rest stays queued, in order
                    self._went_down(one)
                    raise _Down() from one
                self._bury(r, one)
        return done

    def _bury(self, row: Pending, exc: Exception) -> None:
        self.outbox.bury(row, _why(exc))
        self.log.error(
            "[state] firestore refused %s for good (%s): set aside in %s (table dead), the rest goes on",
            row.path,
            _why(exc),
            self.outbox.path,
        )

    def _went_down(self, exc: Exception) -> None:
        if self.target is not None:  # a fresh client next time: gRPC's own reconnect back-off reaches minutes
            self.target.close()
            self.target = None
        now = self._wall()
        if not self.down or now - self._down_logged_at >= DOWN_REMINDER_MS:
            self.log.warning(
                "[state] firestore not answering (%s): %d write(s) queued in %s; trading continues on local state",
                _why(exc),
                self.outbox.count(),
                self.outbox.path,
            )
            self._down_logged_at = now
        self.down = True

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                if self._behind and self.state_dir is not None:
                    with self._lock:
                        self.catch_up()
                        self._behind = False
                if self.state_dir is not None:
                    for collection in EXTERNAL:
                        self.tail(collection)
                progressed, wait_ms = self._send_once()
                if not progressed and self.audit is not None and self.audit.due() and not self.outbox.count():
                    self._audit()
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
                self._wake.wait(min(wait_ms, 500.0) / 1000.0)
                self._wake.clear()

    def _audit(self) -> None:
        """Everything queued so far is in Firestore (the outbox is empty): compare with the journals."""
        assert self.audit is not None
        self._connect()
        try:
            self.audit.run(self.target, _public)  # type: ignore[arg-type]
        except Exception as exc:
            if not refused(exc):
                self._went_down(exc)
                raise _Down() from exc
            self.log.error("[state] firestore audit failed: %s", _why(exc))
        self._wake.set()

    def close(self, timeout_s: float = 10.0) -> int:
        """Stop the thread, then try (bounded) to send what is queued. Returns what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
        # still down: one more try, then leave the rest queued on disk (a shutdown must not hang)
        deadline = time.monotonic() + (0.0 if self.down else timeout_s)
        if self.state_dir is not None:
            for collection in EXTERNAL:
                self.tail(collection)
        first = True
        while (first or time.monotonic() < deadline) and self.outbox.count():
            first = False
            try:
                progressed, wait_ms = self._send_once(final=True)
            except _Down:
                break
            if not progressed:
                time.sleep(min(wait_ms, 1000) / 1000.0)
        left = self.outbox.count()
        if left:
            self.log.warning(
                "[state] %d firestore write(s) still queued in %s: sent on the next start", left, self.outbox.path
            )
        if self.target is not None:
            self.target.close()
            self.target = None
        return left


class _Down(Exception):
    pass


def refused(exc: BaseException) -> bool:
    """Firestore (or the client, before sending) rejected the content itself: retrying cannot help."""
    from google.api_core import exceptions as gexc

    if isinstance(exc, gexc.InvalidArgument):
        return True
    if isinstance(exc, gexc.GoogleAPIError):
        return False  # unavailable, deadline, quota, permission: Firestore or its access, not this row
    return isinstance(exc, (ValueError, TypeError))  # the client could not encode the value


def _why(exc: BaseException) -> str:
    text = f"{exc.__class__.__name__}: {exc}"
    return logs.redact(text.splitlines()[0][:200])


def record_path(collection: str, record: dict) -> str:
    return f"{collection}/{record_doc_id(record)}"


def _parse(raw: bytes) -> dict | None:
    if not raw.strip():
        return None
    try:
        rec = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    return rec if isinstance(rec, dict) else None


def _public(collection: str, record: dict) -> dict:
    """What Firestore (readable by the dashboard's credentials) may hold of a record: an operator
    command's approval proof stays in the local control log."""
    if collection == "commands" and isinstance(record.get("args"), dict) and "proof" in record["args"]:
        return {**record, "args": {**record["args"], "proof": "(kept local)"}}
    return record


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

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float, btc: float | None = None) -> None:
        self.local.nav_point(ts_ms, nav, drawdown_pct, btc)

    def flush(self, force: bool = False) -> None:
        self.local.flush(force)
        if force:
            self.mirror.expedite()

    def close(self) -> None:
        self.local.close()
        self.mirror.close()

    def outbox(self) -> Outbox:
        return self.mirror.outbox


def outbox_path(state_dir: Path) -> Path:
    return Path(state_dir) / "firestore_outbox.sqlite"
