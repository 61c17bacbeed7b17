"""NAV history for the chart and the since-inception figures, cached briefly and shared by every viewer.

The state store already answers any range with at most three documents (every point for up
to two days, hourly points up to two months, daily points beyond: execution/state/layout.py
history_plan), so a page load costs a bounded number of reads however long the fund has run.
This cache only makes many viewers, and the self-refreshing fragment, share one read per range
per `ttl_ms`. A change of source (Firestore <-> local fallback) drops it.

Each point carries the BTC mark the executor recorded beside it (the benchmark), NaN where the
history has none; readers without `nav_points` give NAV only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from dashboard.view_model import NavSeries
from execution.performance import NavPoints


class NavHistory:
    def __init__(self, ttl_ms: int, wall_ms: Callable[[], int]):
        self.ttl_ms = ttl_ms
        self._wall = wall_ms
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, int], tuple[int, np.ndarray]] = {}
        self.read_calls = 0  # reader history calls made

    def _rows(self, reader, source: str, start_ms: int, end_ms: int) -> np.ndarray:
        """(n, 4) float array of ts, nav, dd, btc, in time order."""
        key = (source, start_ms, end_ms)
        now = self._wall()
        with self._lock:
            if any(k[0] != source for k in self._cache):
                self._cache.clear()
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl_ms:
                return hit[1]
            if hasattr(reader, "nav_points"):
                points = reader.nav_points(start_ms, end_ms)
            else:
                points = [(*p, None) for p in reader.nav_history(start_ms, end_ms)]
            self.read_calls += 1
            rows = _array(points)
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl_ms}
            self._cache[key] = (now, rows)
            return rows

    def window(self, reader, source: str, start_ms: int, end_ms: int) -> NavSeries:
        """Points with start_ms <= ts <= end_ms (start 0: the whole history) with the executor's drawdown."""
        a = self._rows(reader, source, start_ms, end_ms)
        return NavSeries(a[:, 0].astype(np.int64), a[:, 1], a[:, 2])

    def points(self, reader, source: str, start_ms: int, end_ms: int) -> NavPoints:
        """The same points for execution.performance, with the BTC marks."""
        a = self._rows(reader, source, start_ms, end_ms)
        return NavPoints.of(a[:, 0].astype(np.int64), a[:, 1], a[:, 3])


def _array(points: list) -> np.ndarray:
    if not points:
        return np.empty((0, 4))
    arr = np.asarray([(p[0], p[1], p[2], np.nan if p[3] is None else p[3]) for p in points], dtype=np.float64)
    if len(arr) > 1 and np.any(np.diff(arr[:, 0]) < 0):
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
    return arr
