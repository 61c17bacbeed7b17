"""`.env` holds the keys: scripts/run.sh creates it readable by its owner only, and the executor
warns at start when it is readable by other users (issue 20)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from execution.settings import env_file_exposure
from tests.conftest import PROJECT_ROOT
from tests.support.operator_cli import running_executor


def test_run_sh_creates_env_0600(tmp_path):
    line = next(
        x for x in (PROJECT_ROOT / "scripts" / "run.sh").read_text().splitlines() if "cp .env.example .env" in x
    )
    (tmp_path / ".env.example").write_text("SAFE_MODE=true\n")
    (tmp_path / ".env.example").chmod(0o644)
    subprocess.run(["bash", "-c", f"umask 022; {line}"], cwd=tmp_path, check=True)
    assert (tmp_path / ".env").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / ".env").read_text() == "SAFE_MODE=true\n"


def test_exposure_is_reported_for_group_or_world_readable_files(tmp_path):
    env = tmp_path / ".env"
    env.write_text("OKX_API_KEY=x\n")
    env.chmod(0o600)
    assert env_file_exposure(str(env)) is None
    env.chmod(0o644)
    warning = env_file_exposure(str(env))
    assert warning is not None and "0644" in warning and "chmod 600" in warning
    assert env_file_exposure(str(tmp_path / "missing")) is None


def test_the_executor_warns_at_start(tmp_path):
    env = tmp_path / "hedge.env"
    env.write_text("SAFE_MODE=true\n")
    env.chmod(0o644)
    log = tmp_path / "executor.log"
    with running_executor(tmp_path / "state", log, ENV_FILE=str(env)):
        pass
    text = log.read_text()
    assert re.search(r"WARNING \[config\] .*hedge\.env is readable by other users \(mode 0644\)", text), text[-2000:]


@pytest.mark.parametrize(
    "content,extra,expected",
    [
        (bytes(range(256)), {}, "field '<byte 128>': expected UTF-8 text, got 'binary data'"),
        (b"SAFE_MODE=true\nSAFE_MODE=false\n", {}, "field 'SAFE_MODE': expected one line per variable"),
        ("SEED=\u00b2\n".encode(), {}, "field 'SEED': expected an integer in [0, 4294967295]"),
        (b"HEDGE_ENV=a/b\n", {}, "field 'HEDGE_ENV': expected letters, digits"),
        (b"LIVE_STALE_S=inf\n", {}, "field 'LIVE_STALE_S': expected a positive number of seconds"),
        (b"SAFE_MODE=true\n", {"STATE_DIR": "/etc/hostname"}, "field 'STATE_DIR': expected a directory"),
        (b"SAFE_MODE=true\n", {"STATE_DIR": "/proc/hedge"}, "field 'STATE_DIR': expected a directory"),
    ],
)
def test_a_hostile_env_stops_the_executor_with_one_line(tmp_path, content, extra, expected):
    env_file = tmp_path / "hedge.env"
    env_file.write_bytes(content)
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": str(env_file), "STATE_DIR": str(tmp_path / "st"), **extra}
    r = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("config error: ") and expected in line and "Traceback" not in r.stderr


def test_a_look_alike_variable_is_warned_about_and_the_executor_runs(tmp_path):
    env = tmp_path / "hedge.env"
    env.write_text("SAFEMODE=false\n")
    env.chmod(0o600)
    log = tmp_path / "executor.log"
    with running_executor(tmp_path / "state", log, ENV_FILE=str(env)):
        pass
    assert "unknown variable SAFEMODE ignored (did you mean SAFE_MODE?)" in log.read_text()
