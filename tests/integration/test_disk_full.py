"""A full disk (a small tmpfs as STATE_DIR, issue 20): the executor and the replay stop with one
line on stderr and exit code 75, never a traceback; the next start removes leftover temp files
and goes on from the last whole state."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from execution.feeds.synthetic import write_market
from execution.state.disk import EXIT_DISK_FULL
from tests.conftest import PROJECT_ROOT

ENV = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"}


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {r.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def one_line(stderr: str) -> str:
    lines = [x for x in stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr[-3000:]
    return lines[0]


def test_the_executor_stops_with_one_line(small_disk):
    env = {**ENV, "STATE_DIR": str(small_disk / "state"), "SPEED": "max"}
    r = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    assert r.returncode == EXIT_DISK_FULL
    assert one_line(r.stderr).startswith("[state] disk full: No space left on device")


def test_the_replay_stops_with_one_line_and_the_next_start_cleans_up(small_disk, tmp_path):
    market = tmp_path / "market"
    write_market(market, days=20, seed=11)
    state = small_disk / "state"
    cmd = [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)]
    r = subprocess.run(cmd, cwd=PROJECT_ROOT, env=ENV, capture_output=True, text=True, timeout=300)
    assert r.returncode == EXIT_DISK_FULL
    assert "disk full" in one_line(r.stderr)
    for path in state.rglob("*.json"):
        json.loads(path.read_text())  # every document whole
    for path in state.glob("*.jsonl"):
        text = path.read_text()
        assert text == "" or text.endswith("\n"), f"{path.name} ends mid-line"  # a short write was undone
    moved = tmp_path / "moved"  # "free some space": move the state to a bigger disk and start again
    shutil.copytree(state, moved)
    (moved / "state" / ".nav.json.4242.tmp").write_bytes(b"{half")  # what a killed write leaves
    r = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(moved)],
        cwd=PROJECT_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert list(moved.rglob(".*.tmp")) == []
    assert r.stdout.strip().splitlines()[-1].startswith("replay: bars=")
