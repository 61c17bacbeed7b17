"""OKX algo orders as protective orders (pure): request bodies and answers, sizes in contracts.

A protective order is `POST /api/v5/trade/order-algo` with `ordType` `oco` (stop-loss and
take-profit in one order: when one fires the other is gone, OKX's own OCO) or `conditional`
(one side), `posSide` long/short in long/short mode (net mode: `reduceOnly`), market execution
(`slOrdPx` / `tpOrdPx` = -1) and the trigger price type (`mark` or `last`). It is queried with
`GET /api/v5/trade/order-algo` by `algoClOrdId`, listed with `GET /trade/orders-algo-pending`
and cancelled with `POST /trade/cancel-algos` (by `algoId`). Once it fires (`state`
`effective`) the market order it placed is in `ordIdList`; that order's rows carry our
`algoClOrdId`, which is how its fills are booked as the protective order's.

Source: https://www.okx.com/docs-v5/en/#order-book-trading-algo-trading-post-place-algo-order
(and the get / cancel / pending sections beside it).

    algo_body(request, contracts, td_mode, long_short) -> dict   the order-algo body
    parse_algo(row, ct_val)                             -> TriggerOrder
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execution.exchanges.okx_parsers import POS_SIDES, SIDES, VENUE, Contracts, one_row
from execution.exchanges.wire import Fields, fmt
from execution.models import PositionSide, Side
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, WorkingType

PROTECT_TAG = "hfprotect"  # not the tag the dead-man switch cancels (okx_perp.ORDER_TAG)
PX_TYPE = {WorkingType.MARK: "mark", WorkingType.LAST: "last"}
WORKING = {v: k for k, v in PX_TYPE.items()}
STATE = {
    "live": TriggerStatus.OPEN,
    "pause": TriggerStatus.OPEN,
    "partially_effective": TriggerStatus.TRIGGERED,
    "effective": TriggerStatus.FINISHED,
    "canceled": TriggerStatus.CANCELED,
    "order_failed": TriggerStatus.REJECTED,
    "partially_failed": TriggerStatus.REJECTED,
}


def algo_body(request: TriggerRequest, contracts: Decimal, td_mode: str, long_short: bool | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "instId": request.symbol,
        "tdMode": td_mode,
        "side": request.side.value.lower(),
        "ordType": "oco" if request.kind == "oco" else "conditional",
        "sz": fmt(contracts),
        "algoClOrdId": request.client_id,
        "tag": PROTECT_TAG,
    }
    if long_short is False:
        body["reduceOnly"] = True
    else:
        body["posSide"] = request.position_side.value.lower()
    px_type = PX_TYPE[request.working]
    if request.stop_price is not None:
        body.update(slTriggerPx=fmt(request.stop_price), slOrdPx="-1", slTriggerPxType=px_type)
    if request.take_price is not None:
        body.update(tpTriggerPx=fmt(request.take_price), tpOrdPx="-1", tpTriggerPxType=px_type)
    return body


def parse_algo(row: Any, ct_val: Decimal, venue: str = VENUE) -> TriggerOrder:
    a = Fields(one_row(row, venue, "order-algo"), venue, "order-algo")
    side = a.choice("side", SIDES)
    pside = a.choice("posSide", POS_SIDES, "net")
    if pside is None:  # net mode: a reduce-only order shrinks the opposite side
        pside = PositionSide.SHORT if side is Side.BUY else PositionSide.LONG
    sl, tp = a.num("slTriggerPx", "0"), a.num("tpTriggerPx", "0")
    ids = a.rows("ordIdList", required=False)
    actual = a.text("ordIdList", "", value=ids[0]) if ids else a.text("ordId", "")
    fired = {"sl": "stop", "tp": "take"}.get(a.text("actualSide", ""), "")
    px_type = a.text("slTriggerPxType", "") or a.text("tpTriggerPxType", "") or "last"
    return TriggerOrder(
        venue=venue,
        symbol=a.text("instId"),
        client_id=a.text("algoClOrdId", ""),
        position_side=pside,
        quantity=Contracts(ct_val).to_base(a.num("sz", "0", nonneg=True)),
        status=STATE.get(a.text("state", ""), TriggerStatus.UNKNOWN),
        stop_price=sl if sl > 0 else None,
        take_price=tp if tp > 0 else None,
        working=WORKING.get(px_type, WorkingType.LAST),
        side=side,
        venue_id=a.text("algoId", ""),
        actual_order_id=actual,
        fired=fired,
        update_ms=a.ms("uTime", 0) or a.ms("cTime", 0),
        reason=a.text("failCode", "", cut=True),
    )
