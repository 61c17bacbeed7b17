"""NAV history for the chart, cached briefly and shared by every viewer.

The state store already answers any range with at most three documents (every point for up
to two days, hourly points up to two months, daily points beyond: execution/state/layout.py
history_plan), so a page load costs a bounded number of reads however long the fund has run.
This cache only makes many viewers, and the self-refreshing fragment, share one read per range
per `ttl_ms`. A change of source (Firestore <-> local fallback) drops it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from dashboard.view_model import NavSeries

_EMPTY = NavSeries(np.empty(0, np.int64), np.empty(0), np.empty(0))


class NavHistory:
    def __init__(self, ttl_ms: int, wall_ms: Callable[[], int]):
        self.ttl_ms = ttl_ms
        self._wall = wall_ms
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, int], tuple[int, NavSeries]] = {}
        self.read_calls = 0  # reader.nav_history calls made

    def window(self, reader, source: str, start_ms: int, end_ms: int) -> NavSeries:
        """Points with start_ms <= ts <= end_ms (start 0: the whole history)."""
        key = (source, start_ms, end_ms)
        now = self._wall()
        with self._lock:
            if any(k[0] != source for k in self._cache):
                self._cache.clear()
            hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.ttl_ms:
                return hit[1]
            points = reader.nav_history(start_ms, end_ms)
            self.read_calls += 1
            series = _series(points)
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.ttl_ms}
            self._cache[key] = (now, series)
            return series


def _series(points: list[tuple[int, float, float]]) -> NavSeries:
    if not points:
        return _EMPTY
    arr = np.asarray(points, dtype=np.float64)
    if len(arr) > 1 and np.any(np.diff(arr[:, 0]) < 0):
        arr = arr[np.argsort(arr[:, 0], kind="stable")]
    return NavSeries(arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2])
