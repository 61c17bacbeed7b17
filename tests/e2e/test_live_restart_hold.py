"""PROFILE=live against loopback venues: every start comes up in HOLD and reconciles first;
a position the executor did not open is reported, never touched."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time

from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.support.fake_streams import (
    BAR_MS,
    FakeBinanceStream,
    FakeOkxPrivateStream,
    FakeOkxStream,
)
from tests.support.waiting import wait_for


def config(tmp_path):
    cfg = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", cfg)
    (cfg / "pairs_universe.json").write_text(json.dumps({"symbols": ["BTCUSDT"], "overrides": {}}))
    strat = json.loads((cfg / "strategy_config.json").read_text())
    strat["symbols"] = {}
    (cfg / "strategy_config.json").write_text(json.dumps(strat))
    return cfg


def control(state):
    try:
        return json.loads((state / "state" / "control.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_live_profile_starts_in_hold_and_reports_unknown_positions(tmp_path):
    now = int(time.time() * 1000)
    last = now - now % BAR_MS - BAR_MS
    with (
        FakeBinance() as fb,
        FakeOkx(demo=False) as fo,
        FakeBinanceStream() as bws,
        FakeOkxStream() as ows,
        FakeOkxPrivateStream(fo.api_key, fo.api_secret, fo.passphrase) as pws,
    ):
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        fo.set_book("BTC-USDT-SWAP", [("60001.0", "100")], [("60001.1", "100")])
        fb.candles["BTCUSDT"] = [
            (last - i * BAR_MS, 60000, 60010, 59990, 60000 + i % 5, 10) for i in range(250, -1, -1)
        ]
        fo.candles["BTC-USDT-SWAP"] = [
            (last - i * BAR_MS, 60001, 60011, 59991, 60001 + i % 5, 10) for i in range(250, -1, -1)
        ]
        fb.give_position("BTCUSDT", "LONG", "0.010", "59000")  # opened by a human, not by us
        state = tmp_path / "state"
        env = {
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/nonexistent",
            "STATE_DIR": str(state),
            "CONFIG_DIR": str(config(tmp_path)),
            "PROFILE": "live",
            "SAFE_MODE": "true",
            "FEED": "live",
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "OKX_API_KEY": fo.api_key,
            "OKX_API_SECRET": fo.api_secret,
            "OKX_PASSPHRASE": fo.passphrase,
            "OKX_BASE_URL": fo.url,
            "BINANCE_WS_URL": bws.url,
            "OKX_WS_PUBLIC_URL": ows.url,
            "OKX_WS_BUSINESS_URL": ows.url,
            "OKX_WS_PRIVATE_URL": pws.url,
        }
        seen = 0
        for run in (1, 2):
            log_path = tmp_path / f"run{run}.log"
            proc = subprocess.Popen(
                [sys.executable, "-m", "execution.executor"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=open(log_path, "w"),
                stderr=subprocess.STDOUT,
            )
            try:
                ctl = wait_for(lambda: (c := control(state)) and c["updated_at_ms"] > seen and c)  # this run's
                log = wait_for(lambda: (t := log_path.read_text()) and "reconciliation done" in t and t)
                assert ctl["mode"] == "HOLD" and "live profile always starts in HOLD" in ctl["reason"]
                assert log.index("starting in HOLD") < log.index("reconciliation done")
                assert "RECONCILE unknown_position binance_um BTCUSDT" in log
                assert "[executor] dead-man switch armed on binance_um" in wait_for(
                    lambda: (t := log_path.read_text()) and "dead-man" in t and t
                )
                assert fb.countdowns.get("BTCUSDT", 0) > 0
                wait_for(
                    lambda: (
                        "binance account stream connected" in log_path.read_text()
                        and "okx account stream connected" in log_path.read_text()
                    )
                )
                assert any(r["difference"] == "unknown_position" for r in ctl["reconciliation"])
            finally:
                proc.send_signal(signal.SIGTERM)
                assert proc.wait(timeout=60) == 0, log_path.read_text()[-2000:]
            seen = control(state)["updated_at_ms"]
        assert fb.engine.acct.positions[("BTCUSDT", "LONG")].qty > 0  # never touched
        assert not fb.test_orders  # HOLD: not even a test order was sent
