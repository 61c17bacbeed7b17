"""The heartbeat run as cron runs it, against a loopback Bot API: one message whose numbers match
the state, and exit 0 in every failure case."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hb")
    subprocess.run([sys.executable, "-m", "execution.feeds.synthetic", "--out", str(root / "m"), "--days", "12"],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "execution.replay", str(root / "m"), "--state-dir", str(root / "st")],
                   cwd=PROJECT_ROOT, check=True, capture_output=True, env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/x"})
    return root / "st"


def run(state_dir, api_url, token=TOKEN, chat="42", *args):
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state_dir),
           "TELEGRAM_API_BASE": api_url, "HEDGE_ENV": "test<env>"}
    if token:
        env["TELEGRAM_BOT_TOKEN"] = token
    if chat:
        env["TELEGRAM_CHAT_ID"] = chat
    return subprocess.run([sys.executable, "-m", "telegram.heartbeat", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def payload_of(proc) -> dict:
    line = next(l for l in proc.stderr.splitlines() if "[heartbeat] payload " in l)
    return json.loads(line.split("[heartbeat] payload ", 1)[1])


def test_one_message_with_numbers_matching_the_state(state):
    nav = json.loads((state / "state" / "nav.json").read_text())
    with FakeTelegram(TOKEN) as tg:
        proc = run(state, tg.url)
    assert proc.returncode == 0, proc.stderr
    assert len(tg.messages) == 1
    msg = tg.messages[0]
    assert msg["chat_id"] == "42" and msg["parse_mode"] == "HTML"
    text = msg["text"]
    assert text.startswith("<b>HEDGE — 8h Update (test&lt;env&gt;)</b>")
    assert f"NAV: {nav['nav']:,.2f} USDT" in text
    assert f"Drawdown: {nav['drawdown_pct']:.1f}%" in text
    assert "Reserve: 0.013 BTC (not included in NAV)" in text
    p = payload_of(proc)
    assert p["nav"] == round(nav["nav"], 2) and p["open_positions"] == len(
        json.loads((state / "state" / "positions.json").read_text())["positions"])
    assert p["nav_24h_delta_abs"] == round(nav["change_24h_abs"], 2)  # history and the executor agree
    screener = json.loads((state / "state" / "screener.json").read_text())["last_cycle"]
    assert p["screener"] == {"attempted": screener["attempted"], "emitted": screener["emitted"]}
    assert TOKEN not in proc.stderr


@pytest.mark.parametrize("mode,expect_messages", [("429-once", 1), ("429-long", 0), ("401", 0), ("500", 0)])
def test_bot_api_failures_never_crash(state, mode, expect_messages):
    with FakeTelegram(TOKEN, mode=mode) as tg:
        proc = run(state, tg.url)
    assert proc.returncode == 0
    assert len(tg.messages) == expect_messages
    if expect_messages == 0:
        assert "[heartbeat] not sent" in proc.stderr
    assert TOKEN not in proc.stderr and "Traceback" not in proc.stderr


def test_unreachable_api_missing_token_and_empty_state(tmp_path, state):
    proc = run(state, "http://127.0.0.1:9")  # nothing listens there
    assert proc.returncode == 0 and "Telegram unreachable" in proc.stderr
    proc = run(state, "http://127.0.0.1:9", token="")
    assert proc.returncode == 0 and "TELEGRAM_BOT_TOKEN or TELEGRAM_CHAT_ID not set" in proc.stderr
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "nav.json").write_text("{torn")
    with FakeTelegram(TOKEN) as tg:
        proc = run(tmp_path, tg.url)
    assert proc.returncode == 0 and len(tg.messages) == 1
    assert "NAV: unavailable" in tg.messages[0]["text"]
    assert "unreadable" in proc.stderr


def test_dry_run_prints_and_sends_nothing(state):
    with FakeTelegram(TOKEN) as tg:
        proc = run(state, tg.url, TOKEN, "42", "--dry-run")
    assert proc.returncode == 0 and tg.messages == []
    assert "HEDGE — 8h Update" in proc.stdout and '"trend"' in proc.stdout


def test_message_stays_within_telegrams_limit_whatever_the_state(tmp_path, state):
    import shutil

    big = tmp_path / "st"
    shutil.copytree(state, big)
    nav = json.loads((big / "state" / "nav.json").read_text())
    nav["env"] = "x"
    positions = {"positions": [{"venue": "binance_um", "symbol": f"SYM{i:03d}USDT" + "Z" * 40, "position_side": "LONG",
                                "qty": 1.0, "unrealized_pnl": float(i), "notional": 10.0} for i in range(400)],
                 "updated_at_ms": nav["updated_at_ms"]}
    (big / "state" / "positions.json").write_text(json.dumps(positions))
    with FakeTelegram(TOKEN) as tg:
        proc = run(big, tg.url)
    assert proc.returncode == 0 and len(tg.messages) == 1  # top 5 only, long names cut: one message
    text = tg.messages[0]["text"]
    assert text.count("SYM") == 5 and len(text) < 4096 and "SYM399" in text
