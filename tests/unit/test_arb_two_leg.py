"""Two-leg execution against real paper venues with faults injected at the venue boundary.

Every failure case must end with the net delta the venues hold within bounds, an incident
record, and nothing sent twice (asserted on the venues' own order lists)."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from execution.arb.attempt import Phase
from execution.exchanges.errors import VenueUnavailable
from execution.models import PositionSide, Side
from tests.support.arb_harness import BIN, OKX, Harness
from tests.support.faulty_venue import closing

WIDE = (60000, 60300)  # OKX 50 bps rich: long Binance / short OKX clears every cost


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path)
    harness.warm()
    yield harness
    harness.close()


def entry(h: Harness) -> None:
    h.market(*WIDE)
    assert h.loop.metrics.attempts == 1, h.loop.pairs["BTC-USDT"].reasons


def closes(h: Harness, venue: str):
    return [r for r in h.venues[venue].requests if r.is_closing]


def finish(h: Harness) -> None:
    """Both books back to the usual basis: no new entry; every attempt runs to its end."""
    h.settle(4)
    assert not h.loop.attempts, [a.doc() for a in h.loop.attempts.values()]


def test_happy_path_hedged_then_exit_reduce_only(h):
    entry(h)
    h.settle(1)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    assert len(h.loop.open_pairs) == 1 and not h.incidents()
    assert h.loop.metrics.doc(h.ts)["success_rate"] == 1.0
    h.market(60000, 60000)  # converged -> exit
    h.settle(1)
    assert h.positions() == {}
    assert not h.loop.open_pairs
    for venue, pside in ((BIN, PositionSide.LONG), (OKX, PositionSide.SHORT)):
        [close] = closes(h, venue)
        assert close.position_side is pside and close.side is pside.closing_side and close.reduce_only
    assert h.loop.metrics.closed_pairs == 1
    h.assert_nothing_sent_twice()


def test_leg_b_rejected_rescue_closes_leg_a(h):
    h.venues[OKX].fail_next("reject")
    entry(h)
    finish(h)
    assert h.positions() == {}
    h.assert_delta_within_bounds()
    [inc] = h.incidents()
    assert inc["severity"] == "ERROR" and inc["kind"] == "arb_rescue"
    assert "REFUSED" in inc["leg_statuses"]
    [rescue] = closes(h, BIN)
    assert (rescue.side, rescue.position_side, rescue.quantity) == (Side.SELL, PositionSide.LONG, Decimal("0.09"))
    assert rescue.reduce_only
    assert not closes(h, OKX) and len(h.venues[OKX].placed) == 0
    h.assert_nothing_sent_twice()


def test_leg_b_partial_fill_keeps_hedged_part(h):
    h.venues[OKX].fail_next("partial", fraction="0.5")
    entry(h)
    finish(h)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.04"), (OKX, "SHORT"): Decimal("0.04")}
    h.assert_delta_within_bounds()
    [inc] = h.incidents()
    assert inc["severity"] == "WARN" and inc["final_long_qty"] == inc["final_short_qty"] == "0.04"
    [rescue] = closes(h, BIN)
    assert rescue.quantity == Decimal("0.05") and rescue.position_side is PositionSide.LONG
    [pair] = h.loop.open_pairs.values()
    assert pair.long.qty == pair.short.qty == Decimal("0.04")
    h.assert_nothing_sent_twice()


def test_both_legs_partial_trim_the_larger(h):
    h.venues[BIN].fail_next("partial", fraction="0.7")
    h.venues[OKX].fail_next("partial", fraction="0.5")
    entry(h)
    finish(h)
    # Binance filled 0.063, OKX 0.04 (its step is 0.01): trim Binance by 0.023
    assert h.positions() == {(BIN, "LONG"): Decimal("0.04"), (OKX, "SHORT"): Decimal("0.04")}
    h.assert_delta_within_bounds()
    assert h.incidents() and h.incidents()[0]["severity"] == "WARN"
    [rescue] = closes(h, BIN)
    assert rescue.quantity == Decimal("0.023")
    h.assert_nothing_sent_twice()


def test_leg_b_timeout_order_was_placed_reconciled_not_resent(h):
    h.venues[OKX].fail_next("timeout_placed")
    entry(h)
    finish(h)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    h.assert_delta_within_bounds()
    [inc] = h.incidents()
    assert inc["severity"] == "WARN" and "outcome unknown" in inc["summary"] and "reconciled" in inc["summary"]
    assert not closes(h, BIN) and not closes(h, OKX)
    assert len(h.venues[OKX].requests) == 1  # asked by client order id, never sent again
    h.assert_nothing_sent_twice()


def test_leg_b_timeout_order_never_arrived_then_rescue(tmp_path):
    h = Harness(tmp_path, not_found_limit=6)
    h.warm()
    h.venues[OKX].fail_next("timeout_lost")
    entry(h)
    [a] = h.loop.attempts.values()
    h.market(*WIDE)  # leg A fills; leg B is still unknown: nothing else may be sent yet
    assert a.phase is Phase.LEGS and a.unknown and not closes(h, BIN)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09")}
    finish(h)
    assert h.positions() == {}
    h.assert_delta_within_bounds()
    [inc] = [i for i in h.incidents() if i["kind"] == "arb_rescue"]
    assert inc["severity"] == "ERROR" and "LOST" in inc["leg_statuses"]
    assert "taken as never placed" in inc["summary"]
    assert len(closes(h, BIN)) == 1 and len(h.venues[OKX].placed) == 0
    h.assert_nothing_sent_twice()
    h.close()


def test_sequential_disconnect_between_legs(tmp_path):
    h = Harness(tmp_path, leg_mode="sequential")
    try:
        h.warm()
        h.venues[OKX].disconnect()  # down after the last health check, before leg B (A = Binance first)
        h.market(*WIDE)
        assert h.loop.metrics.attempts == 1
        h.venues[OKX].reconnect()
        finish(h)
        assert h.positions() == {}
        h.assert_delta_within_bounds()
        [inc] = h.incidents()
        assert inc["severity"] == "ERROR" and "VenueUnavailable" in inc["summary"] + str(inc["legs"])
        assert len([r for r in h.venues[BIN].requests if not r.is_closing]) == 1
        assert len(closes(h, BIN)) == 1 and h.venues[OKX].placed == []
        h.assert_nothing_sent_twice()
    finally:
        h.close()


def test_disconnect_after_leg_b_sent_waits_for_reconcile_then_holds(h):
    """OKX takes leg B, then the connection drops: the outcome stays unknown while OKX is down.
    Nothing is sent meanwhile (no rescue of leg A, no second leg B); after the leg timeout the
    loop trips HOLD; once OKX answers again the order is found and the pair is hedged."""
    h.venues[OKX].disconnect(after_send=True)
    entry(h)
    for _ in range(3):
        h.market(*WIDE, dt=h.cfg.leg_timeout_ms)
    [a] = h.loop.attempts.values()
    assert a.unknown and not closes(h, BIN) and len(h.venues[OKX].requests) == 1
    assert h.loop.control.holding and "arb_unresolved" in h.loop.control.reason
    unresolved = [i for i in h.incidents() if i["kind"] == "arb_unresolved"]
    assert len(unresolved) == 1
    h.venues[OKX].reconnect()
    finish(h)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    h.assert_delta_within_bounds()
    assert len(h.loop.metrics.latency_us) == 1 and h.loop.metrics.attempts == 1  # HOLD: no new entry
    h.assert_nothing_sent_twice()


def test_rescue_refused_then_retried_next_cycle(h):
    """Leg B refused, and the first rescue order is refused too (Binance unavailable): HOLD is
    tripped, the rescue is tried again at the next cycle end under a new client order id, and
    the pair ends flat."""
    h.venues[OKX].fail_next("reject")
    h.venues[BIN].fail_next("reject", match=closing, error=VenueUnavailable(BIN, "503", "service unavailable"))
    entry(h)
    finish(h)
    assert h.positions() == {}
    h.assert_delta_within_bounds()
    assert h.loop.control.holding and "arb_rescue_failed" in h.loop.control.reason
    kinds = [i["kind"] for i in h.incidents()]
    assert "arb_rescue_failed" in kinds and "arb_rescue" in kinds
    rescues = closes(h, BIN)
    placed = [r for r in h.venues[BIN].placed if r.is_closing]
    assert len(rescues) == 2 and len(placed) == 1 and rescues[0].client_order_id != rescues[1].client_order_id
    h.assert_nothing_sent_twice()


def test_leg_a_venue_drops_before_its_fill_is_known(h):
    """Binance takes leg A then drops; OKX refuses leg B. Leg A's fill cannot be read and its
    cancel fails: the attempt is unresolved (HOLD), nothing is sent to Binance while it is down;
    after the reconnect leg A is read as FILLED and rescued."""
    h.venues[OKX].fail_next("reject")
    h.venues[BIN].disconnect(after_orders=1)
    entry(h)
    h.settle(3)
    assert h.venues[BIN].down and h.loop.control.holding and "arb_unresolved" in h.loop.control.reason
    assert not closes(h, BIN)
    h.venues[BIN].reconnect()
    finish(h)
    assert h.positions() == {}
    h.assert_delta_within_bounds()
    kinds = [i["kind"] for i in h.incidents()]
    assert kinds.count("arb_unresolved") == 1 and "arb_rescue" in kinds
    assert len(closes(h, BIN)) == 1
    h.assert_nothing_sent_twice()


def test_sequential_leg_a_refused_leg_b_never_sent(tmp_path):
    h = Harness(tmp_path, leg_mode="sequential")
    try:
        h.warm()
        h.venues[BIN].fail_next("reject")
        h.market(*WIDE)
        finish(h)
        assert h.positions() == {} and h.venues[OKX].requests == []
        [inc] = h.incidents()
        assert inc["severity"] == "ERROR" and inc["kind"] == "arb_leg_failed"
        h.assert_nothing_sent_twice()
    finally:
        h.close()


def test_exit_leg_refused_is_closed_by_rescue(h):
    entry(h)
    h.settle(1)
    h.venues[OKX].fail_next("reject", match=closing)
    h.market(60000, 60000)  # converged -> exit; the OKX close is refused
    finish(h)
    assert h.positions() == {}
    h.assert_delta_within_bounds()
    [inc] = h.incidents()
    assert inc["attempt_kind"] == "exit" and inc["severity"] == "ERROR"
    okx_closes = closes(h, OKX)
    assert len(okx_closes) == 2 and len({r.client_order_id for r in okx_closes}) == 2
    h.assert_nothing_sent_twice()


def test_rescues_per_minute_breaker_holds_and_blocks_entries(tmp_path):
    h = Harness(tmp_path, risk={"max_rescues_per_min": 1, "max_fill_mismatch_ratio": 1, "mismatch_window": 20})
    try:
        h.warm()
        for _ in range(2):
            h.venues[OKX].fail_next("reject")
            h.market(*WIDE)
            h.settle(2)
        assert h.loop.control.holding and "arb_rescues" in h.loop.control.reason
        attempts = h.loop.metrics.attempts
        h.market(*WIDE)
        h.settle(1)
        assert h.loop.metrics.attempts == attempts
        assert any(r.startswith("hold") for r in h.loop.pairs["BTC-USDT"].reasons)
        assert h.positions() == {}
        h.assert_nothing_sent_twice()
    finally:
        h.close()


def test_dry_run_sends_nothing_and_journals_simulated_fills(tmp_path):
    h = Harness(tmp_path, dry_run=True)
    try:
        h.warm()
        h.market(*WIDE)
        h.market(60000, 60000)
        h.settle(1)
        assert all(v.requests == [] for v in h.venues.values())
        trades = [r for c, r in h.records if c == "trades"]
        assert len(trades) == 4 and all(t["status"] == "simulated" for t in trades)
        assert {t["reason"] for t in trades} == {"arb_entry", "arb_exit"}
        assert h.loop.metrics.closed_pairs == 1 and not h.loop.open_pairs
        doc = h.loop.doc(0)
        assert doc["dry_run"] is True and doc["recent_attempts"]
    finally:
        h.close()


def test_venue_refusal_is_typed_and_named_in_incident(h):
    h.venues[OKX].fail_next("reject", error=VenueUnavailable(OKX, "503", "maintenance"))
    entry(h)
    finish(h)
    [inc] = h.incidents()
    assert "maintenance" in str(inc["legs"])
    assert h.positions() == {}


def test_leg_answers_are_logged_as_the_runbook_greps_them(tmp_path, log_lines):
    """A refused leg is one `[arb] [ORDER_ERR]` line (the evening sweep finds it); a filled one an
    `[arb] ORDER_REQ <endpoint> <status> {...}` line after the venue answered."""
    harness = Harness(tmp_path)
    harness.warm()
    try:
        harness.venues[OKX].fail_next("reject")
        entry(harness)
        finish(harness)
    finally:
        harness.close()
    lines = log_lines.getvalue().splitlines()
    errors = [line for line in lines if "[ORDER_ERR]" in line]
    assert len(errors) == 1 and f"[arb] [ORDER_ERR] {OKX} - code=" in errors[0] and "REFUSED" in errors[0]
    reqs = [line for line in lines if "[arb] ORDER_REQ " in line]
    assert reqs and all(re.search(r'"status":"(NEW|FILLED|PARTIALLY_FILLED)"', line) for line in reqs)
    assert any(f'"venue":"{BIN}"' in line for line in reqs)


def test_legs_report_to_the_executor_metrics_like_routed_orders(tmp_path):
    from prometheus_client import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from execution.metrics import Metrics

    metrics = Metrics()
    h = Harness(tmp_path, metrics=metrics)
    try:
        h.warm()
        h.venues[OKX].fail_next("reject")  # leg B refused for margin; the rescue closes leg A
        entry(h)
        finish(h)
        got = {}
        for fam in text_string_to_metric_families(generate_latest(metrics.registry).decode()):
            for s in fam.samples:
                got[(s.name, tuple(sorted(s.labels.items())))] = s.value
        sent = {v: got[("hedge_orders_sent_total", (("venue", v),))] for v in (BIN, OKX)}
        assert sent == {BIN: len(h.venues[BIN].requests), OKX: len(h.venues[OKX].requests)} == {BIN: 2, OKX: 1}
        assert got[("hedge_orders_rejected_total", (("reason", "margin"), ("venue", OKX)))] == 1
        assert sum(v for (n, lb), v in got.items() if n == "hedge_orders_rejected_total") == 1
        answered = {v: got[("hedge_order_roundtrip_seconds_count", (("venue", v),))] for v in (BIN, OKX)}
        assert answered == {BIN: 2, OKX: 1}  # a refusal is an answer too
        long_leg = h.venues[BIN].requests[0]
        book = h._book(BIN, "BTCUSDT")
        assert h.loop.reference_price(long_leg.client_order_id) == book.ask  # a buy is priced at the ask it saw
    finally:
        h.close()
