"""The heartbeat reads Firestore first (Google's emulator), and the local files when Firestore is cut."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from execution.state.firestore_store import FirestoreConfig, FirestoreTarget
from execution.state.local import LocalStore
from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink, outbox_path
from execution.state.outbox import Outbox
from tests.conftest import PROJECT_ROOT
from tests.support.fake_telegram import FakeTelegram

pytestmark = pytest.mark.emulator
TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
DAY = 86_400_000
T = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def write_state(state_dir, nav: float, env: str = "hb") -> None:
    """The executor's writes: local files first, mirrored to Firestore (drained before returning)."""
    cfg = FirestoreConfig("hedge-test", "(default)", env)
    mirror = FirestoreMirror(
        lambda: FirestoreTarget(cfg, 3.0), Outbox(outbox_path(state_dir)), DocIntervals(0, 0, 0), max_backoff_s=0.5
    )
    mirror.start()
    sink = MirrorSink(LocalStore(state_dir, durable=False, min_interval_ms=0), mirror)
    sink.nav_point(T - DAY - 60_000, 9_990.0, 0.0)
    sink.nav_point(T - DAY, 10_000.0, 0.0)
    sink.nav_point(T, nav, 0.5)
    sink.put(
        "nav",
        {
            "nav": nav,
            "market_ts": T,
            "drawdown_pct": 0.5,
            "max_drawdown_pct": 2.0,
            "reserve_btc": 0.013,
            "updated_at_ms": T,
        },
    )
    sink.put(
        "positions",
        {
            "positions": [
                {
                    "venue": "binance_um",
                    "symbol": "ETHUSDT",
                    "position_side": "SHORT",
                    "qty": 0.5,
                    "unrealized_pnl": -12.5,
                    "notional": 1500.0,
                }
            ]
        },
    )
    sink.put("screener", {"last_cycle": {"ts": T, "attempted": 3, "emitted": 2}})
    sink.append(
        "trades",
        {
            "id": "f1",
            "kind": "fill",
            "ts": T - 60_000,
            "seq": 1,
            "venue": "binance_um",
            "symbol": "SOLUSDT",
            "side": "SELL",
            "position_side": "LONG",
            "qty": 2,
            "price": 150,
            "realized_pnl_usdt": 7.25,
            "fee_usdt": 0.25,
        },
    )
    sink.close()
    assert Outbox(outbox_path(state_dir)).count() == 0  # everything reached Firestore


def heartbeat(state_dir, api_url: str, hedge_env: str = "hb") -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state_dir),
        "HEDGE_ENV": hedge_env,
        "FIRESTORE_PROJECT": "hedge-test",
        "FIRESTORE_EMULATOR_HOST": os.environ["FIRESTORE_EMULATOR_HOST"],
        "FIRESTORE_READ_TIMEOUT_S": "2",
        "TELEGRAM_API_BASE": api_url,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_CHAT_ID": "42",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "telegram.heartbeat"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc


def test_nav_from_firestore_then_local_when_firestore_is_cut(firestore, tmp_path):
    write_state(tmp_path / "written", nav=10_123.45)
    empty = tmp_path / "empty"  # the heartbeat's own STATE_DIR has nothing: figures can only come from Firestore
    empty.mkdir()
    with FakeTelegram(TOKEN) as tg:
        proc = heartbeat(empty, tg.url)
    text = tg.messages[0]["visible_text"].split("\n")
    assert text[3] == "NAV: 10,123.45 USDT  (Δ24h: +123.45, +1.23%)"
    assert text[4] == "Drawdown: 0.5%  |  Trend: ↑"
    assert "• ETHUSDT  SHORT 0.5  uPnL -12.50" in text and "• Screener: attempted=3, emitted=2 (last cycle)" in text
    assert any(line.startswith("• SOLUSDT +7.00  (SELL/LONG ") for line in text)
    assert '"source":"firestore"' in proc.stderr

    firestore.down()  # the network to Firestore is cut; the local files are the executor's mirror
    with FakeTelegram(TOKEN) as tg:
        proc = heartbeat(tmp_path / "written", tg.url)
    text = tg.messages[0]["visible_text"].split("\n")
    assert text[3] == "NAV: 10,123.45 USDT  (Δ24h: +123.45, +1.23%)"
    assert "• Firestore not answering: figures from the local state files" in text
    assert '"source":"local"' in proc.stderr and "firestore unreachable" in proc.stderr


def test_local_files_when_firestore_has_no_nav_or_lags_behind(firestore, tmp_path):
    state = tmp_path / "st"
    write_state(state, nav=10_123.45)
    with FakeTelegram(TOKEN) as tg:
        other_env = heartbeat(state, tg.url, hedge_env="never-written")  # Firestore answers, but has nothing
    assert "NAV: 10,123.45 USDT" in tg.messages[0]["visible_text"]
    assert "Firestore has no NAV for this env: figures from the local state files" in tg.messages[0]["visible_text"]
    assert '"source":"local"' in other_env.stderr

    # the executor kept writing locally while its mirror was behind: the local NAV is 2 h newer
    local = LocalStore(state, durable=False, min_interval_ms=0)
    local.put("nav", {"nav": 10_200.0, "market_ts": T + 7_200_000, "drawdown_pct": 0.0, "updated_at_ms": T + 7_200_000})
    local.close()
    with FakeTelegram(TOKEN) as tg:
        heartbeat(state, tg.url)
    text = tg.messages[0]["visible_text"]
    assert "NAV: 10,200.00 USDT" in text and "Firestore lags the local state by 2.0h" in text
