"""The maker (post-only) arbitrage leg against real paper venues: it goes first at our side of the
maker venue's book; filled, the other leg follows as a market order; refused for crossing or not
filled within maker_timeout_ms, a market fallback takes what it did not fill, with the other leg."""

from __future__ import annotations

from decimal import Decimal

import pytest

from execution.arb.attempt import LegState, Phase
from execution.models import OrderType, PositionSide, Side, TimeInForce
from tests.support.arb_harness import BIN, OKX, Harness

WIDE = (60000, 60300)  # OKX 50 bps rich: long Binance / short OKX


@pytest.fixture
def h(tmp_path):
    harness = Harness(tmp_path, prefer_maker=True, maker_venue=BIN, maker_timeout_ms=7_000)
    harness.warm()
    yield harness
    harness.close()


def nothing_sent_twice(h) -> None:
    """Every order its own client id, each reached the venue once; the maker leg and its fallback
    are two orders for one leg by design (the first cancelled or short), never more."""
    for name, v in h.venues.items():
        cids = [r.client_order_id for r in v.requests]
        assert len(cids) == len(set(cids)), f"{name}: a client order id sent twice"
        placed = [r.client_order_id for r in v.placed]
        assert len(placed) == len(set(placed)), f"{name}: an order reached the venue twice"
        opens = [r for r in v.requests if not r.is_closing]
        assert len(opens) <= 2 and (len(opens) < 2 or opens[0].order_type is OrderType.LIMIT)


def attempt(h):
    [a] = h.loop.attempts.values()
    return a


def test_maker_leg_goes_first_post_only_at_the_bid_and_the_other_leg_waits(h):
    h.market(*WIDE)
    a = attempt(h)
    maker, taker = a.legs
    r = maker.request
    assert (r.venue, r.side, r.order_type, r.time_in_force) == (BIN, Side.BUY, OrderType.LIMIT, TimeInForce.POST_ONLY)
    assert r.price == h._book(BIN, "BTCUSDT").bid  # joins the bid: it rests, it does not cross
    assert maker.state is LegState.WORKING and taker.state is LegState.PLANNED
    assert h.venues[OKX].requests == []


def test_filled_maker_leg_then_the_taker_leg_hedges_it(h):
    h.market(*WIDE)
    h.market(59_990, 60_300, books=False)  # the price trades through our bid: the maker leg fills
    a = attempt(h)
    assert a.legs[0].state is LegState.FINAL and a.legs[0].filled == Decimal("0.09")
    [okx] = h.venues[OKX].requests
    assert (okx.order_type, okx.side, okx.position_side, okx.quantity) == (
        OrderType.MARKET,
        Side.SELL,
        PositionSide.SHORT,
        Decimal("0.09"),
    )
    h.settle(2)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    [pair] = h.loop.open_pairs.values()
    maker_fill = a.legs[0]
    fees = h.paper[BIN].fees("BTCUSDT")
    assert pair.long.fees_usdt == maker_fill.filled * maker_fill.avg_price * fees.maker_rate
    assert not [r for r in h.venues[BIN].requests if r.order_type is OrderType.MARKET]  # no fallback needed
    h.assert_nothing_sent_twice()


def test_unfilled_maker_leg_is_cancelled_at_the_timeout_and_a_taker_fallback_goes_with_the_other_leg(h):
    h.market(*WIDE)
    a = attempt(h)
    h.market(60_000, 60_300, books=False)  # 5 s: the bid is not reached, still working
    assert a.legs[0].state is LegState.WORKING and h.venues[OKX].requests == []
    h.market(60_000, 60_300, books=False)  # 10 s > maker_timeout_ms: cancel, then both go as market orders
    names = [leg.name for leg in a.legs]
    assert names == ["long:maker", "short", "long:taker"] and a.legs[0].status == "CANCELED"
    fallback = [r for r in h.venues[BIN].requests if r.order_type is OrderType.MARKET]
    assert [(r.side, r.quantity) for r in fallback] == [(Side.BUY, Decimal("0.09"))]
    h.settle(2)
    assert a.phase is Phase.DONE
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    assert "not filled within 7000 ms" in " ".join(a.events)
    nothing_sent_twice(h)


def test_partly_filled_maker_leg_falls_back_for_the_rest_only(h):
    h.venues[BIN].fail_next("partial", fraction="0.5")
    h.market(*WIDE)
    h.market(59_990, 60_300, books=False)  # the venue fills half and expires the rest
    a = attempt(h)
    fallback = [r for r in h.venues[BIN].requests if r.order_type is OrderType.MARKET]
    assert [r.quantity for r in fallback] == [Decimal("0.045")]
    [okx] = h.venues[OKX].requests
    assert okx.quantity == Decimal("0.09")
    h.settle(2)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    assert a.phase is Phase.DONE
    nothing_sent_twice(h)


def test_a_post_only_that_would_cross_falls_back_at_once(h, monkeypatch):
    ask = h._book(BIN, "BTCUSDT").ask
    monkeypatch.setattr(h.loop, "_quote", lambda venue, symbol, side: ask + 10)  # the book moved meanwhile
    h.market(*WIDE)
    a = attempt(h)
    assert a.legs[0].status == "EXPIRED" and [leg.name for leg in a.legs] == ["long:maker", "short", "long:taker"]
    assert len(h.venues[OKX].requests) == 1  # sent in the same instant, no waiting on a refused maker order
    h.settle(2)
    assert h.positions() == {(BIN, "LONG"): Decimal("0.09"), (OKX, "SHORT"): Decimal("0.09")}
    nothing_sent_twice(h)
