"""Every account breaker through the real engine and paper venue: the order that would cross a limit
is refused (and what is refused is never sent), a limit the account drifts past trips HOLD, and
each time what was journaled and what the operator sees (control document, health, alerts).
The daily loss is the daily stop, with its re-arm across a non-UTC day boundary.

The scenarios where prices jump past a stop run with PROTECTIVE_ORDERS=false: a venue-side stop
would close the leg inside the bar (test_protection.py), and these test what happens when the
account really does drift past a limit (a gap, a stop that did not hold)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from execution import control, control_log, ids
from execution.models import Intent, PositionSide
from tests.support.engine_harness import ROOT, breakout, harness, warm

OWN_STOPS = {"PROTECTIVE_ORDERS": "false"}  # the executor's SL/TP check alone
NY_MIDNIGHT_UTC = int(datetime(2026, 1, 3, 5, 0, tzinfo=UTC).timestamp() * 1000)  # 2026-01-03 00:00 EST


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def entry(h, symbol="BTCUSDT", price=60_000.0, side=PositionSide.LONG, qty="0.01"):
    """An entry order straight through the engine's context (HOLD, rate, guards apply)."""
    intent = Intent(
        ids.intent_id("binance_um", symbol, h.t, f"test-entry-{side.value}"),
        h.t,
        "binance_um",
        symbol,
        side.opening_side,
        side,
        "entry",
        Decimal(qty),
        Decimal(repr(price)),
    )
    return h.engine.submit(intent, purpose="entry", owner="screener", leverage=2)


def operator_view(h):
    h.engine.publish(force=True)
    return json.loads((h.state_dir / "state" / "control.json").read_text())


def lose_1_5_pct(h):
    """A long from a breakout, stopped out into a gap: -147 USDT, 1.5% of NAV."""
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    h.step({"BTCUSDT": 58_000.0})  # below the ATR stop: the exit fills at the next price
    h.step({"BTCUSDT": 52_000.0})
    h.finish_cycle()


def test_daily_stop_refuses_new_risk_then_rearms_at_midnight_new_york_not_utc(tmp_path, log_lines):
    h = harness(tmp_path, env=OWN_STOPS, risk={"KILL_DAILY_LOSS_PCT": 1.0, "DAY_BOUNDARY_TZ": "America/New_York"})
    lose_1_5_pct(h)
    assert not h.engine.ledger.positions
    doc = operator_view(h)
    (stop,) = [g for g in doc["guards"] if g["name"] == "daily_stop"]
    assert stop["active"] and stop["stopped_day"] == "2026-01-02" and stop["rearms_at_ms"] == NY_MIDNIGHT_UTC
    assert doc["mode"] == "RUN" and doc["health_state"] == 1 and any("daily stop" in r for r in doc["health_reasons"])
    assert entry(h, price=52_000.0) is None  # refused, never sent
    assert "by guard daily_stop: daily stop: 1.4" in log_lines.getvalue()
    incidents = [r for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "daily_stop"]
    assert [r["action"] for r in incidents] == ["STOP"] and incidents[0]["loss_pct"] >= 1.0
    assert any("GUARD daily_stop STOP" in a["text"] for a in lines(h.state_dir / "ops_alerts.jsonl"))
    while h.t + 900_000 <= int(datetime(2026, 1, 3, 1, 0, tzinfo=UTC).timestamp() * 1000):  # past 00:00 UTC
        h.step({"BTCUSDT": 52_000.0})
    assert h.engine.perf.day == "2026-01-02" and entry(h, price=52_000.0) is None  # still the same New York day
    while h.t + 900_000 <= NY_MIDNIGHT_UTC:
        h.step({"BTCUSDT": 52_000.0})
    h.finish_cycle()
    rearm = [r for r in lines(h.state_dir / "incidents.jsonl") if r.get("action") == "REARM"]
    assert [(r["ts"], r["day"]) for r in rearm] == [(NY_MIDNIGHT_UTC, "2026-01-03")]
    assert entry(h, price=52_000.0) is not None  # re-armed by itself, no two-man resume
    assert h.engine.control.mode == control.RUN and operator_view(h)["health_state"] == 0


def test_max_leverage_refuses_the_entry_and_trips_hold_when_the_account_drifts_past_it(tmp_path, log_lines):
    big = {"MAX_NOTIONAL_PER_SYMBOL_USDT": 100_000, "MAX_GROSS_NOTIONAL_USDT": 100_000, "MAX_LEVERAGE": 2}
    strat = {"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1, "capital_per_trade": 12_000}}
    h = harness(tmp_path, risk=big, strategy=strat)
    warm(h)
    breakout(h)  # 24,000 notional on 10,000 NAV
    assert h.venue._orders == {} and not (h.state_dir / "signals.jsonl").exists()
    decision = [x for x in log_lines.getvalue().splitlines() if "[decision]" in x][-1]
    assert "risk:MAX_LEVERAGE: gross/NAV 2.4" in decision and '"action":"skip"' in decision

    h2 = harness(
        tmp_path / "b",
        env=OWN_STOPS,
        risk=big,
        strategy={"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1, "capital_per_trade": 9_500}},
    )
    warm(h2)
    breakout(h2, up=False)  # 19,000 short: 1.9x
    h2.step({"BTCUSDT": 58_800.0})
    assert h2.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.SHORT) > 0
    h2.step({"BTCUSDT": 64_700.0})  # +10%: notional up, NAV down: gross/NAV past 110% of 2
    h2.finish_cycle()
    assert h2.engine.control.mode == control.HOLD and h2.engine.control.reason.startswith("breaker max_leverage")
    doc = operator_view(h2)
    assert any(b["name"] == "max_leverage" for b in doc["breakers"]) and doc["health_state"] == 2
    assert any("BREAKER max_leverage" in a["text"] for a in lines(h2.state_dir / "ops_alerts.jsonl"))


def test_per_symbol_cap_refuses_the_entry_and_trips_when_prices_carry_it_past(tmp_path, log_lines):
    h = harness(tmp_path, risk={"MAX_NOTIONAL_PER_SYMBOL_USDT": 800})
    warm(h)
    breakout(h)
    assert h.venue._orders == {}
    assert (
        "risk:MAX_NOTIONAL_PER_SYMBOL_USDT: 979.20 > 800"
        in [x for x in log_lines.getvalue().splitlines() if "[decision]" in x][-1]
    )

    h2 = harness(tmp_path / "b", env=OWN_STOPS, risk={"MAX_NOTIONAL_PER_SYMBOL_USDT": 1000})
    warm(h2)
    breakout(h2)
    h2.step({"BTCUSDT": 61_200.0})
    h2.step({"BTCUSDT": 70_500.0})  # +15%: 1,150 > 110% of 1,000
    h2.finish_cycle()
    assert h2.engine.control.reason.startswith("breaker notional_cap: BTCUSDT notional 1")
    doc = operator_view(h2)
    assert doc["breakers"][0]["name"] == "notional_cap" and doc["health"] == "HALTED"
    assert any("BREAKER notional_cap" in a["text"] for a in lines(h2.state_dir / "ops_alerts.jsonl"))


def two_symbols(h, btc=60_000.0, eth=3_000.0, bars=120):
    for i in range(bars):
        h.step({"BTCUSDT": btc * (1 + 0.0005 * (-1) ** i), "ETHUSDT": eth * (1 + 0.0005 * (-1) ** i)})


def test_gross_cap_refuses_the_second_entry_and_trips_when_prices_carry_it_past(tmp_path, log_lines):
    h = harness(tmp_path, symbols=("BTCUSDT", "ETHUSDT"), risk={"MAX_GROSS_NOTIONAL_USDT": 1500})
    two_symbols(h)
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_000.0})
    h.step({"BTCUSDT": 61_300.0, "ETHUSDT": 3_000.0})  # BTC long filled: ~1,000 gross
    h.step({"BTCUSDT": 61_300.0, "ETHUSDT": 3_070.0})  # ETH breaks out: 2,000 > 1,500
    assert [o.symbol for o in h.venue._orders.values()] == ["BTCUSDT"]
    assert (
        "risk:MAX_GROSS_NOTIONAL_USDT: 19"
        in [x for x in log_lines.getvalue().splitlines() if "ETHUSDT" in x and "[decision]" in x][-1]
    )

    h2 = harness(tmp_path / "b", env=OWN_STOPS, symbols=("BTCUSDT", "ETHUSDT"), risk={"MAX_GROSS_NOTIONAL_USDT": 2000})
    two_symbols(h2)
    h2.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_060.0})  # both long
    h2.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_060.0})
    assert len(h2.engine.ledger.positions) == 2
    h2.step({"BTCUSDT": 70_400.0, "ETHUSDT": 3_520.0})  # +15% on both: 2,300 > 110% of 2,000
    h2.finish_cycle()
    assert h2.engine.control.reason.startswith("breaker notional_cap: gross notional 2")
    assert operator_view(h2)["health_state"] == 2


def test_cancel_rate_refuses_the_crossing_cancel_leaves_that_order_alone_and_holds(tmp_path):
    h = harness(tmp_path, symbols=("BTCUSDT", "ETHUSDT"), risk={"MAX_CANCELS_PER_MIN": 1})
    two_symbols(h)
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_060.0})  # two entries sent, waiting for the next price
    assert len(h.engine.router.in_flight) == 2 and len(h.venue.open_orders()) == 2
    h.engine.commands.apply(control_log.new_command("flatten", "dave", h.t), h.engine)
    assert h.engine.control.mode == control.HOLD and h.engine.control.reason.startswith("breaker cancel_rate")
    assert len(h.venue.open_orders()) == 1 and len(h.engine.router.in_flight) == 1  # the second cancel never went
    doc = operator_view(h)
    assert [b["name"] for b in doc["breakers"]] == ["cancel_rate"] and doc["health_state"] == 2
    alerts = lines(h.state_dir / "ops_alerts.jsonl")
    assert any("BREAKER cancel_rate" in a["text"] for a in alerts)
    assert any(a.get("command") == "flatten" for a in alerts)  # the operator's own action is journaled too


def tiered_btc(rate_beyond_500: str) -> dict:
    block = json.loads((ROOT / "config" / "venue_filters.json").read_text())["binance_um"]["BTCUSDT"]
    block["margin_tiers"] = [
        {"notional_floor": "0", "notional_cap": "500", "maint_rate": "0.004", "max_leverage": 125},
        {"notional_floor": "500", "notional_cap": "0", "maint_rate": rate_beyond_500, "max_leverage": 10},
    ]
    return {
        "binance_um": {
            **json.loads((ROOT / "config" / "venue_filters.json").read_text())["binance_um"],
            "BTCUSDT": block,
        }
    }


def test_margin_stress_uses_the_venue_tiers_not_a_flat_guess(tmp_path):
    """1,000 USDT of BTC in a 5% bracket: maintenance 1,000 x 5% - 23 = 27 USDT, ratio ~370; a flat
    0.5% guess would say 5 USDT and ~2,000, far above the floor of 400."""
    h = harness(tmp_path, risk={"MIN_MARGIN_RATIO": 400}, filters=tiered_btc("0.05"))
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    h.finish_cycle()
    (pos,) = h.engine.ledger.positions.values()
    expected = pos.qty * pos.mark_price * Decimal("0.05") - Decimal(500) * (Decimal("0.05") - Decimal("0.004"))
    assert h.engine.control.mode == control.HOLD and h.engine.control.reason.startswith("breaker margin_stress")
    assert f"maintenance {expected:.2f} USDT" in h.engine.control.reason
    doc = operator_view(h)
    (acct,) = [g for g in doc["guards"] if g["name"] == "account_breakers"]
    assert acct["tiers_from"] == ["config"] and acct["margin_ratio"] < 400
    assert any("BREAKER margin_stress" in a["text"] for a in lines(h.state_dir / "ops_alerts.jsonl"))

    calm = harness(tmp_path / "b", risk={"MIN_MARGIN_RATIO": 400}, filters=tiered_btc("0.004"))
    warm(calm)
    breakout(calm)
    calm.step({"BTCUSDT": 61_200.0})
    calm.finish_cycle()
    assert calm.engine.ledger.positions and calm.engine.control.mode == control.RUN  # 0.4% all the way: ratio ~2,500


def test_a_symbol_without_tiers_gets_a_derived_schedule_and_a_line_saying_so(tmp_path, log_lines):
    h = harness(tmp_path, symbols=("XYZUSDT",))
    warm(h, "XYZUSDT", price=10.0)
    breakout(h, "XYZUSDT", price=10.0)
    h.step({"XYZUSDT": 10.2})
    h.finish_cycle()
    assert h.engine.ledger.positions
    said = [x for x in log_lines.getvalue().splitlines() if "no maintenance tiers" in x]
    assert len(said) == 1 and "binance_um XYZUSDT" in said[0] and "0.025" in said[0]
    assert [g for g in operator_view(h)["guards"] if g["name"] == "account_breakers"][0]["tiers_from"] == ["derived"]


def test_the_drawdown_kill_still_needs_the_two_man_resume(tmp_path):
    h = harness(tmp_path, env=OWN_STOPS, risk={"KILL_DD_PCT": 1.0})
    lose_1_5_pct(h)
    assert h.engine.control.mode == control.HOLD and h.engine.control.reason.startswith("breaker drawdown")
    for _ in range(200):  # days pass: it never clears by itself
        h.step({"BTCUSDT": 52_000.0})
    assert h.engine.control.mode == control.HOLD and entry(h, price=52_000.0) is None
    assert not [r for r in lines(h.state_dir / "incidents.jsonl") if r.get("guard") == "daily_stop"]
