"""The Binance USD-M adapter (real python-binance client) against the loopback Binance fake."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from execution.exchanges.binance_um import BinanceUM
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
from execution.exchanges.throttle import binance_um_throttler
from execution.models import MarginType, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from tests.fakes.fake_binance import FakeBinance

BTC = "BTCUSDT"


@pytest.fixture
def fake():
    with FakeBinance() as f:
        f.set_book(BTC, [("60000.0", "1"), ("59990.0", "50")], [("60000.1", "0.05"), ("60010.0", "50")])
        f.set_book("ETHUSDT", [("3000.00", "100")], [("3000.01", "100")])
        f.set_book("SOLUSDT", [("150.0000", "1000")], [("150.0100", "1000")])
        yield f


_OPEN: list = []


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    while _OPEN:
        _OPEN.pop().close()


def venue(fake: FakeBinance, **kw) -> BinanceUM:
    kw.setdefault("safe_mode", False)
    kw.setdefault("timeout_s", 1.0)
    kw.setdefault("reconcile_delays_s", (0.0, 0.05))
    v = BinanceUM(kw.pop("key", fake.api_key), kw.pop("secret", fake.api_secret), fake.url, **kw)
    _OPEN.append(v)
    return v


def req(
    side: Side,
    pside: PositionSide,
    qty: str,
    cid: str,
    symbol: str = BTC,
    otype: OrderType = OrderType.MARKET,
    price: str | None = None,
    tif: TimeInForce | None = None,
) -> OrderRequest:
    return OrderRequest(
        "binance_um",
        symbol,
        side,
        pside,
        otype,
        D(qty),
        cid,
        f"intent-{cid}",
        price=D(price) if price else None,
        time_in_force=tif,
    )


def test_hedge_mode_open_and_close_both_sides(fake):
    v = venue(fake)
    assert v.is_dual_side() is True
    long_open = v.place_order(req(Side.BUY, PositionSide.LONG, "0.1", "hfL1"))
    short_open = v.place_order(req(Side.SELL, PositionSide.SHORT, "0.1", "hfS1"))
    assert long_open.status is OrderStatus.FILLED and short_open.status is OrderStatus.FILLED
    # walked the book: 0.05 at the best ask, 0.05 at the next level
    assert long_open.avg_price == (D("0.05") * D("60000.1") + D("0.05") * D("60010")) / D("0.1")
    held = {(p.symbol, p.position_side): p.qty for p in v.positions()}
    assert held == {(BTC, PositionSide.LONG): D("0.1"), (BTC, PositionSide.SHORT): D("0.1")}
    v.place_order(req(Side.SELL, PositionSide.LONG, "0.1", "hfL2"))  # hedge close: no reduceOnly, or -1106
    v.place_order(req(Side.BUY, PositionSide.SHORT, "0.1", "hfS2"))
    assert v.positions() == []
    fills = v.drain_fills()
    assert [(f.client_order_id, f.side, f.position_side, f.qty) for f in fills] == [
        ("hfL1", Side.BUY, PositionSide.LONG, D("0.1")),
        ("hfS1", Side.SELL, PositionSide.SHORT, D("0.1")),
        ("hfL2", Side.SELL, PositionSide.LONG, D("0.1")),
        ("hfS2", Side.BUY, PositionSide.SHORT, D("0.1")),
    ]
    assert all(not f.simulated and f.liquidity == "taker" for f in fills)
    assert fills[0].fee_usdt == fills[0].qty * fills[0].price * fake.commission[1]  # the venue's taker rate
    bodies = [r.body.decode() for r in fake.received if r.path == "/fapi/v1/order"]
    assert len(bodies) == 4 and all(
        "positionSide=" in b and "reduceOnly" not in b and "newOrderRespType=RESULT" in b for b in bodies
    )


def test_reduce_only_in_hedge_mode_maps_to_reduce_only_rejected(fake):
    v = venue(fake)
    with pytest.raises(ReduceOnlyRejected) as exc:  # what Binance says if anyone sends it in hedge mode
        v._call(
            "order:post",
            v.client.futures_create_order,
            mutating=True,
            symbol=BTC,
            side="SELL",
            positionSide="LONG",
            type="MARKET",
            quantity="0.01",
            reduceOnly="true",
            newClientOrderId="x1",
        )
    assert exc.value.code == "-1106"


def test_over_close_and_one_way_account(fake):
    v = venue(fake)
    with pytest.raises(ReduceOnlyRejected) as exc:
        v.place_order(req(Side.SELL, PositionSide.LONG, "0.01", "hfC1"))
    assert exc.value.code == "-2022"
    fake.engine.acct.dual_side = False
    with pytest.raises(PositionSideMismatch) as exc2:
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.01", "hfC2"))
    assert exc2.value.code == "-4061"
    fake.give_position(BTC, "LONG", "0.02", "59000")
    assert v.is_dual_side() is False  # now known one-way: closes go as BOTH + reduceOnly
    assert v.place_order(req(Side.SELL, PositionSide.LONG, "0.02", "hfC3")).status is OrderStatus.FILLED
    assert fake.position_qty(BTC, "LONG") == 0


@pytest.mark.parametrize(
    "symbol,qty,price,code",
    [
        (BTC, "0.0001", None, "-1111"),  # more decimals than the asset allows
        ("SOLUSDT", "1.5", None, "-1111"),
        (BTC, "0.001", None, "-4164"),  # 60 USDT < 100 min notional
        (BTC, "0.01", "60000.05", "-4014"),  # off the 0.10 tick
    ],
)
def test_filter_failures(fake, symbol, qty, price, code):
    v = venue(fake)
    otype = OrderType.LIMIT if price else OrderType.MARKET
    with pytest.raises(FilterFailure) as exc:
        v.place_order(
            req(
                Side.BUY,
                PositionSide.LONG,
                qty,
                "hfF1",
                symbol=symbol,
                otype=otype,
                price=price,
                tif=TimeInForce.GTC if price else None,
            )
        )
    assert exc.value.code == code


def test_insufficient_margin(fake):
    v = venue(fake)
    with pytest.raises(InsufficientMargin) as exc:
        v.place_order(req(Side.BUY, PositionSide.LONG, "5", "hfM1"))  # 300k notional at 20x > 10k wallet
    assert exc.value.code == "-2019"


def test_ioc_partial_fill(fake):
    v = venue(fake)
    order = v.place_order(
        req(Side.BUY, PositionSide.LONG, "0.2", "hfI1", otype=OrderType.LIMIT, price="60005.0", tif=TimeInForce.IOC)
    )
    assert order.status is OrderStatus.EXPIRED and order.filled_qty == D("0.05")
    (fill,) = v.drain_fills()
    assert (fill.qty, fill.price, fill.liquidity) == (D("0.05"), D("60000.1"), "taker")
    assert fake.position_qty(BTC, "LONG") == D("0.05")


def test_post_only_crossing_expires_and_resting_fills_as_maker(fake):
    v = venue(fake)
    crossing = v.place_order(
        req(
            Side.BUY,
            PositionSide.LONG,
            "0.01",
            "hfP1",
            otype=OrderType.LIMIT,
            price="60000.1",
            tif=TimeInForce.POST_ONLY,
        )
    )
    assert crossing.status is OrderStatus.EXPIRED and crossing.reject_code == "-5022"
    resting = v.place_order(
        req(
            Side.BUY,
            PositionSide.LONG,
            "0.01",
            "hfP2",
            otype=OrderType.LIMIT,
            price="59950.0",
            tif=TimeInForce.POST_ONLY,
        )
    )
    assert resting.status is OrderStatus.NEW and [o.client_order_id for o in v.open_orders(BTC)] == ["hfP2"]
    fake.set_book(BTC, [("59900.0", "5")], [("59940.0", "5")])  # the market trades through the bid
    filled = v.get_order(BTC, "hfP2")
    assert filled.status is OrderStatus.FILLED
    (fill,) = v.drain_fills()
    assert (fill.price, fill.liquidity) == (D("59950"), "maker")
    assert fill.fee_usdt == D("0.01") * D("59950") * fake.commission[0]


def test_cancel_and_cancel_all(fake):
    v = venue(fake)
    for i in range(3):
        v.place_order(
            req(
                Side.BUY,
                PositionSide.LONG,
                "0.01",
                f"hfK{i}",
                otype=OrderType.LIMIT,
                price="59000.0",
                tif=TimeInForce.GTC,
            )
        )
    v.place_order(
        req(
            Side.SELL,
            PositionSide.SHORT,
            "0.1",
            "hfK9",
            symbol="ETHUSDT",
            otype=OrderType.LIMIT,
            price="3100.00",
            tif=TimeInForce.GTC,
        )
    )
    assert v.cancel_order(BTC, "hfK0").status is OrderStatus.CANCELED
    assert v.cancel_all(BTC) == 2
    assert [o.symbol for o in v.open_orders()] == ["ETHUSDT"]
    assert v.get_order(BTC, "never-sent") is None


def test_auth_errors(fake):
    with pytest.raises(AuthError) as bad_sig:
        venue(fake, secret="wrong-secret").balance()
    assert bad_sig.value.code == "-1022"
    with pytest.raises(AuthError) as bad_key:
        venue(fake, key="someone-else").balance()
    assert bad_key.value.code == "-2015"


def test_clock_skew_resyncs_and_retries_once(fake, log_lines):
    v = venue(fake)
    v.balance()  # synced to the venue's clock
    fake.clock_offset_ms = 7_000  # the venue's clock moves away (or ours drifts)
    assert v.balance().asset == "USDT"
    assert abs(v.client.timestamp_offset - 7_000) < 500
    assert "CLOCK binance_um code=-1021" in log_lines.getvalue()
    fake.inject(
        "GET",
        "/fapi/v3/balance",
        action="status",
        status=400,
        times=2,
        body=json.dumps({"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."}),
    )
    before = fake.arrived("GET", "/fapi/v3/balance")
    with pytest.raises(ClockSkew):
        v.balance()
    assert fake.arrived("GET", "/fapi/v3/balance") - before == 2  # one retry, not more


@pytest.mark.parametrize("when,action", [("after", "drop"), ("after", "hang"), ("after", "status")])
def test_unknown_outcome_after_accept_is_reconciled_not_resent(fake, when, action, log_lines):
    v = venue(fake, timeout_s=0.3)
    fake.inject("POST", "/fapi/v1/order", when=when, action=action, hang_s=1.0, status=500, body="<html>500</html>")
    order = v.place_order(req(Side.BUY, PositionSide.LONG, "0.02", "hfU1"))
    assert order.status is OrderStatus.FILLED and order.client_order_id == "hfU1"
    assert fake.arrived("POST", "/fapi/v1/order") == 1  # never sent twice
    assert fake.position_qty(BTC, "LONG") == D("0.02")
    (fill,) = v.drain_fills()
    assert fill.qty == D("0.02") and fill.client_order_id == "hfU1"
    assert "ORDER_ERR code=" in log_lines.getvalue() and "RECONCILED" in log_lines.getvalue()


def test_disconnect_before_accept_stays_unknown(fake):
    v = venue(fake)
    fake.inject("POST", "/fapi/v1/order", when="before", action="drop")
    with pytest.raises(UnknownOutcome) as exc:
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.02", "hfU2"))
    assert "not found by client order id" in exc.value.message
    assert fake.arrived("POST", "/fapi/v1/order") == 1 and fake.engine.acct.orders == {}


def test_service_unavailable_is_a_refusal_not_an_unknown(fake):
    v = venue(fake)
    fake.inject("POST", "/fapi/v1/order", when="before", action="status", status=503, body="Service Unavailable.")
    with pytest.raises(VenueUnavailable):
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.02", "hfU3"))
    assert fake.arrived("GET", "/fapi/v1/order") == 0  # nothing to reconcile


def test_duplicate_client_id_returns_the_existing_order(fake):
    v = venue(fake)
    r = req(Side.BUY, PositionSide.LONG, "0.01", "hfD1", otype=OrderType.LIMIT, price="59000.0", tif=TimeInForce.GTC)
    first = v.place_order(r)
    again = v.place_order(r)
    assert again.venue_order_id == first.venue_order_id and len(fake.engine.open_orders()) == 1


def test_rate_limit_backs_off_before_a_ban(log_lines):
    with FakeBinance(weight_limit=16) as fake:  # a small allowance: 5 clock samples + 2 x 5
        v = venue(fake, throttler=binance_um_throttler(max_wait_s=0.2))
        v.positions()
        v.positions()
        with pytest.raises(RateLimited) as exc:
            v.positions()
        assert exc.value.code == "-1003" and exc.value.retry_after_s >= 2
        arrived = len(fake.received)
        for _ in range(5):
            with pytest.raises(RateLimited) as local:
                v.balance()
            assert local.value.code == "LOCAL"
        assert len(fake.received) == arrived  # nothing reached the venue while it asked us to wait
        assert fake.banned_until == 0
        assert "RATE_LIMIT binance_um code=-1003" in log_lines.getvalue()


def test_used_weight_header_feeds_the_throttler(fake):
    v = venue(fake)
    v.positions()
    assert v.throttle.usage("REQUEST_WEIGHT_1M") >= int(fake._weight_headers()["X-MBX-USED-WEIGHT-1M"]) - 1


def test_safe_mode_validates_with_the_test_endpoint(fake, log_lines):
    v = venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.01", "hfT1"))
    assert len(fake.test_orders) == 1 and fake.test_orders[0]["positionSide"] == "LONG"
    assert fake.engine.acct.orders == {} and fake.arrived("POST", "/fapi/v1/order") == 0
    with pytest.raises(FilterFailure):  # the venue still judges the order
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.001", "hfT2"))
    assert "[executor] SAFE_MODE binance_um BTCUSDT BUY positionSide=LONG" in log_lines.getvalue()


def test_dead_man_switch(fake):
    v = venue(fake)
    v.place_order(
        req(Side.BUY, PositionSide.LONG, "0.01", "hfW1", otype=OrderType.LIMIT, price="59000.0", tif=TimeInForce.GTC)
    )
    assert v.arm_cancel_all_after(BTC, 10_000) is True and fake.countdowns[BTC] == 10_000
    fake.expire_countdowns()
    assert v.open_orders(BTC) == []
    assert v.arm_cancel_all_after(BTC, 0) and fake.countdowns[BTC] == 0


def test_account_settings_are_idempotent(fake):
    v = venue(fake)
    assert v.set_dual_side(True) is False  # -4059 "No need to change position side." is success
    assert v.set_margin_type(BTC, MarginType.ISOLATED) is True
    assert v.set_margin_type(BTC, MarginType.ISOLATED) is False  # -4046
    assert v.margin_type(BTC) is MarginType.ISOLATED
    assert v.set_leverage(BTC, 3) is True and v.set_leverage(BTC, 3) is False and v.leverage(BTC) == 3
    fake.give_position(BTC, "LONG", "0.01", "60000")
    with pytest.raises(BadRequest) as exc:
        v.set_dual_side(False)
    assert exc.value.code == "-4068"


def test_reference_data(fake):
    v = venue(fake)
    f = v.filters(BTC)
    assert (f.tick_size, f.step_size, f.min_notional, f.market_max_qty) == (D("0.1"), D("0.001"), D(100), D(120))
    assert v.book_top(BTC).ask == D("60000.1")
    assert v.funding(BTC).funding_rate == fake.funding_rate
    assert v.fees(BTC).taker_rate == fake.commission[1]
    assert abs(v.server_time_ms() - fake.now()) < 1000 and v.ping()
    with pytest.raises(BadRequest):
        v.filters("NOPEUSDT")
