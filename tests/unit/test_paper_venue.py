"""The paper venue answers like Binance USD-M in hedge mode."""

from decimal import Decimal as D

import pytest

from execution.exchanges.errors import (
    BadRequest,
    FilterFailure,
    InsufficientMargin,
    OrderNotFound,
    PositionSideMismatch,
    ReduceOnlyRejected,
)
from execution.exchanges.paper import PaperVenue
from execution.models import (
    FeeSchedule,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    Side,
    SymbolFilters,
    TimeInForce,
)

F = SymbolFilters("binance_um", "BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("1000"), D("5"))
FEES = FeeSchedule(maker_rate=D("0.0002"), taker_rate=D("0.0005"))
L, S = PositionSide.LONG, PositionSide.SHORT


def venue(balance="1000", slippage="0", half_spread="0"):
    v = PaperVenue(
        "binance_um",
        D(balance),
        {"BTCUSDT": F},
        FEES,
        slippage_bps=D(slippage),
        half_spread_bps=D(half_spread),
        default_leverage=5,
    )
    v.on_mark("BTCUSDT", 1000, D("60000"))
    return v


def req(side, pside, qty, cid="c1", order_type=OrderType.MARKET, price=None, tif=None, reduce=False):
    return OrderRequest(
        "binance_um",
        "BTCUSDT",
        side,
        pside,
        order_type,
        D(qty),
        cid,
        "intent",
        price=price,
        time_in_force=tif,
        reduce_only=reduce,
    )


def test_market_order_fills_at_the_next_price_not_the_decision_price():
    v = venue(slippage="2")
    order = v.place_order(req(Side.BUY, L, "0.010"))
    assert order.status is OrderStatus.NEW and v.drain_fills() == []
    v.on_price("BTCUSDT", 2000, D("61000"))
    [fill] = v.drain_fills()
    assert fill.ts == 2000
    assert fill.price == D("61012.2")  # 61000 * (1 + 2 bps), rounded up to the tick
    assert fill.fee_usdt == D("0.30506100")  # taker 5 bps of 610.122
    assert v.get_order("BTCUSDT", "c1").status is OrderStatus.FILLED


def test_min_notional_is_refused_with_4164():
    v = venue()
    assert v.place_order(req(Side.BUY, L, "0.001", cid="ok")).status is OrderStatus.NEW  # 60 USDT
    v.on_mark("BTCUSDT", 1001, D("4000"))  # now 0.001 is worth 4 USDT
    with pytest.raises(FilterFailure) as exc:
        v.place_order(req(Side.BUY, L, "0.001", cid="c2"))
    assert exc.value.code == "-4164"


def test_step_and_min_qty_are_refused_with_venue_codes():
    v = venue()
    with pytest.raises(FilterFailure) as exc:
        v.place_order(req(Side.BUY, L, "0.0015"))
    assert exc.value.code == "-1111"


def test_margin_is_checked_with_2019():
    v = venue(balance="100")
    with pytest.raises(InsufficientMargin) as exc:
        v.place_order(req(Side.BUY, L, "0.010"))  # 600 notional / 5x = 120 > 100
    assert exc.value.code == "-2019"


def test_closing_more_than_the_position_is_2022_and_closes_need_no_min_notional():
    v = venue()
    v.place_order(req(Side.BUY, L, "0.002", cid="open"))
    v.on_price("BTCUSDT", 2000, D("60000"))
    v.drain_fills()
    with pytest.raises(ReduceOnlyRejected) as exc:
        v.place_order(req(Side.SELL, L, "0.003", cid="too-much"))
    assert exc.value.code == "-2022"
    with pytest.raises(ReduceOnlyRejected):
        v.place_order(req(Side.BUY, S, "0.001", cid="no-short"))
    v.on_mark("BTCUSDT", 2001, D("4000"))  # 0.001 * 4000 = 4 USDT < 5, still allowed for a close
    v.place_order(req(Side.SELL, L, "0.001", cid="close"))


def test_duplicate_client_order_id_is_4116_and_one_way_mode_is_4061():
    v = venue()
    v.place_order(req(Side.BUY, L, "0.001", cid="same"))
    with pytest.raises(BadRequest) as exc:
        v.place_order(req(Side.BUY, L, "0.001", cid="same"))
    assert exc.value.code == "-4116"
    v2 = venue()
    v2.set_dual_side(False)
    with pytest.raises(PositionSideMismatch) as exc:
        v2.place_order(req(Side.BUY, L, "0.001"))
    assert exc.value.code == "-4061"


def test_post_only_that_would_cross_expires_and_resting_limit_fills_as_maker():
    v = venue(half_spread="1")
    crossing = v.place_order(
        req(Side.BUY, L, "0.001", cid="po", order_type=OrderType.LIMIT, price=D("60100"), tif=TimeInForce.POST_ONLY)
    )
    assert crossing.status is OrderStatus.EXPIRED
    resting = v.place_order(
        req(Side.BUY, L, "0.001", cid="rest", order_type=OrderType.LIMIT, price=D("59900"), tif=TimeInForce.GTC)
    )
    assert resting.status is OrderStatus.NEW
    v.on_price("BTCUSDT", 3000, D("59950"))
    assert v.drain_fills() == []
    v.on_price("BTCUSDT", 4000, D("59800"))
    [fill] = v.drain_fills()
    assert (fill.price, fill.liquidity, fill.fee_usdt) == (D("59900"), "maker", D("0.01198000"))
    with pytest.raises(OrderNotFound):
        v.cancel_order("BTCUSDT", "rest")


def test_funding_is_exchanged_on_open_positions_at_the_last_price():
    v = venue()
    v.place_order(req(Side.SELL, S, "0.010"))
    v.on_price("BTCUSDT", 2000, D("60000"))
    v.drain_fills()
    v.on_funding("BTCUSDT", 28_800_000, D("0.0001"))
    [pay] = v.drain_funding()
    assert pay.amount_usdt == D("0.06") and pay.position_side is S


def test_snapshot_restore_keeps_pending_orders_and_account():
    v = venue()
    v.place_order(req(Side.BUY, L, "0.010", cid="pending"))
    snap = v.snapshot()
    w = venue()
    w.restore(snap)
    w.on_price("BTCUSDT", 2000, D("60000"))
    [fill] = w.drain_fills()
    assert fill.client_order_id == "pending"
    with pytest.raises(BadRequest):
        w.place_order(req(Side.BUY, L, "0.001", cid="pending"))
