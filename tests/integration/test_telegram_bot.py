"""The operators' Telegram commands bot against the loopback Bot API and a running executor:
allow-listed chats and users only, commands through the control log with the Telegram user as
operator, malformed updates, 429, network loss, and a restart that does not re-apply old updates."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from telegram.bot import BotConfig, CommandsBot
from telegram.bot_api import BotApi
from tests.conftest import PROJECT_ROOT
from tests.support.fake_telegram import FakeTelegram
from tests.support.firestore_emulator import TcpProxy
from tests.support.waiting import wait_for

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
CHAT, USER, STRANGER_CHAT, STRANGER = -1001234567, 111, -100999, 666


@pytest.fixture(scope="module")
def executor(tmp_path_factory):
    root = tmp_path_factory.mktemp("bot")
    state = root / "state"
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "SPEED": "3000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(root / "executor.log", "w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: (state / "state" / "control.json").exists() or proc.poll() is not None, what="executor")
    assert proc.poll() is None, (root / "executor.log").read_text()[-2000:]
    yield state
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)


def config(state: Path, api_base: str, offset_file: Path) -> BotConfig:
    return BotConfig(
        token=TOKEN,
        api_base=api_base,
        chats=frozenset({CHAT}),
        users=frozenset({USER}),
        poll_s=1,
        state_dir=state,
        offset_file=offset_file,
        ack_timeout_s=20,
    )


def commands(state: Path) -> list[dict]:
    path = state / "control_log.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def replies(tg: FakeTelegram) -> list[str]:
    return [m["text"] for m in tg.messages]


def test_allow_listed_commands_and_everything_else_ignored(executor, tmp_path, log_lines):
    with FakeTelegram(TOKEN, chat_id=str(CHAT)) as tg:
        api = BotApi(TOKEN, tg.url)
        bot = CommandsBot(config(executor, tg.url, tmp_path / "offset.json"), api)
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/status")
        tg.push_update(chat_id=STRANGER_CHAT, user_id=USER, text="/hold from a strange chat")
        tg.push_update(chat_id=CHAT, user_id=STRANGER, text="/hold from a stranger")
        tg.push_update({"message": "not a message object"})
        tg.push_update({"edited_message": {"text": "/hold"}})
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/hold@hedge_bot venue maintenance")
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/resume_confirm 1234")
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/hold")
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/positions")
        tg.push_update(chat_id=CHAT, user_id=USER, username="alice", text="/alerts")
        bot.poll_once()
        api.close()
        got = replies(tg)
    assert len(got) == 6  # the allow-listed user in the allow-listed chat only
    assert got[0].startswith("mode: RUN") and "NAV: " in got[0]
    assert got[1].startswith("OK: HOLD set by telegram:111/@alice: venue maintenance")
    assert "not available over Telegram" in got[2] and "approval token never travels" in got[2]
    assert got[3] == "/hold needs a reason: /hold <reason>"
    assert got[4] == "no open positions" or "binance_um" in got[4]
    assert "hold by telegram:111/@alice" in got[5]
    held = [c for c in commands(executor) if c["cmd"] == "hold"]
    assert [(c["operator"], c["args"]["reason"]) for c in held] == [("telegram:111/@alice", "venue maintenance")]
    acks = [json.loads(x) for x in (executor / "control_acks.jsonl").read_text().splitlines()]
    assert any(a["command_id"] == held[0]["id"] and a["ok"] for a in acks)  # journaled by the executor
    log = log_lines.getvalue()
    assert f"chat {STRANGER_CHAT} is not allow-listed" in log and f"user {STRANGER} is not allow-listed" in log
    assert "not a message" in log and TOKEN.split(":")[1] not in log
    assert json.loads((tmp_path / "offset.json").read_text())["offset"] == tg.updates[-1]["update_id"] + 1


def test_a_restart_does_not_apply_an_update_again(executor, tmp_path):
    """The bot applied /hold and died before its next getUpdates confirmed it to Telegram: the
    restarted bot asks from the persisted offset, so the update is not applied twice."""
    with FakeTelegram(TOKEN, chat_id=str(CHAT)) as tg:
        cfg = config(executor, tg.url, tmp_path / "offset.json")
        first = CommandsBot(cfg, BotApi(TOKEN, tg.url))
        uid = tg.push_update(chat_id=CHAT, user_id=USER, username="bob", text="/hold restart check")
        first.poll_once()  # applied; no further poll (the process dies here)
        assert [u["update_id"] for u in tg.updates] == [uid]  # Telegram still holds it, unconfirmed
        before = len([c for c in commands(executor) if c["cmd"] == "hold"])
        second = CommandsBot(cfg, BotApi(TOKEN, tg.url))
        assert second.offset == uid + 1
        second.poll_once()
        assert len([c for c in commands(executor) if c["cmd"] == "hold"]) == before
        assert len(replies(tg)) == 1


def test_429_and_network_loss_are_waited_out(executor, tmp_path, log_lines):
    with FakeTelegram(TOKEN, chat_id=str(CHAT)) as tg:
        proxy = TcpProxy(int(tg.url.rsplit(":", 1)[1]))
        proxy.up()
        waits: list[float] = []
        api = BotApi(TOKEN, f"http://{proxy.host}", timeout_s=2)
        bot = CommandsBot(config(executor, f"http://{proxy.host}", tmp_path / "o.json"), api, sleep=waits.append)
        tg.fail_updates_next(429, "Too Many Requests: retry after 7", retry_after=7)
        bot.poll_once()
        assert waits == [7]
        proxy.down()
        bot.poll_once()
        bot.poll_once()
        assert waits[1:] == [1.0, 2.0]  # back-off doubles
        proxy.up()
        tg.push_update(chat_id=CHAT, user_id=USER, text="/status")
        bot.poll_once()
        proxy.down()
        assert replies(tg) and replies(tg)[0].startswith("mode: ")
    log = log_lines.getvalue()
    assert "[telegram-bot] getUpdates rate limited: waiting 7s" in log
    assert log.count("[telegram-bot] getUpdates failed") == 1  # one line per outage, not per retry
    assert "[telegram-bot] getUpdates answers again" in log


def test_the_supervised_program_runs_and_stops_cleanly(executor, tmp_path):
    with FakeTelegram(TOKEN, chat_id=str(CHAT)) as tg:
        env = {
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/nonexistent",
            "STATE_DIR": str(executor),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": tg.url,
            "TELEGRAM_BOT_ALLOWED_CHATS": str(CHAT),
            "TELEGRAM_BOT_ALLOWED_USERS": f"{USER}, 222",
            "TELEGRAM_BOT_POLL_S": "1",
            "TELEGRAM_BOT_OFFSET_FILE": str(tmp_path / "offset.json"),
        }
        log = tmp_path / "bot.log"
        proc = subprocess.Popen(
            [sys.executable, str(PROJECT_ROOT / "telegram" / "bot.py")],  # as a script path too
            cwd=tmp_path,
            env=env,
            stdout=open(log, "w"),
            stderr=subprocess.STDOUT,
        )
        try:
            tg.push_update(chat_id=CHAT, user_id=USER, text="/help")
            wait_for(lambda: replies(tg), what="a reply")
            assert "/resume_request <reason>" in replies(tg)[0]
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=30)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert "[telegram-bot] started: 1 chat(s), 2 user(s) allow-listed" in text and "[telegram-bot] stopped" in text
    assert TOKEN.split(":")[1] not in text


def test_no_token_is_a_config_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "telegram.bot"],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "TELEGRAM_BOT_TOKEN" in done.stderr
