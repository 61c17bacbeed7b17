"""Complete order execution through the order router and the real adapters against their fakes:
orders above the market max are split (each child its own client order id), a partially filled
market order's remainder is sent again a bounded number of times and then reported, and an
entry refused for margin is cut back (halved, bounded, never below the minimum notional)."""

from __future__ import annotations

import json
from decimal import Decimal as D
from urllib.parse import parse_qs

import pytest

from execution.control import ControlState
from execution.models import Intent, PositionSide, Side
from execution.router import OrderRouter
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.fakes.matching import Instrument
from tests.fakes.venue_kits import BINANCE, OKX, close_venues

LONG = PositionSide.LONG


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()


def router(venue, **kw):
    alerts: list[tuple] = []
    trips: list[tuple] = []
    r = OrderRouter(
        {venue.name: venue},
        ControlState(),
        lambda *a: trips.append(a),
        max_orders_per_min=100,
        max_cancels_per_min=100,
        alert=lambda *a, **f: alerts.append(a),
        **kw,
    )
    return r, alerts


def intent(venue: str, symbol: str, qty: str, side=Side.BUY, ref="60000", reduce=False) -> Intent:
    return Intent(f"{venue}:{symbol}:1:entry", 1, venue, symbol, side, LONG, "entry", D(qty), D(ref), reduce)


def settle_all(r, venue) -> list:
    """What the engine does on every fill: book it, then settle its order."""
    fills = []
    while batch := venue.drain_fills():
        for f in batch:
            fills.append(f)
            r.settle(f.client_order_id)
    return fills


def binance_sent(fake) -> list[dict]:
    return [
        {k: v[0] for k, v in parse_qs(r.body.decode()).items()}
        for r in fake.received
        if r.path == "/fapi/v1/order" and r.method == "POST"
    ]


def test_binance_order_above_market_lot_size_goes_as_children_with_their_own_ids():
    btc = Instrument("BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("1000"), D("0.05"), D("5"))
    with FakeBinance(instruments=[btc]) as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        v = BINANCE.venue(fb)
        r, _ = router(v)
        cid = r.submit(intent("binance_um", "BTCUSDT", "0.12"), "entry", "screener")
        sent = binance_sent(fb)
        assert [s["quantity"] for s in sent] == ["0.05", "0.05", "0.02"]
        assert len({s["newClientOrderId"] for s in sent}) == 3 and cid == sent[0]["newClientOrderId"]
        assert sum(f.qty for f in settle_all(r, v)) == D("0.12") and fb.position_qty("BTCUSDT", "LONG") == D("0.12")


def test_okx_order_above_max_market_size_goes_as_children():
    btc = Instrument("BTC-USDT-SWAP", D("0.1"), D("0.01"), D("0.01"), D("100000000"), D("5"), ct_val=D("0.01"))
    with FakeOkx(instruments=[btc], demo=False) as fo:
        fo.set_book("BTC-USDT-SWAP", [("60000.0", "1000")], [("60000.1", "1000")])
        v = OKX.venue(fo)
        r, _ = router(v)
        r.submit(intent("okx_perp", "BTC-USDT-SWAP", "0.12"), "entry", "screener")
        sizes = [json.loads(x.body)["sz"] for x in fo.received if x.path == OKX.order_path and x.method == "POST"]
        assert sizes == ["5", "5", "2"]  # contracts: 0.05 + 0.05 + 0.02 BTC, maxMktSz 5
        assert sum(f.qty for f in settle_all(r, v)) == D("0.12")


def test_partial_market_fill_remainder_is_retried_a_bounded_number_of_times_then_reported():
    with FakeBinance() as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "0.01")])  # 0.01 BTC on offer each time
        v = BINANCE.venue(fb)
        r, alerts = router(v, remainder_retries=2)
        r.submit(intent("binance_um", "BTCUSDT", "0.05"), "entry", "screener")
        fills = settle_all(r, v)
        assert [s["quantity"] for s in binance_sent(fb)] == ["0.05", "0.04", "0.03"]  # the order, 2 retries
        assert len({f.client_order_id for f in fills}) == 3 and sum(f.qty for f in fills) == D("0.03")
        [(alert_id, _ts, kind, text)] = alerts
        assert kind == "remainder_unfilled" and "0.02 of 0.03" in text and r.in_flight == {}


def test_partial_fill_remainder_completes_when_the_book_refills():
    with FakeBinance() as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "0.03")])
        v = BINANCE.venue(fb)
        r, alerts = router(v, remainder_retries=2)
        r.submit(intent("binance_um", "BTCUSDT", "0.05"), "entry", "screener")
        fills = settle_all(r, v)
        assert [f.qty for f in fills] == [D("0.03"), D("0.02")] and alerts == []
        assert fb.position_qty("BTCUSDT", "LONG") == D("0.05")


def test_margin_rejection_cuts_the_entry_back_with_an_alert():
    with FakeBinance(wallet="100") as fb:  # 20x: 100 USDT carries 2,000 USDT of notional
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        v = BINANCE.venue(fb)
        r, alerts = router(v, cutback_max=3)
        cid = r.submit(intent("binance_um", "BTCUSDT", "0.05"), "entry", "screener")
        assert [s["quantity"] for s in binance_sent(fb)] == ["0.05", "0.025"]  # 3,000 refused (-2019), 1,500 taken
        assert cid == binance_sent(fb)[1]["newClientOrderId"] and fb.position_qty("BTCUSDT", "LONG") == D("0.025")
        [(_id, _ts, kind, text)] = alerts
        assert kind == "size_cutback" and "code=-2019" in text and "0.05 -> 0.025" in text


def test_cut_back_is_bounded_and_never_goes_below_the_minimum_notional():
    with FakeBinance(wallet="1") as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        v = BINANCE.venue(fb)
        r, alerts = router(v, cutback_max=5)
        assert r.submit(intent("binance_um", "BTCUSDT", "0.01"), "entry", "screener") is None
        sent = [s["quantity"] for s in binance_sent(fb)]
        # the next half, 0.0005 BTC, is below the 0.001 step (and its 30 USDT below the 50 USDT minimum)
        assert sent == ["0.01", "0.005", "0.002", "0.001"]
        assert "nothing smaller allowed" in alerts[-1][3]
        r2, alerts2 = router(v, cutback_max=1)
        r2.submit(intent("binance_um", "BTCUSDT", "0.01"), "entry", "screener")
        assert len(binance_sent(fb)) == len(sent) + 2 and len(alerts2) == 1  # one cut-back, then it stops


def test_closing_orders_are_never_cut_back():
    with FakeBinance(wallet="1") as fb:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        v = BINANCE.venue(fb)
        r, alerts = router(v)
        assert (
            r.submit(intent("binance_um", "BTCUSDT", "0.05", side=Side.SELL, reduce=True), "exit", "screener") is None
        )
        assert len(binance_sent(fb)) == 1 and alerts == []  # -2022 nothing to close: not a size problem
