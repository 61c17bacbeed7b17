"""The paper venue's trigger orders and bar fills: stops and take-profits fire inside the bar they
are reached in, a gap fills at the open, and no fill is ever priced outside the bar's range."""

from decimal import Decimal as D

import pytest

from execution.exchanges.errors import BadRequest
from execution.exchanges.paper import PaperVenue
from execution.exchanges.paper_triggers import bar_fire
from execution.models import OrderStatus, OrderType, PositionSide, Side
from execution.triggers import TriggerRequest, TriggerStatus
from tests.unit.test_paper_venue import FEES, F, req

L, S = PositionSide.LONG, PositionSide.SHORT


def venue(slippage="2", half_spread="0.5"):
    v = PaperVenue("binance_um", D("10000"), {"BTCUSDT": F}, FEES, D(slippage), D(half_spread), default_leverage=5)
    v.on_mark("BTCUSDT", 1000, D("60000"))
    return v


def long_position(v, qty="0.010", price="60000"):
    v.place_order(req(Side.BUY, L, qty, cid="entry"))
    p = D(price)
    v.on_bar("BTCUSDT", 2000, p, p, p, p)
    v.on_mark("BTCUSDT", 2900, p)
    [fill] = v.drain_fills()
    return fill


def trig(cid, stop=None, take=None, pside=L, qty="0.010"):
    return TriggerRequest(
        "binance_um",
        "BTCUSDT",
        pside,
        D(qty),
        cid,
        "intent:protect",
        stop_price=D(stop) if stop else None,
        take_price=D(take) if take else None,
    )


@pytest.mark.parametrize(
    ("side", "kind", "trigger", "bar", "expected"),
    [
        (Side.SELL, "stop", "100", ("105", "106", "99"), "100"),  # the range reaches the stop
        (Side.SELL, "stop", "100", ("98", "101", "97"), "98"),  # opened below it: from the open
        (Side.SELL, "stop", "100", ("105", "106", "101"), None),
        (Side.SELL, "take", "110", ("105", "111", "104"), "110"),
        (Side.BUY, "stop", "110", ("112", "113", "109"), "112"),  # a SHORT's stop gapped through
        (Side.BUY, "take", "100", ("105", "106", "99.5"), "100"),
        (Side.BUY, "take", "100", ("105", "106", "100.5"), None),
    ],
)
def test_which_bar_fires_a_trigger_and_from_which_price(side, kind, trigger, bar, expected):
    o, h, lo = (D(x) for x in bar)
    got = bar_fire(side, kind, D(trigger), o, h, lo)
    assert got == (D(expected) if expected else None)


def test_a_stop_fires_inside_the_bar_at_the_stop_with_slippage_capped_by_the_low():
    v = venue()
    long_position(v)
    v.place_trigger(trig("sl", stop="59000"))
    v.place_trigger(trig("tp", take="62000"))
    assert {t.client_id for t in v.open_triggers()} == {"sl", "tp"}
    v.on_bar("BTCUSDT", 3000, D("59900"), D("60100"), D("58990"), D("59500"))
    [fill] = v.drain_fills()
    assert (fill.client_order_id, fill.side, fill.position_side, fill.qty) == ("sl", Side.SELL, L, D("0.010"))
    assert fill.price == D("58990")  # 59000 less 2.5 bps would be 58985.2: below the bar's low
    assert fill.intent_id == "intent:protect" and fill.realized_pnl_usdt == D("-10.10")
    assert v.get_trigger("BTCUSDT", "sl").status is TriggerStatus.FINISHED
    assert [t.client_id for t in v.open_triggers()] == ["tp"]  # the caller cancels the sibling
    assert not v.positions()


def test_a_gap_through_the_stop_fills_from_the_open():
    v = venue()
    long_position(v)
    v.place_trigger(trig("sl", stop="59000"))
    v.on_bar("BTCUSDT", 3000, D("58000"), D("58200"), D("57000"), D("57500"))
    [fill] = v.drain_fills()
    assert fill.price == D("57985.5")  # the open less half spread and slippage, rounded down to the tick


def test_a_bar_reaching_both_takes_the_stop_first_and_the_take_profit_finds_nothing_to_close():
    v = venue()
    long_position(v)
    v.place_trigger(trig("tp", take="61000"))
    v.place_trigger(trig("sl", stop="59000"))
    v.on_bar("BTCUSDT", 3000, D("60000"), D("61500"), D("58500"), D("60000"))
    [fill] = v.drain_fills()
    assert fill.client_order_id == "sl"
    tp = v.get_trigger("BTCUSDT", "tp")
    assert tp.status is TriggerStatus.REJECTED and "-2022" in tp.reason


def test_a_trigger_placed_inside_a_bar_is_checked_against_the_rest_of_it():
    v = venue()
    v.place_order(req(Side.BUY, L, "0.010", cid="entry"))
    v.on_bar("BTCUSDT", 2000, D("60000"), D("60100"), D("58500"), D("59000"))
    [entry] = v.drain_fills()  # filled at the open; the engine places the stop before the close
    v.place_trigger(trig("sl", stop="59000"))
    [stop] = v.drain_fills()
    assert stop.ts == 2000 and stop.price == D("58985.2")
    v.on_mark("BTCUSDT", 2900, D("59000"))  # the close: the next trigger waits for the next bar
    v.place_order(req(Side.BUY, L, "0.010", cid="entry2"))
    v.on_bar("BTCUSDT", 3000, D("59000"), D("59100"), D("58000"), D("58500"))
    v.drain_fills()
    v.on_mark("BTCUSDT", 3900, D("58500"))
    v.place_trigger(trig("sl2", stop="58100"))
    assert v.drain_fills() == []


def test_placing_a_trigger_that_would_fire_at_once_is_refused_like_binance():
    v = venue()
    long_position(v)
    with pytest.raises(BadRequest) as exc:
        v.place_trigger(trig("sl", stop="60500"))  # a sell stop above the price
    assert exc.value.code == "-2021"
    with pytest.raises(BadRequest) as exc:
        v.place_trigger(trig("oco", stop="59000", take="62000"))  # one price per order, as Binance
    with pytest.raises(BadRequest) as exc:
        v.place_trigger(trig("dup", stop="59000"))
        v.place_trigger(trig("dup", stop="58000"))
    assert exc.value.code == "-4116"


def test_cancel_and_snapshot_restore_keep_the_triggers():
    v = venue()
    long_position(v)
    v.place_trigger(trig("sl", stop="59000"))
    v.place_trigger(trig("tp", take="62000"))
    assert v.cancel_trigger("BTCUSDT", "tp").status is TriggerStatus.CANCELED
    assert v.cancel_trigger("BTCUSDT", "tp") is None
    w = venue()
    w.restore(v.snapshot())
    assert [t.client_id for t in w.open_triggers()] == ["sl"] and w.has_working_orders
    w.on_bar("BTCUSDT", 3000, D("59500"), D("59600"), D("58000"), D("58500"))
    assert [f.client_order_id for f in w.drain_fills()] == ["sl"]


def test_market_and_limit_fills_stay_inside_the_bar():
    v = venue(slippage="50")
    v.place_order(req(Side.BUY, L, "0.010", cid="m"))
    v.on_bar("BTCUSDT", 2000, D("60000"), D("60050"), D("59900"), D("60010"))
    [fill] = v.drain_fills()
    assert fill.price == D("60050")  # 50 bps of slippage would be 60300: nothing traded there
    v.on_mark("BTCUSDT", 2900, D("60010"))
    v.place_order(req(Side.BUY, L, "0.010", cid="lim", order_type=OrderType.LIMIT, price=D("59950")))
    v.on_bar("BTCUSDT", 3000, D("59800"), D("60000"), D("59700"), D("59900"))
    [fill] = v.drain_fills()
    assert (fill.price, fill.liquidity) == (D("59800"), "maker")  # opened below the limit: at the open
    assert v.get_order("BTCUSDT", "lim").status is OrderStatus.FILLED
