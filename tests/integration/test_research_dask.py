"""The walk-forward on a real Dask cluster: a `dask-scheduler` and two `dask-worker` processes on
loopback run its backtests, and every figure equals the run on local processes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from execution.feeds.synthetic import write_market
from tests.conftest import PROJECT_ROOT

ENV = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "PYTHONPATH": str(PROJECT_ROOT)}
SPACE = PROJECT_ROOT / "tests" / "fixtures" / "research_space.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    """dask-scheduler + 2 dask-workers (one process, one thread each) on 127.0.0.1."""
    address = f"tcp://127.0.0.1:{free_port()}"
    common = ["--no-dashboard"]
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1"]
            + ["--port", address.rsplit(":", 1)[1], *common],
            cwd=PROJECT_ROOT,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "scheduler.log", "w"),
        )
    ]
    for i in range(2):
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "distributed.cli.dask_worker", address, "--nthreads", "1", "--nworkers", "1"]
                + ["--host", "127.0.0.1", "--name", f"w{i}", "--local-directory", str(tmp_path / f"w{i}"), *common],
                cwd=PROJECT_ROOT,
                env=ENV,
                stdout=subprocess.DEVNULL,
                stderr=open(tmp_path / f"worker{i}.log", "w"),
            )
        )
    try:
        from distributed import Client

        deadline = time.monotonic() + 120
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=120)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def walk_forward(market: Path, study: Path, *extra: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "execution.research", "walk-forward", str(market), "--folds", "2", "--trials", "6"]
        + ["--batch", "3", "--study-dir", str(study), "--space", str(SPACE), *extra],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_walk_forward_on_a_dask_cluster_equals_the_local_run(cluster, tmp_path):
    market = tmp_path / "market"
    write_market(market, days=24, seed=5)
    local_out = walk_forward(market, tmp_path / "local", "--workers", "2")
    dask_out = walk_forward(market, tmp_path / "dask", "--scheduler", cluster)
    assert "backtests on: 2 local processes" in local_out
    assert f"backtests on: Dask cluster {cluster} (2 workers)" in dask_out
    local, remote = (json.loads((tmp_path / d / "proposal.json").read_text()) for d in ("local", "dask"))
    local.pop("generated_at"), remote.pop("generated_at")
    assert remote == local
    assert len(local["folds"]) == 3 and all(f["current_default_in_sample"] for f in local["folds"])

    def table(out: str) -> list[str]:  # the report's figures (its header line names where it ran)
        return [line for line in out.splitlines() if not line.startswith(("backtests on:", "wall_s="))]

    assert table(dask_out) == table(local_out)
