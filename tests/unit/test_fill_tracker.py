"""Fills from order snapshots: deltas, prices that add up to the venue's average, fees, idempotence."""

from __future__ import annotations

from decimal import Decimal as D

from execution.exchanges.fill_tracker import FillTracker
from execution.models import FeeSchedule, Order, OrderStatus, OrderType, PositionSide, Side

FEES = FeeSchedule(D("0.0002"), D("0.0005"))


def snap(filled: str, avg: str, status: OrderStatus, cid: str = "c1", ts: int = 1) -> Order:
    return Order(
        "binance_um",
        "BTCUSDT",
        cid,
        status,
        Side.BUY,
        PositionSide.LONG,
        OrderType.LIMIT,
        D("1"),
        D(filled),
        D(avg),
        D("100"),
        "9",
        ts,
    )


def test_partial_fills_become_deltas_priced_to_the_average():
    t = FillTracker("binance_um")
    t.track("c1", "intent-1")
    f1 = t.observe(snap("0.4", "100", OrderStatus.PARTIALLY_FILLED), FEES)
    assert t.observe(snap("0.4", "100", OrderStatus.PARTIALLY_FILLED), FEES) is None  # seen twice, booked once
    t.set_liquidity("c1", "maker")
    f2 = t.observe(snap("1", "101.2", OrderStatus.FILLED, ts=2), FEES)
    assert (f1.qty, f1.price, f1.liquidity, f1.fee_usdt) == (D("0.4"), D(100), "taker", D("0.4") * 100 * D("0.0005"))
    assert (f2.qty, f2.price, f2.liquidity) == (D("0.6"), D(102), "maker")
    assert f2.fee_usdt == D("0.6") * 102 * D("0.0002")
    assert f1.qty * f1.price + f2.qty * f2.price == D("101.2")
    assert not f1.simulated and f1.intent_id == "intent-1"
    assert t.drain() == [f1, f2] and t.drain() == []
    assert not t.is_tracked("c1")  # final: forgotten


def test_venue_reported_fee_is_used_cumulatively():
    t = FillTracker("okx_perp")
    t.track("c1", "i")
    a = t.observe(snap("0.5", "100", OrderStatus.PARTIALLY_FILLED), FEES, fee_total_usdt=D("0.03"))
    b = t.observe(snap("1", "100", OrderStatus.FILLED), FEES, fee_total_usdt=D("0.05"))
    assert (a.fee_usdt, b.fee_usdt) == (D("0.03"), D("0.02"))


def test_untracked_orders_produce_nothing():
    t = FillTracker("binance_um")
    assert t.observe(snap("1", "100", OrderStatus.FILLED, cid="other"), FEES) is None
    assert t.drain() == []


def test_final_unfilled_order_is_forgotten():
    t = FillTracker("binance_um")
    t.track("c1", "i")
    assert t.observe(snap("0", "0", OrderStatus.CANCELED), FEES) is None
    assert not t.is_tracked("c1")


def test_it_knows_the_venue_orders_it_books_until_their_fills_are_drained():
    t = FillTracker("binance_um")
    assert not t.knows("9")
    t.track("c1", "intent-1")
    t.observe(snap("0.4", "100", OrderStatus.PARTIALLY_FILLED), FEES)
    assert t.knows("9")  # tracked and open: the venue reconciler leaves it to the tracker
    t.observe(snap("1", "100", OrderStatus.FILLED, ts=2), FEES)
    assert t.knows("9")  # final, but a fill of it is not drained yet
    [f1, f2] = t.drain()
    assert (f1.venue_order_id, f2.venue_order_id) == ("9", "9") and not t.knows("9")
