"""`scripts/run.sh` (unless MONITORING=0) runs Prometheus and Alertmanager as supervisor programs:
the shipped program files, rendered as run.sh renders them, start both servers on loopback with the
config scripts/render_monitoring.py wrote (ports moved to free ones: other test runs share the
machine). Only the two monitoring programs run here, so the executor target is down; the scrape of
a running executor is tested in test_monitoring_stack.py."""

from __future__ import annotations

import shutil
import subprocess
import sys
import urllib.request

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.monitoring import ALERTMANAGER, PROMETHEUS, free_port, need, query, wait_until

pytestmark = pytest.mark.skipif(shutil.which("supervisord") is None, reason="supervisord not installed")


def test_monitoring_programs_start_under_supervisord(tmp_path):
    need(PROMETHEUS, "prometheus")
    need(ALERTMANAGER, "prometheus-alertmanager")
    home, run_dir = tmp_path / "home", tmp_path / "run"
    metrics, prom, am = free_port(), free_port(), free_port()
    subprocess.run(
        [sys.executable, "scripts/render_monitoring.py", "--out", str(home / "run" / "monitoring")]
        + ["--metrics-port", str(metrics), "--alertmanager-port", str(am)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
    )
    conf = subprocess.run(
        [sys.executable, "scripts/render_supervisor.py", "--home", str(home), "--log-dir", str(run_dir / "log")]
        + ["--run-dir", str(run_dir), "--programs", "hedge-prometheus,hedge-alertmanager"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    for name, old, new in (("hedge-prometheus", "9090", prom), ("hedge-alertmanager", "9093", am)):
        path = run_dir / "conf.d" / f"{name}.conf"
        text = path.read_text()
        assert f"--web.listen-address=127.0.0.1:{old}" in text and "/opt/hedge" not in text
        path.write_text(text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}"))
    subprocess.run(["supervisord", "-c", conf], check=True, timeout=30)
    try:
        for port in (prom, am):
            wait_until(
                lambda port=port: urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready", timeout=2).status == 200,
                60,
                f"ready on {port}",
            )
        base = f"http://127.0.0.1:{prom}"
        rules = wait_until(
            lambda: urllib.request.urlopen(f"{base}/api/v1/rules", timeout=2).read().count(b'"name":"'),
            30,
            "the rules loaded",
        )
        assert rules >= 11
        target = wait_until(lambda: query(base, 'up{job="hedge-executor"}'), 60, "the executor target scraped")
        assert target[0]["metric"]["instance"] == f"127.0.0.1:{metrics}"
        assert target[0]["value"][1] == "0"  # nothing serves metrics there: Prometheus says so
    finally:
        subprocess.run(["supervisorctl", "-c", conf, "shutdown"], capture_output=True, timeout=60)
