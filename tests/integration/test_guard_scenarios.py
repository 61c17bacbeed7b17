"""The runbook's guards through the real engine and paper venue: funding (entry refused on the
paying side, open leg trimmed before the funding time), depeg (held, alerted, cleared by itself;
idle without its reference market), warm-up, denylist (reload through the control log), minimum
notional, the ATR risk-parity sizer; each with what was refused, journaled and shown."""

from __future__ import annotations

import json
from decimal import Decimal

from execution import control_log
from execution.assembly import guard_hold
from execution.models import PositionSide
from tests.integration.test_breaker_scenarios import entry, lines, operator_view
from tests.support.engine_harness import BAR, T0, breakout, harness, warm

HOUR = 3_600_000


def guard(doc, name):
    return next(g for g in doc["guards"] if g["name"] == name)


def refused_by(log_lines, name):
    return [x for x in log_lines.getvalue().splitlines() if f"by guard {name}:" in x]


# -- funding -------------------------------------------------------------------------------------
def test_funding_spike_refuses_entries_on_the_paying_side_only(tmp_path, log_lines):
    h = harness(tmp_path)
    warm(h, bars=100)
    h.funding("BTCUSDT", 0.0008)  # +8 bps: longs pay
    warm(h, bars=20)
    breakout(h)  # a long entry
    assert h.venue._orders == {}
    (line,) = refused_by(log_lines, "funding")
    assert "next funding +8.00 bps (last settlement) at/above FUNDING_GUARD_BPS 5: LONG pays" in line
    signals = lines(h.state_dir / "signals.jsonl")
    assert [s["position_side"] for s in signals] == ["LONG"]  # decided, journaled, never sent
    doc = operator_view(h)
    f = guard(doc, "funding")
    assert f["active"] and "binance_um:BTCUSDT LONG (+8.00 bps)" in f["reason"] and f["refused"] == 1
    assert doc["health_state"] == 1

    h2 = harness(tmp_path / "b")
    warm(h2, bars=100)
    h2.funding("BTCUSDT", 0.0008)
    warm(h2, bars=20)
    breakout(h2, up=False)  # a short receives the funding: allowed
    assert [o.position_side for o in h2.venue._orders.values()] == [PositionSide.SHORT]


def test_an_open_leg_facing_a_funding_spike_is_closed_before_the_funding_time(tmp_path):
    h = harness(tmp_path)
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    held = h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG)
    assert held > 0
    funding_at = h.t
    h.funding("BTCUSDT", 0.002)  # +20 bps settled; the next one is expected 8 h later
    while h.t < funding_at + 8 * HOUR - BAR:
        h.step({"BTCUSDT": 61_200.0 * (1 + 0.0003 * (-1) ** (h.t // BAR))})
    h.funding("BTCUSDT", 0.002)  # the funding the trim was for
    h.finish_cycle()
    assert not h.engine.ledger.positions
    trims = [t for t in lines(h.state_dir / "trade_log.jsonl") if t.get("reason") == "funding_trim"]
    assert len(trims) == 1 and Decimal(str(trims[0]["qty"])) == held and trims[0]["ts"] < funding_at + 8 * HOUR
    assert (trims[0]["side"], trims[0]["position_side"]) == ("SELL", "LONG")
    (incident,) = [r for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "funding"]
    assert incident["action"] == "TRIM" and incident["funding_rate"] == 0.002
    assert incident["funding_time_ms"] == funding_at + 8 * HOUR and incident["rate_source"] == "last settlement"
    paid = [p for p in lines(h.state_dir / "funding_log.jsonl") if p["ts"] == funding_at + 8 * HOUR]
    assert paid == []  # nothing was held across the spike
    assert any("GUARD funding TRIM" in a["text"] for a in lines(h.state_dir / "ops_alerts.jsonl"))
    screener = h.engine.strategies[-1]
    assert screener.name == "screener" and ("binance_um", "BTCUSDT") not in screener.trades


def test_a_partial_trim_keeps_the_rest_and_the_trade(tmp_path):
    h = harness(tmp_path, risk={"FUNDING_GUARD_TRIM_PCT": 50})
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    held = h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG)
    h.funding("BTCUSDT", 0.002)
    for _ in range(31):
        h.step({"BTCUSDT": 61_200.0})
    left = h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG)
    assert left == held - held / 2  # 0.016 -> 0.008 (a whole number of 0.001 steps)
    assert ("binance_um", "BTCUSDT") in h.engine.strategies[-1].trades


# -- depeg ---------------------------------------------------------------------------------------
def peg_step(h, btc, peg):
    h.step({"BTCUSDT": btc, "USDCUSDT": peg})


def test_depeg_holds_new_risk_alerts_and_clears_by_itself(tmp_path, log_lines):
    h = harness(tmp_path, risk={"DEPEG_BPS": 50, "DEPEG_CLEAR_MINUTES": 60})
    for i in range(120):
        peg_step(h, 60_000 * (1 + 0.0005 * (-1) ** i), 1.0001)
    assert not guard(operator_view(h), "depeg")["active"]
    peg_step(h, 60_000.0, 1.0080)  # USDT loses 80 bps against USDC
    held_at = h.t
    peg_step(h, 61_200.0, 1.0060)  # a breakout while held (decided before this bar's peg reading)
    assert h.venue._orders == {} and "depeg: binance_um:USDCUSDT +80.0 bps" in refused_by(log_lines, "depeg")[0]
    doc = operator_view(h)
    d = guard(doc, "depeg")
    assert d["active"] and d["deviation_bps"] == 60.0 and doc["health_state"] == 1
    assert guard_hold(h.engine.guards).startswith("depeg:")  # what the arbitrage loop is told too
    assert h.engine.strategies[0].name == "arbitrage" and h.engine.strategies[0].loop._holding().startswith("depeg:")
    peg_step(h, 61_200.0, 1.0002)  # back inside, but not for an hour yet
    peg_step(h, 61_200.0, 1.0001)
    assert guard(operator_view(h), "depeg")["active"] and entry(h, price=61_200.0) is None
    for _ in range(3):
        peg_step(h, 61_200.0, 1.0001)
    events = [(r["action"], r["ts"]) for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "depeg"]
    assert events == [("ON", held_at), ("OFF", held_at + BAR + 60 * 60_000)]  # an hour after the last reading outside
    assert [a["text"].split(":")[0] for a in lines(h.state_dir / "ops_alerts.jsonl") if a["kind"] == "guard"] == [
        "GUARD depeg ON",
        "GUARD depeg OFF",
    ]
    assert entry(h, price=61_200.0) is not None and operator_view(h)["health_state"] == 0


def test_depeg_guard_is_idle_without_its_reference_market_and_says_so_once(tmp_path, log_lines):
    h = harness(tmp_path, market_symbols=[("binance_um", "BTCUSDT")])
    warm(h)
    breakout(h)
    assert len(h.venue._orders) == 1  # idle: never holds
    said = [x for x in log_lines.getvalue().splitlines() if "GUARD depeg IDLE" in x]
    assert len(said) == 1 and "no binance_um:USDCUSDT series in this market data" in said[0]
    d = guard(operator_view(h), "depeg")
    assert d["idle"] and not d["active"] and d["price"] is None


# -- warm-up, denylist, minimum notional ----------------------------------------------------------
def test_no_entries_during_the_warm_up_after_start(tmp_path, log_lines):
    quick = {"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1, "z_window": 48}}
    h = harness(tmp_path, risk={"WARMUP_SEC": 86_400}, strategy=quick)
    warm(h, bars=60)  # 15 h of market time: the indicators are ready, the warm-up is not over
    breakout(h)
    assert h.venue._orders == {} and "warm-up: no entries for WARMUP_SEC 86400" in refused_by(log_lines, "warmup")[0]
    w = guard(operator_view(h), "warmup")
    assert w["active"] and w["routine"] and w["until_ms"] == T0 + BAR + 24 * HOUR
    assert operator_view(h)["health_state"] == 0  # expected after a start: not "degraded"
    while h.t < T0 + BAR + 24 * HOUR:
        h.step({"BTCUSDT": 61_200.0})
    h.finish_cycle()
    assert [r["action"] for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "warmup"] == ["OFF"]
    assert entry(h, price=61_200.0) is not None


def reload_cmd(h, operator="erin"):
    h.engine.commands.apply(control_log.new_command("denylist-reload", operator, h.t), h.engine)
    return lines(h.state_dir / "control_acks.jsonl")[-1]


def test_denylisted_symbols_are_never_traded_and_the_list_reloads_through_the_control_log(tmp_path, log_lines):
    h = harness(tmp_path, denylist="# offenders\nBTCUSDT\n")
    warm(h)
    breakout(h)
    assert (
        h.venue._orders == {}
        and "binance_um:BTCUSDT is on the denylist (denylist.txt)" in refused_by(log_lines, "denylist")[0]
    )
    assert guard(operator_view(h), "denylist")["denied"] == ["BTCUSDT"]
    cfg = tmp_path / "config" / "denylist.txt"
    cfg.write_text("kraken:XBTUSD\n")  # a bad file: refused, the previous list stays
    ack = reload_cmd(h)
    assert (
        not ack["ok"]
        and "line 1: expected SYMBOL or venue:SYMBOL" in ack["message"]
        and "(1 symbol(s)) stays" in ack["message"]
    )
    assert entry(h, price=61_200.0) is None
    cfg.write_text("okx_perp:BTC-USDT-SWAP\n")
    ack = reload_cmd(h)
    assert ack["ok"] and "added okx_perp:BTC-USDT-SWAP; removed BTCUSDT" in ack["message"]
    assert ack["result"] == {"denied": ["okx_perp:BTC-USDT-SWAP"]}
    assert entry(h, price=61_200.0) is not None
    reloads = [r for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "denylist"]
    assert [(r["action"], r["denied"]) for r in reloads] == [("RELOAD", ["okx_perp:BTC-USDT-SWAP"])]


def test_entries_below_the_minimum_notional_are_refused(tmp_path, log_lines):
    h = harness(tmp_path, risk={"MIN_NOTIONAL_BLOCK_USD": 2000})
    warm(h)
    breakout(h)  # 1,000 USDT
    assert h.venue._orders == {}
    assert "notional 979.20 USDT below MIN_NOTIONAL_BLOCK_USD 2000" in refused_by(log_lines, "min_notional")[0]
    assert guard(operator_view(h), "min_notional")["refused"] == 1


# -- sizing ---------------------------------------------------------------------------------------
def test_risk_parity_entry_risks_the_configured_share_of_nav_at_its_stop(tmp_path):
    strat = {"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1, "sizer": "atr_risk_parity", "risk_per_trade_pct": 0.1}}
    h = harness(tmp_path, strategy=strat)
    warm(h)
    breakout(h)
    (signal,) = lines(h.state_dir / "signals.jsonl")
    assert signal["sizer"] == "atr_risk_parity"
    nav = float(h.engine.ledger.nav())
    step = 0.001 * 2.5 * signal["atr"]  # one quantity step's worth of risk: the rounding down
    assert nav * 0.001 - step <= signal["risk_usdt"] <= nav * 0.001
    fixed = harness(tmp_path / "fixed")
    warm(fixed)
    breakout(fixed)
    (f,) = lines(fixed.state_dir / "signals.jsonl")
    assert f["sizer"] == "fixed" and f["notional_usdt"] == 979.2 and f["risk_usdt"] != signal["risk_usdt"]
    assert json.loads(json.dumps(signal))["qty"] != f["qty"]
