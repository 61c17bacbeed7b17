"""The OKX perp adapter (real python-okx clients, `domain` pointed at loopback) against the OKX fake."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from execution.exchanges.errors import (
    AuthError,
    FilterFailure,
    InsufficientMargin,
    PositionSideMismatch,
    RateLimited,
    ReduceOnlyRejected,
    SafeModeRefused,
    UnknownOutcome,
)
from execution.exchanges.okx_perp import OkxPerp
from execution.exchanges.throttle import okx_perp_throttler
from execution.models import MarginType, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from tests.fakes.fake_okx import FakeOkx, default_instruments
from tests.fakes.matching import D as FD
from tests.fakes.matching import Instrument
from tests.fakes.virtual_time import VirtualClock

BTC = "BTC-USDT-SWAP"
ORDER = "/api/v5/trade/order"


def _books(f: FakeOkx) -> None:
    f.set_book(BTC, [("60000.0", "100"), ("59990.0", "5000")], [("60000.1", "5"), ("60010.0", "5000")])
    f.set_book("ETH-USDT-SWAP", [("3000.00", "10000")], [("3000.01", "10000")])
    f.set_book("SOL-USDT-SWAP", [("150.00", "10000")], [("150.01", "10000")])


@pytest.fixture
def fake():
    with FakeOkx(demo=False) as f:
        _books(f)
        yield f


_OPEN: list = []


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    while _OPEN:
        _OPEN.pop().close()


def venue(fake: FakeOkx, **kw) -> OkxPerp:
    kw.setdefault("safe_mode", False)
    kw.setdefault("timeout_s", 1.0)
    kw.setdefault("reconcile_delays_s", (0.0, 0.05))
    kw.setdefault("demo", fake.demo)
    v = OkxPerp(
        kw.pop("key", fake.api_key),
        kw.pop("secret", fake.api_secret),
        kw.pop("passphrase", fake.passphrase),
        domain=fake.url,
        **kw,
    )
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
        "okx_perp",
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


def test_live_sends_flag_0_and_demo_flag_1():
    for demo in (False, True):
        with FakeOkx(demo=demo) as fake:
            v = venue(fake)
            assert v.balance().asset == "USDT"
            flags = {r.header("x-simulated-trading") for r in fake.received}
            assert flags == {"1" if demo else "0"}
            wrong = venue(fake, demo=not demo)
            with pytest.raises(AuthError) as exc:
                wrong.balance()
            assert exc.value.code == "50101"


def test_hedge_round_trip_in_base_units(fake):
    v = venue(fake, margin_type=MarginType.ISOLATED)
    assert v.is_dual_side() is True
    opened = v.place_order(req(Side.BUY, PositionSide.LONG, "0.1", "hfL1"))  # 10 contracts of 0.01 BTC
    v.place_order(req(Side.SELL, PositionSide.SHORT, "0.5", "hfS1", symbol="ETH-USDT-SWAP"))
    assert opened.status is OrderStatus.FILLED and opened.filled_qty == D("0.1")
    assert fake.position_contracts(BTC, "LONG") == D(10) and fake.position_contracts("ETH-USDT-SWAP", "SHORT") == D(5)
    held = {(p.symbol, p.position_side): p.qty for p in v.positions()}
    assert held == {(BTC, PositionSide.LONG): D("0.1"), ("ETH-USDT-SWAP", PositionSide.SHORT): D("0.5")}
    v.place_order(req(Side.SELL, PositionSide.LONG, "0.1", "hfL2"))
    v.place_order(req(Side.BUY, PositionSide.SHORT, "0.5", "hfS2", symbol="ETH-USDT-SWAP"))
    assert v.positions() == []
    fills = v.drain_fills()
    assert [(f.client_order_id, f.qty) for f in fills] == [
        ("hfL1", D("0.1")),
        ("hfS1", D("0.5")),
        ("hfL2", D("0.1")),
        ("hfS2", D("0.5")),
    ]
    # 5 contracts at 60000.1 and 5 at 60010, fee as OKX charged it (0.05% taker)
    assert fills[0].price == (D("0.05") * D("60000.1") + D("0.05") * D("60010")) / D("0.1")
    assert fills[0].fee_usdt == fills[0].qty * fills[0].price * D("0.0005")
    bodies = [json.loads(r.body) for r in fake.received if r.path == ORDER and r.method == "POST"]
    assert [(b_["side"], b_["posSide"], b_["sz"], b_["tdMode"]) for b_ in bodies] == [
        ("buy", "long", "10", "isolated"),
        ("sell", "short", "5", "isolated"),
        ("sell", "long", "10", "isolated"),
        ("buy", "short", "5", "isolated"),
    ]
    assert all(not b_.get("reduceOnly") for b_ in bodies)


def test_net_mode_account(fake):
    v = venue(fake)
    fake.long_short = False
    with pytest.raises(PositionSideMismatch):
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.01", "hfN1"))
    fake.give_position(BTC, "LONG", "3", "59000")
    assert v.is_dual_side() is False
    assert v.place_order(req(Side.SELL, PositionSide.LONG, "0.03", "hfN2")).status is OrderStatus.FILLED
    assert fake.position_contracts(BTC, "LONG") == 0


def test_size_errors():
    odd = Instrument("XRP-USDT-SWAP", FD("0.0001"), FD("0.01"), FD("1"), FD("1000000"), FD("10000"), ct_val=FD("100"))
    with FakeOkx(demo=False, instruments=default_instruments() + [odd]) as fake:
        _books(fake)
        fake.set_book("XRP-USDT-SWAP", [("0.5000", "10000")], [("0.5001", "10000")])
        v = venue(fake)
        with pytest.raises(FilterFailure) as too_small:  # 50 XRP = 0.5 contract < minSz 1
            v.place_order(req(Side.BUY, PositionSide.LONG, "50", "hfZ1", symbol="XRP-USDT-SWAP"))
        assert too_small.value.code == "51020"
        posted = fake.arrived("POST", ORDER)
        with pytest.raises(FilterFailure) as partial_lot:  # 0.0005 BTC = 0.05 contract... ok; 0.00005 is not
            v.place_order(req(Side.BUY, PositionSide.LONG, "0.00005", "hfZ2"))
        assert partial_lot.value.code == "51121" and fake.arrived("POST", ORDER) == posted  # refused before sending
        with pytest.raises(FilterFailure) as tick:
            v.place_order(
                req(
                    Side.BUY,
                    PositionSide.LONG,
                    "0.01",
                    "hfZ3",
                    otype=OrderType.LIMIT,
                    price="60000.05",
                    tif=TimeInForce.GTC,
                )
            )
        assert tick.value.code == "51000"


def test_margin_and_over_close(fake):
    v = venue(fake)
    with pytest.raises(InsufficientMargin) as exc:
        v.place_order(req(Side.BUY, PositionSide.LONG, "5", "hfM1"))
    assert exc.value.code == "51008"
    with pytest.raises(ReduceOnlyRejected) as nothing:
        v.place_order(req(Side.SELL, PositionSide.LONG, "0.01", "hfM2"))
    assert nothing.value.code == "51169"
    fake.give_position(BTC, "SHORT", "2", "60000")
    with pytest.raises(ReduceOnlyRejected) as too_much:
        v.place_order(req(Side.BUY, PositionSide.SHORT, "0.03", "hfM3"))
    assert too_much.value.code == "51112"


def test_ioc_partial_and_post_only(fake):
    v = venue(fake)
    ioc = v.place_order(
        req(Side.BUY, PositionSide.LONG, "0.2", "hfI1", otype=OrderType.LIMIT, price="60005.0", tif=TimeInForce.IOC)
    )
    assert ioc.status is OrderStatus.CANCELED and ioc.filled_qty == D("0.05")
    (fill,) = v.drain_fills()
    assert (fill.qty, fill.price) == (D("0.05"), D("60000.1"))
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
    assert crossing.status is OrderStatus.CANCELED and crossing.filled_qty == 0
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
    assert resting.status is OrderStatus.NEW
    fake.set_book(BTC, [("59900.0", "500")], [("59940.0", "500")])
    assert v.get_order(BTC, "hfP2").status is OrderStatus.FILLED
    (maker,) = v.drain_fills()
    assert (maker.price, maker.liquidity, maker.fee_usdt) == (D("59950"), "maker", D("0.01") * D("59950") * D("0.0002"))


def test_clock_skew_resync(fake, log_lines):
    vc = VirtualClock()  # the resync's 5 extra time samples wait for room on OKX's 10/2s limit
    v = venue(fake, throttler=okx_perp_throttler(clock=vc, sleep=vc.sleep))
    v.balance()
    fake.clock_offset_ms = 45_000  # beyond OKX's 30 s window
    assert v.balance().asset == "USDT"
    assert "CLOCK okx_perp code=50102" in log_lines.getvalue()


def test_auth_errors(fake):
    with pytest.raises(AuthError) as bad_pass:
        venue(fake, passphrase="nope").balance()
    assert bad_pass.value.code == "50105"
    with pytest.raises(AuthError) as bad_sign:
        venue(fake, secret="nope").balance()
    assert bad_sign.value.code == "50113"


def test_rate_limited_then_local_back_off():
    with FakeOkx(demo=False, limits_per_2s={"/api/v5/account/positions": 2}) as fake:
        _books(fake)
        v = venue(fake, throttler=okx_perp_throttler(max_wait_s=0.1))
        v.positions()
        v.positions()
        with pytest.raises(RateLimited) as exc:
            v.positions()
        assert exc.value.code == "50011"
        arrived = len(fake.received)
        with pytest.raises(RateLimited) as local:
            v.balance()
        assert local.value.code == "LOCAL" and len(fake.received) == arrived


@pytest.mark.parametrize("action", ["drop", "hang", "status"])
def test_unknown_outcome_after_accept_is_reconciled(fake, action):
    v = venue(fake, timeout_s=0.3)
    fake.inject("POST", ORDER, when="after", action=action, hang_s=1.0, status=502, body="<html>bad gateway</html>")
    order = v.place_order(req(Side.BUY, PositionSide.LONG, "0.02", "hfU1"))
    assert order.status is OrderStatus.FILLED and fake.arrived("POST", ORDER) == 1
    assert [f.qty for f in v.drain_fills()] == [D("0.02")]


def test_disconnect_before_accept_stays_unknown(fake):
    v = venue(fake)
    fake.inject("POST", ORDER, when="before", action="drop")
    with pytest.raises(UnknownOutcome):
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.02", "hfU2"))
    assert fake.arrived("POST", ORDER) == 1 and fake.engine.acct.orders == {}


def test_duplicate_client_id_returns_existing(fake):
    v = venue(fake)
    r = req(Side.BUY, PositionSide.LONG, "0.01", "hfD1", otype=OrderType.LIMIT, price="59000.0", tif=TimeInForce.GTC)
    first = v.place_order(r)
    assert v.place_order(r).venue_order_id == first.venue_order_id and len(fake.engine.open_orders()) == 1


def test_safe_mode_refuses_without_sending(fake, log_lines):
    v = venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(req(Side.BUY, PositionSide.LONG, "0.01", "hfT1"))
    assert fake.arrived("POST", ORDER) == 0
    assert "[executor] SAFE_MODE okx_perp BTC-USDT-SWAP buy posSide=long sz=1" in log_lines.getvalue()


def test_cancel_all_in_batches_and_cancel_one(fake):
    v = venue(fake)
    for i in range(23):
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
    assert v.cancel_order(BTC, "hfK0").status is OrderStatus.CANCELED
    assert v.cancel_all(BTC) == 22
    assert fake.arrived("POST", "/api/v5/trade/cancel-batch-orders") == 2
    assert v.open_orders() == [] and v.get_order(BTC, "never") is None


def test_dead_man_switch_seconds(fake):
    vc = VirtualClock()
    v = venue(fake, throttler=okx_perp_throttler(clock=vc, sleep=vc.sleep))
    assert v.arm_cancel_all_after(BTC, 5_000) and fake.cancel_all_after_s == 10  # OKX minimum
    assert v.arm_cancel_all_after(BTC, 60_500) and fake.cancel_all_after_s == 61
    assert v.arm_cancel_all_after(BTC, 600_000) and fake.cancel_all_after_s == 120
    assert v.arm_cancel_all_after(BTC, 0) and fake.cancel_all_after_s == 0
    assert vc.skipped >= 2.5  # OKX allows one call per second: the throttler spaced them


def test_leverage_per_side_in_isolated_hedge_mode(fake):
    v = venue(fake, margin_type=MarginType.ISOLATED)
    assert v.set_leverage(BTC, 3) is True and v.set_leverage(BTC, 3) is False and v.leverage(BTC) == 3
    assert fake.leverage[(BTC, "isolated", "long")] == 3 and fake.leverage[(BTC, "isolated", "short")] == 3
    cross = venue(fake, margin_type=MarginType.CROSS)
    assert cross.set_leverage(BTC, 4) is True and fake.leverage[(BTC, "cross", "")] == 4
    assert v.set_dual_side(True) is False


def test_reference_data(fake):
    v = venue(fake)
    f = v.filters(BTC)
    assert (f.contract_value, f.step_size, f.min_qty) == (D("0.01"), D("0.0001"), D("0.0001"))
    top = v.book_top(BTC)
    assert (top.bid, top.bid_qty, top.ask, top.ask_qty) == (D("60000"), D(1), D("60000.1"), D("0.05"))
    fi = v.funding(BTC)
    assert fi.funding_rate == fake.funding_rate and fi.mark_price == D("60000.05")
    assert v.fees(BTC).taker_rate == D("0.0005")
    assert "BTC-USD-SWAP" not in v.refresh_filters()  # the inverse swap in the listing is skipped
