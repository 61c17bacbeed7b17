"""The per-symbol guards (denylist, minimum notional) on the arbitrage loop's entries, through the
real engine, its guards and the paper venues: a pair with a denylisted symbol on either venue is
refused (named preflight reason, one `[arb] GUARD` line, state/arbitrage.json), a reload through
the control log lifts it, the exit of a pair already open is never blocked, and legs below
MIN_NOTIONAL_BLOCK_USD are refused."""

from __future__ import annotations

import json

import pytest

from execution import control_log
from execution.arb.preflight import reason_names
from tests.integration.test_breaker_scenarios import lines, operator_view
from tests.support.engine_harness import BAR, harness

BIN, OKX = "binance_um", "okx_perp"
BIN_SYM, OKX_SYM = "BTCUSDT", "BTC-USDT-SWAP"
FLAT, WIDE = (60_000.0, 60_000.0), (60_000.0, 60_300.0)  # OKX 50 bps rich: long Binance / short OKX
CHEAP = {  # cheap enough to trade on a 50 bps basis: every refusal below is the guards'
    "fees": {"mode": "manual", "manual": {v: {"maker": "0", "taker": "0"} for v in (BIN, OKX)}},
    "expected_slippage_bps": {BIN: 0, OKX: 0},
    "min_edge_bps": 1,
    "basis": {"window": 96, "min_samples": 8, "sample_ms": BAR},
}


def arb_harness(tmp_path, denylist="", **patches):
    h = harness(tmp_path, strategy={"defaults": {}}, arbitrage=CHEAP, denylist=denylist, **patches)
    assert h.engine.strategies[0].name == "arbitrage"
    for _ in range(12):  # the basis warms up at the usual (zero) basis; nothing to trade
        step(h, FLAT)
    return h


def step(h, prices) -> None:
    """One 15-minute instant on both venues (pending market orders fill at these prices first)."""
    h.candle(BIN_SYM, prices[0], venue=BIN, spread=0.0005)
    h.candle(OKX_SYM, prices[1], venue=OKX, spread=0.0005)
    h.t += BAR


def loop(h):
    return h.engine.strategies[0].loop


def arb_orders(h) -> dict[str, list]:
    return {name: list(v._orders.values()) for name, v in h.engine.venues.items()}


def positions(h) -> dict[tuple[str, str], object]:
    return {(name, p.position_side.value): p.qty for name, v in h.engine.venues.items() for p in v.positions()}


def published_reasons(h) -> list[str]:
    h.engine.publish(force=True)
    [row] = json.loads((h.state_dir / "state" / "arbitrage.json").read_text())["pairs"]
    return row["reasons"]


def guard_lines(log_lines) -> list[str]:
    return [x for x in log_lines.getvalue().splitlines() if "[arb] GUARD BTC-USDT" in x]


def reload(h, tmp_path, text: str) -> dict:
    (tmp_path / "config" / "denylist.txt").write_text(text)
    h.engine.commands.apply(control_log.new_command("denylist-reload", "erin", h.t), h.engine)
    return lines(h.state_dir / "control_acks.jsonl")[-1]


@pytest.mark.parametrize(
    ("listed", "leg"),
    [("BTCUSDT\n", f"{BIN}:{BIN_SYM}"), (f"{OKX}:{OKX_SYM}\n", f"{OKX}:{OKX_SYM}")],
    ids=["binance-leg", "okx-leg"],
)
def test_a_pair_with_a_denylisted_symbol_is_refused_until_a_reload_lifts_it(tmp_path, log_lines, listed, leg):
    h = arb_harness(tmp_path, denylist=listed)
    for _ in range(3):
        step(h, WIDE)
    assert arb_orders(h) == {BIN: [], OKX: []} and loop(h).metrics.attempts == 0
    why = f"denylist: {leg} is on the denylist (denylist.txt)"
    reasons = published_reasons(h)
    assert reasons == [why] and reason_names(reasons) == ["denylist"]  # nothing else stood in the way
    assert (
        guard_lines(log_lines) == [x for x in guard_lines(log_lines) if why in x] and len(guard_lines(log_lines)) == 1
    )
    assert "entries refused: " + why in guard_lines(log_lines)[0]  # one line for three refused instants
    guard_status = next(g for g in operator_view(h)["guards"] if g["name"] == "denylist")
    assert guard_status["refused"] == 0  # counts the router's refusals; the arbitrage ones are its reasons

    # the operator asks for it by hand: refused with the same reason
    cmd = control_log.new_command("arb-execute", "erin", h.t, pair="BTC-USDT")
    h.engine.commands.apply(cmd, h.engine)
    ack = lines(h.state_dir / "control_acks.jsonl")[-1]
    assert not ack["ok"] and why in ack["message"] and arb_orders(h) == {BIN: [], OKX: []}

    ack = reload(h, tmp_path, "# nothing denied\n")
    assert ack["ok"] and ack["result"] == {"denied": []}
    step(h, WIDE)
    assert loop(h).metrics.attempts == 1
    [long_leg] = arb_orders(h)[BIN]
    [short_leg] = arb_orders(h)[OKX]
    assert (long_leg.position_side.value, short_leg.position_side.value) == ("LONG", "SHORT")
    assert guard_lines(log_lines)[-1].endswith("[arb] GUARD BTC-USDT entries no longer refused by denylist")
    assert len(guard_lines(log_lines)) == 2


def test_the_exit_of_an_open_pair_goes_when_its_symbol_is_newly_denylisted(tmp_path, log_lines):
    h = arb_harness(tmp_path)
    step(h, WIDE)  # the entry legs go
    assert loop(h).metrics.attempts == 1
    assert reload(h, tmp_path, "BTCUSDT\n")["ok"]
    step(h, WIDE)  # the legs fill; no second entry: the symbol is denied now
    [pair] = loop(h).open_pairs.values()
    assert loop(h).metrics.attempts == 1 and reason_names(published_reasons(h)) == ["denylist"]
    held = positions(h)
    assert set(held) == {(BIN, "LONG"), (OKX, "SHORT")}
    step(h, FLAT)  # back to the usual basis: the exit rule closes the pair, denylist or not
    step(h, FLAT)  # the exit legs fill
    assert not loop(h).open_pairs and positions(h) == {}
    assert pair.exit_reason and loop(h).metrics.closed_pairs == 1
    trades = [t for t in lines(h.state_dir / "trade_log.jsonl") if t.get("reason", "").startswith("arb_")]
    assert sorted((t["reason"], t["venue"]) for t in trades) == [
        ("arb_entry", BIN),
        ("arb_entry", OKX),
        ("arb_exit", BIN),
        ("arb_exit", OKX),
    ]


def test_legs_below_the_minimum_notional_are_refused(tmp_path, log_lines):
    h = arb_harness(tmp_path, risk={"MIN_NOTIONAL_BLOCK_USD": 2000})  # each leg is ~960 USDT
    step(h, WIDE)
    step(h, WIDE)
    assert arb_orders(h) == {BIN: [], OKX: []} and loop(h).metrics.attempts == 0
    reasons = published_reasons(h)
    assert reason_names(reasons) == ["min_notional", "min_notional"]
    assert reasons[0].startswith(f"min_notional: {BIN} {BIN_SYM} leg notional 96")
    assert reasons[1].startswith(f"min_notional: {OKX} {OKX_SYM} leg notional 96")
    assert all(r.endswith("USDT below MIN_NOTIONAL_BLOCK_USD 2000") for r in reasons)
    assert len(guard_lines(log_lines)) == 1

    h2 = arb_harness(tmp_path / "b", risk={"MIN_NOTIONAL_BLOCK_USD": 900})  # just below a leg: it goes
    step(h2, WIDE)
    assert loop(h2).metrics.attempts == 1 and all(arb_orders(h2).values())
