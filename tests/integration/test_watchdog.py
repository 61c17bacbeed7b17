"""The watchdog as cron runs it (`python -m telegram.watchdog` in a subprocess, settings from the
environment) against a loopback Bot API and a real replay's state: one alert per outage across
runs, one recovery message, and exit 0 with a log line whatever fails."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.fake_telegram import FakeTelegram
from tests.support.monitoring import set_state_age

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
CHAT = "-1001234567"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("watchdog")
    for args in (
        ["-m", "execution.feeds.synthetic", "--out", str(root / "m"), "--days", "3"],
        ["-m", "execution.replay", str(root / "m"), "--state-dir", str(root / "state"), "--fresh"],
    ):
        subprocess.run(
            [sys.executable, *args],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=300,
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
        )
    return root / "state"


@pytest.fixture
def state(replayed, tmp_path) -> Path:
    import shutil

    return Path(shutil.copytree(replayed, tmp_path / "state"))


def run(state: Path, tg: FakeTelegram | None, **extra: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state),
        "HEDGE_ENV": "test",
        "WATCHDOG_STALE_S": "300",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": CHAT,
        "TELEGRAM_API_BASE": tg.url if tg else "http://127.0.0.1:9",
        "TELEGRAM_TIMEOUT_S": "5",
        **extra,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "telegram.watchdog"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert TOKEN not in proc.stderr + proc.stdout
    return proc


def test_down_alert_once_then_recovery_once(state):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        set_state_age(state, 10_000)
        run(state, tg)
        assert tg.messages == []  # up: nothing to say
        set_state_age(state, 420_000)  # the executor stopped 7 minutes ago
        proc = run(state, tg)
        assert len(tg.messages) == 1 and "[watchdog] message sent" in proc.stderr
        text = tg.messages[0]["text"]
        assert text.startswith("🔴 [test] Executor DOWN for 7 min") and "supervisorctl status hedge-executor" in text
        run(state, tg)
        run(state, tg)
        assert len(tg.messages) == 1  # deduplicated across cron runs
        set_state_age(state, 1_000)  # it writes again
        run(state, tg)
        assert len(tg.messages) == 2 and tg.messages[1]["text"].startswith("🟢 [test] Executor back")
        run(state, tg)
        assert len(tg.messages) == 2


def test_bot_api_down_then_429_then_delivered(state):
    set_state_age(state, 600_000)
    proc = run(state, None)  # nothing listens at the Bot API address
    assert "message not sent" in proc.stderr and "next run tries again" in proc.stderr
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        tg.rate_limit_next(retry_after=120)  # longer than a cron run waits
        proc = run(state, tg)
        assert tg.messages == [] and "429" in proc.stderr
        run(state, tg)
        assert len(tg.messages) == 1 and "DOWN" in tg.messages[0]["text"]


def test_corrupt_memory_missing_state_dir_and_dry_run(state, tmp_path):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        memory = state / "watchdog_state.json"
        memory.write_text("{not json")
        set_state_age(state, 600_000)
        proc = run(state, tg)
        assert "unreadable" in proc.stderr and len(tg.messages) == 1
        assert json.loads(memory.read_text())["alerted"] is True
        missing = tmp_path / "never-ran"
        proc = run(missing, tg, WATCHDOG_STATE_FILE=str(tmp_path / "wd" / "memory.json"))
        assert len(tg.messages) == 2 and "no executor state found" in tg.messages[1]["text"]
        dry = subprocess.run(
            [sys.executable, "-m", "telegram.watchdog", "--dry-run"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(tmp_path / "other")},
        )
        assert dry.returncode == 0 and "Executor DOWN" in dry.stdout
        assert len(tg.messages) == 2 and not (tmp_path / "other").exists()


def test_bad_settings_and_no_telegram_never_crash(state):
    proc = run(state, None, WATCHDOG_STALE_S="soon")
    assert "[watchdog] failed: ConfigError" in proc.stderr and "WATCHDOG_STALE_S" in proc.stderr
    set_state_age(state, 600_000)
    proc = run(state, None, TELEGRAM_BOT_TOKEN="")
    assert "not set: message not sent" in proc.stderr
    assert json.loads((state / "watchdog_state.json").read_text())["alerted"] is False


def test_shipped_cron_line_runs_as_cron_would(state, tmp_path):
    """The command of deploy/cron/hedge-watchdog, paths moved under tmp_path, run by /bin/sh with
    nothing but the cron file's environment: settings come from the project's .env."""
    cron = (PROJECT_ROOT / "deploy" / "cron" / "hedge-watchdog").read_text()
    env_lines = dict(
        ln.split("=", 1)
        for ln in cron.splitlines()
        if ln and not ln.startswith("#") and "=" in ln and " " not in ln.split("=", 1)[0]
    )
    (job,) = [ln for ln in cron.splitlines() if ln and not ln.startswith("#") and ln[0] in "*0123456789"]
    fields = job.split(None, 6)
    assert fields[:5] == ["*/3", "*", "*", "*", "*"] and fields[5] == "hedge"
    project = tmp_path / "opt" / "hedge"
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    for name in ("execution", "telegram", "config"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    log = tmp_path / "hedge-watchdog.log"
    command = fields[6].replace("/opt/hedge", str(project)).replace("/var/log/hedge-watchdog.log", str(log))
    set_state_age(state, 900_000)
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        (project / ".env").write_text(
            f"STATE_DIR={state}\nHEDGE_ENV=cron\nTELEGRAM_BOT_TOKEN={TOKEN}\n"
            f"TELEGRAM_CHAT_ID={CHAT}\nTELEGRAM_API_BASE={tg.url}\n"
        )
        for _ in range(3):
            proc = subprocess.run(
                ["/bin/sh", "-c", command], env={**env_lines, "HOME": str(tmp_path)}, capture_output=True, text=True
            )
            assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
    assert len(tg.messages) == 1 and tg.messages[0]["text"].startswith("🔴 [cron] Executor DOWN for 15 min")
    text = log.read_text()
    assert text.count("[watchdog] executor DOWN") == 3 and "Traceback" not in text and TOKEN not in text
