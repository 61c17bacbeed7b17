"""Breakers and HOLD driven through the real engine and paper venue: the order that crosses a limit
is never sent, HOLD blocks new risk but not exits, kill flattens with the right position side.

The exit scenarios run with PROTECTIVE_ORDERS=false: they test the executor's own SL/TP check
(the second line of defence); the venue-side stops are tested in test_protection.py."""

from __future__ import annotations

from execution import control, control_log
from execution.models import PositionSide
from tests.support.engine_harness import breakout, harness, warm

OWN_STOPS = {"PROTECTIVE_ORDERS": "false"}  # the executor's SL/TP check alone


def sent(h):
    return [o for o in h.venue._orders.values()]


def test_entry_then_next_price_fill_then_stop_loss_exit(tmp_path):
    h = harness(tmp_path, env=OWN_STOPS)
    warm(h)
    breakout(h)
    assert len(sent(h)) == 1 and sent(h)[0].position_side is PositionSide.LONG
    h.step({"BTCUSDT": 61_200.0})  # the fill happens at this candle's open
    assert h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG) > 0
    h.step({"BTCUSDT": 50_000.0})  # far below the ATR stop
    exits = [o for o in sent(h) if o.position_side is PositionSide.LONG and o.side.value == "SELL"]
    assert len(exits) == 1
    h.step({"BTCUSDT": 50_000.0})
    assert not h.engine.ledger.positions


def test_drawdown_breaker_trips_hold_and_the_next_entry_is_never_sent(tmp_path):
    h = harness(tmp_path, env=OWN_STOPS, risk={"KILL_DD_PCT": 1.0})
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    h.step({"BTCUSDT": 58_000.0})  # below the ATR stop: the exit fills at the next price...
    h.step({"BTCUSDT": 52_000.0})  # ...52,000: 0.016 BTC x -9,200 = -147 USDT, 1.5% of NAV
    h.finish_cycle()
    assert h.engine.control.mode == control.HOLD and h.engine.control.reason.startswith("breaker drawdown")
    before = len(sent(h))
    warm(h, price=52_000.0)
    breakout(h, price=52_000.0)  # would be an entry in RUN
    entries = [o for o in sent(h)[before:] if not (o.side.value == "SELL" and o.position_side is PositionSide.LONG)]
    assert entries == []
    alerts = (h.state_dir / "ops_alerts.jsonl").read_text()
    assert "BREAKER drawdown" in alerts


def test_order_rate_limit_refuses_the_crossing_order_and_holds(tmp_path):
    h = harness(tmp_path, symbols=("BTCUSDT", "ETHUSDT"), risk={"MAX_ORDERS_PER_MIN": 1})
    for i in range(120):
        h.step({"BTCUSDT": 60_000 * (1 + 0.0005 * (-1) ** i), "ETHUSDT": 3_000 * (1 + 0.0005 * (-1) ** i)})
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_060.0})  # both break out in the same minute
    assert len(sent(h)) == 1
    assert h.engine.control.mode == control.HOLD and "order_rate" in h.engine.control.reason


def test_max_positions_is_a_veto_and_hold_still_lets_exits_through(tmp_path):
    h = harness(tmp_path, symbols=("BTCUSDT", "ETHUSDT"), env=OWN_STOPS, risk={"MAX_POSITIONS": 1})
    for i in range(120):
        h.step({"BTCUSDT": 60_000 * (1 + 0.0005 * (-1) ** i), "ETHUSDT": 3_000 * (1 + 0.0005 * (-1) ** i)})
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 3_000.0})
    h.step({"BTCUSDT": 61_300.0, "ETHUSDT": 3_000.0})  # BTC long filled
    h.step({"BTCUSDT": 61_300.0, "ETHUSDT": 3_070.0})  # ETH breaks out: max positions
    assert [o.symbol for o in sent(h)] == ["BTCUSDT"]
    control.hold(h.engine.control, "operator check", "alice", 0)
    h.step({"BTCUSDT": 50_000.0, "ETHUSDT": 3_000.0})  # stop loss while in HOLD
    assert any(o.side.value == "SELL" for o in sent(h)), "HOLD must not block a closing order"


def test_stale_symbol_takes_no_new_risk_and_all_stale_trips_hold(tmp_path):
    h = harness(tmp_path)
    warm(h)
    h.issue("BTCUSDT", "stale", "no book update for 30s")
    h.finish_cycle()
    assert h.engine.control.mode == control.HOLD and "stale_data" in h.engine.control.reason
    h.issue("BTCUSDT", "recovered", "back")
    assert ("binance_um", "BTCUSDT") not in h.engine.stale


def test_clock_skew_trips_hold(tmp_path):
    h = harness(tmp_path)
    warm(h, bars=5)
    h.issue("BTCUSDT", "clock_skew", "offset 2400 ms > 1000 ms")
    assert h.engine.control.mode == control.HOLD and "clock_skew" in h.engine.control.reason


def test_kill_command_holds_and_flattens_with_the_right_position_side(tmp_path):
    h = harness(tmp_path, symbols=("BTCUSDT", "ETHUSDT"))
    for i in range(120):
        h.step({"BTCUSDT": 60_000 * (1 + 0.0005 * (-1) ** i), "ETHUSDT": 3_000 * (1 + 0.0005 * (-1) ** i)})
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 2_940.0})  # BTC long, ETH short
    h.step({"BTCUSDT": 61_200.0, "ETHUSDT": 2_940.0})
    sides = {(p.symbol, p.position_side) for p in h.engine.ledger.positions.values()}
    assert sides == {("BTCUSDT", PositionSide.LONG), ("ETHUSDT", PositionSide.SHORT)}
    cmd = control_log.new_command("kill", "carol", 123, reason="venue incident")
    h.engine.commands.apply(cmd, h.engine)
    assert h.engine.control.kill and h.engine.control.mode == control.HOLD
    closes = [(o.symbol, o.side.value, o.position_side.value) for o in sent(h)[-2:]]
    assert sorted(closes) == [("BTCUSDT", "SELL", "LONG"), ("ETHUSDT", "BUY", "SHORT")]
    h.step({"BTCUSDT": 61_000.0, "ETHUSDT": 2_950.0})
    h.finish_cycle()
    assert not h.engine.ledger.positions and not h.engine.control.flatten_pending


def test_reconciliation_reports_unknown_orders_and_leaves_them_alone(tmp_path):
    from decimal import Decimal

    from execution.models import OrderRequest, OrderType, Side

    h = harness(tmp_path)
    warm(h, bars=3)
    foreign = OrderRequest(
        "binance_um",
        "BTCUSDT",
        Side.BUY,
        PositionSide.LONG,
        OrderType.LIMIT,
        Decimal("0.002"),  # 60 USDT: above BTCUSDT's 50 USDT minimum notional
        "manual1",
        "human",
        price=Decimal("30000"),
    )
    h.venue.place_order(foreign)
    diffs = h.engine.reconcile(1)
    assert [d.kind for d in diffs] == ["unknown_order"]
    assert h.venue.get_order("BTCUSDT", "manual1").status.value == "NEW"  # not cancelled
    assert "unknown_order" in (h.state_dir / "incidents.jsonl").read_text()


def test_unknown_outcome_stays_in_flight_until_the_venue_answers_and_nothing_is_sent_twice(tmp_path):
    from decimal import Decimal

    from tests.support.faulty_venue import FaultyVenue

    h = harness(tmp_path)
    paper = h.engine.venues["binance_um"]
    warm(h)  # the paper venue sees the market while it is still plugged in directly
    faulty = FaultyVenue(paper)  # from here the engine talks to the venue through the fault injector
    h.engine.venues["binance_um"] = faulty
    h.engine.simulators = {}  # the test shows the paper venue its prices itself, as a real venue sees them
    faulty.fail_next("timeout_placed")  # the order reaches the venue, the answer is lost
    paper.on_mark("BTCUSDT", h.t + 900_000, Decimal("61200"))
    h.candle("BTCUSDT", 61_200.0)  # breakout: entry sent, outcome unknown
    [flight] = h.engine.router.in_flight.values()
    assert flight.unknown and len(faulty.placed) == 1
    h.finish_cycle()  # the engine asks the venue by client order id: found, no longer unknown
    assert not flight.unknown and len(faulty.requests) == 1  # asked, never re-sent
    h.t += 900_000
    paper.on_price("BTCUSDT", h.t, Decimal("61300"))  # the next price fills the one order
    h.step({"BTCUSDT": 61_300.0})
    assert h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG) > 0
    assert len(faulty.requests) == 1


def test_an_order_that_never_arrived_is_released_and_may_be_decided_again(tmp_path):
    from decimal import Decimal

    from tests.support.faulty_venue import FaultyVenue

    h = harness(tmp_path)
    paper = h.engine.venues["binance_um"]
    warm(h)
    faulty = FaultyVenue(paper)
    h.engine.venues["binance_um"] = faulty
    h.engine.simulators = {}  # the test shows the paper venue its prices itself, as a real venue sees them
    faulty.fail_next("timeout_lost")
    paper.on_mark("BTCUSDT", h.t + 900_000, Decimal("61200"))
    h.candle("BTCUSDT", 61_200.0)
    assert [f.unknown for f in h.engine.router.in_flight.values()] == [True] and faulty.placed == []
    h.finish_cycle()
    assert h.engine.router.in_flight == {}  # the venue does not know it: nothing is in flight any more


APPROVE = "approve-Zq81-very-secret"


def operator_command(h, name: str, operator: str, **args: str) -> dict:
    """Append a command as the CLI does (chained) and let the engine apply it; its ack."""
    cmd = control_log.new_command(name, operator, 1, **args)
    if name == "resume-confirm":
        request = (h.engine.control.resume_request or {}).get("id", "")
        proof = control_log.approval_proof(APPROVE, cmd.id, request, operator)
        cmd = control_log.Command(cmd.id, cmd.ts, name, operator, {"proof": proof})
    control_log.append_command(h.state_dir, cmd)
    h.engine.commands.poll(h.engine)
    return control_log.find_ack(h.state_dir, cmd.id)


def test_an_approved_resume_after_a_drawdown_trip_rebases_the_breaker_and_keeps_running(tmp_path, capsys):
    import json

    h = harness(tmp_path, risk={"KILL_DD_PCT": 1.0}, env={"APPROVE_TOKEN": APPROVE, **OWN_STOPS})
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    h.step({"BTCUSDT": 58_000.0})
    h.step({"BTCUSDT": 52_000.0})
    h.finish_cycle()
    assert h.engine.control.reason.startswith("breaker drawdown")
    peak = h.engine.perf.peak_nav
    assert operator_command(h, "resume-request", "alice", reason="loss taken, strategy reviewed")["ok"]
    assert operator_command(h, "resume-confirm", "bob", proof="x")["ok"]
    assert operator_command(h, "resume", "bob")["ok"]
    for _ in range(3):
        h.step({"BTCUSDT": 52_000.0})
    h.finish_cycle()
    assert h.engine.control.mode == control.RUN  # the breaker measures from the resume, not the old peak
    assert h.engine.perf.peak_nav == peak and h.engine.perf.drawdown_pct(h.engine.ledger.nav()) > 1.0  # investors' view
    [rebase] = [
        r
        for r in map(json.loads, (h.state_dir / "incidents.jsonl").read_text().splitlines())
        if r["kind"] == "risk_reference_rebased"
    ]
    assert (rebase["requested_by"], rebase["confirmed_by"]) == ("alice", "bob")
    assert float(rebase["previous_dd_ref_nav"]) == float(peak)
    h.engine.publish(force=True)
    nav = json.loads((h.state_dir / "state" / "nav.json").read_text())
    assert nav["breaker_reference"]["rebased"]["confirmed_by"] == "bob"
    assert nav["breaker_reference"]["drawdown_nav"] < float(peak)
    from execution import ctl

    ctl.print_status(ctl.status_data(h.state_dir))  # what an operator sees: the reference in use
    [line] = [x for x in capsys.readouterr().out.splitlines() if x.startswith("dd ref")]
    assert "requested by alice and confirmed by bob" in line


def test_resume_request_expiry_uses_the_executors_clock_not_the_commands(tmp_path):
    h = harness(tmp_path, env={"APPROVE_TOKEN": APPROVE})
    clock_ms = [10_000_000]
    h.engine.wall_ms = lambda: clock_ms[0]
    control.hold(h.engine.control, "check", "alice", 0)
    assert operator_command(h, "resume-request", "alice", reason="ok")["ok"]
    assert h.engine.control.resume_request["ts"] == 10_000_000
    clock_ms[0] += control.RESUME_REQUEST_TTL_MS + 1  # the commands still say ts=1
    ack = operator_command(h, "resume-confirm", "bob", proof="x")
    assert not ack["ok"] and "expired" in ack["message"]
