"""scripts/probe_venues.py (the cutover's read-only probes) against the loopback Binance: balances,
exchangeInfo and klines per symbol with GET requests only, and the micro-trade check of journaled
fills against the venue's record of each order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from decimal import Decimal as D

from execution.exchanges.binance_um import BinanceUM
from execution.models import OrderRequest, OrderType, PositionSide, Side
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance

SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT")
BAR = 900_000


def probe(fb: FakeBinance, tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "OKX_", "PROFILE", "SAFE_MODE"))}
    env.update(
        {
            "BINANCE_TESTNET": "true",  # the runbook's name for PROFILE=testnet
            "ENV_FILE": str(tmp_path / "absent.env"),
            "STATE_DIR": str(tmp_path / "state"),
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "probe_venues.py"), *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_read_only_probes_change_nothing(tmp_path):
    with FakeBinance() as fb:
        now = int(time.time() * 1000)
        last = now - now % BAR - BAR
        for sym in SYMBOLS:
            fb.candles[sym] = [(last - i * BAR, 1, 2, 0.5, 1.5 + i, 10) for i in range(5, -1, -1)]
        fb.give_position("BTCUSDT", "LONG", "0.010", "59000")
        done = probe(fb, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        out = done.stdout
        assert "[probe] PROFILE=testnet venues=binance_um (read only)" in out
        assert "[probe] okx_perp: no OKX_API_KEY set: not probed" in out
        assert "[probe] binance_um position mode: hedge (dual-side)" in out
        assert "[probe] binance_um balance: wallet 10000 USDT" in out
        assert "[probe] binance_um positions: BTCUSDT LONG 0.01 @ 59000" in out
        for sym in SYMBOLS:
            assert f"[probe] binance_um {sym} exchangeInfo: tick " in out
            assert f"[probe] binance_um {sym} klines: 3 closed 15m candle(s), last " in out
        assert out.rstrip().endswith("[probe] done: read only, nothing changed")
        assert fb.received and {r.method for r in fb.received} == {"GET"}  # nothing but reads


def test_micro_trades_are_checked_against_the_venue(tmp_path):
    with FakeBinance() as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        venue = BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=False, timeout_s=2.0)
        try:
            for cid in ("hfmicro1", "hfmicro2"):
                venue.place_order(
                    OrderRequest(
                        "binance_um", "BTCUSDT", Side.BUY, PositionSide.LONG, OrderType.MARKET, D("0.002"), cid, cid
                    )
                )
        finally:
            venue.close()
        state = tmp_path / "state"
        state.mkdir()
        fills = [
            {
                "venue": "binance_um",
                "symbol": "BTCUSDT",
                "client_order_id": "hfmicro1",
                "qty": 0.002,
                "status": "filled",
            },
            {
                "venue": "binance_um",
                "symbol": "BTCUSDT",
                "client_order_id": "hfmicro2",
                "qty": 0.001,
                "status": "filled",
            },
            {"venue": "binance_um", "symbol": "BTCUSDT", "client_order_id": "hfsim", "qty": 1, "status": "simulated"},
        ]
        (state / "trade_log.jsonl").write_text("".join(json.dumps(f) + "\n" for f in fills))
        posts = sum(r.method != "GET" for r in fb.received)
        done = probe(fb, tmp_path, "--verify-fills")
        assert done.returncode == 1, done.stdout + done.stderr
        assert "[probe] FILL OK binance_um BTCUSDT cid=hfmicro1: 0.002 at avg " in done.stdout
        assert (
            "[probe] FILL MISMATCH binance_um BTCUSDT cid=hfmicro2: journaled 0.001, venue filled 0.002" in done.stdout
        )
        assert "hfsim" not in done.stdout  # simulated fills are not the venue's
        assert sum(r.method != "GET" for r in fb.received) == posts
