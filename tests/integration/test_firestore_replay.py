"""`python -m execution.replay` with Firestore configured, the emulator killed in the middle of the
run and restarted: once it is back, Firestore holds exactly the local mirror (every NAV point of
every day bucket and summary, every trade, signal, funding payment, alert; the current documents)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from execution.settings import StoreEnv, read_env
from execution.state.firestore_reader import FirestoreReader
from execution.state.mirror import outbox_path
from execution.state.open import open_sink
from execution.state.outbox import Outbox
from execution.state.reader import LocalReader
from tests.conftest import PROJECT_ROOT
from tests.support.firestore_checks import (
    local_history,
    local_records,
    queued,
    remote_collection,
    remote_docs,
    target,
    wait_for,
)

pytestmark = pytest.mark.emulator
D = 86_400_000


def _lines(path) -> int:
    try:
        with open(path, "rb") as fh:
            return fh.read().count(b"\n")
    except FileNotFoundError:
        return 0


def test_replay_with_the_emulator_killed_mid_run_loses_nothing(firestore, outage, tmp_path):
    market, state = tmp_path / "m", tmp_path / "st"
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "90"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    env = {
        **os.environ,
        "ENV_FILE": "/nonexistent",
        "HEDGE_ENV": "rp",
        "FIRESTORE_DOC_INTERVAL_S": "1",
        "FIRESTORE_NAV_DAY_INTERVAL_S": "1",
        "FIRESTORE_SUMMARY_INTERVAL_S": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    trades = state / "trade_log.jsonl"
    try:
        wait_for(lambda: _lines(trades) >= 20 or proc.poll() is not None, what="replay trading")
        proc.send_signal(signal.SIGSTOP)  # hold the run still while the emulator is killed
        assert proc.poll() is None, "the replay ended before it could be interrupted"
        before = _lines(trades)
        outage.begin()
        proc.send_signal(signal.SIGCONT)
        wait_for(lambda: _lines(trades) >= before + 50 or proc.poll() is not None, what="trading during the outage")
        during = _lines(trades) - before
        outage.end()
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert during >= 50  # the run went on while Firestore was gone
    log = (state / "replay.log").read_text()
    assert "primary store: firestore" in log and "[state] firestore not answering" in log
    if queued(state):  # Firestore came back too late for the run's own shutdown: the next start sends it
        open_sink(state, read_env(StoreEnv, env, STATE_DIR=str(state))).close()
    assert queued(state) == 0 and Outbox(outbox_path(state)).dead() == []
    fs = target("rp")
    for collection in ("trades", "signals", "funding", "alerts", "incidents"):
        assert remote_collection(fs, collection) == local_records(state, collection), collection
    assert len(local_records(state, "trades")) == _lines(trades) > before + during - 1
    history = local_history(state)
    assert len([p for p in history if p.startswith("history/nav/")]) >= 89
    assert remote_docs(fs, list(history)) == history  # every NAV point, every day, and the summaries
    local, remote = LocalReader(state), FirestoreReader(fs)
    assert remote.snapshot().docs == local.snapshot().docs
    end = local.snapshot().doc("nav")["market_ts"]
    for span in (D, 30 * D, 90 * D):
        assert remote.nav_history(end - span, end) == local.nav_history(end - span, end)
