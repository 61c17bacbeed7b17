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
        assert list(zip(s.ts.tolist(), s.nav.tolist(), s.dd.tolist())) == [tuple(p) for p in direct]
    assert len(h.window(reader, "local", 0, end).ts) == len(points)


def test_steady_state_reads_at_most_the_two_newest_days(history):
    root, points = history
    end = points[-1][0]
    reader = CountingReader(LocalReader(root))
    clock = Clock()
    h = NavHistory(ttl_ms=5_000, wall_ms=clock)
    h.window(reader, "local", end - 30 * DAY_MS, end)
    assert reader.history_days == 31  # cold: every day in range once
    for _ in range(3):  # later loads: closed days come from memory; the open days once per ttl
        reader.reset()
        clock.now += 5_000
        h.window(reader, "local", end - 30 * DAY_MS, end)
        assert reader.history_days <= 2 and reader.calls["nav_history"] == 1
    reader.reset()
    h.window(reader, "local", end - 30 * DAY_MS, end)  # within ttl: nothing read at all
    assert reader.calls["nav_history"] == 0


def test_all_reads_everything_once_then_stays_bounded(history):
    root, points = history
    end = points[-1][0]
    reader = CountingReader(LocalReader(root))
    clock = Clock()
    h = NavHistory(ttl_ms=1_000, wall_ms=clock)
    first = h.window(reader, "local", 0, end)
    assert reader.history_days == 40 and len(first.ts) == len(points)
    reader.reset()
    clock.now += 1_000
    again = h.window(reader, "local", 0, end)
    assert reader.history_days <= 2 and np.array_equal(again.ts, first.ts)


def test_new_points_appear_after_ttl(tmp_path):
    points = write_history(tmp_path, 3)
    reader = LocalReader(tmp_path)
    clock = Clock()
    h = NavHistory(ttl_ms=1_000, wall_ms=clock)
    end = points[-1][0]
    assert h.window(reader, "local", 0, end + DAY_MS).ts[-1] == end
    store = LocalStore(tmp_path, durable=False)
    store.nav_point(end + STEP, 12_345.0, 0.0)
    store.close()
    assert h.window(reader, "local", 0, end + DAY_MS).ts[-1] == end  # cached within ttl
    clock.now += 1_000
    s = h.window(reader, "local", 0, end + DAY_MS)
    assert (s.ts[-1], s.nav[-1]) == (end + STEP, 12_345.0)


def test_source_change_drops_the_cache(history):
    root, points = history
    end = points[-1][0]
    reader = CountingReader(LocalReader(root))
    h = NavHistory(ttl_ms=60_000, wall_ms=Clock())
    h.window(reader, "firestore", end - 7 * DAY_MS, end)
    reader.reset()
    h.window(reader, "local", end - 7 * DAY_MS, end)  # fell back: what we kept may be incomplete
    assert reader.history_days == 8


def test_empty_and_missing_history(tmp_path):
    h = NavHistory(ttl_ms=1_000, wall_ms=Clock())
    assert h.window(LocalReader(tmp_path / "nothing"), "local", 0, T0).empty
    assert h.window(LocalReader(tmp_path / "nothing"), "local", T0 - DAY_MS, T0).empty


def test_a_gap_day_is_empty_not_an_error(tmp_path):
    write_history(tmp_path, 2)
    write_history(tmp_path, 2, start=T0 + 5 * DAY_MS)
    reader = LocalReader(tmp_path)
    s = NavHistory(ttl_ms=1_000, wall_ms=Clock()).window(reader, "local", 0, T0 + 7 * DAY_MS)
    assert len(s.ts) == 4 * DAY_MS // STEP
    assert not ((s.ts >= T0 + 2 * DAY_MS) & (s.ts < T0 + 5 * DAY_MS)).any()
