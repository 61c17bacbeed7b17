"""Binance USD-M conditional orders in the Algo Service (pure): request parameters and answers.

Since 2025-12-09 Binance takes STOP_MARKET / TAKE_PROFIT_MARKET (and the other conditional
types) only through `POST /fapi/v1/algoOrder` (`algoType=CONDITIONAL`, `triggerPrice`,
`clientAlgoId`); the order endpoint answers -4120 for them. They are queried with
`GET /fapi/v1/algoOrder`, listed with `GET /fapi/v1/openAlgoOrders`, cancelled with
`DELETE /fapi/v1/algoOrder`, and reported on the user data stream as `ALGO_UPDATE`. When one
triggers, the Algo Service places a market order in the matching engine (`actualOrderId`,
the stream's `ai`); what it filled is that order's (`aq` / `ap` on the stream).

Sources: developers.binance.com/docs/derivatives/usds-margined-futures/trade/rest-api/New-Algo-Order,
.../Query-Algo-Order, .../Cancel-Algo-Order, .../user-data-streams/Event-Algo-Order-Update,
change log 2025-11-06 (the migration) and 2025-12-10 (rejections reported in ALGO_UPDATE).

    algo_params(request, dual_side) -> dict      POST /fapi/v1/algoOrder parameters
    parse_algo(payload)             -> TriggerOrder   an algo order (REST answers, openAlgoOrders rows)
    parse_algo_update(o)            -> TriggerOrder   the "o" object of an ALGO_UPDATE event
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from execution.exchanges.binance_parsers import VENUE
from execution.exchanges.wire import Fields, fmt
from execution.models import PositionSide, Side
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, WorkingType

ORDER_TYPE = {"stop": "STOP_MARKET", "take": "TAKE_PROFIT_MARKET"}
ALGO_STATUS = {
    "NEW": TriggerStatus.OPEN,
    "TRIGGERING": TriggerStatus.TRIGGERED,  # met its condition, forwarded to the matching engine
    "TRIGGERED": TriggerStatus.TRIGGERED,  # placed in the matching engine
    "FINISHED": TriggerStatus.FINISHED,  # its market order is filled or cancelled
    "CANCELED": TriggerStatus.CANCELED,
    "REJECTED": TriggerStatus.REJECTED,
    "EXPIRED": TriggerStatus.EXPIRED,
}
STOP_TYPES = ("STOP_MARKET", "STOP")
TAKE_TYPES = ("TAKE_PROFIT_MARKET", "TAKE_PROFIT")


def algo_params(request: TriggerRequest, dual_side: bool | None = True) -> dict[str, Any]:
    """One conditional order per trigger price (Binance has no OCO). Hedge mode names the position
    side and never sends reduceOnly (-1106); a known one-way account sends BOTH + reduceOnly."""
    if request.kind == "oco":
        raise ValueError(f"{request.client_id}: Binance takes one trigger price per algo order")
    price = request.stop_price if request.kind == "stop" else request.take_price
    assert price is not None
    params: dict[str, Any] = {
        "algoType": "CONDITIONAL",
        "symbol": request.symbol,
        "side": request.side.value,
        "type": ORDER_TYPE[request.kind],
        "quantity": fmt(request.quantity),
        "triggerPrice": fmt(price),
        "workingType": request.working.value,
        "clientAlgoId": request.client_id,
        "newOrderRespType": "RESULT",
    }
    if dual_side is False:
        params["positionSide"] = "BOTH"
        params["reduceOnly"] = "true"
    else:
        params["positionSide"] = request.position_side.value
    return params


_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_POSITION_SIDES: dict[str, PositionSide | None] = {"BOTH": None, "LONG": PositionSide.LONG, "SHORT": PositionSide.SHORT}
_WORKING = {w.value: w for w in WorkingType}


def _trigger(f: Fields) -> tuple[Decimal | None, Decimal | None]:
    order_type = f.text("orderType", "") or f.text("type", "")
    price = f.num("triggerPrice", positive=True)
    if order_type in STOP_TYPES:
        return price, None
    if order_type in TAKE_TYPES:
        return None, price
    raise f.bad("orderType", "is not a stop or a take-profit", order_type)


def _algo(f: Fields, venue: str) -> TriggerOrder:
    side = f.choice("side", _SIDES)
    stop, take = _trigger(f)
    pside = f.choice("positionSide", _POSITION_SIDES, "BOTH")
    if pside is None:  # one-way: a reduce-only order shrinks the opposite side
        pside = PositionSide.SHORT if (side is Side.BUY) == f.flag("reduceOnly") else PositionSide.LONG
    actual = f.text("actualOrderId", "")
    return TriggerOrder(
        venue=venue,
        symbol=f.text("symbol"),
        client_id=f.text("clientAlgoId", ""),
        position_side=pside,
        quantity=f.num("quantity", "0", nonneg=True),
        status=ALGO_STATUS.get(f.text("algoStatus", ""), TriggerStatus.UNKNOWN),
        stop_price=stop,
        take_price=take,
        working=f.choice("workingType", _WORKING, WorkingType.LAST.value),
        side=side,
        venue_id=f.text("algoId", ""),
        actual_order_id=actual,
        fired=("stop" if stop is not None else "take") if actual else "",
        update_ms=f.ms("updateTime", 0) or f.ms("createTime", 0),
    )


def parse_algo(payload: Mapping[str, Any], venue: str = VENUE) -> TriggerOrder:
    return _algo(Fields(payload, venue, "algoOrder"), venue)


#: ALGO_UPDATE "o" fields by the REST algo order's names
_UPDATE_KEYS = {
    "clientAlgoId": "caid",
    "algoId": "aid",
    "orderType": "o",
    "symbol": "s",
    "side": "S",
    "positionSide": "ps",
    "quantity": "q",
    "algoStatus": "X",
    "actualOrderId": "ai",
    "triggerPrice": "tp",
    "workingType": "wt",
    "reduceOnly": "R",
    "updateTime": "tt",
}


def parse_algo_update(o: Mapping[str, Any], event_ms: int = 0, venue: str = VENUE) -> TriggerOrder:
    """An ALGO_UPDATE's "o": the algo order, with what its market order filled (aq at ap)."""
    event = Fields(o, venue, "ALGO_UPDATE.o")
    rest = {name: event.row[key] for name, key in _UPDATE_KEYS.items() if key in event.row}
    order = _algo(Fields(rest, venue, event.what, aliases=_UPDATE_KEYS), venue)
    order.filled_qty, order.avg_price = event.num("aq", "0", nonneg=True), event.num("ap", "0", nonneg=True)
    order.reason = event.text("rm", "", cut=True)
    order.update_ms = event_ms or order.update_ms
    return order
