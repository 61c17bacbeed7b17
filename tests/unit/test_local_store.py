"""Local store: coalesced documents, NAV history at three resolutions, bounded history reads."""

import json

from execution.state.local import LocalStore
from execution.state.reader import LocalReader

D, H = 86_400_000, 3_600_000
T0 = 1_735_689_600_000  # 2025-01-01


class Clock:
    def __init__(self):
        self.now = 1_000_000

    def __call__(self):
        return self.now


def test_documents_are_coalesced_to_one_write_per_interval(tmp_path):
    clock = Clock()
    written = []
    store = LocalStore(tmp_path, min_interval_ms=1000, wall_ms=clock, on_written=lambda p, d: written.append(p))
    for i in range(1000):  # a burst inside one second
        store.put("nav", {"nav": i})
        store.flush()
    assert written.count("state/nav") == 1
    clock.now += 1000
    store.flush()
    assert written.count("state/nav") == 2
    assert json.loads((tmp_path / "state" / "nav.json").read_text())["nav"] == 999


def test_a_year_of_minute_points_is_read_with_at_most_three_documents(tmp_path):
    store = LocalStore(tmp_path, durable=False, min_interval_ms=0)
    for i in range(0, 365 * 24 * 60, 7):  # every 7 minutes for a year
        store.nav_point(T0 + i * 60_000, 10_000 + i * 0.01, 0.0)
        if i % 10_000 == 0:
            store.flush()
    store.close()
    reader = LocalReader(tmp_path)
    end = T0 + 365 * D - 60_000
    for span, resolution in ((D, 7 * 60_000), (7 * D, H), (30 * D, H), (365 * D, D)):
        points = reader.nav_history(end - span, end)
        assert reader.history_reads <= 3, span
        gaps = {b[0] - a[0] for a, b in zip(points, points[1:], strict=False)}
        assert max(gaps) <= resolution + 7 * 60_000 and len(points) >= span // resolution - 2
        assert all(end - span <= t <= end for t, _, _ in points)
    last = reader.nav_history(end - D, end)[-1]
    assert last[1] == max(p[1] for p in reader.nav_history(T0, end))  # summaries end on the newest point


def test_restart_continues_history_without_duplicates(tmp_path):
    store = LocalStore(tmp_path, durable=False)
    for i in range(10):
        store.nav_point(T0 + i * H, 100.0 + i, 0.0)
    store.close()
    again = LocalStore(tmp_path, durable=False)
    for i in range(5, 15):  # a resumed run replays some points
        again.nav_point(T0 + i * H, 100.0 + i, 0.0)
    again.close()
    points = LocalReader(tmp_path).nav_history(T0, T0 + D)
    assert [p[0] for p in points] == [T0 + i * H for i in range(15)]


def _bucket(root, path: str) -> dict:
    return json.loads((root / f"{path}.json").read_text())


def test_btc_mark_is_kept_beside_each_point_and_summaries_take_the_last(tmp_path):
    store = LocalStore(tmp_path, durable=False, min_interval_ms=0)
    marks = [60_000.0, None, 60_100.5, 60_200.25]  # None: the benchmark had no mark yet
    for i, mark in enumerate(marks):
        store.nav_point(T0 + i * 20 * 60_000, 100.0 + i, 0.0, mark)  # 00:00 .. 01:00
    store.close()
    day = _bucket(tmp_path, "history/nav/2025-01-01")
    assert day["btc"] == marks and len(day["btc"]) == len(day["ts"])
    hourly = _bucket(tmp_path, "history/nav_hourly/2025-01")
    assert hourly["ts"] == [T0 + 40 * 60_000, T0 + 60 * 60_000] and hourly["btc"] == [60_100.5, 60_200.25]
    daily = _bucket(tmp_path, "history/nav_daily/all")
    assert daily["btc"] == [60_200.25]
    points = LocalReader(tmp_path).nav_points(T0, T0 + D)
    assert [p[3] for p in points] == marks
    assert [p[3] for p in LocalReader(tmp_path).nav_points(T0, T0 + 100 * D)] == [60_200.25]  # daily resolution


def test_a_bucket_written_before_the_benchmark_gets_null_marks_for_its_old_points(tmp_path):
    (tmp_path / "history" / "nav").mkdir(parents=True)
    old = {"day": "2025-01-01", "ts": [T0, T0 + 60_000], "nav": [100.0, 101.0], "dd": [0.0, 0.0]}
    (tmp_path / "history" / "nav" / "2025-01-01.json").write_text(json.dumps(old))
    store = LocalStore(tmp_path, durable=False)
    store.nav_point(T0 + 120_000, 102.0, 0.0, 61_000.0)
    store.nav_point(T0 + 180_000, 103.0, 0.0)  # unknown mark
    store.close()
    day = _bucket(tmp_path, "history/nav/2025-01-01")
    assert day["ts"] == [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000]
    assert day["btc"] == [None, None, 61_000.0, None]
    assert _bucket(tmp_path, "history/nav_daily/all")["btc"] == [None]  # the day's last point had no mark
