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
from execution.exchanges.wire import dec, fmt
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


def _position_side(side: Side, raw: str, reduce_only: bool) -> PositionSide:
    if raw in ("LONG", "SHORT"):
        return PositionSide(raw)
    return PositionSide.SHORT if (side is Side.BUY) == reduce_only else PositionSide.LONG


def _trigger(order_type: str, price: Decimal) -> tuple[Decimal | None, Decimal | None]:
    if order_type in STOP_TYPES:
        return price, None
    if order_type in TAKE_TYPES:
        return None, price
    raise ValueError(f"algo order type {order_type!r} is not a stop or a take-profit")


def parse_algo(payload: Mapping[str, Any], venue: str = VENUE) -> TriggerOrder:
    side = Side(payload["side"])
    order_type = payload.get("orderType") or payload.get("type") or ""
    stop, take = _trigger(order_type, dec(payload.get("triggerPrice")))
    actual = str(payload.get("actualOrderId") or "")
    return TriggerOrder(
        venue=venue,
        symbol=payload["symbol"],
        client_id=payload.get("clientAlgoId", ""),
        position_side=_position_side(side, payload.get("positionSide", "BOTH"), bool(payload.get("reduceOnly"))),
        quantity=dec(payload.get("quantity")),
        status=ALGO_STATUS.get(payload.get("algoStatus", ""), TriggerStatus.UNKNOWN),
        stop_price=stop,
        take_price=take,
        working=WorkingType(payload.get("workingType") or WorkingType.LAST.value),
        side=side,
        venue_id=str(payload.get("algoId", "")),
        actual_order_id=actual,
        fired=("stop" if stop is not None else "take") if actual else "",
        update_ms=int(payload.get("updateTime") or payload.get("createTime") or 0),
    )


def parse_algo_update(o: Mapping[str, Any], event_ms: int = 0, venue: str = VENUE) -> TriggerOrder:
    """An ALGO_UPDATE's "o": the algo order, with what its market order filled (aq at ap)."""
    order = parse_algo(
        {
            "clientAlgoId": o.get("caid", ""),
            "algoId": o.get("aid", ""),
            "orderType": o.get("o", ""),
            "symbol": o["s"],
            "side": o["S"],
            "positionSide": o.get("ps", "BOTH"),
            "quantity": o.get("q"),
            "algoStatus": o.get("X", ""),
            "actualOrderId": o.get("ai", ""),
            "triggerPrice": o.get("tp"),
            "workingType": o.get("wt"),
            "reduceOnly": o.get("R", False),
            "updateTime": o.get("tt") or event_ms,
        },
        venue,
    )
    order.filled_qty, order.avg_price = dec(o.get("aq")), dec(o.get("ap"))
    order.reason = str(o.get("rm") or "")
    order.update_ms = event_ms or order.update_ms
    return order
