"""The local JSON state store: always written first, and the fallback that always works."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from execution import clock
from execution.state.atomic import AppendOnlyFile, read_json, write_json
from execution.state.layout import COLLECTION_FILES, DOCS, NAMED_FILES, day_of

DAY_MS = 86_400_000
from execution.state.store import StateSink


class LocalStore(StateSink):
    """Documents are coalesced (at most one write per `min_interval_ms` each, on the wall
    clock); journal records are appended immediately; NAV points go to day bucket files."""

    def __init__(self, root: Path, min_interval_ms: int = 1000, durable: bool = True,
                 wall_ms: Callable[[], int] = clock.wall_ms, sync_interval_ms: int = 1000):
        self.root = Path(root)
        self.min_interval_ms = min_interval_ms
        self.durable = durable
        self.sync_interval_ms = sync_interval_ms
        self._wall = wall_ms
        (self.root / "state").mkdir(parents=True, exist_ok=True)
        (self.root / "history" / "nav").mkdir(parents=True, exist_ok=True)
        for stale in self.root.rglob(".*.tmp"):  # left by a process killed mid-write; never read
            stale.unlink(missing_ok=True)
        self._pending: dict[Path, dict] = {}
        self._last_write: dict[Path, int] = {}
        self._journals: dict[str, AppendOnlyFile] = {}
        self._buckets: dict[str, dict] = {}
        self._dirty_days: set[str] = set()
        self._last_sync = 0
        self._day = ""
        self._day_start = -DAY_MS
        self.writes = 0  # document writes done (for cost measurements)

    # -- paths ---------------------------------------------------------------------------------
    def doc_path(self, doc: str) -> Path:
        return self.root / "state" / f"{doc}.json"

    def bucket_path(self, day: str) -> Path:
        return self.root / "history" / "nav" / f"{day}.json"

    # -- StateSink -----------------------------------------------------------------------------
    def put(self, doc: str, value: dict) -> None:
        if doc not in DOCS:
            raise ValueError(f"unknown state document {doc!r} (known: {DOCS})")
        self._pending[self.doc_path(doc)] = value

    def put_file(self, name: str, value: dict) -> None:
        if name not in NAMED_FILES:
            raise ValueError(f"unknown state file {name!r} (known: {NAMED_FILES})")
        self._pending[self.root / f"{name}.json"] = value

    def append(self, collection: str, record: dict) -> None:
        journal = self._journals.get(collection)
        if journal is None:
            try:
                name = COLLECTION_FILES[collection]
            except KeyError:
                raise ValueError(f"unknown collection {collection!r} (known: {sorted(COLLECTION_FILES)})") from None
            journal = self._journals[collection] = AppendOnlyFile(self.root / name)
        journal.append(record)

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float) -> None:
        if self._day_start <= ts_ms < self._day_start + DAY_MS:
            day = self._day
        else:
            day = self._day = day_of(ts_ms)
            self._day_start = ts_ms - ts_ms % DAY_MS
        bucket = self._buckets.get(day)
        if bucket is None:
            bucket = self._load_bucket(day)
            self._buckets[day] = bucket
            for old in [d for d in self._buckets if d < day and d not in self._dirty_days]:
                del self._buckets[old]  # closed days stay on disk only
        if bucket["ts"] and ts_ms <= bucket["ts"][-1]:
            return  # already have a point at or after this time (restart replays are idempotent)
        bucket["ts"].append(ts_ms)
        bucket["nav"].append(round(nav, 8))
        bucket["dd"].append(round(drawdown_pct, 6))
        self._dirty_days.add(day)

    def flush(self, force: bool = False) -> None:
        now = self._wall()
        for path in list(self._pending):
            if force or now - self._last_write.get(path, 0) >= self.min_interval_ms:
                write_json(path, self._pending.pop(path), self.durable)
                self._last_write[path] = now
                self.writes += 1
        for day in sorted(self._dirty_days):
            path = self.bucket_path(day)
            latest = day == max(self._dirty_days)
            if force or not latest or now - self._last_write.get(path, 0) >= self.min_interval_ms:
                write_json(path, self._buckets[day], self.durable)
                self._last_write[path] = now
                self._dirty_days.discard(day)
                self.writes += 1
        if self.durable and (force or now - self._last_sync >= self.sync_interval_ms):
            for journal in self._journals.values():
                journal.sync()
            self._last_sync = now

    def close(self) -> None:
        self.flush(force=True)
        for journal in self._journals.values():
            journal.close()
        self._journals.clear()

    # -- internals -----------------------------------------------------------------------------
    def _load_bucket(self, day: str) -> dict:
        path = self.bucket_path(day)
        try:
            data = read_json(path)
            if isinstance(data, dict) and all(isinstance(data.get(k), list) for k in ("ts", "nav", "dd")):
                return data
        except (FileNotFoundError, ValueError):
            pass
        return {"day": day, "ts": [], "nav": [], "dd": []}
