"""What only the OKX perp adapter does (real python-okx clients, `domain` pointed at loopback):
the demo flag, sizes in contracts on the wire, batch cancels, per-side leverage, the account-wide
cancel-all-after. What both REST adapters must do alike is in venue_contract/test_venue_contract.py."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from execution.exchanges.errors import AuthError, FilterFailure, SafeModeRefused
from execution.models import MarginType, PositionSide, Side
from tests.fakes.fake_okx import FakeOkx, default_instruments
from tests.fakes.matching import D as FD
from tests.fakes.matching import Instrument
from tests.fakes.venue_kits import OKX, close_venues
from tests.fakes.virtual_time import VirtualClock

BTC, ETH = OKX.btc, OKX.eth
ORDER = OKX.order_path
LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
req, venue = OKX.req, OKX.venue


@pytest.fixture
def fake():
    with OKX.fake() as f:
        yield f


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()


def _order_bodies(fake: FakeOkx) -> list[dict]:
    return [json.loads(r.body) for r in fake.received if r.path == ORDER and r.method == "POST"]


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


def test_orders_go_out_in_contracts_with_pos_side_and_td_mode(fake):
    v = venue(fake, margin_type=MarginType.ISOLATED)
    v.place_order(req(Side.BUY, LONG, "0.1", "hfL1"))  # 10 contracts of 0.01 BTC
    v.place_order(req(Side.SELL, SHORT, "0.5", "hfS1", symbol=ETH))
    assert fake.position_contracts(BTC, "LONG") == D(10) and fake.position_contracts(ETH, "SHORT") == D(5)
    v.place_order(req(Side.SELL, LONG, "0.1", "hfL2"))
    v.place_order(req(Side.BUY, SHORT, "0.5", "hfS2", symbol=ETH))
    bodies = _order_bodies(fake)
    assert [(b_["side"], b_["posSide"], b_["sz"], b_["tdMode"]) for b_ in bodies] == [
        ("buy", "long", "10", "isolated"),
        ("sell", "short", "5", "isolated"),
        ("sell", "long", "10", "isolated"),
        ("buy", "short", "5", "isolated"),
    ]
    assert all(not b_.get("reduceOnly") for b_ in bodies)


def test_net_mode_close_goes_without_pos_side_with_reduce_only(fake):
    v = venue(fake)
    fake.long_short = False
    fake.give_position(BTC, "LONG", "3", "59000")
    assert v.is_dual_side() is False
    v.place_order(req(Side.SELL, LONG, "0.03", "hfN2"))
    (body,) = _order_bodies(fake)
    assert not body.get("posSide") and body["reduceOnly"] == "true" and body["sz"] == "3"  # python-okx sends ""


def test_min_size_of_an_instrument_with_a_large_ct_val():
    odd = Instrument("XRP-USDT-SWAP", FD("0.0001"), FD("0.01"), FD("1"), FD("1000000"), FD("10000"), ct_val=FD("100"))
    with OKX.fake(instruments=default_instruments() + [odd]) as fake:
        fake.set_book("XRP-USDT-SWAP", [("0.5000", "10000")], [("0.5001", "10000")])
        v = venue(fake)
        with pytest.raises(FilterFailure) as too_small:  # 50 XRP = 0.5 contract < minSz 1
            v.place_order(req(Side.BUY, LONG, "50", "hfZ1", symbol="XRP-USDT-SWAP"))
        assert too_small.value.code == "51020"


def test_safe_mode_refuses_without_sending(fake, log_lines):
    v = venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        v.place_order(req(Side.BUY, LONG, "0.01", "hfT1"))
    assert "[executor] SAFE_MODE okx_perp BTC-USDT-SWAP buy posSide=long sz=1" in log_lines.getvalue()


def test_cancel_all_in_batches_and_cancel_one(fake):
    v = venue(fake)
    for i in range(23):
        v.place_order(OKX.limit(Side.BUY, LONG, "0.01", f"hfK{i}", "59000.0"))
    assert v.cancel_order(BTC, "hfK0").status.value == "CANCELED"
    assert v.cancel_all(BTC) == 22
    assert fake.arrived("POST", "/api/v5/trade/cancel-batch-orders") == 2
    assert v.open_orders() == [] and v.get_order(BTC, "never") is None


def test_dead_man_switch_seconds(fake):
    vc = VirtualClock()
    v = venue(fake, throttler=OKX.throttler(clock=vc, sleep=vc.sleep))
    assert v.arm_cancel_all_after(BTC, 5_000) and fake.cancel_all_after_s == 10  # OKX minimum
    assert v.arm_cancel_all_after(BTC, 60_500) and fake.cancel_all_after_s == 61
    assert v.arm_cancel_all_after(BTC, 600_000) and fake.cancel_all_after_s == 120
    assert v.arm_cancel_all_after(BTC, 0) and fake.cancel_all_after_s == 0
    assert vc.skipped >= 2.5  # OKX allows one call per second: the throttler spaced them


def test_leverage_per_side_in_isolated_hedge_mode(fake):
    v = venue(fake, margin_type=MarginType.ISOLATED)
    assert v.set_leverage(BTC, 3) is True
    assert fake.leverage[(BTC, "isolated", "long")] == 3 and fake.leverage[(BTC, "isolated", "short")] == 3
    cross = venue(fake, margin_type=MarginType.CROSS)
    assert cross.set_leverage(BTC, 4) is True and fake.leverage[(BTC, "cross", "")] == 4


def test_inverse_swaps_are_skipped(fake):
    v = venue(fake)
    assert "BTC-USD-SWAP" not in v.refresh_filters()  # the inverse swap in the listing is skipped
