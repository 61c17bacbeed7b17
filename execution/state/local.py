"""The local JSON state store: always written first, and the fallback that always works.

Every document has a logical path (`state/nav`, `history/nav/2025-01-01`, ...) that is both its
file under STATE_DIR (plus `.json`) and, below `hedge/{env}/`, its Firestore path. After each
successful write the store tells `on_written(path, doc)` and `on_appended(collection, record,
journal_end_offset)`, which is how the Firestore mirror follows the local state without ever getting ahead of it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from execution import clock
from execution.state.atomic import AppendOnlyFile, read_json, write_json
from execution.state.layout import (
    COLLECTION_FILES,
    DOCS,
    NAMED_FILES,
    bucket_path,
    daily_path,
    day_of,
    hourly_path,
)
from execution.state.store import StateSink

DAY_MS = 86_400_000
HOUR_MS = 3_600_000


def _empty_series(**key) -> dict:
    return {**key, "ts": [], "nav": [], "dd": [], "btc": []}


class LocalStore(StateSink):
    """Documents are coalesced (at most one write per `min_interval_ms` each, on the wall
    clock); journal records are appended immediately; NAV points go to day buckets plus an
    hourly (per month) and a daily (all time) summary, so any time range is a few reads.

    `durable=False` skips the fsyncs while running (a replay: atomic renames already keep every
    file whole across a killed process; fsync only guards against power loss) and makes the
    final flush at close durable."""

    def __init__(
        self,
        root: Path,
        min_interval_ms: int = 1000,
        durable: bool = True,
        wall_ms: Callable[[], int] = clock.wall_ms,
        sync_interval_ms: int = 1000,
        on_written: Callable[[str, dict], None] | None = None,
        on_appended: Callable[[str, dict, int], None] | None = None,
    ):
        self.root = Path(root)
        self.min_interval_ms = min_interval_ms
        self.durable = durable
        self.sync_interval_ms = sync_interval_ms
        self._wall = wall_ms
        self.on_written = on_written
        self.on_appended = on_appended
        for sub in ("state", "history/nav", "history/nav_hourly", "history/nav_daily"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        for stale in self.root.rglob(".*.tmp"):  # left by a process killed mid-write; never read
            stale.unlink(missing_ok=True)
        self._docs: dict[str, dict] = {}  # logical path -> latest content (pending or kept for history)
        self._dirty: set[str] = set()
        self._last_write: dict[str, int] = {}
        self._journals: dict[str, AppendOnlyFile] = {}
        self._last_sync = 0
        self._day = ""
        self._day_start = -DAY_MS
        self._day_paths = ("", "")  # the current day's bucket and month's hourly series paths
        self.writes = 0  # document writes done (for cost measurements)

    def file_of(self, path: str) -> Path:
        return self.root / f"{path}.json"

    # -- StateSink -----------------------------------------------------------------------------
    def put(self, doc: str, value: dict) -> None:
        if doc not in DOCS:
            raise ValueError(f"unknown state document {doc!r} (known: {DOCS})")
        self._set(f"state/{doc}", value)

    def put_file(self, name: str, value: dict) -> None:
        if name not in NAMED_FILES:
            raise ValueError(f"unknown state file {name!r} (known: {NAMED_FILES})")
        self._set(name, value)

    def _set(self, path: str, value: dict) -> None:
        self._docs[path] = value
        self._dirty.add(path)

    def append(self, collection: str, record: dict) -> None:
        journal = self._journals.get(collection)
        if journal is None:
            try:
                name = COLLECTION_FILES[collection]
            except KeyError:
                raise ValueError(f"unknown collection {collection!r} (known: {sorted(COLLECTION_FILES)})") from None
            journal = self._journals[collection] = AppendOnlyFile(self.root / name)
        end = journal.append(record)
        if self.on_appended is not None:
            self.on_appended(collection, record, end)

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float, btc: float | None = None) -> None:
        if not self._day_start <= ts_ms < self._day_start + DAY_MS:
            previous = self._day
            day = self._day = day_of(ts_ms)
            self._day_start = ts_ms - ts_ms % DAY_MS
            self._day_paths = (bucket_path(day), hourly_path(day[:7]))  # formatted once per UTC day
            if previous:  # a closed day stays on disk only (once written)
                self._forget_clean(bucket_path(previous))
        day = self._day
        nav, dd = round(nav, 8), round(drawdown_pct, 6)
        mark = None if btc is None else round(btc, 8)
        path, hourly = self._day_paths
        docs = self._docs
        bucket = docs.get(path) or self._series(path, day=day)  # a dict lookup per point, the file on a miss
        if bucket["ts"] and ts_ms <= bucket["ts"][-1]:
            return  # already have a point at or after this time (restart replays are idempotent)
        _append(bucket, ts_ms, nav, dd, mark)
        dirty = self._dirty
        dirty.add(path)
        series = docs.get(hourly) or self._series(hourly, month=day[:7])
        _roll_up(series, HOUR_MS, ts_ms, nav, dd, mark)
        dirty.add(hourly)
        daily = daily_path()
        series = docs.get(daily) or self._series(daily, resolution="1d")
        _roll_up(series, DAY_MS, ts_ms, nav, dd, mark)
        dirty.add(daily)

    def flush(self, force: bool = False) -> None:
        now = self._wall()
        for path in sorted(self._dirty):
            if not force and now - self._last_write.get(path, 0) < self.min_interval_ms and not self._closed(path):
                continue
            doc = self._docs[path]
            write_json(self.file_of(path), doc, self.durable)
            self._dirty.discard(path)
            self._last_write[path] = now
            self.writes += 1
            if self.on_written is not None and path not in NAMED_FILES:
                self.on_written(path, doc)
            if path in NAMED_FILES or path.startswith("state/") or self._closed(path):
                del self._docs[path]  # rebuilt by the next put, or a closed period: disk only
        if self.durable and (force or now - self._last_sync >= self.sync_interval_ms):
            for journal in self._journals.values():
                journal.sync()
            self._last_sync = now

    def close(self) -> None:
        """Always durable, whatever `durable` was: the last state survives even a power cut."""
        self.durable = True
        self.flush(force=True)
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()

    # -- internals -----------------------------------------------------------------------------
    def _series(self, path: str, **key) -> dict:
        series = self._docs.get(path)
        if series is None:
            series = _empty_series(**key)
            try:
                data = read_json(self.file_of(path))
                if isinstance(data, dict) and all(isinstance(data.get(k), list) for k in ("ts", "nav", "dd")):
                    series = data
            except (FileNotFoundError, ValueError):
                pass
            self._docs[path] = series
        return series

    def _closed(self, path: str) -> bool:
        if path.startswith("history/nav/"):
            return path != bucket_path(self._day)
        if path.startswith("history/nav_hourly/"):
            return path != hourly_path(self._day[:7])
        return False

    def _forget_clean(self, path: str) -> None:
        if path not in self._dirty:
            self._docs.pop(path, None)
        # a dirty closed day is written by the next flush, then dropped there


def _marks(series: dict) -> list:
    """The `btc` array, as long as `ts` (a series written before the benchmark was recorded, or
    cut short, gets null marks for its earlier points)."""
    marks = series.get("btc")
    if not isinstance(marks, list):
        marks = series["btc"] = []
    n = len(series["ts"])
    if len(marks) < n:
        marks.extend([None] * (n - len(marks)))
    elif len(marks) > n:
        del marks[n:]
    return marks


def _roll_up(series: dict, unit: int, ts: int, nav: float, dd: float, btc: float | None) -> None:
    """A summary series keeps the last point of each period: replace it within the period, else append."""
    if series["ts"] and series["ts"][-1] // unit == ts // unit:
        series["ts"][-1], series["nav"][-1], series["dd"][-1] = ts, nav, dd
        _marks(series)[-1] = btc
    else:
        _append(series, ts, nav, dd, btc)


def _append(series: dict, ts: int, nav: float, dd: float, btc: float | None) -> None:
    times = series["ts"]
    times.append(ts)
    series["nav"].append(nav)
    series["dd"].append(dd)
    marks = series.get("btc")
    if type(marks) is list and len(marks) == len(times) - 1:  # the usual case: in step, nothing to pad
        marks.append(btc)
    else:
        _marks(series)[-1] = btc
