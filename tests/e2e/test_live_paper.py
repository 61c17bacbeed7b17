"""A new user's first run: `FEED=live python -m execution.executor` (paper profile, no API keys),
pointed by configuration at loopback venues. It backfills, trades paper on live books, shows
fresh book tops in state, and survives a forced disconnect."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

from tests.conftest import PROJECT_ROOT
from tests.support.fake_streams import (
    BAR_MS,
    FakeBinanceStream,
    FakeHistory,
    FakeOkxStream,
)
from tests.support.waiting import wait_for

BINANCE = {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0, "BNBUSDT": 600.0}
OKX = {"BTC-USDT-SWAP": 60_003.0}


def market(state):
    try:
        doc = json.loads((state / "state" / "positions.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return {(m["venue"], m["symbol"]): m for m in doc.get("market", []) if "bid" in m}


def test_live_paper_run_against_loopback_venues(tmp_path):
    now = int(time.time() * 1000)
    last_closed = now - now % BAR_MS - BAR_MS
    with FakeBinanceStream() as bws, FakeOkxStream() as ows, FakeHistory() as hist:
        for sym, px in {**BINANCE, **OKX}.items():
            for i in range(300, -1, -1):
                hist.add(sym, last_closed - i * BAR_MS, px * (1 + 0.001 * ((i % 7) - 3)))
        stop = threading.Event()

        def pusher():
            k = 0
            while not stop.is_set():
                ts = int(time.time() * 1000)
                for sym, px in BINANCE.items():
                    bws.book(sym, px + k * 0.01, px + k * 0.01 + px * 1e-5, ts)
                for sym, px in OKX.items():
                    ows.ticker(sym, px + k * 0.01, px + k * 0.01 + 0.1, ts)
                k += 1
                stop.wait(0.2)

        threading.Thread(target=pusher, daemon=True).start()
        state = tmp_path / "state"
        env = {
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/nonexistent",
            "STATE_DIR": str(state),
            "FEED": "live",
            "BINANCE_FAPI_URL": hist.url + "/fapi",
            "BINANCE_WS_URL": bws.url,
            "OKX_BASE_URL": hist.url,
            "OKX_WS_PUBLIC_URL": ows.url,
            "OKX_WS_BUSINESS_URL": ows.url,
            "LIVE_BACKOFF_MAX_S": "1",
        }
        log_path = tmp_path / "executor.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "execution.executor"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=open(log_path, "w"),
            stderr=subprocess.STDOUT,
        )
        try:
            fresh = wait_for(lambda: (m := market(state)) and len(m) == 5 and m)
            assert set(fresh) == {("binance_um", s) for s in BINANCE} | {("okx_perp", s) for s in OKX}
            btc = fresh[("binance_um", "BTCUSDT")]
            assert btc["bid"] < btc["ask"] and abs(btc["bid"] - 60_000) < 100
            log = log_path.read_text()
            assert "[screener] BTCUSDT 15m" in log  # the backfilled window warmed the indicators
            before = btc["book_ts"]
            bws.drop()  # server-initiated disconnect of every Binance stream
            ows.drop()
            wait_for(lambda: "binance reconnected" in log_path.read_text(), timeout=30)
            wait_for(lambda: market(state).get(("binance_um", "BTCUSDT"), {}).get("book_ts", 0) > before + 1000)
            assert proc.poll() is None
            nav = json.loads((state / "state" / "nav.json").read_text())
            assert nav["profile"] == "paper" and nav["nav"] > 0
        finally:
            stop.set()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        assert code == 0, log_path.read_text()[-3000:]
        assert "stopped cleanly" in log_path.read_text()
