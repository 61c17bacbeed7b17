"""What every REST venue adapter must do the same way, run on both: the real Binance USD-M and OKX
adapters (real python-binance / python-okx clients) against their loopback fakes.

Quantities are in base units throughout; where the venues differ by design (codes, what an IOC
remainder is called) the expectation comes from the kit (tests/fakes/venue_kits.py). What only
one venue has stays in tests/integration/test_binance_adapter.py and test_okx_adapter.py.
"""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    FilterFailure,
    InsufficientMargin,
    PositionSideMismatch,
    RateLimited,
    ReduceOnlyRejected,
    SafeModeRefused,
    UnknownOutcome,
    VenueUnavailable,
)
from execution.models import OrderStatus, PositionSide, Side, TimeInForce
from tests.fakes.venue_kits import KITS
from tests.fakes.virtual_time import VirtualClock

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
BUY, SELL = Side.BUY, Side.SELL
WALKED = (D("0.05") * D("60000.1") + D("0.05") * D("60010")) / D("0.1")  # 0.05 at the best ask, 0.05 next


def test_hedge_mode_round_trip_on_both_sides(kit, fake):
    v = kit.venue(fake)
    assert v.is_dual_side() is True
    long_open = v.place_order(kit.req(BUY, LONG, "0.1", "hfL1"))
    short_open = v.place_order(kit.req(SELL, SHORT, "0.1", "hfS1"))
    eth_short = v.place_order(kit.req(SELL, SHORT, "0.5", "hfE1", symbol=kit.eth))
    assert {o.status for o in (long_open, short_open, eth_short)} == {OrderStatus.FILLED}
    assert long_open.filled_qty == D("0.1") and long_open.avg_price == WALKED
    assert kit.position(fake, kit.btc, "LONG") == D("0.1") and kit.position(fake, kit.eth, "SHORT") == D("0.5")
    held = {(p.symbol, p.position_side): p.qty for p in v.positions()}
    assert held == {(kit.btc, LONG): D("0.1"), (kit.btc, SHORT): D("0.1"), (kit.eth, SHORT): D("0.5")}
    v.place_order(kit.req(SELL, LONG, "0.1", "hfL2"))  # hedge close: position side, no reduce-only
    v.place_order(kit.req(BUY, SHORT, "0.1", "hfS2"))
    v.place_order(kit.req(BUY, SHORT, "0.5", "hfE2", symbol=kit.eth))
    assert v.positions() == []
    fills = v.drain_fills()
    assert [(f.client_order_id, f.side, f.position_side, f.qty) for f in fills] == [
        ("hfL1", BUY, LONG, D("0.1")),
        ("hfS1", SELL, SHORT, D("0.1")),
        ("hfE1", SELL, SHORT, D("0.5")),
        ("hfL2", SELL, LONG, D("0.1")),
        ("hfS2", BUY, SHORT, D("0.1")),
        ("hfE2", BUY, SHORT, D("0.5")),
    ]
    assert all(not f.simulated and f.liquidity == "taker" for f in fills)
    assert fills[0].price == WALKED
    assert fills[0].fee_usdt == fills[0].qty * fills[0].price * kit.fee_rates(fake)[1]  # the venue's taker rate
    # fills are drained once: neither a second drain nor another look at a done order books again
    assert v.drain_fills() == []
    assert v.get_order(kit.btc, "hfL1").status is OrderStatus.FILLED and v.drain_fills() == []


def test_closing_what_is_not_held_is_reduce_only_rejected(kit, fake):
    v = kit.venue(fake)
    with pytest.raises(ReduceOnlyRejected) as nothing:
        v.place_order(kit.req(SELL, LONG, "0.01", "hfC1"))
    assert nothing.value.code == kit.codes["nothing_to_close"]
    kit.give_position(fake, kit.btc, "SHORT", "0.02", "60000")
    with pytest.raises(ReduceOnlyRejected) as too_much:
        v.place_order(kit.req(BUY, SHORT, "0.03", "hfC2"))
    assert too_much.value.code == kit.codes["over_close"]


def test_one_way_account_closes_with_reduce_only(kit, fake):
    v = kit.venue(fake)
    kit.make_one_way(fake)
    with pytest.raises(PositionSideMismatch) as exc:  # v still assumes hedge mode: its position side is refused
        v.place_order(kit.req(BUY, LONG, "0.01", "hfN1"))
    assert exc.value.code == kit.codes["position_side"]
    kit.give_position(fake, kit.btc, "LONG", "0.02", "59000")
    assert v.is_dual_side() is False  # now known one-way: closes go without a side, reduce-only
    assert v.place_order(kit.req(SELL, LONG, "0.02", "hfN2")).status is OrderStatus.FILLED
    assert kit.position(fake, kit.btc, "LONG") == 0


@pytest.mark.parametrize(
    "kit,case",
    [(k, c) for k in KITS for c in k.filter_cases],
    ids=[f"{k.name}-{c.code}-{c.symbol}-{c.qty}" for k in KITS for c in k.filter_cases],
)
def test_filter_failures(kit, case):
    with kit.fake() as fake:
        v = kit.venue(fake)
        before = fake.arrived("POST", kit.order_path)
        with pytest.raises(FilterFailure) as exc:
            if case.price:
                v.place_order(kit.limit(BUY, LONG, case.qty, "hfF1", case.price, symbol=case.symbol))
            else:
                v.place_order(kit.req(BUY, LONG, case.qty, "hfF1", symbol=case.symbol))
        assert exc.value.code == case.code
        assert fake.arrived("POST", kit.order_path) - before == (1 if case.sent else 0)


def test_insufficient_margin(kit, fake):
    v = kit.venue(fake)
    with pytest.raises(InsufficientMargin) as exc:
        v.place_order(kit.req(BUY, LONG, "5", "hfM1"))  # 300k notional at 20x > 10k wallet
    assert exc.value.code == kit.codes["margin"]


def test_ioc_partial_fill(kit, fake):
    v = kit.venue(fake)
    order = v.place_order(kit.limit(BUY, LONG, "0.2", "hfI1", "60005.0", tif=TimeInForce.IOC))
    assert order.status is kit.ioc_remainder and order.filled_qty == D("0.05")
    (fill,) = v.drain_fills()
    assert (fill.qty, fill.price, fill.liquidity) == (D("0.05"), D("60000.1"), "taker")
    assert kit.position(fake, kit.btc, "LONG") == D("0.05")


def test_post_only_crossing_is_not_placed_and_resting_fills_as_maker(kit, fake):
    v = kit.venue(fake)
    crossing = v.place_order(kit.limit(BUY, LONG, "0.01", "hfP1", "60000.1", tif=TimeInForce.POST_ONLY))
    assert (crossing.status, crossing.reject_code) == kit.post_only_crossed and crossing.filled_qty == 0
    resting = v.place_order(kit.limit(BUY, LONG, "0.01", "hfP2", "59950.0", tif=TimeInForce.POST_ONLY))
    assert resting.status is OrderStatus.NEW and [o.client_order_id for o in v.open_orders(kit.btc)] == ["hfP2"]
    kit.set_book(fake, kit.btc, [("59900.0", "5")], [("59940.0", "5")])  # the market trades through the bid
    assert v.get_order(kit.btc, "hfP2").status is OrderStatus.FILLED
    (fill,) = v.drain_fills()
    assert (fill.price, fill.liquidity) == (D("59950"), "maker")
    assert fill.fee_usdt == D("0.01") * D("59950") * kit.fee_rates(fake)[0]


def test_cancel_and_cancel_all(kit, fake):
    v = kit.venue(fake)
    for i in range(3):
        v.place_order(kit.limit(BUY, LONG, "0.01", f"hfK{i}", "59000.0"))
    v.place_order(kit.limit(SELL, SHORT, "0.1", "hfK9", "3100.00", symbol=kit.eth))
    assert v.cancel_order(kit.btc, "hfK0").status is OrderStatus.CANCELED
    assert v.cancel_all(kit.btc) == 2
    assert [o.symbol for o in v.open_orders()] == [kit.eth]
    assert v.get_order(kit.btc, "never-sent") is None


def test_auth_errors(kit, fake):
    for credential, code in kit.auth_cases:
        with pytest.raises(AuthError) as exc:
            kit.venue(fake, **credential).balance()
        assert exc.value.code == code, credential


def test_clock_skew_resyncs_and_retries_once(kit, fake, log_lines):
    vc = VirtualClock()  # the resync's extra time samples may wait for room under the venue's limits
    v = kit.venue(fake, throttler=kit.throttler(clock=vc, sleep=vc.sleep))
    v.balance()  # synced to the venue's clock
    fake.clock_offset_ms = kit.skew_ms  # the venue's clock moves away (or ours drifts)
    assert v.balance().asset == "USDT"
    assert abs(kit.library_offset_ms(v) - kit.skew_ms) < 500
    assert f"CLOCK {kit.name} code={kit.codes['clock_skew']}" in log_lines.getvalue()
    status, body = kit.clock_skew_answer()
    fake.inject("GET", kit.balance_path, action="status", status=status, times=2, body=body)
    before = fake.arrived("GET", kit.balance_path)
    with pytest.raises(ClockSkew):
        v.balance()
    assert fake.arrived("GET", kit.balance_path) - before == 2  # one retry, not more


@pytest.mark.parametrize("action", ["drop", "hang", "status"])
def test_unknown_outcome_after_accept_is_reconciled_not_resent(kit, fake, action, log_lines):
    v = kit.venue(fake, timeout_s=0.3)
    status, page = kit.lost_answer
    fake.inject("POST", kit.order_path, when="after", action=action, hang_s=1.0, status=status, body=page)
    order = v.place_order(kit.req(BUY, LONG, "0.02", "hfU1"))
    assert order.status is OrderStatus.FILLED and order.client_order_id == "hfU1"
    assert fake.arrived("POST", kit.order_path) == 1  # never sent twice
    assert kit.position(fake, kit.btc, "LONG") == D("0.02")
    (fill,) = v.drain_fills()
    assert fill.qty == D("0.02") and fill.client_order_id == "hfU1"
    assert "[ORDER_ERR] code=" in log_lines.getvalue() and "RECONCILED" in log_lines.getvalue()


def test_disconnect_before_accept_stays_unknown(kit, fake):
    v = kit.venue(fake)
    fake.inject("POST", kit.order_path, when="before", action="drop")
    with pytest.raises(UnknownOutcome) as exc:
        v.place_order(kit.req(BUY, LONG, "0.02", "hfU2"))
    assert "not found by client order id" in exc.value.message
    assert fake.arrived("POST", kit.order_path) == 1 and fake.engine.acct.orders == {}


def test_service_unavailable_is_a_refusal_not_an_unknown(kit, fake):
    v = kit.venue(fake)
    fake.inject("POST", kit.order_path, when="before", action="status", status=503, body="Service Unavailable.")
    with pytest.raises(VenueUnavailable):
        v.place_order(kit.req(BUY, LONG, "0.02", "hfU3"))
    assert fake.arrived("GET", kit.order_path) == 0  # nothing to reconcile


def test_duplicate_client_id_returns_the_existing_order(kit, fake):
    v = kit.venue(fake)
    r = kit.limit(BUY, LONG, "0.01", "hfD1", "59000.0")
    first = v.place_order(r)
    again = v.place_order(r)
    assert again.venue_order_id == first.venue_order_id and len(fake.engine.open_orders()) == 1


def test_rate_limit_backs_off_locally(kit, log_lines):
    with kit.rate_limited_fake() as fake:
        v = kit.venue(fake, throttler=kit.throttler(max_wait_s=0.1))
        v.positions()
        v.positions()
        with pytest.raises(RateLimited) as exc:
            v.positions()
        assert exc.value.code == kit.codes["rate_limited"] and exc.value.retry_after_s >= kit.rate_limit_wait_s
        arrived = len(fake.received)
        for _ in range(5):
            with pytest.raises(RateLimited) as local:
                v.balance()
            assert local.value.code == "LOCAL"
        assert len(fake.received) == arrived  # nothing reached the venue while it asked us to wait
        assert f"RATE_LIMIT {kit.name} code={kit.codes['rate_limited']}" in log_lines.getvalue()


def test_safe_mode_sends_no_order(kit, fake, log_lines):
    v = kit.venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(kit.req(BUY, LONG, "0.01", "hfT1"))
    assert fake.engine.acct.orders == {} and fake.arrived("POST", kit.order_path) == 0
    assert f"[executor] SAFE_MODE {kit.name} {kit.btc} " in log_lines.getvalue()


def test_dead_man_switch_arms_and_disarms(kit, fake):
    vc = VirtualClock()  # OKX allows one call a second
    v = kit.venue(fake, throttler=kit.throttler(clock=vc, sleep=vc.sleep))
    assert v.arm_cancel_all_after(kit.btc, 30_000) is True and v.arm_cancel_all_after(kit.btc, 0) is True
    with pytest.raises(ValueError):
        v.arm_cancel_all_after(kit.btc, -1)


def test_account_settings_are_idempotent(kit, fake):
    v = kit.venue(fake)
    assert v.set_dual_side(True) is False  # already hedge mode: success, nothing changed
    assert v.set_leverage(kit.btc, 3) is True and v.set_leverage(kit.btc, 3) is False and v.leverage(kit.btc) == 3


def test_reference_data(kit, fake):
    v = kit.venue(fake)
    f = v.filters(kit.btc)
    assert {k: getattr(f, k) for k in kit.btc_filters} == kit.btc_filters
    top = v.book_top(kit.btc)
    assert (top.bid, top.bid_qty, top.ask, top.ask_qty) == (D("60000"), D(1), D("60000.1"), D("0.05"))
    fi = v.funding(kit.btc)
    assert fi.funding_rate == fake.funding_rate and fi.mark_price == D("60000.05")
    assert (v.fees(kit.btc).maker_rate, v.fees(kit.btc).taker_rate) == kit.fee_rates(fake)
    assert abs(v.server_time_ms() - fake.now()) < 1000 and v.ping()
    with pytest.raises(BadRequest):
        v.filters("NOPE")
