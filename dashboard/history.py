"""NAV history for the chart, at a bounded number of reads per page load however long the fund has run.

History lives in one bucket document per UTC day. A day that ended more than a full day before
the newest point can no longer change, so it is read once per process and kept (as numpy arrays:
a year of minute points is ~13 MB). Only the two newest days are re-read, and at most once per
`ttl_ms` whoever is watching: a load costs <= 2 bucket reads in steady state. The first "All"
view reads every day once. A change of source (Firestore <-> local fallback) drops the cache,
because a backfill after an outage may complete days we have already kept.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashboard.view_model import DAY_MS, NavSeries


def _day_start(ts_ms: int) -> int:
    return ts_ms - ts_ms % DAY_MS


@dataclass
class _Day:
    ts: np.ndarray
    nav: np.ndarray
    dd: np.ndarray


_EMPTY = _Day(np.empty(0, np.int64), np.empty(0), np.empty(0))


class NavHistory:
    def __init__(self, ttl_ms: int, wall_ms: Callable[[], int]):
        self.ttl_ms = ttl_ms
        self._wall = wall_ms
        self._lock = threading.Lock()
        self._closed: dict[int, _Day] = {}  # day start -> points; days that can no longer change
        self._recent: dict[int, tuple[int, _Day]] = {}  # day start -> (read at wall ms, points)
        self._first_day: int | None = None  # known once an "All" read has happened
        self._source = ""
        self.read_calls = 0  # reader.nav_history calls made
        self.days_read = 0  # day buckets those calls covered (what a bucketed store is charged)

    def window(self, reader, source: str, start_ms: int, end_ms: int) -> NavSeries:
        """Points with start_ms <= ts <= end_ms (start 0: the whole history)."""
        with self._lock:
            if source != self._source:
                self._closed.clear()
                self._recent.clear()
                self._first_day, self._source = None, source
            last_day = _day_start(end_ms)
            final_before = last_day - DAY_MS  # days starting before this are complete
            if start_ms <= 0 and self._first_day is None:
                self._read(reader, 0, end_ms, final_before, whole=True)
            first_day = _day_start(start_ms) if start_ms > 0 else (self._first_day or last_day)
            days = range(first_day, last_day + DAY_MS, DAY_MS)
            now = self._wall()
            missing = [d for d in days if d not in self._closed
                       and not (d in self._recent and now - self._recent[d][0] < self.ttl_ms)]
            for lo, hi in _spans(missing):
                self._read(reader, lo, hi + DAY_MS - 1, final_before)
            parts = [self._closed.get(d) or self._recent.get(d, (0, _EMPTY))[1] for d in days]
        return _cut(parts, start_ms, end_ms)

    def _read(self, reader, lo: int, hi: int, final_before: int, whole: bool = False) -> None:
        points = reader.nav_history(lo, hi)
        self.read_calls += 1
        if points:
            arr = np.asarray(points, dtype=np.float64)
            if len(arr) > 1 and np.any(np.diff(arr[:, 0]) < 0):
                arr = arr[np.argsort(arr[:, 0], kind="stable")]
            ts, nav, dd = arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2]
        else:
            ts, nav, dd = _EMPTY.ts, _EMPTY.nav, _EMPTY.dd
        day_of_point = ts - ts % DAY_MS
        if whole:  # a bucketed store holds a document only for days that have points
            lo = int(day_of_point[0]) if len(ts) else _day_start(hi)
            self._first_day = lo
            self.days_read += len(np.unique(day_of_point))
        else:
            self.days_read += (_day_start(hi) - _day_start(lo)) // DAY_MS + 1
        now = self._wall()
        for day in range(_day_start(lo), _day_start(hi) + DAY_MS, DAY_MS):
            i, j = np.searchsorted(day_of_point, [day, day + DAY_MS])
            part = _Day(ts[i:j], nav[i:j], dd[i:j])
            if day < final_before:
                self._closed[day] = part
                self._recent.pop(day, None)
            else:
                self._recent[day] = (now, part)


def _spans(days: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for d in days:
        if out and d == out[-1][1] + DAY_MS:
            out[-1] = (out[-1][0], d)
        else:
            out.append((d, d))
    return out


def _cut(parts: list[_Day], start_ms: int, end_ms: int) -> NavSeries:
    parts = [p for p in parts if len(p.ts)]
    if not parts:
        return NavSeries(_EMPTY.ts, _EMPTY.nav, _EMPTY.dd)
    ts = np.concatenate([p.ts for p in parts])
    nav = np.concatenate([p.nav for p in parts])
    dd = np.concatenate([p.dd for p in parts])
    keep = (ts >= start_ms) & (ts <= end_ms)
    return NavSeries(ts[keep], nav[keep], dd[keep])
