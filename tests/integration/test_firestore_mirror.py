"""The executor's Firestore mirror against Google's real emulator: every document kind round
trips; bursts are coalesced to one write per document per second; the emulator killed mid-run
and restarted gets every queued write once, in order; a SIGKILLed writer drains its outbox on the
next start; what a killed process wrote locally but never queued is found and sent; operator
commands appended by the CLI are mirrored; a document Firestore refuses is set aside."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from execution import control_log
from execution.settings import StoreEnv, read_env
from execution.state.firestore_reader import FirestoreReader
from execution.state.layout import COLLECTION_FILES, DOCS
from execution.state.local import LocalStore
from execution.state.mirror import DocIntervals, outbox_path
from execution.state.open import open_sink
from execution.state.outbox import Outbox
from execution.state.reader import LocalReader
from tests.conftest import PROJECT_ROOT
from tests.support.firestore_checks import (
    local_history,
    local_records,
    make_sink,
    queued,
    remote_collection,
    remote_docs,
    target,
    wait_for,
)

pytestmark = pytest.mark.emulator
D = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01


def test_every_document_kind_round_trips(firestore, tmp_path):
    sink = make_sink(tmp_path)
    for name in DOCS:
        sink.put(name, {"name": name, "value": 1.5, "updated_at_ms": 1000 + len(name), "nested": {"a": [1, 2]}})
    for i, collection in enumerate(sorted(set(COLLECTION_FILES) - {"commands"})):
        sink.append(collection, {"id": f"{collection}-1", "ts": T0 + i, "kind": collection})
    cmd = control_log.new_command("resume-confirm", "bob", T0, proof="ab" * 32)
    control_log.append_command(tmp_path, cmd)  # the operator CLI's write, not the executor's
    for i in range(70 * 96):  # 70 days of 15-minute points: day buckets, two months hourly, daily
        sink.nav_point(T0 + i * 900_000, 10_000 + i, 0.1)
    sink.flush(force=True)
    sink.close()
    assert queued(tmp_path) == 0 and Outbox(outbox_path(tmp_path)).dead() == []
    fs, local = FirestoreReader(target()), LocalReader(tmp_path)
    fsnap, lsnap = fs.snapshot(), local.snapshot()
    assert fsnap.source == "firestore" and fsnap.docs == lsnap.docs and set(fsnap.docs) == set(DOCS)
    assert fsnap.updated_at_ms == lsnap.updated_at_ms > 0
    for collection in set(COLLECTION_FILES) - {"commands"}:
        assert remote_collection(fs.target, collection) == local_records(tmp_path, collection), collection
        assert fs.recent(collection, 5) == local.recent(collection, 5)
    commands = remote_collection(fs.target, "commands")
    assert list(commands) == [cmd.id] and commands[cmd.id]["operator"] == "bob"
    assert commands[cmd.id]["args"]["proof"] == "(kept local)"  # the approval proof stays on the executor's disk
    history = local_history(tmp_path)
    assert len([p for p in history if p.startswith("history/nav/")]) == 70
    assert remote_docs(fs.target, list(history)) == history  # every bucket and summary, point for point
    end = T0 + 70 * D - 1
    for span in (D, 2 * D, 7 * D, 30 * D, 70 * D):
        assert fs.nav_history(end - span, end) == local.nav_history(end - span, end)


@pytest.mark.parametrize("forced", [False, True], ids=["flush", "forced-flush"])
def test_bursts_of_1000_updates_a_second_are_one_write_per_document_per_second(firestore, tmp_path, forced):
    """The local files take every update; Firestore gets each document at most once a second,
    even when every flush is forced (as the executor does after an operator command)."""
    sent: list = []
    sink = make_sink(tmp_path, sent=sent)
    seconds, n, t_begin = 2, 0, time.monotonic()
    for _ in range(seconds):
        start = time.monotonic()
        for _ in range(1000):
            sink.put("nav", {"nav": n, "updated_at_ms": n})
            sink.put("positions", {"n": n, "updated_at_ms": n})
            sink.flush(force=forced)
            n += 1
        time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
    assert LocalReader(tmp_path).snapshot().doc("nav")["nav"] == n - 1  # local: every update, immediately
    sink.close()
    elapsed = time.monotonic() - t_begin  # >= 2 s (longer where forced local writes are slow)
    for doc in ("state/nav", "state/positions"):
        times = [t for t, paths in sent for p in paths if p == doc]
        assert 2 <= len(times) <= elapsed + 2, (doc, len(times), elapsed)  # not 3,000
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= 1000, (doc, gaps)  # never two writes to one document within a second
    snap = FirestoreReader(target()).snapshot()
    assert snap.docs["nav"]["nav"] == n - 1 and snap.docs["positions"]["n"] == n - 1  # the last value wins


def test_emulator_killed_mid_run_then_restarted_gets_every_write_once_in_order(firestore, outage, tmp_path):
    sent: list = []
    sink = make_sink(tmp_path, sent=sent)
    for i in range(5):
        sink.append("trades", {"id": f"t{i:03d}", "ts": T0 + i})
    wait_for(lambda: queued(tmp_path) == 0, what="first trades sent")
    outage.begin()  # the emulator process is killed
    t0 = time.monotonic()
    for i in range(5, 60):  # trading goes on: appends, documents and NAV points only touch local disk
        sink.append("trades", {"id": f"t{i:03d}", "ts": T0 + i, "price": 100 + i})
        sink.put("nav", {"nav": i, "updated_at_ms": i})
        sink.nav_point(T0 + i * 60_000, 10_000 + i, 0.0)
        sink.flush()
    took = time.monotonic() - t0
    assert took < 5.0, f"the trading thread waited {took:.1f} s for a dead Firestore"
    wait_for(lambda: sink.mirror.down, what="mirror noticing the outage")
    assert queued(tmp_path) >= 55
    assert len((tmp_path / "trade_log.jsonl").read_text().splitlines()) == 60  # local state is complete
    time.sleep(1.5)  # a few failed retries while it is down
    outage.end()  # restarted on the same port, with the data it had
    wait_for(lambda: queued(tmp_path) == 0, what="backfill")
    sink.close()
    trade_sends = [p for _, paths in sent for p in paths if p.startswith("trades/")]
    assert trade_sends == [f"trades/t{i:03d}" for i in range(60)]  # each once, in order
    fs = target()
    assert remote_collection(fs, "trades") == local_records(tmp_path, "trades")
    assert FirestoreReader(fs).snapshot().docs["nav"]["nav"] == 59
    history = local_history(tmp_path)
    assert remote_docs(fs, list(history)) == history


WRITER = """
import sys, time
from pathlib import Path
from execution.state.open import open_sink
sink = open_sink(Path(sys.argv[1]))
for i in range(200):
    sink.append("signals", {"id": f"s{i:03d}", "ts": i})
    sink.put("nav", {"nav": i, "updated_at_ms": i})
    sink.flush()
print("appended", flush=True)
time.sleep(60)
"""


def test_sigkilled_writer_restarts_and_drains_its_outbox(firestore, outage, tmp_path):
    outage.begin()  # everything the writer appends stays queued
    env = {**os.environ, "HEDGE_ENV": "t", "STATE_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None  # stdout=PIPE
    try:
        assert proc.stdout.readline().strip() == "appended"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert Outbox(outbox_path(tmp_path)).count() >= 200
    outage.end()
    sink = open_sink(tmp_path, read_env(StoreEnv, env))
    wait_for(lambda: queued(tmp_path) == 0, what="outbox drained after restart")
    sink.close()
    fs = target()
    assert sorted(remote_collection(fs, "signals")) == [f"s{i:03d}" for i in range(200)]
    assert FirestoreReader(fs).snapshot().docs == LocalReader(tmp_path).snapshot().docs  # what the killed run had


def test_records_written_locally_but_never_queued_are_found_at_start(firestore, tmp_path):
    """A process killed between its local append and the outbox insert, or Firestore configured
    on a state directory that already has history: the next start queues exactly what is missing."""
    sink = make_sink(tmp_path)
    for i in range(10):
        sink.append("trades", {"id": f"t{i:03d}", "ts": T0 + i})
    sink.close()
    plain = LocalStore(tmp_path, durable=False)  # local writes the outbox never heard of
    for i in range(10, 25):
        plain.append("trades", {"id": f"t{i:03d}", "ts": T0 + i})
        plain.append("incidents", {"id": f"i{i:03d}", "ts": T0 + i})
    plain.nav_point(T0, 10_000.0, 0.0)
    plain.close()
    outbox = Outbox(outbox_path(tmp_path))
    sent: list = []
    sink = make_sink(tmp_path, sent=sent)  # catch-up runs before the drain thread starts
    wait_for(lambda: outbox.count() == 0, what="catch-up sent")
    sink.close()
    trade_sends = [p for _, paths in sent for p in paths if p.startswith("trades/")]
    assert trade_sends == [f"trades/t{i:03d}" for i in range(10, 25)]  # the missing ones, once, in order
    fs = target()
    for collection in ("trades", "incidents"):
        assert remote_collection(fs, collection) == local_records(tmp_path, collection)
    history = local_history(tmp_path)
    assert remote_docs(fs, list(history)) == history


def test_a_document_firestore_refuses_is_set_aside_and_the_rest_goes_on(firestore, tmp_path):
    sink = make_sink(tmp_path)
    sink.append("incidents", {"id": "bad", "ts": T0, "matrix": [[1, 2], [3, 4]]})  # Firestore has no nested arrays
    for i in range(5):
        sink.append("incidents", {"id": f"ok{i}", "ts": T0 + 1 + i})
    wait_for(lambda: queued(tmp_path) == 0, what="queue past the refused record")
    sink.close()
    assert sorted(remote_collection(target(), "incidents")) == [f"ok{i}" for i in range(5)]
    dead = Outbox(outbox_path(tmp_path)).dead()
    assert [p for p, _ in dead] == ["incidents/bad"] and "InvalidArgument" in dead[0][1]


def test_default_cadence_and_bad_intervals(tmp_path):
    from execution.settings import ConfigError

    iv = DocIntervals.from_store(read_env(StoreEnv, {}))
    assert (iv("state/nav"), iv("history/nav/2025-01-01"), iv("history/nav_daily/all")) == (60_000, 60_000, 600_000)
    assert DocIntervals(10, 10, 10)("state/nav") == 1000  # never more than one write a second
    with pytest.raises(ConfigError, match="FIRESTORE_DOC_INTERVAL_S"):
        DocIntervals.from_store(read_env(StoreEnv, {"FIRESTORE_DOC_INTERVAL_S": "0.2"}))
