"""NAV history for the chart: what the real local reader returns, at a bounded number of bucket reads."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.history import NavHistory
from dashboard.view_model import DAY_MS
from execution.state.local import LocalStore
from execution.state.reader import LocalReader
from tests.support.counting_reader import CountingReader

T0 = 1_735_689_600_000  # 2025-01-01 00:00 UTC
STEP = 15 * 60_000


class Clock:
    def __init__(self):
        self.now = 1_000_000

    def __call__(self) -> int:
        return self.now


def write_history(root, days: int, start: int = T0) -> list[tuple[int, float, float]]:
    store = LocalStore(root, durable=False)
    points = []
    for i in range(days * DAY_MS // STEP):
        ts = start + i * STEP
        nav = 10_000 + 50 * np.sin(i / 40.0) + i * 0.01
        dd = float(abs(np.cos(i / 30.0)) * 3)
        store.nav_point(ts, float(nav), dd)
        points.append((ts, round(float(nav), 8), round(dd, 6)))
    store.close()
    return points


@pytest.fixture
def history(tmp_path):
    points = write_history(tmp_path, 40)
    return tmp_path, points


def test_window_matches_the_reader(history):
    root, points = history
    end = points[-1][0]
    reader = LocalReader(root)
    h = NavHistory(ttl_ms=5_000, wall_ms=Clock())
    for start in (end - DAY_MS, end - 7 * DAY_MS, 0):
        s = h.window(reader, "local", start, end)
        direct = reader.nav_history(start, end)
        assert list(zip(s.ts.tolist(), s.nav.tolist(), s.dd.tolist(), strict=False)) == [tuple(p) for p in direct]
    assert len(h.window(reader, "local", end - DAY_MS, end).ts) == 97  # a day at full resolution
    assert len(h.window(reader, "local", 0, end).ts) == 40  # "All": one point per day


def test_every_range_costs_at_most_three_document_reads(history):
    root, points = history
    end = points[-1][0]
    reader = LocalReader(root)
    for span in (DAY_MS, 7 * DAY_MS, 30 * DAY_MS, end):
        NavHistory(ttl_ms=5_000, wall_ms=Clock()).window(reader, "local", max(end - span, 0), end)
        assert 1 <= reader.history_reads <= 3


def test_viewers_share_one_read_per_range_per_ttl(history):
    root, points = history
    end = points[-1][0]
    reader = CountingReader(LocalReader(root))
    clock = Clock()
    h = NavHistory(ttl_ms=5_000, wall_ms=clock)
    for _ in range(10):  # ten viewers (or fragment refreshes) within the ttl
        h.window(reader, "local", end - 30 * DAY_MS, end)
    assert reader.calls["nav_points"] == 1
    clock.now += 5_000
    h.window(reader, "local", end - 30 * DAY_MS, end)
    assert reader.calls["nav_points"] == 2


def test_new_points_appear_after_ttl(tmp_path):
    points = write_history(tmp_path, 3)
    reader = LocalReader(tmp_path)
    clock = Clock()
    h = NavHistory(ttl_ms=1_000, wall_ms=clock)
    end = points[-1][0]
    start = end - DAY_MS
    assert h.window(reader, "local", start, end + DAY_MS).ts[-1] == end
    store = LocalStore(tmp_path, durable=False)
    store.nav_point(end + STEP, 12_345.0, 0.0)
    store.close()
    assert h.window(reader, "local", start, end + DAY_MS).ts[-1] == end  # cached within ttl
    clock.now += 1_000
    s = h.window(reader, "local", start, end + DAY_MS)
    assert (s.ts[-1], s.nav[-1]) == (end + STEP, 12_345.0)


def test_source_change_drops_the_cache(history):
    root, points = history
    end = points[-1][0]
    reader = CountingReader(LocalReader(root))
    h = NavHistory(ttl_ms=60_000, wall_ms=Clock())
    h.window(reader, "firestore", end - 7 * DAY_MS, end)
    h.window(reader, "local", end - 7 * DAY_MS, end)  # fell back: what we kept may be incomplete
    assert reader.calls["nav_points"] == 2


def test_empty_and_missing_history(tmp_path):
    h = NavHistory(ttl_ms=1_000, wall_ms=Clock())
    assert h.window(LocalReader(tmp_path / "nothing"), "local", 0, T0).empty
    assert h.window(LocalReader(tmp_path / "nothing"), "local", T0 - DAY_MS, T0).empty
