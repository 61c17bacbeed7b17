"""Protective orders on both real REST adapters against their loopback fakes, in base units:
Binance's Algo Service (one STOP_MARKET / TAKE_PROFIT_MARKET per price) and OKX's algo orders
(one `oco`). The fakes fire them when their mark crosses; the venue closes the position by
itself and the adapter books that close once, also after a restart."""

from __future__ import annotations

import json
from decimal import Decimal as D
from urllib.parse import parse_qs

import pytest

from execution.exchanges.errors import BadRequest, SafeModeRefused
from execution.models import PositionSide, Side
from execution.triggers import TriggerRequest, TriggerStatus, WorkingType
from tests.fakes.venue_kits import BINANCE, OKX

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT
ALGO_PATH = {BINANCE.name: "/fapi/v1/algoOrder", OKX.name: "/api/v5/trade/order-algo"}


def protect(kit, v, qty="0.1", pside=LONG, stop="59000", take="61000", tag="a", working=WorkingType.MARK):
    """The orders a Protection would place: both prices in one order where the venue has an OCO."""
    reqs = [TriggerRequest(kit.name, kit.btc, pside, D(qty), f"hfp{tag}o", "intent:protect", D(stop), D(take), working)]
    if not v.native_oco:
        reqs = [
            TriggerRequest(kit.name, kit.btc, pside, D(qty), f"hfp{tag}s", "intent:protect", D(stop), None, working),
            TriggerRequest(kit.name, kit.btc, pside, D(qty), f"hfp{tag}t", "intent:protect", None, D(take), working),
        ]
    return [v.place_trigger(r) for r in reqs]


def crash_to(kit, fake, price: str) -> None:
    kit.set_book(fake, kit.btc, [(price, "50")], [(str(D(price) + D("0.1")), "50")])


def test_protective_orders_rest_on_the_venue_with_the_position_side_and_quantity(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "LONG", "0.1", "60000")
    placed = protect(kit, v)
    mine = {t.client_id: t for t in v.open_triggers()}
    assert set(mine) == {t.client_id for t in placed} and len(mine) == (1 if v.native_oco else 2)
    for t in mine.values():
        assert (t.side, t.position_side, t.quantity, t.status) == (Side.SELL, LONG, D("0.1"), TriggerStatus.OPEN)
        assert t.working is WorkingType.MARK
    assert {t.stop_price for t in mine.values()} - {None} == {D(59000)}
    assert {t.take_price for t in mine.values()} - {None} == {D(61000)}
    sent = [r for r in fake.received if r.path == ALGO_PATH[kit.name] and r.method == "POST"]
    for r in sent:  # hedge mode: the position side, never reduce-only
        body = parse_qs(r.body.decode()) if kit is BINANCE else json.loads(r.body)
        assert "reduceOnly" not in body or body["reduceOnly"] in ("", False)
        if kit is BINANCE:
            assert body["positionSide"] == ["LONG"] and body["workingType"] == ["MARK_PRICE"]
            assert body["algoType"] == ["CONDITIONAL"] and body["type"][0] in ("STOP_MARKET", "TAKE_PROFIT_MARKET")
        else:
            assert body["posSide"] == "long" and body["ordType"] == "oco" and body["sz"] == "10"  # contracts
            assert (body["slOrdPx"], body["tpOrdPx"], body["slTriggerPxType"]) == ("-1", "-1", "mark")


def test_the_venue_closes_the_position_itself_and_the_close_is_booked_once(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "LONG", "0.1", "60000")
    placed = protect(kit, v)
    stop = next(t for t in placed if t.stop_price is not None)
    crash_to(kit, fake, "58900.0")  # the fake's mark crosses the stop: the venue acts alone
    assert kit.position(fake, kit.btc, "LONG") == 0
    fired = v.get_trigger(kit.btc, stop.client_id)
    assert fired.status is TriggerStatus.FINISHED and fired.fired == "stop" and fired.filled_qty == D("0.1")
    [fill] = v.drain_fills()
    assert (fill.client_order_id, fill.side, fill.position_side, fill.qty, fill.price) == (
        stop.client_id,
        Side.SELL,
        LONG,
        D("0.1"),
        D("58900.0"),
    )
    assert fill.intent_id == "intent:protect" and fill.fee_usdt > 0
    v.get_trigger(kit.btc, stop.client_id)
    assert v.drain_fills() == []  # seen again: nothing new to book
    left = v.open_triggers()
    if v.native_oco:
        assert left == []  # OKX's oco: the take-profit went with the stop
    else:
        [take] = left  # Binance has no OCO: the caller cancels the sibling
        assert v.cancel_trigger(kit.btc, take.client_id).status is TriggerStatus.CANCELED
        assert v.cancel_trigger(kit.btc, take.client_id) is None and v.open_triggers() == []


def test_after_a_restart_the_close_is_booked_by_the_new_process(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "SHORT", "0.1", "60000")
    placed = protect(kit, v, pside=SHORT, stop="60500", take="58000")
    stop = next(t for t in placed if t.stop_price is not None)
    v.close()  # the executor dies
    kit.set_book(fake, kit.btc, [("60600.0", "50")], [("60600.1", "50")])
    assert kit.position(fake, kit.btc, "SHORT") == 0
    w = kit.venue(fake)
    assert w.get_trigger(kit.btc, stop.client_id).status is TriggerStatus.FINISHED
    assert w.drain_fills() == []  # not ours until told: reconciliation decides
    w.track_trigger(stop.client_id, "intent:protect")
    w.get_trigger(kit.btc, stop.client_id)
    [fill] = w.drain_fills()
    assert (fill.side, fill.position_side, fill.qty, fill.price) == (Side.BUY, SHORT, D("0.1"), D("60600.1"))


def test_a_stop_on_the_wrong_side_of_the_price_is_refused(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "LONG", "0.1", "60000")
    with pytest.raises(BadRequest) as exc:
        protect(kit, v, stop="60500", take="61000")  # a sell stop above the market fires at once
    assert exc.value.code == {BINANCE.name: "-2021", OKX.name: "51278"}[kit.name]
    assert v.open_triggers() == []


def test_safe_mode_sends_no_protective_order(kit, fake):
    v = kit.venue(fake, safe_mode=True)
    with pytest.raises(SafeModeRefused):
        protect(kit, v)
    assert fake.arrived("POST", ALGO_PATH[kit.name]) == 0


def test_a_lost_answer_is_reconciled_by_client_id_never_sent_twice(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "LONG", "0.1", "60000")
    fake.inject(
        "POST", ALGO_PATH[kit.name], when="after", action="status", status=kit.lost_answer[0], body=kit.lost_answer[1]
    )
    placed = protect(kit, v)
    assert all(t.status is TriggerStatus.OPEN for t in placed)
    assert fake.arrived("POST", ALGO_PATH[kit.name]) == len(placed)  # the lost one was found, not resent
    assert len(v.open_triggers()) == len(placed)


def test_the_dead_man_switch_leaves_protective_orders_alone(kit, fake):
    v = kit.venue(fake)
    kit.give_position(fake, kit.btc, "LONG", "0.1", "60000")
    protect(kit, v)
    resting = v.place_order(kit.limit(Side.BUY, LONG, "0.01", "hfR1", "59000.0"))
    assert v.arm_cancel_all_after(kit.btc, 60_000)
    if kit is BINANCE:
        fake.expire_countdowns()
    else:
        assert fake.cancel_all_after_tag == "hfbot"  # only our order-book orders carry it
        fake.expire_cancel_all_after()
    assert v.get_order(kit.btc, resting.client_order_id).status.value == "CANCELED"
    assert len(v.open_triggers()) == (1 if v.native_oco else 2)


def test_binance_books_a_fired_order_from_its_algo_update_once():
    with BINANCE.fake() as fb:
        v = BINANCE.venue(fb)
        fb.give_position(BINANCE.btc, "LONG", "0.1", "60000")
        stop, _take = protect(BINANCE, v)
        crash_to(BINANCE, fb, "58900.0")
        events = [e for e in fb.algo_updates if e["o"]["caid"] == stop.client_id]
        assert [e["o"]["X"] for e in events] == ["NEW", "TRIGGERED", "FINISHED"]
        for e in events:  # what the user data stream delivers (execution/feeds/account_stream.py)
            v.on_stream_algo(e["o"], e["E"])
        [fill] = v.drain_fills()
        assert (fill.client_order_id, fill.qty, fill.price) == (stop.client_id, D("0.1"), D("58900"))
        v.get_trigger(BINANCE.btc, stop.client_id)  # REST sees the same order: nothing new
        assert v.drain_fills() == []


def test_binance_order_endpoint_refuses_conditional_types_with_4120():
    """python-binance itself now routes STOP_MARKET to the Algo Service; the raw order endpoint
    refuses it, as Binance does since 2025-12-09."""
    with BINANCE.fake() as fb:
        v = BINANCE.venue(fb)
        params = {"symbol": "BTCUSDT", "side": "SELL", "positionSide": "LONG", "type": "STOP_MARKET"}
        params.update(quantity="0.1", stopPrice="59000")
        with pytest.raises(BadRequest) as exc:
            v._call("order:post", v.client._request_futures_api, "post", "order", True, mutating=True, data=params)
        assert exc.value.code == "-4120"


def test_okx_books_a_fired_order_from_the_orders_channel_row():
    with OKX.fake() as fo:
        v = OKX.venue(fo)
        OKX.give_position(fo, OKX.btc, "LONG", "0.1", "60000")
        [oco] = protect(OKX, v)
        crash_to(OKX, fo, "58900.0")
        [algo] = [a for a in fo.algos.values() if a["algoClOrdId"] == oco.client_id]
        row = fo._order_row(fo.engine.acct.orders[int(algo["ordId"])])  # what the `orders` channel pushes
        assert row["algoClOrdId"] == oco.client_id and row["clOrdId"] == ""
        v.track_trigger(oco.client_id, "intent:protect")
        v.on_stream_order(row)
        [fill] = v.drain_fills()
        assert (fill.client_order_id, fill.qty, fill.position_side) == (oco.client_id, D("0.1"), LONG)
        assert v.get_trigger(OKX.btc, oco.client_id).fired == "stop"
        assert v.drain_fills() == []
