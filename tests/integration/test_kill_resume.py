"""SIGKILL during a replay at random points: the resumed run ends exactly where an uninterrupted one
does, no journal record is lost or written twice, and no state file is ever half-written."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.recompute import load_jsonl

KILLS = int(os.environ.get("HEDGE_KILL_POINTS", "100"))
ENV = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"}


def replay_cmd(market: Path, state: Path) -> list[str]:
    return [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)]


def assert_every_file_whole(state: Path) -> None:
    for path in state.rglob("*.json"):
        json.loads(path.read_text())  # a torn document would not parse
    for path in state.glob("*.jsonl"):
        text = path.read_text()
        assert text == "" or text.endswith("\n"), f"{path.name} ends mid-line"
        for line in text.splitlines():
            json.loads(line)


@pytest.fixture(scope="module")
def market(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("market") / "gen"
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(out), "--days", "240"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    return out


@pytest.fixture(scope="module")
def reference(market, tmp_path_factory) -> Path:
    state = tmp_path_factory.mktemp("ref") / "st"
    subprocess.run(replay_cmd(market, state), cwd=PROJECT_ROOT, env=ENV, check=True, capture_output=True, timeout=300)
    return state


def test_kill_nine_at_random_points_then_resume_matches_uninterrupted_run(market, reference, tmp_path):
    rng = random.Random(20261122)
    state = tmp_path / "st"
    kills = 0
    for _ in range(KILLS):
        proc = subprocess.Popen(
            replay_cmd(market, state), cwd=PROJECT_ROOT, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.1, 1.5))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if state.exists():
            assert_every_file_whole(state)
    final = subprocess.run(
        replay_cmd(market, state), cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert final.returncode == 0, final.stderr
    assert kills >= KILLS // 2, f"only {kills} kills landed mid-run"
    assert_every_file_whole(state)
    journals = sorted(p.name for p in reference.glob("*.jsonl"))
    assert {"trade_log.jsonl", "funding_log.jsonl", "signals.jsonl"} <= set(journals)
    assert journals == sorted(p.name for p in state.glob("*.jsonl"))
    for name in journals:  # whole files: ids, seq numbers, order, every field
        got, want = (state / name).read_bytes(), (reference / name).read_bytes()
        if got != want:
            g, w = got.decode().splitlines(), want.decode().splitlines()
            first = next((i for i, (a, b) in enumerate(zip(g, w, strict=False)) if a != b), min(len(g), len(w)))
            raise AssertionError(
                f"{name} differs from the uninterrupted run at line {first + 1} "
                f"({len(g)} vs {len(w)} lines):\n got  {g[first] if first < len(g) else '<end>'}\n"
                f" want {w[first] if first < len(w) else '<end>'}"
            )
        seqs = [r["seq"] for r in load_jsonl(state / name)]
        assert seqs == sorted(set(seqs)), f"{name}: seq not strictly increasing"
    nav, ref_nav = (json.loads((d / "state" / "nav.json").read_text()) for d in (state, reference))
    assert nav["nav"] == ref_nav["nav"] and nav["fills"] == ref_nav["fills"]
    orders = [r["client_order_id"] for r in load_jsonl(state / "trade_log.jsonl")]
    assert len(orders) == len(set(orders)), "an order was filled twice"
