"""`ctl status` tells the truth about a stopped executor: DOWN with how long, in text and --json,
exit code 4; a running executor is UP with exit 0 (issue 16, item 6)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import PROJECT_ROOT
from tests.support.monitoring import wait_until


def status(state: Path, *args: str, stale_s: str = "2") -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "WATCHDOG_STALE_S": stale_s}
    return subprocess.run(
        [sys.executable, "-m", "execution.ctl", "status", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_says_down_with_how_long_after_the_executor_dies(tmp_path):
    state = tmp_path / "state"
    log = open(tmp_path / "executor.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "SPEED": "3000"},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: (state / "state" / "nav.json").exists(), 60, "the executor's first state write")
        up = status(state, "--json", stale_s="60")
        assert up.returncode == 0, up.stdout + up.stderr
        d = json.loads(up.stdout)
        assert d["executor"]["status"] == "UP" and d["mode"] == "RUN" == d["last_mode"]
    finally:
        proc.kill()  # dies without a word
        proc.wait(30)
        log.close()
    died = time.time()
    down = wait_until(lambda: (r := status(state)).returncode == 4 and r, 60, "status to report DOWN")
    first = down.stdout.splitlines()[0]
    assert first.startswith("mode      : DOWN for ") and "last published mode RUN" in first
    assert "last mode : RUN" in down.stdout
    d = json.loads(status(state, "--json").stdout)
    assert d["mode"] == "DOWN" and d["last_mode"] == "RUN" and d["executor"]["status"] == "DOWN"
    assert 2 < d["executor"]["age_s"] <= time.time() - died + 60
    assert any("executor DOWN for" in p for p in d["problems"])
    assert status(state, stale_s="100000").returncode == 0  # within a generous limit it is UP again


def test_status_without_any_state_is_down(tmp_path):
    r = status(tmp_path / "nothing")
    assert r.returncode == 4 and "has the executor run?" in r.stdout
    r = status(tmp_path / "nothing", stale_s="never")
    assert r.returncode == 2 and "WATCHDOG_STALE_S" in r.stderr
