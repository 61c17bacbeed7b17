"""The shipped supervisor program runs the dashboard: a real supervisord, non-root paths.

The production file (/opt/hedge, /var/log) is rewritten the way scripts/render_supervisor.py does
for a non-root run (python, home and log directory), plus a free port instead of 8501.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from execution import clock
from tests.conftest import PROJECT_ROOT
from tests.support.dashboard_state import replay_state, stamp_state
from tests.support.nginx import free_port

pytestmark = pytest.mark.skipif(
    shutil.which("supervisord") is None, reason="supervisord not installed (Debian package 'supervisor')"
)


def render(text: str, log_dir: Path, port: int, state: Path) -> str:
    out = (
        text.replace("/opt/hedge/.venv/bin/python", sys.executable)
        .replace("/opt/hedge", str(PROJECT_ROOT))
        .replace("/var/log/", f"{log_dir}/")
        .replace("--port 8501", f"--port {port}")
        .replace(
            'environment=PYTHONUNBUFFERED="1"',
            f'environment=PYTHONUNBUFFERED="1",STATE_DIR="{state}",ENV_FILE="/nonexistent"',
        )
    )
    settings = [line for line in out.splitlines() if not line.startswith(";")]
    assert not any("/opt/hedge" in line or "/var/log" in line for line in settings)
    assert f"stdout_logfile={log_dir}/hedge-dashboard.out.log" in settings
    assert any(line.startswith("command=") and f"-m dashboard --port {port}" in line for line in settings)
    return out


def test_dashboard_runs_under_supervisord(tmp_path):
    state = replay_state(tmp_path / "replay")
    stamp_state(state, clock.wall_ms())
    run, logs, port = tmp_path / "run", tmp_path / "log", free_port()
    (run / "conf.d").mkdir(parents=True)
    logs.mkdir()
    program = (PROJECT_ROOT / "deploy" / "supervisor" / "hedge-dashboard.conf").read_text()
    (run / "conf.d" / "hedge-dashboard.conf").write_text(render(program, logs, port, state))
    conf = run / "supervisord.conf"
    conf.write_text(f"""
[unix_http_server]
file={run}/supervisor.sock
[supervisord]
logfile={logs}/supervisord.log
pidfile={run}/supervisord.pid
childlogdir={logs}
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://{run}/supervisor.sock
[include]
files = {run}/conf.d/*.conf
""")
    subprocess.run(["supervisord", "-c", str(conf)], check=True, cwd=PROJECT_ROOT)
    ctl = ["supervisorctl", "-c", str(conf)]
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, (logs / "hedge-dashboard.out.log").read_text()[-2000:]
            time.sleep(0.2)
        while (
            "RUNNING" not in subprocess.run(ctl + ["status", "hedge-dashboard"], capture_output=True, text=True).stdout
        ):  # after startsecs without exiting
            assert time.monotonic() < deadline + 30, "hedge-dashboard never reached RUNNING"
            time.sleep(0.2)
        assert (logs / "hedge-dashboard.out.log").exists()  # the log lands where the rendered file says
        subprocess.run(ctl + ["stop", "hedge-dashboard"], check=True, capture_output=True, timeout=60)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
    finally:
        subprocess.run(ctl + ["shutdown"], capture_output=True, timeout=60)
