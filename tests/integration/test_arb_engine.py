"""The arbitrage loop inside the real engine and replay (paper venues, local state), and the
operator functions on a live loop."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal

import pytest

from execution import replay
from execution.arb import ops
from execution.feeds.synthetic import write_market
from execution.state.atomic import read_json, read_lines
from tests.conftest import shared_path
from tests.support.arb_harness import BIN, OKX, Harness
from tests.support.faulty_venue import opening


@pytest.fixture(scope="module")
def cheap_run(tmp_path_factory):
    """A generated market replayed with an arbitrage config cheap enough to trade on its small
    basis (no fees, no expected slippage): the engine wiring gets exercised end to end."""
    root = tmp_path_factory.mktemp("arb_engine")
    market = root / "market"
    write_market(market, days=8, seed=11)
    cfg_dir = root / "config"
    shutil.copytree(shared_config_dir(), cfg_dir)
    arb = json.loads((cfg_dir / "arbitrage.json").read_text())
    arb["fees"] = {"mode": "manual", "manual": {v: {"maker": "0", "taker": "0"} for v in (BIN, OKX)}}
    arb["expected_slippage_bps"] = {BIN: 0, OKX: 0}
    arb["min_edge_bps"] = 1
    arb["basis"] = {"window": 96, "min_samples": 8, "sample_ms": 900000}
    (cfg_dir / "arbitrage.json").write_text(json.dumps(arb))
    return root, market, cfg_dir


def shared_config_dir():
    from tests.conftest import PROJECT_ROOT

    return PROJECT_ROOT / "config"


def run_replay(market, state, cfg_dir, monkeypatch, capsys, fresh=True):
    monkeypatch.setenv("CONFIG_DIR", str(cfg_dir))
    args = [str(market), "--state-dir", str(state)] + (["--fresh"] if fresh else [])
    assert replay.main(args) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out and out[-1].startswith("replay: bars=")
    return out[-1]


def test_replay_runs_the_arbitrage_loop(cheap_run, monkeypatch, capsys):
    root, market, cfg_dir = cheap_run
    state = root / "state"
    run_replay(market, state, cfg_dir, monkeypatch, capsys)
    doc = read_json(state / "state" / "arbitrage.json")
    [row] = doc["pairs"]
    assert (row["pair"], row["binance_symbol"], row["okx_symbol"]) == ("BTC-USDT", "BTCUSDT", "BTC-USDT-SWAP")
    for key in ("gross_edge_bps", "net_edge_bps", "basis_mean_bps", "size", "expected_pnl_usdt"):
        assert key in row
    assert {f["venue"] for f in doc["funding"]} == {BIN, OKX}
    m = doc["metrics"]
    assert m["attempts"] > 0 and m["decision_to_legs_sent_us_p50"] is not None and m["closed_pairs"] > 0
    trades = read_lines(state / "trade_log.jsonl")
    arb = [t for t in trades if t["reason"].startswith("arb_")]
    assert {t["reason"] for t in arb} >= {"arb_entry", "arb_exit"}
    assert all(t["status"] == "simulated" for t in arb)  # paper fills
    assert len({t["id"] for t in trades}) == len(trades)
    snap = read_json(state / "synced_state.json")
    # resume into the same directory: nothing journaled twice, the arbitrage book comes back
    before = len(trades)
    run_replay(market, state, cfg_dir, monkeypatch, capsys, fresh=False)
    assert len(read_lines(state / "trade_log.jsonl")) == before
    again = read_json(state / "synced_state.json")["strategies"]["arbitrage"]
    first = snap["strategies"]["arbitrage"]
    assert again["open_pairs"] == first["open_pairs"]
    assert again["metrics"]["attempts"] == first["metrics"]["attempts"]


def test_recorded_2024h1_replay_publishes_the_arbitrage_doc(tmp_path, monkeypatch, capsys):
    market = shared_path("market", "2024H1")
    line = run_replay(market, tmp_path / "s", shared_config_dir(), monkeypatch, capsys)
    assert "bars=38592" in line
    doc = read_json(tmp_path / "s" / "state" / "arbitrage.json")
    [row] = doc["pairs"]
    assert row["basis_samples"] == 96 and row["reasons"]
    assert all(r.split(":", 1)[0] in ("edge_below_min", "basis_warmup", "size", "stale_book") for r in row["reasons"])
    assert len(doc["funding"]) == 2 and all(f["next_funding_time_ms"] > 0 for f in doc["funding"])


def test_screener_close_leaves_arbitrage_legs_alone(tmp_path):
    """Hedge mode shares one LONG position per symbol between the screener and the arbitrage
    book: a stop-loss closes only the screener's part."""
    from execution.app import paper_venues
    from execution.arb.book import OpenPair, PairLeg
    from execution.arb.strategy import ArbitrageStrategy
    from execution.assembly import build_engine
    from execution.models import Fill, PositionSide, Side
    from execution.screener_strategy import ScreenerStrategy
    from execution.settings import load_settings
    from execution.state.local import LocalStore
    from tests.conftest import PROJECT_ROOT

    s = load_settings(env={"CONFIG_DIR": str(PROJECT_ROOT / "config"), "STATE_DIR": str(tmp_path)})
    venues = paper_venues(s)
    engine = build_engine(s, venues, LocalStore(tmp_path), universe=[(BIN, "BTCUSDT")], simulators=venues)
    arb, _protection, screener = engine.strategies
    assert isinstance(arb, ArbitrageStrategy) and isinstance(screener, ScreenerStrategy)
    ts = 1_717_200_000_000
    venues[BIN].on_price("BTCUSDT", ts, Decimal(60000))
    for qty in ("0.05", "0.02"):  # arbitrage leg, then the screener's own entry
        fill = Fill(
            ts,
            BIN,
            "BTCUSDT",
            Side.BUY,
            PositionSide.LONG,
            Decimal(qty),
            Decimal(60000),
            Decimal(0),
            Decimal(0),
            "x" + qty,
            "i" + qty,
        )
        engine.ledger.apply_fill(fill)  # the executor's books
        venues[BIN].account.apply_fill(fill)  # and the paper venue's account
    arb.loop.open_pairs["p"] = OpenPair(
        "p",
        "BTC-USDT",
        PairLeg(BIN, "BTCUSDT", PositionSide.LONG, Decimal("0.05"), Decimal(60000)),
        PairLeg(OKX, "BTC-USDT-SWAP", PositionSide.SHORT, Decimal("0.05"), Decimal(60010)),
        ts,
        Decimal("0.05"),
    )
    screener.close_position(BIN, "BTCUSDT", PositionSide.LONG, "stop_loss", ts, engine)
    [order] = venues[BIN].open_orders("BTCUSDT")
    assert (order.side, order.position_side, order.quantity) == (Side.SELL, PositionSide.LONG, Decimal("0.02"))
    engine.close()


# -- operator functions --------------------------------------------------------------------------
def test_ops_edge_preview_execute_flatten(tmp_path):
    h = Harness(tmp_path, auto=False)
    try:
        h.warm()
        h.market(60000, 60300)
        assert h.loop.metrics.attempts == 0  # manual mode: the scanner does not trade
        e = ops.edge(h.loop)
        [row] = e["pairs"]
        assert row["best"]["direction"] == "long_binance_um/short_okx_perp" and row["preflight"] == []
        p = ops.preview(h.loop, "BTC-USDT", "0.05")
        assert p["would_execute"] and [leg["qty"] for leg in p["legs"]] == ["0.05", "0.05"]
        assert p["expected_pnl_usdt"] > 0
        [rescue] = p["rescue_plan"]["if_short_leg_fails"]["orders"]
        assert (rescue["venue"], rescue["side"], rescue["position_side"], rescue["qty"]) == (
            BIN,
            "SELL",
            "LONG",
            "0.05",
        )
        assert all(v.requests == [] for v in h.venues.values())  # preview sends nothing
        with pytest.raises(ops.OpsError, match="unknown pair"):
            ops.preview(h.loop, "DOGE-USDT", "1")
        for bad, why in (("-1", "positive"), ("0", "positive"), ("1e400", "such as 0.01"), ("nan", "such as 0.01"),
                         ("Infinity", "such as 0.01"), ("\u0661", "such as 0.01"), ("5" * 11, "beyond")):  # fmt: skip
            with pytest.raises(ops.OpsError, match=f"size.*{why}"):
                ops.preview(h.loop, "BTC-USDT", bad)
        r = ops.execute(h.loop, "BTC-USDT", "0.05")
        assert r["accepted"], r
        h.settle(1)
        assert h.positions() == {(BIN, "LONG"): Decimal("0.05"), (OKX, "SHORT"): Decimal("0.05")}
        h.loop.control.mode = "HOLD"
        h.loop.control.reason = "operator hold"
        refused = ops.execute(h.loop, "BTC-USDT", "0.05")
        assert not refused["accepted"] and refused["reasons"][0].startswith("hold")
        f = ops.flatten(h.loop)  # closes are allowed in HOLD
        assert len(f["exit_attempts"]) == 1
        h.settle(2)
        assert h.positions() == {} and not h.loop.open_pairs
        assert [r for r in h.venues[BIN].requests if opening(r)].__len__() == 1
        h.assert_nothing_sent_twice()
    finally:
        h.close()
