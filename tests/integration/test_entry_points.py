"""Every entry point answers --help / -h with usage and exit 0, starting nothing; two executors
cannot share one STATE_DIR."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.waiting import wait_for

PACKAGES = ("execution", "scripts", "telegram", "bench")


def entry_points() -> list[str]:
    """Every file with a `__main__` block: modules of packages run with -m, the rest as paths."""
    out = []
    for pkg in PACKAGES:
        for path in sorted((PROJECT_ROOT / pkg).rglob("*.py")):
            if 'if __name__ == "__main__"' in path.read_text():
                out.append(str(path.relative_to(PROJECT_ROOT)))
    return out


def command(entry: str) -> list[str]:
    if entry.startswith(("execution/", "telegram/")):
        return [sys.executable, "-m", entry[:-3].replace("/", ".")]
    return [sys.executable, str(PROJECT_ROOT / entry)]


def clean_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(tmp_path / "state"),
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def test_the_entry_point_list_is_complete():
    found = entry_points()
    assert "execution/executor.py" in found and "bench/bench_venue_adapters.py" in found
    assert len(found) >= 20


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("entry", entry_points())
def test_help_prints_usage_and_starts_nothing(entry, flag, tmp_path):
    proc = subprocess.run(
        command(entry) + [flag], cwd=tmp_path, env=clean_env(tmp_path), capture_output=True, text=True, timeout=60
    )  # an entry point that ignores the flag and starts its work runs into the timeout
    assert proc.returncode == 0, f"{entry} {flag}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert re.search(r"(?im)^usage:", proc.stdout), f"{entry} {flag} printed no usage:\n{proc.stdout[:500]}"
    assert not (tmp_path / "state").exists(), f"{entry} {flag} wrote state"
    assert list(tmp_path.iterdir()) == [], f"{entry} {flag} wrote {list(tmp_path.iterdir())}"


def test_a_second_executor_on_one_state_dir_exits_2_naming_the_holder(tmp_path):
    env = clean_env(tmp_path) | {"SPEED": "max"}
    log = tmp_path / "first.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "[executor] started" in log.read_text(), what="first executor started")
        second = subprocess.run(
            [sys.executable, "-m", "execution.executor"],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 2
        assert f"in use by another executor (pid {first.pid})" in second.stderr
        assert "resuming run" not in second.stdout + second.stderr
        assert first.poll() is None  # the first one goes on
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=120) == 0
    # the start line and the account lines agree about dry-run
    text = log.read_text()
    [start] = re.findall(r"\[executor\] profile=paper safe_mode=\S+ dry_run=(\w+)", text)
    accounts = re.findall(r"\[executor\] account OK — futures=True testnet=False dry_run=(\w+)", text)
    assert accounts and set(accounts) == {start} == {"False"}
    # the lock goes with the process: a restart after the first one stopped takes it
    again = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(tmp_path / "again.log", "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "resuming run" in (tmp_path / "again.log").read_text(), what="restart resumed")
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=120) == 0


def test_a_sigkilled_executor_does_not_block_its_restart(tmp_path):
    env = clean_env(tmp_path) | {"SPEED": "max"}
    log = tmp_path / "first.log"
    first = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: "[executor] started" in log.read_text(), what="first executor started")
    first.kill()
    first.wait(timeout=60)
    assert (tmp_path / "state" / "executor.lock").read_text().strip() == str(first.pid)  # the file stays
    again = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(tmp_path / "again.log", "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: "[executor] started" in (tmp_path / "again.log").read_text(), what="restart")
    finally:
        again.send_signal(signal.SIGTERM)
        assert again.wait(timeout=120) == 0
