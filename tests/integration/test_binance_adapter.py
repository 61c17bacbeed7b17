"""What only the Binance USD-M adapter does (real python-binance client, loopback Binance fake):
its wire format, the test-order endpoint, the weight headers, bans, account settings' codes.
What both REST adapters must do alike is in venue_contract/test_venue_contract.py."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from execution.exchanges.errors import BadRequest, FilterFailure, RateLimited, ReduceOnlyRejected, SafeModeRefused
from execution.models import MarginType, PositionSide, Side
from tests.fakes.venue_kits import BINANCE, close_venues

BTC = BINANCE.btc
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
req, venue = BINANCE.req, BINANCE.venue


@pytest.fixture
def fake():
    with BINANCE.fake() as f:
        yield f


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()


def _order_bodies(fake) -> list[str]:
    return [r.body.decode() for r in fake.received if r.path == BINANCE.order_path and r.method == "POST"]


def test_hedge_orders_carry_position_side_and_never_reduce_only(fake):
    v = venue(fake)
    v.place_order(req(Side.BUY, LONG, "0.1", "hfL1"))
    v.place_order(req(Side.SELL, SHORT, "0.1", "hfS1"))
    v.place_order(req(Side.SELL, LONG, "0.1", "hfL2"))  # hedge close: no reduceOnly, or -1106
    v.place_order(req(Side.BUY, SHORT, "0.1", "hfS2"))
    bodies = _order_bodies(fake)
    assert len(bodies) == 4 and all(
        "positionSide=" in b and "reduceOnly" not in b and "newOrderRespType=RESULT" in b for b in bodies
    )


def test_one_way_close_goes_as_both_with_reduce_only(fake):
    v = venue(fake)
    fake.engine.acct.dual_side = False
    fake.give_position(BTC, "LONG", "0.02", "59000")
    assert v.is_dual_side() is False
    v.place_order(req(Side.SELL, LONG, "0.02", "hfC3"))
    (body,) = (parse_qs(b) for b in _order_bodies(fake))
    assert body["positionSide"] == ["BOTH"] and body["reduceOnly"] == ["true"]


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


def test_back_off_keeps_clear_of_a_ban():
    with BINANCE.rate_limited_fake() as fake:
        v = venue(fake, throttler=BINANCE.throttler(max_wait_s=0.2))
        v.positions()
        v.positions()
        with pytest.raises(RateLimited):
            v.positions()  # 429 with Retry-After: 2
        for _ in range(10):
            with pytest.raises(RateLimited):
                v.balance()
        assert fake.sent_while_limited == 0 and fake.banned_until == 0  # three more would have meant a 418 ban


def test_used_weight_header_feeds_the_throttler(fake):
    v = venue(fake)
    v.positions()
    assert v.throttle.usage("REQUEST_WEIGHT_1M") >= int(fake._weight_headers()["X-MBX-USED-WEIGHT-1M"]) - 1


def test_safe_mode_validates_with_the_test_endpoint(fake, log_lines):
    v = venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(req(Side.BUY, LONG, "0.01", "hfT1"))
    assert len(fake.test_orders) == 1 and fake.test_orders[0]["positionSide"] == "LONG"
    with pytest.raises(FilterFailure):  # the venue still judges the order
        v.place_order(req(Side.BUY, LONG, "0.0001", "hfT2"))  # finer than the 0.001 step: -1111
    assert "[executor] SAFE_MODE binance_um BTCUSDT BUY positionSide=LONG" in log_lines.getvalue()


def test_dead_man_switch(fake):
    v = venue(fake)
    v.place_order(BINANCE.limit(Side.BUY, LONG, "0.01", "hfW1", "59000.0"))
    assert v.arm_cancel_all_after(BTC, 10_000) is True and fake.countdowns[BTC] == 10_000
    fake.expire_countdowns()
    assert v.open_orders(BTC) == []
    assert v.arm_cancel_all_after(BTC, 0) and fake.countdowns[BTC] == 0


def test_margin_type_and_position_mode_codes(fake):
    v = venue(fake)
    assert v.set_margin_type(BTC, MarginType.ISOLATED) is True
    assert v.set_margin_type(BTC, MarginType.ISOLATED) is False  # -4046 "No need to change margin type."
    assert v.margin_type(BTC) is MarginType.ISOLATED
    fake.give_position(BTC, "LONG", "0.01", "60000")
    with pytest.raises(BadRequest) as exc:
        v.set_dual_side(False)
    assert exc.value.code == "-4068"  # position side cannot change while a position is open
