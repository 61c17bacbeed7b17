"""The executor under a real supervisord, as the README's run command starts it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.waiting import wait_for

pytestmark = pytest.mark.skipif(
    shutil.which("supervisord") is None,
    reason="supervisord not installed (Debian package 'supervisor'; scripts/bootstrap.sh)",
)


def read_nav(state: Path):
    try:
        return json.loads((state / "state" / "nav.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_executor_runs_under_supervisord_and_state_moves(tmp_path):
    run_dir, state = tmp_path / "run", tmp_path / "state"
    conf = subprocess.run(
        [
            sys.executable,
            "scripts/render_supervisor.py",
            "--python",
            sys.executable,
            "--log-dir",
            str(run_dir / "log"),
            "--run-dir",
            str(run_dir),
            "--programs",
            "hedge-executor",
            "--env",
            f"STATE_DIR={state}",
            "--env",
            "SPEED=20000",
            "--env",
            "ENV_FILE=/nonexistent",
            "--env",
            "ACCOUNT_LOG_INTERVAL_S=1",
        ],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    text = (run_dir / "conf.d" / "hedge-executor.conf").read_text()
    settings = [line for line in text.splitlines() if not line.startswith(";")]
    assert f"stdout_logfile={run_dir / 'log' / 'hedge-executor.out.log'}" in settings
    assert not any("/var/log" in line or "/opt/hedge" in line for line in settings)
    subprocess.run(["supervisord", "-c", conf], check=True, cwd=PROJECT_ROOT)
    ctl = ["supervisorctl", "-c", conf]
    try:
        wait_for(lambda: b"RUNNING" in subprocess.run(ctl + ["status", "hedge-executor"], capture_output=True).stdout)
        first = wait_for(lambda: read_nav(state))
        later = wait_for(lambda: (n := read_nav(state)) and n["market_ts"] > first["market_ts"] and n)
        assert later["updated_at_ms"] > first["updated_at_ms"]
        for name in ("positions", "control", "screener"):
            assert (state / "state" / f"{name}.json").exists()
        log = run_dir / "log" / "hedge-executor.out.log"
        wait_for(lambda: "[executor] account OK" in log.read_text())
        assert "[screener] " in log.read_text()
        subprocess.run(ctl + ["stop", "hedge-executor"], check=True, capture_output=True, timeout=60)
        assert "stopped cleanly" in log.read_text()
        stopped = read_nav(state)
        subprocess.run(ctl + ["start", "hedge-executor"], check=True, capture_output=True, timeout=60)
        wait_for(lambda: "resuming run generated" in log.read_text())
        resumed = wait_for(lambda: (n := read_nav(state)) and n["market_ts"] > stopped["market_ts"] and n)
        assert resumed["bars"] > stopped["bars"]
    finally:
        subprocess.run(ctl + ["shutdown"], capture_output=True, timeout=60)
