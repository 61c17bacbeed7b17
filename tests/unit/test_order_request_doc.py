"""OrderRequest.to_doc / from_doc: the one (de)serialisation of an order request (journals, the
arbitrage loop's restart snapshot)."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal as D

import pytest

from execution.models import OrderRequest, OrderType, PositionSide, Side, TimeInForce


def full() -> OrderRequest:
    return OrderRequest(
        "okx_perp",
        "BTC-USDT-SWAP",
        Side.SELL,
        PositionSide.LONG,
        OrderType.LIMIT,
        D("0.0150"),
        "hf-abc",
        "intent-1",
        price=D("60000.10"),
        time_in_force=TimeInForce.POST_ONLY,
        reduce_only=True,
    )


def test_every_field_survives_a_json_round_trip():
    r = full()
    doc = json.loads(json.dumps(r.to_doc()))
    assert set(doc) == {f.name for f in fields(OrderRequest)}
    back = OrderRequest.from_doc(doc)
    assert back == r and back.quantity.as_tuple() == r.quantity.as_tuple()  # "0.0150" keeps its digits
    assert doc["time_in_force"] == "GTX" and doc["price"] == "60000.10"


def test_a_market_request_round_trips_without_price_or_time_in_force():
    r = OrderRequest("binance_um", "BTCUSDT", Side.BUY, PositionSide.SHORT, OrderType.MARKET, D("1"), "c", "i")
    assert r.to_doc()["price"] is None and r.to_doc()["time_in_force"] is None
    assert OrderRequest.from_doc(r.to_doc()) == r


def test_documents_written_before_time_in_force_and_reduce_only_still_load():
    old = full().to_doc()
    del old["time_in_force"], old["reduce_only"]
    r = OrderRequest.from_doc(old)
    assert r.time_in_force is None and r.reduce_only is False and r.price == D("60000.10")


@pytest.mark.parametrize(
    "change,named",
    [({"side": None}, "'side'"), ({"quantity": "lots"}, "bad value"), ({"order_type": "STOP"}, "bad value")],
)
def test_a_bad_document_says_what_is_wrong(change, named):
    doc = full().to_doc()
    for k, v in change.items():
        if v is None:
            del doc[k]
        else:
            doc[k] = v
    with pytest.raises(ValueError, match=named):
        OrderRequest.from_doc(doc)
