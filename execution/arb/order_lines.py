"""An arbitrage leg order as the fund's runbook greps it: `[arb] SEND_ORDER ...` when it was
handed to its venue, then the venue's answer: `[arb] ORDER_REQ <endpoint> <http status> {...}`
when the venue took the order, `[arb] [ORDER_ERR] ...` when it refused or lost it (the evening
sweep greps `[ORDER_ERR]` whatever the code). Pure: a leg in, log records out."""

from __future__ import annotations

import json
import logging

from execution.arb.attempt import LegOrder, LegState
from execution.models import OrderStatus

FAILED = ("REFUSED", OrderStatus.REJECTED.value, OrderStatus.UNKNOWN.value)


def send_line(leg: LegOrder) -> tuple[int, str, tuple]:
    r = leg.request
    return (
        logging.INFO,
        "[arb] SEND_ORDER %s %s %s positionSide=%s qty=%s type=%s reduceOnly=%s cid=%s intent=%s -> %s%s",
        (
            r.venue,
            r.symbol,
            r.side.value,
            r.position_side.value,
            r.quantity,
            r.order_type.value,
            r.reduce_only,
            r.client_order_id,
            r.intent_id,
            leg.state.value,
            f" ({leg.error})" if leg.error else "",
        ),
    )


def answer_lines(leg: LegOrder) -> list[tuple[int, str, tuple]]:
    r = leg.request
    endpoint, status = leg.endpoint or r.venue, leg.http_status or "-"
    if leg.status in FAILED or (leg.state is LegState.FINAL and leg.filled == 0 and bool(leg.error)):
        return [
            (
                logging.ERROR,
                "[arb] [ORDER_ERR] %s %s code=%s %s %s cid=%s %s: %s",
                (endpoint, status, leg.error_code or "-", r.venue, r.symbol, r.client_order_id, leg.status, leg.error),
            )
        ]
    if not leg.status:
        return []
    body = {
        "venue": r.venue,
        "symbol": r.symbol,
        "side": r.side.value,
        "positionSide": r.position_side.value,
        "type": r.order_type.value,
        "quantity": str(r.quantity),
        "newClientOrderId": r.client_order_id,
        "intent_id": r.intent_id,
        "status": leg.status,
        "executedQty": str(leg.filled),
        "avgPrice": str(leg.avg_price),
    }
    return [(logging.INFO, "[arb] ORDER_REQ %s %s %s", (endpoint, status, json.dumps(body, separators=(",", ":"))))]
