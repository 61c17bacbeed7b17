"""The executor dies with a position open: the venue protects it by itself.

`python -m execution.executor` (PROFILE=testnet, SAFE_MODE=false, FEED=live) against the loopback
Binance fake opens a screener position, and its stop-loss and take-profit go to the Algo Service.
SIGKILL; the dead-man switch fires (its cancel-all leaves the Algo Service's orders alone, as
documented); the fake's mark falls through the stop and the fake closes the position itself.
The restarted executor books that venue-side close once, cancels the take-profit that is left,
and its stop validator finds nothing to repair."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from decimal import Decimal as D

from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.support.fake_streams import BAR_MS, FakeBinanceStream
from tests.support.waiting import wait_for

SYMBOL = "BTCUSDT"


def config(tmp_path):
    cfg = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", cfg)
    (cfg / "pairs_universe.json").write_text(json.dumps({"symbols": [SYMBOL], "overrides": {}}))
    strat = json.loads((cfg / "strategy_config.json").read_text())
    strat["defaults"].update(rsi_buy_max=100, rsi_sell_min=0)  # one breakout candle is an entry
    strat["symbols"] = {}
    (cfg / "strategy_config.json").write_text(json.dumps(strat))
    risk = json.loads((cfg / "risk_limits.json").read_text())
    risk["WARMUP_SEC"] = 0  # the entry is the backfilled bar, right at start: no warm-up (issue 15's guard)
    (cfg / "risk_limits.json").write_text(json.dumps(risk))
    arb = json.loads((cfg / "arbitrage.json").read_text())
    arb["enabled"] = False
    (cfg / "arbitrage.json").write_text(json.dumps(arb))
    return cfg


def read(path):
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def fills(state) -> list[dict]:
    path = state / "trade_log.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def protection_status(state) -> dict:
    doc = read(state / "state" / "control.json") or {}
    return next((s for s in doc.get("strategies", []) if s.get("name") == "protection"), {})


def test_sigkill_with_a_position_open_the_venue_closes_it_and_the_restart_books_it_once(tmp_path):
    now = int(time.time() * 1000)
    last = now - now % BAR_MS - BAR_MS
    with FakeBinance() as fb, FakeBinanceStream() as bws:
        history = [
            (last - i * BAR_MS, 60_000, 60_040, 59_960, 60_000 * (1 + 0.0005 * (-1) ** i), 10)
            for i in range(250, 0, -1)
        ]
        fb.candles[SYMBOL] = [*history, (last, 60_000, 61_250, 59_990, 61_200, 30)]  # the last closed bar breaks out
        fb.set_book(SYMBOL, [("61200.0", "10")], [("61200.1", "10")])
        price = {"bid": 61_200.0}
        stop = threading.Event()

        def pusher():  # book tops keep flowing: each one is a cycle of the engine
            while not stop.is_set():
                bws.book(SYMBOL, price["bid"], price["bid"] + 0.1, int(time.time() * 1000))
                stop.wait(0.2)

        threading.Thread(target=pusher, daemon=True).start()
        state = tmp_path / "state"
        env = {
            "PATH": "/usr/bin:/bin",
            "ENV_FILE": "/nonexistent",
            "STATE_DIR": str(state),
            "CONFIG_DIR": str(config(tmp_path)),
            "PROFILE": "testnet",
            "SAFE_MODE": "false",
            "FEED": "live",
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "BINANCE_WS_URL": bws.url,
            "STOP_VALIDATOR_INTERVAL_S": "1",
            "LIVE_STALE_S": "60",
        }

        def start(run: int) -> subprocess.Popen:
            return subprocess.Popen(
                [sys.executable, "-m", "execution.executor"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=open(tmp_path / f"run{run}.log", "w"),
                stderr=subprocess.STDOUT,
            )

        try:
            first = start(1)
            try:
                algos = wait_for(
                    lambda: (
                        len(open_algos := [a for a in fb.algos.values() if a["algoStatus"] == "NEW"]) == 2
                        and open_algos
                    ),
                    what="stop and take-profit on the venue",
                )
                qty = fb.position_qty(SYMBOL, "LONG")
                assert qty > 0 and {a["quantity"] for a in algos} == {str(qty.normalize())}
                assert {a["positionSide"] for a in algos} == {"LONG"} and {a["side"] for a in algos} == {"SELL"}
                [sl] = [a for a in algos if a["orderType"] == "STOP_MARKET"]
                [tp] = [a for a in algos if a["orderType"] == "TAKE_PROFIT_MARKET"]
                wait_for(  # the restart snapshot knows the protective orders
                    lambda: sl["clientAlgoId"] in (state / "synced_state.json").read_text(),
                    what="protective orders in the snapshot",
                )
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait(timeout=30)
            assert fb.countdowns.get(SYMBOL, 0) > 0  # the dead-man switch was armed...
            fb.expire_countdowns()  # ...and fires: the Algo Service's orders are not its to cancel
            assert {fb.algos[a["algoId"]]["algoStatus"] for a in (sl, tp)} == {"NEW"}
            price["bid"] = float(D(sl["triggerPrice"]) - 500)
            fb.set_book(SYMBOL, [(f"{price['bid']:.1f}", "10")], [(f"{price['bid'] + 0.1:.1f}", "10")])
            assert fb.position_qty(SYMBOL, "LONG") == 0  # the venue closed it while the executor was dead
            assert fb.algos[sl["algoId"]]["algoStatus"] == "FINISHED"
            entry_fills = fills(state)

            second = start(2)
            try:
                closes = wait_for(
                    lambda: [f for f in fills(state) if f["side"] == "SELL"], what="the venue-side close booked"
                )
                wait_for(lambda: fb.algos[tp["algoId"]]["algoStatus"] == "CANCELED", what="take-profit cancelled")
                status = wait_for(
                    lambda: (s := protection_status(state)).get("validations", 0) >= 3 and s, what="validator runs"
                )
            finally:
                second.send_signal(signal.SIGTERM)
                assert second.wait(timeout=60) == 0, (tmp_path / "run2.log").read_text()[-3000:]
        finally:
            stop.set()
        log2 = (tmp_path / "run2.log").read_text()
        [close] = closes
        assert [f for f in fills(state) if f["side"] == "SELL"] == [close]  # booked once
        assert close["client_order_id"] == sl["clientAlgoId"] and close["reason"] == "stop_loss"
        assert D(str(close["qty"])) == qty and close["position_side"] == "LONG" and close["status"] == "filled"
        assert [f["reason"] for f in entry_fills] == ["entry"]
        assert status["stop_validator_missing_total"] == 0 and status["stop_validator_repaired_total"] == 0
        assert "STOP_VALIDATOR" not in log2 and "PROTECT placed" not in log2  # nothing was repaired
        positions = read(state / "state" / "positions.json")
        assert positions["positions"] == []
