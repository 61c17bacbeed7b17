"""The executor process serves its metrics: on 127.0.0.1:METRICS_PORT only while it runs (the port
is closed after a clean stop), counting its own cycles and orders; a METRICS_PORT already taken
never stops trading (one error line says so)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import PROJECT_ROOT
from tests.support.monitoring import free_port, wait_until


def start(tmp: Path, port: int) -> tuple[subprocess.Popen, Path]:
    log = tmp / "executor.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(tmp / "state"),
        "SPEED": "9000",
        "METRICS_PORT": str(port),
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "execution.executor"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, log


def scrape(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out: dict[str, float] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[s.name] = out.get(s.name, 0.0) + s.value
    return out


def stop(proc: subprocess.Popen) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise


def listening(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex((host, port)) == 0


def test_the_executor_serves_its_metrics_on_loopback_until_it_stops(tmp_path):
    port = free_port()
    proc, log = start(tmp_path, port)
    try:
        first = wait_until(lambda: (m := scrape(port)).get("hedge_cycles_total", 0) > 0 and m, 90, "a cycle counted")
        later = wait_until(
            lambda: (m := scrape(port))["hedge_cycles_total"] > first["hedge_cycles_total"] and m, 60, "more cycles"
        )
        assert later["hedge_nav_usdt"] > 0 and later["hedge_exporter_start_timestamp_seconds"] > 0
        assert 0 <= later["hedge_seconds_since_last_cycle"] < 60
        addresses = {a for *_, a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
        for other in {a[0] for a in addresses} - {"127.0.0.1"}:
            assert not listening(other, port), f"metrics reachable on {other}"
    finally:
        code = stop(proc)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert f"[executor] metrics on http://127.0.0.1:{port}/metrics" in text
    assert not listening("127.0.0.1", port)  # the exporter closed with the executor


def test_a_taken_metrics_port_never_stops_trading(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc, log = start(tmp_path, port)
        try:
            nav = tmp_path / "state" / "state" / "nav.json"
            wait_until(lambda: nav.exists() and '"bars":' in nav.read_text(), 90, "the executor trading")
        finally:
            code = stop(proc)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert f"[executor] metrics NOT served on 127.0.0.1:{port}" in text and "trading goes on" in text
