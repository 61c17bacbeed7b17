"""No NAV in state: the heartbeat asks the venues (loopback Binance USD-M and OKX fakes) for wallet +
unrealised PnL, says when one did not answer, and never places anything."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from decimal import Decimal

from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.support.fake_telegram import FakeTelegram

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def heartbeat(state_dir, tg_url: str, fb_url: str, fo: FakeOkx) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state_dir),
        "PROFILE": "testnet",
        "BINANCE_API_KEY": "test-key-binance",
        "BINANCE_API_SECRET": "test-secret-binance",
        "BINANCE_FAPI_URL": fb_url,
        "OKX_API_KEY": fo.api_key,
        "OKX_API_SECRET": fo.api_secret,
        "OKX_PASSPHRASE": fo.passphrase,
        "OKX_BASE_URL": fo.url,
        "VENUE_TIMEOUT_S": "3",
        "TELEGRAM_API_BASE": tg_url,
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
    assert "test-secret-binance" not in proc.stderr and fo.api_secret not in proc.stderr
    return proc


def payload_of(proc) -> dict:
    (line,) = [ln for ln in proc.stderr.splitlines() if "[heartbeat] payload " in ln]
    return json.loads(line.split("[heartbeat] payload ", 1)[1])


def equity(fake) -> Decimal:
    with fake._lock:
        return fake.engine.acct.wallet + fake.engine.upl()


def test_nav_from_both_venues_then_partial_then_none(tmp_path):
    with FakeTelegram(TOKEN) as tg:
        with FakeBinance(wallet="6000") as fb, FakeOkx(demo=True, wallet="4000") as fo:
            fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.2", "10")])
            fo.set_book("BTC-USDT-SWAP", [("60010.0", "1000")], [("60010.2", "1000")])
            fb.give_position("BTCUSDT", "SHORT", "0.050", "61000")
            fo.give_position("BTC-USDT-SWAP", "LONG", "5", "59000")  # 5 contracts x ctVal 0.01 = 0.05 BTC

            proc = heartbeat(tmp_path, tg.url, fb.url, fo)
            total = equity(fb) + equity(fo)
            p = payload_of(proc)
            assert p["source"] == "venues" and p["nav"] == float(total.quantize(Decimal("0.01")))
            assert total != Decimal(10000)  # the unrealised PnL is in it
            text = tg.messages[0]["visible_text"]
            assert f"NAV: {total.quantize(Decimal('0.01')):,.2f} USDT  (Δ24h: n/a)" in text
            assert "• BTC hedged: LONG okx_perp 0.05 / SHORT binance_um 0.05" in text
            assert "NAV from the venues (binance_um, okx_perp): wallet + unrealised PnL; state unavailable" in text
            assert {m for m, _ in fb.requests + fo.requests} == {"GET"}  # read-only: nothing placed or changed

            partial = heartbeat(tmp_path, tg.url, closed_port_url() + "/fapi", fo)
            assert payload_of(partial)["nav"] == float(equity(fo).quantize(Decimal("0.01")))
            assert "⚠ NAV is partial: binance_um did not answer" in tg.messages[1]["visible_text"]
            assert "[heartbeat] venue binance_um did not answer for NAV" in partial.stderr
        gone = heartbeat(tmp_path, tg.url, closed_port_url() + "/fapi", fo)  # both venues are down now
    assert payload_of(gone)["nav"] is None and "no venue answered" in gone.stderr
    assert "NAV: unavailable" in tg.messages[2]["visible_text"]
