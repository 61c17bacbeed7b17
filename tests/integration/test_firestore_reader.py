"""Readers over the real emulator: Firestore first, local files when it is unreachable or not
configured (with the source and age said), and a dashboard load costs a bounded number of
document reads that does not grow with how long the fund has run (the journals are read whole
once per dashboard process, then only when the NAV document says they grew)."""

from __future__ import annotations

import os

import pytest

from dashboard.data import Journals, load
from execution.settings import StoreEnv, read_env
from execution.state.firestore_reader import FallbackReader, FirestoreReader
from execution.state.open import open_reader
from execution.state.reader import LocalReader
from tests.support.firestore_checks import make_sink, queued, target, wait_for

pytestmark = pytest.mark.emulator
D, H = 86_400_000, 3_600_000
T0 = 1_735_689_600_000


def _write_state(state_dir, days: int, env: str = "t") -> int:
    """`days` of hourly NAV points, the current documents and 20 trades; returns the last ts."""
    sink = make_sink(state_dir, env=env)
    for i in range(days * 24):
        sink.nav_point(T0 + i * H, 10_000 + i, 0.5)
    for i in range(20):
        sink.append("trades", {"id": f"t{i:02d}", "ts": T0 + i})
    sink.put("nav", {"nav": 123.0, "updated_at_ms": 5_000, "market_ts": T0 + days * D, "fills": 20, "funding_total": 0})
    sink.put("signals", {"latest": [{"id": "s1"}], "updated_at_ms": 4_000})
    sink.flush(force=True)
    sink.close()
    assert queued(state_dir) == 0
    return T0 + days * 24 * H - H


def test_reader_falls_back_to_local_files_and_says_so(firestore, outage, tmp_path):
    _write_state(tmp_path, 3)
    env = {
        **os.environ,
        "STATE_DIR": str(tmp_path),
        "HEDGE_ENV": "t",
        "FIRESTORE_READ_TIMEOUT_S": "1",
        "FIRESTORE_READ_CACHE_S": "0",
        "FIRESTORE_READ_RETRY_S": "2",
    }
    reader = open_reader(read_env(StoreEnv, env))
    assert isinstance(reader, FallbackReader)
    snap = reader.snapshot()
    assert snap.source == "firestore" and snap.doc("nav")["nav"] == 123.0 and not snap.problems
    assert snap.updated_at_ms == 5_000 and snap.age_ms == snap.read_at_ms - 5_000
    outage.begin()  # the emulator is killed
    snap = reader.snapshot()
    assert snap.source == "local" and snap.doc("nav")["nav"] == 123.0 and snap.updated_at_ms == 5_000
    assert "firestore unreachable" in snap.problems[0]
    local = LocalReader(tmp_path)
    assert reader.nav_history(T0, T0 + D) == local.nav_history(T0, T0 + D) != []  # answered from local files
    assert [t["id"] for t in reader.recent_trades(3)] == ["t17", "t18", "t19"]
    outage.end()
    assert reader.snapshot().source == "local"  # Firestore is not asked again for FIRESTORE_READ_RETRY_S
    wait_for(lambda: reader.snapshot().source == "firestore", what="reader back on Firestore")  # on a new client


def test_reader_source_when_not_configured_or_never_reachable(tmp_path, monkeypatch):
    monkeypatch.delenv("FIRESTORE_PROJECT", raising=False)
    assert isinstance(
        open_reader(read_env(StoreEnv, {"STATE_DIR": str(tmp_path)})), LocalReader
    )  # FIRESTORE_PROJECT unset
    env = {"STATE_DIR": str(tmp_path), "FIRESTORE_PROJECT": "hedge-test", "FIRESTORE_READ_TIMEOUT_S": "1"}
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", "127.0.0.1:1")  # nothing listens there
    snap = open_reader(read_env(StoreEnv, env)).snapshot()
    assert snap.source == "local" and "firestore unreachable" in snap.problems[0]


@pytest.mark.parametrize("days", [3, 400])
def test_a_dashboard_load_costs_the_same_bounded_reads_however_long_the_history(firestore, tmp_path, days):
    end = _write_state(tmp_path, days)
    costs, first = {}, {}
    for label, span in (("24h", D), ("7d", 7 * D), ("30d", 30 * D), ("all", end - T0)):
        journals = Journals()  # a dashboard process just started
        fs = target()
        reader = FirestoreReader(fs)  # no cache: the cost of one cold load
        loaded = load(reader, journals)
        first[label] = fs.reads  # the journals once, whole: 20 trades here
        assert loaded.source == "firestore" and loaded.doc("nav")["nav"] == 123.0 and len(loaded.trades) == 20
        fs = target()
        reader = FirestoreReader(fs)
        loaded = load(reader, journals)  # a later load, nothing new in the journals
        points = reader.nav_history(end - span, end)
        assert len(loaded.trades) == 20
        assert points and points == LocalReader(tmp_path).nav_history(end - span, end)
        costs[label] = fs.reads
    # 7 current documents + the capital-flow journal's (empty) tail + at most 3 history documents
    assert all(r <= 7 + 1 + 3 for r in costs.values()), costs
    assert costs["all"] <= costs["24h"] + 1
    assert all(f <= 7 + 20 + 2 for f in first.values()), first


def test_the_read_cache_makes_refreshes_free_until_it_expires(firestore, tmp_path):
    end = _write_state(tmp_path, 3)
    now = [1_000_000]
    fs = target()
    reader = FirestoreReader(fs, cache_ms=60_000, wall_ms=lambda: now[0])
    journals = Journals()
    load(reader, journals)  # the journals, whole, once per dashboard process
    now[0] += 60_000
    fs.reads = 0
    first = (load(reader, journals), reader.nav_history(end - D, end))
    cold = fs.reads
    for _ in range(11):  # a dashboard refreshing every 5 s for a minute
        now[0] += 5_000
        again = (load(reader, journals), reader.nav_history(end - D, end))
        assert again[0].docs == first[0].docs and again[1] == first[1]
    assert fs.reads == cold  # served from the cache
    now[0] += 5_000  # the minute is over: one more cold load
    load(reader, journals)
    reader.nav_history(end - D, end)
    assert fs.reads == 2 * cold
