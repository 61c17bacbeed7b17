"""The paper venue's orders as documents: what its restart snapshot holds (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execution.models import Order, OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce


@dataclass(slots=True)
class Resting:
    request: OrderRequest
    order: Order
    placed_ts: int

    @property
    def limit(self) -> Decimal:
        """The limit price of a LIMIT order; place_order stops at one without a price, so none rests."""
        price = self.request.price
        if price is None:
            raise ValueError(f"{self.request.client_order_id}: LIMIT order without a price")
        return price


def order_doc(o: Order) -> dict:
    return {
        "symbol": o.symbol,
        "client_order_id": o.client_order_id,
        "status": o.status.value,
        "side": o.side.value,
        "position_side": o.position_side.value,
        "order_type": o.order_type.value,
        "quantity": str(o.quantity),
        "filled_qty": str(o.filled_qty),
        "avg_price": str(o.avg_price),
        "price": str(o.price) if o.price is not None else None,
        "venue_order_id": o.venue_order_id,
        "update_ms": o.update_ms,
        "reject_code": o.reject_code,
        "reject_reason": o.reject_reason,
        "venue": o.venue,
    }


def order_from_doc(d: dict) -> Order:
    return Order(
        venue=d["venue"],
        symbol=d["symbol"],
        client_order_id=d["client_order_id"],
        status=OrderStatus(d["status"]),
        side=Side(d["side"]),
        position_side=PositionSide(d["position_side"]),
        order_type=OrderType(d["order_type"]),
        quantity=Decimal(d["quantity"]),
        filled_qty=Decimal(d["filled_qty"]),
        avg_price=Decimal(d["avg_price"]),
        price=Decimal(d["price"]) if d.get("price") else None,
        venue_order_id=d["venue_order_id"],
        update_ms=d["update_ms"],
        reject_code=d["reject_code"],
        reject_reason=d["reject_reason"],
    )


def rest_doc(r: Resting) -> dict:
    q = r.request
    return {
        "placed_ts": r.placed_ts,
        "order": order_doc(r.order),
        "request": {
            "symbol": q.symbol,
            "side": q.side.value,
            "position_side": q.position_side.value,
            "order_type": q.order_type.value,
            "quantity": str(q.quantity),
            "client_order_id": q.client_order_id,
            "intent_id": q.intent_id,
            "price": str(q.price) if q.price is not None else None,
            "time_in_force": q.time_in_force.value if q.time_in_force else None,
            "reduce_only": q.reduce_only,
        },
    }


def rest_from_doc(d: dict, venue: str) -> Resting:
    req = d["request"]
    request = OrderRequest(
        venue=venue,
        symbol=req["symbol"],
        side=Side(req["side"]),
        position_side=PositionSide(req["position_side"]),
        order_type=OrderType(req["order_type"]),
        quantity=Decimal(req["quantity"]),
        client_order_id=req["client_order_id"],
        intent_id=req["intent_id"],
        price=Decimal(req["price"]) if req.get("price") else None,
        time_in_force=TimeInForce(req["time_in_force"]) if req.get("time_in_force") else None,
        reduce_only=req.get("reduce_only", False),
    )
    return Resting(request, order_from_doc(d["order"]), d["placed_ts"])
