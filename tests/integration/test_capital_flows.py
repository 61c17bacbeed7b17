"""Off-venue capital flows on paper, through the control log like `ctl capital-flow`: NAV moves by the
flow, realised P&L, drawdown and the day's P&L do not; the journal is what the performance module
reads, NAV is still recomputable from the journals alone, and a bad flow is refused by name."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from execution import control_log, performance
from tests.support.engine_harness import breakout, harness, warm
from tests.support.recompute import load_jsonl, recompute


def send(h, amount: str, note: str = "subscription", operator: str = "ops1") -> dict:
    cmd = control_log.new_command("capital-flow", operator, h.t, amount=amount, note=note)
    control_log.append_command(h.state_dir, cmd)
    assert h.engine.commands is not None
    h.engine.commands.poll(h.engine)  # what the loop does every CONTROL_POLL_MS
    h.step({"BTCUSDT": 61_200.0})
    ack = control_log.find_ack(h.state_dir, cmd.id)
    assert ack is not None
    return ack


def nav_doc(h) -> dict:
    h.engine.publish(force=True)
    return json.loads((h.state_dir / "state" / "nav.json").read_text())


def test_deposit_and_withdrawal_move_nav_not_pnl(tmp_path):
    h = harness(tmp_path)
    warm(h)
    breakout(h)  # a position is open: its P&L keeps moving with the market, the flows must not
    h.step({"BTCUSDT": 61_200.0})
    e = h.engine
    before = nav_doc(h)
    pnl_before = (e.ledger.realized_total, e.ledger.fees_total, e.ledger.funding_total, e.ledger.unrealized())
    dd_before, day_pnl_before = e.perf.drawdown_pct(e.nav()), float(e.nav()) - e.perf.day_start_nav

    ack = send(h, "5000", "subscription A. Investor")
    assert ack["ok"], ack["message"]
    after = nav_doc(h)
    assert Decimal(str(after["nav"])) - Decimal(str(before["nav"])) == Decimal(5000)
    assert (e.ledger.realized_total, e.ledger.fees_total, e.ledger.funding_total, e.ledger.unrealized()) == pnl_before
    assert e.perf.drawdown_pct(e.nav()) == pytest.approx(dd_before)
    assert float(e.nav()) - e.perf.day_start_nav == pytest.approx(day_pnl_before)
    assert after["net_contributed_capital"] == 15_000 and after["capital_flows"] == 1
    assert after["off_venue_cash"] == 5000 and after["wallet_balance"] == before["wallet_balance"]

    ack = send(h, "-1200.5", "redemption B. Investor")
    assert ack["ok"] and "withdrawal of 1200.5 USDT" in ack["message"]
    assert nav_doc(h)["net_contributed_capital"] == pytest.approx(13_799.5)
    refused = send(h, "-4000", "too much")
    assert not refused["ok"] and "more than the off-venue cash (3799.5" in refused["message"]

    flows = load_jsonl(h.state_dir / "capital_flows.jsonl")
    assert [(f["venue"], f["amount_usdt"], f["source"], f["operator"]) for f in flows] == [
        ("off_venue", 5000.0, "operator", "ops1"),
        ("off_venue", -1200.5, "operator", "ops1"),
    ]
    assert all(f["id"].startswith("flow:cmd-") for f in flows)
    assert flows[0]["ts"] < flows[1]["ts"] <= h.t  # market time: when NAV moved
    parsed = performance.flows_from_records(flows)
    assert [f.amount for f in parsed] == [Decimal(5000), Decimal("-1200.5")]

    again = recompute(h.state_dir, 10_000)
    assert again["nav"] == pytest.approx(nav_doc(h)["nav"], abs=1e-6)
    assert again["capital_flows"] == pytest.approx(3799.5)


def test_time_weighted_returns_ignore_the_flows(tmp_path):
    h = harness(tmp_path)
    warm(h, bars=20)
    send(h, "10000", "doubling the fund")
    for _ in range(8):
        h.step({"BTCUSDT": 60_000.0})
    h.finish_cycle()
    h.engine.publish(force=True)
    points = []
    for day in sorted((h.state_dir / "history" / "nav").glob("*.json")):
        doc = json.loads(day.read_text())
        points += list(zip(doc["ts"], doc["nav"], strict=True))
    ts, nav = zip(*points, strict=True)
    series = performance.NavPoints.of(ts, nav)
    flows = performance.flows_from_records(load_jsonl(h.state_dir / "capital_flows.jsonl"))
    index = performance.growth_index(series, flows)
    assert max(nav) - min(nav) >= 9_999  # the NAV doubled ...
    assert abs(index[-1] - 1) < 1e-3  # ... but nothing was earned: flat market, no trade


def test_a_bad_amount_never_reaches_the_log(tmp_path):
    h = harness(tmp_path)
    for bad, why in (
        ("0", "non-zero"),
        ("abc", "a number such as 5000"),
        ("1" + "0" * 20, "check the figure"),
        ("1.123456789", "8"),
        ("1e3", "such as 5000"),  # what is typed is what is booked: no exponent
        ("nan", "such as 5000"),
        ("-inf", "such as 5000"),
        ("\u0661\u0662", "such as 5000"),  # Arabic-Indic digits Decimal would read as 12
        ("1_0000", "such as 5000"),  # a misplaced thousands mark
        ("9" * 5000, "such as 5000"),
    ):
        with pytest.raises(control_log.BadCommand, match=why):
            control_log.new_command("capital-flow", "ops1", h.t, amount=bad, note="x")
    assert (
        control_log.new_command("capital-flow", "ops1", h.t, amount="1_250_000.5", note="x").args["amount"]
        == "1_250_000.5"
    )
    with pytest.raises(control_log.BadCommand, match="--note is required"):
        control_log.new_command("capital-flow", "ops1", h.t, amount="10", note=" ")
