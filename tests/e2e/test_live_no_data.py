"""A live feed that never connects: the executor must not stay in RUN with no data at all, and
its start line must not claim a replay pacing it does not apply."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.conftest import PROJECT_ROOT
from tests.support.fake_streams import BAR_MS, FakeBinanceStream, FakeHistory, FakeOkxStream
from tests.support.waiting import wait_for


def control(state):
    try:
        return json.loads((state / "state" / "control.json").read_text())
    except (FileNotFoundError, ValueError):
        return {}


def test_a_live_feed_that_never_connects_holds_after_live_stale_s(tmp_path):
    now = int(time.time() * 1000)
    last_closed = now - now % BAR_MS - BAR_MS
    with FakeBinanceStream() as bws, FakeOkxStream() as ows, FakeHistory() as hist:
        for sym, px in {"BTCUSDT": 60_000.0, "ETHUSDT": 3_000.0, "SOLUSDT": 150.0, "BNBUSDT": 600.0}.items():
            for i in range(300, -1, -1):
                hist.add(sym, last_closed - i * BAR_MS, px * (1 + 0.001 * ((i % 7) - 3)))
        bws.refuse(True)  # the websockets never accept: no book, no mark, no live candle
        ows.refuse(True)
        state = tmp_path / "state"
        env = {
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/nonexistent",
            "STATE_DIR": str(state),
            "FEED": "live",
            "LIVE_STALE_S": "2",
            "LIVE_BACKOFF_MAX_S": "1",
            "BINANCE_FAPI_URL": hist.url + "/fapi",
            "BINANCE_WS_URL": bws.url,
            "OKX_BASE_URL": hist.url,
            "OKX_WS_PUBLIC_URL": ows.url,
            "OKX_WS_BUSINESS_URL": ows.url,
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
            held = wait_for(lambda: (c := control(state)) and c.get("mode") == "HOLD" and c, what="HOLD")
            assert "stale" in json.dumps(held)
            log = log_path.read_text()
            assert "[feed] binance_um BTCUSDT stale: no data for" in log and "never received" in log
            assert bws.refused >= 1
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=60)
        log = log_path.read_text()
        assert code == 0, log[-3000:]
        [start] = [line for line in log.splitlines() if "[executor] started:" in line]
        assert start.endswith("pacing none (live feed: real time)"), start
