"""Run the operator CLI as a given OS user (root + SUDO_USER, as `sudo hedgectl` does) and a real
executor subprocess for it to talk to."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

TOKEN = "approve-Zq81-very-secret"
needs_root = pytest.mark.skipif(
    os.getuid() != 0, reason="acts as two operators through SUDO_USER, which the CLI trusts only when run as root"
)


def ctl(
    state: Path, *args: str, operator: str = "alice", token_env: str | None = None, timeout: float = 20.0
) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state),
        "HOME": str(state.parent),
        "SUDO_USER": operator,
    }
    if token_env:
        env["APPROVE_TOKEN"] = token_env
    return subprocess.run(
        [sys.executable, "scripts/hedgectl.py", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def project_command(*argv: str, operator: str = "alice", timeout: float = 60.0) -> subprocess.CompletedProcess:
    """`python ARGV...` from the project root as `operator` (root + SUDO_USER), with no .env."""
    env = {**os.environ, "SUDO_USER": operator, "ENV_FILE": "/nonexistent"}
    return subprocess.run(
        [sys.executable, *argv], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def executor_env(state: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state),
        "SPEED": "3000",
        "APPROVE_TOKEN": TOKEN,
        **extra,
    }


@contextmanager
def running_executor(state: Path, log: Path, **extra: str) -> Iterator[subprocess.Popen]:
    """An executor on `state` until the block ends (SIGTERM: a clean stop, state flushed)."""
    out = open(log, "a")
    proc = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=executor_env(state, **extra),
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        control = state / "state" / "control.json"
        started = control.stat().st_mtime_ns if control.exists() else 0
        deadline = time.monotonic() + 60
        while not control.exists() or control.stat().st_mtime_ns == started:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        out.close()
