"""Firestore state against Google's real emulator: round trip, coalescing, outage and backfill,
a SIGKILLed writer, reader fallback, and a replay whose Firestore link is cut mid-run."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from execution.state.firestore_reader import FallbackReader, FirestoreReader
from execution.state.firestore_store import FirestoreConfig, FirestoreTarget
from execution.state.layout import COLLECTION_FILES, DOCS
from execution.state.local import LocalStore
from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink, outbox_path
from execution.state.open import open_reader, open_sink
from execution.state.outbox import Outbox
from execution.state.reader import LocalReader
from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.emulator
D = 86_400_000
T0 = 1_735_689_600_000


class RecordingTarget(FirestoreTarget):
    """The real target, also noting what each successful commit carried (order, time)."""

    def __init__(self, cfg, log):
        super().__init__(cfg, timeout_s=3.0)
        self.log_ = log

    def commit(self, writes):
        super().commit(writes)
        now = time.monotonic()
        self.log_.extend((now, path) for path, _ in writes)


def target(env="t") -> FirestoreTarget:
    return FirestoreTarget(FirestoreConfig("hedge-test", "(default)", env), timeout_s=3.0)


def wait_for(pred, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def make_sink(state_dir: Path, env="t", intervals=None, sent_log=None) -> MirrorSink:
    cfg = FirestoreConfig("hedge-test", "(default)", env)
    log = sent_log if sent_log is not None else []
    mirror = FirestoreMirror(lambda: RecordingTarget(cfg, log), Outbox(outbox_path(state_dir)),
                             intervals or DocIntervals(1000, 1000, 1000), max_backoff_s=0.5)
    mirror.start()
    return MirrorSink(LocalStore(state_dir, durable=False, min_interval_ms=0), mirror)


def test_every_document_kind_round_trips(firestore, tmp_path):
    sink = make_sink(tmp_path)
    for name in DOCS:
        sink.put(name, {"name": name, "value": 1.5, "updated_at_ms": 1000 + len(name), "nested": {"a": [1, 2]}})
    for i, collection in enumerate(sorted(COLLECTION_FILES)):
        sink.append(collection, {"id": f"{collection}-1", "ts": T0 + i, "kind": collection})
    for i in range(3 * 96):
        sink.nav_point(T0 + i * 900_000, 10_000 + i, 0.1)
    sink.flush(force=True)
    sink.close()
    assert Outbox(outbox_path(tmp_path)).count() == 0
    fs, local = FirestoreReader(target()), LocalReader(tmp_path)
    fsnap, lsnap = fs.snapshot(), local.snapshot()
    assert fsnap.source == "firestore" and fsnap.docs == lsnap.docs and set(fsnap.docs) == set(DOCS)
    for collection in COLLECTION_FILES:
        assert fs.recent(collection, 5) == local.recent(collection, 5)
    for span in (D, 2 * D, 3 * D):
        assert fs.nav_history(T0, T0 + span) == local.nav_history(T0, T0 + span)


def test_burst_of_nav_updates_is_one_write_per_document_per_second(firestore, tmp_path):
    sent = []
    sink = make_sink(tmp_path, sent_log=sent)
    t_end = time.monotonic() + 2.5
    n = 0
    while time.monotonic() < t_end:  # far more than 1,000 updates a second, each written locally
        sink.put("nav", {"nav": n, "updated_at_ms": n})
        sink.flush()
        n += 1
    sink.close()
    nav_sends = [t for t, p in sent if p == "state/nav"]
    assert n > 1000 and 2 <= len(nav_sends) <= 4  # 2.5 s of updates (+ the final one at close)
    assert all(b - a >= 0.99 for a, b in zip(nav_sends, nav_sends[1:]))
    assert FirestoreReader(target()).snapshot().docs["nav"]["nav"] == n - 1  # the last value wins


def test_outage_keeps_trading_and_backfills_every_write_once_in_order(firestore, tmp_path):
    sent = []
    sink = make_sink(tmp_path, sent_log=sent)
    for i in range(5):
        sink.append("trades", {"id": f"t{i:03d}", "ts": T0 + i})
    wait_for(lambda: len(sent) >= 5)
    firestore.down()
    t0 = time.monotonic()
    for i in range(5, 60):  # trading goes on; appends never wait for Firestore
        sink.append("trades", {"id": f"t{i:03d}", "ts": T0 + i})
        sink.put("nav", {"nav": i, "updated_at_ms": i})
        sink.flush()
    assert time.monotonic() - t0 < 2.0 or Outbox(outbox_path(tmp_path)).count() > 0
    wait_for(lambda: sink.mirror.down)
    assert Outbox(outbox_path(tmp_path)).count() >= 55
    assert len((tmp_path / "trade_log.jsonl").read_text().splitlines()) == 60  # local state is complete
    firestore.up()
    wait_for(lambda: Outbox(outbox_path(tmp_path)).count() == 0)
    sink.close()
    trade_sends = [p for _, p in sent if p.startswith("trades/")]
    assert trade_sends == [f"trades/t{i:03d}" for i in range(60)]  # each once, in order
    assert sorted(target().all_ids("trades")) == [f"t{i:03d}" for i in range(60)]
    assert FirestoreReader(target()).snapshot().docs["nav"]["nav"] == 59


WRITER = """
import sys, time
from pathlib import Path
from execution.state.open import open_sink
sink = open_sink(Path(sys.argv[1]))
for i in range(200):
    sink.append("signals", {"id": f"s{i:03d}", "ts": i})
print("appended", flush=True)
time.sleep(60)
"""


def test_killed_writer_restarts_and_drains_its_outbox(firestore, tmp_path):
    firestore.down()  # everything the writer appends stays queued
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "HEDGE_ENV": "t"})
    assert proc.stdout.readline().strip() == "appended"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert Outbox(outbox_path(tmp_path)).count() == 200
    firestore.up()
    sink = open_sink(tmp_path, {**os.environ, "HEDGE_ENV": "t"})
    wait_for(lambda: Outbox(outbox_path(tmp_path)).count() == 0)
    sink.close()
    assert sorted(target().all_ids("signals")) == [f"s{i:03d}" for i in range(200)]


def test_reader_falls_back_to_local_files_and_says_so(firestore, tmp_path):
    sink = make_sink(tmp_path)
    sink.put("nav", {"nav": 123.0, "updated_at_ms": 5})
    sink.close()
    env = {**os.environ, "STATE_DIR": str(tmp_path), "HEDGE_ENV": "t", "FIRESTORE_READ_TIMEOUT_S": "1"}
    reader = open_reader(env)
    assert isinstance(reader, FallbackReader)
    snap = reader.snapshot()
    assert snap.source == "firestore" and snap.doc("nav")["nav"] == 123.0 and not snap.problems
    firestore.down()
    snap = reader.snapshot()
    assert snap.source == "local" and snap.doc("nav")["nav"] == 123.0
    assert "firestore unreachable" in snap.problems[0]
    assert reader.nav_history(0, D) == []  # still answers (from local files)
    firestore.up()
    assert reader.snapshot().source == "local"  # not asked again for a while: no timeout per read
    reader._down_until = 0  # the retry delay has passed
    assert reader.snapshot().source == "firestore"
    assert isinstance(open_reader({"STATE_DIR": str(tmp_path)}), LocalReader)  # FIRESTORE_PROJECT unset


def test_replay_with_firestore_cut_mid_run_loses_nothing(firestore, tmp_path):
    market, state = tmp_path / "m", tmp_path / "st"
    subprocess.run([sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "60"],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    env = {**os.environ, "ENV_FILE": "/nonexistent", "HEDGE_ENV": "rp", "FIRESTORE_DOC_INTERVAL_S": "1",
           "FIRESTORE_NAV_DAY_INTERVAL_S": "1", "FIRESTORE_SUMMARY_INTERVAL_S": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
                            cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for(lambda: (state / "trade_log.jsonl").exists())
    firestore.down()
    time.sleep(1.5)
    firestore.up()
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    log = (state / "replay.log").read_text()
    if Outbox(outbox_path(state)).count():  # Firestore came back too late for the run: the next start sends it
        open_sink(state, {**env, "STATE_DIR": str(state)}).close()
    assert Outbox(outbox_path(state)).count() == 0
    fs = target("rp")
    for collection in ("trades", "funding", "signals"):
        local_ids = sorted(json.loads(line)["id"] for line in (state / COLLECTION_FILES[collection]).read_text().splitlines())
        assert sorted(fs.all_ids(collection)) == local_ids, collection
    local, remote = LocalReader(state), FirestoreReader(fs)
    nav = local.snapshot().doc("nav")
    assert remote.snapshot().doc("nav")["nav"] == nav["nav"]
    end = nav["market_ts"]
    for span in (D, 30 * D, 60 * D):
        assert remote.nav_history(end - span, end) == local.nav_history(end - span, end)
    assert "primary store: firestore" in log
    assert "[state] firestore not answering" in log  # the cut happened while the replay was writing
