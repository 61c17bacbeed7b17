"""Protective trigger orders: a stop-loss or take-profit that rests on the venue and closes a
hedge-mode position by itself when the venue's price crosses it, whether or not the executor
is alive.

Binance USD-M keeps them in its Algo Service since 2025-12-09 (`POST /fapi/v1/algoOrder`,
STOP_MARKET / TAKE_PROFIT_MARKET, one trigger price per order, `ALGO_UPDATE` on the user data
stream); OKX as algo orders (`POST /api/v5/trade/order-algo`, `conditional` for one side or
`oco` for both); the paper venue fires them inside a bar. A request names one position (closing
side + position side, never reduce-only in hedge mode) and at least one trigger price; a venue
without an OCO order (`Venue.native_oco` False) takes one price per order and the caller
cancels the sibling when one fires.

Fills of a trigger are reported by the venue's `drain_fills` under the trigger's client id.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from execution.models import Order, OrderStatus, OrderType, PositionSide, Side


class TriggerStatus(str, Enum):
    OPEN = "OPEN"  # resting on the venue, not triggered
    TRIGGERED = "TRIGGERED"  # crossed: the venue's market order is working
    FINISHED = "FINISHED"  # crossed and the market order is final (filled_qty says how much)
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"  # refused when it triggered (nothing to close, margin...)
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"

    @property
    def fired(self) -> bool:
        return self in (TriggerStatus.TRIGGERED, TriggerStatus.FINISHED)

    @property
    def is_open(self) -> bool:
        return self is TriggerStatus.OPEN


class WorkingType(str, Enum):
    """Which price triggers the order: the venue's mark price (default) or its last trade."""

    MARK = "MARK_PRICE"
    LAST = "CONTRACT_PRICE"


@dataclass(frozen=True, slots=True)
class TriggerRequest:
    venue: str
    symbol: str
    position_side: PositionSide
    quantity: Decimal  # base units
    client_id: str
    intent_id: str
    stop_price: Decimal | None = None
    take_price: Decimal | None = None
    working: WorkingType = WorkingType.MARK

    def __post_init__(self) -> None:
        if self.stop_price is None and self.take_price is None:
            raise ValueError(f"trigger {self.client_id}: needs a stop price, a take-profit price or both")
        if self.quantity <= 0:
            raise ValueError(f"trigger {self.client_id}: quantity must be > 0, got {self.quantity}")

    @property
    def side(self) -> Side:
        return self.position_side.closing_side

    @property
    def kind(self) -> str:
        """stop | take | oco"""
        if self.stop_price is not None and self.take_price is not None:
            return "oco"
        return "stop" if self.stop_price is not None else "take"


@dataclass(slots=True)
class TriggerOrder:
    venue: str
    symbol: str
    client_id: str
    position_side: PositionSide
    quantity: Decimal
    status: TriggerStatus
    stop_price: Decimal | None = None
    take_price: Decimal | None = None
    working: WorkingType = WorkingType.MARK
    side: Side | None = None  # None: the closing side of `position_side`
    venue_id: str = ""
    actual_order_id: str = ""  # the market order the venue placed when it fired
    fired: str = ""  # stop | take: which price fired, when known
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    update_ms: int = 0
    reason: str = ""

    def __post_init__(self) -> None:
        if self.side is None:
            self.side = self.position_side.closing_side

    @property
    def kind(self) -> str:
        if self.stop_price is not None and self.take_price is not None:
            return "oco"
        return "stop" if self.stop_price is not None else "take"

    @property
    def closes(self) -> bool:
        """It closes its position side (SELL+LONG, BUY+SHORT), as a protective order must."""
        return self.side is self.position_side.closing_side

    def to_doc(self) -> dict[str, Any]:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "client_id": self.client_id,
            "position_side": self.position_side.value,
            "side": self.side.value if self.side else None,
            "quantity": str(self.quantity),
            "status": self.status.value,
            "stop_price": str(self.stop_price) if self.stop_price is not None else None,
            "take_price": str(self.take_price) if self.take_price is not None else None,
            "working": self.working.value,
            "venue_id": self.venue_id,
            "fired": self.fired,
            "filled_qty": str(self.filled_qty),
            "avg_price": str(self.avg_price),
            "update_ms": self.update_ms,
        }

    @classmethod
    def from_doc(cls, d: dict[str, Any]) -> TriggerOrder:
        return cls(
            venue=d["venue"],
            symbol=d["symbol"],
            client_id=d["client_id"],
            position_side=PositionSide(d["position_side"]),
            quantity=Decimal(d["quantity"]),
            status=TriggerStatus(d["status"]),
            stop_price=Decimal(d["stop_price"]) if d.get("stop_price") is not None else None,
            take_price=Decimal(d["take_price"]) if d.get("take_price") is not None else None,
            working=WorkingType(d.get("working", WorkingType.MARK.value)),
            side=Side(d["side"]) if d.get("side") else None,
            venue_id=d.get("venue_id", ""),
            fired=d.get("fired", ""),
            filled_qty=Decimal(d.get("filled_qty", "0")),
            avg_price=Decimal(d.get("avg_price", "0")),
            update_ms=int(d.get("update_ms", 0)),
        )


def order_of(request: TriggerRequest, status: TriggerStatus, **fields: Any) -> TriggerOrder:
    """The order a venue holds for `request` (its state and ids in `fields`)."""
    return TriggerOrder(
        venue=request.venue,
        symbol=request.symbol,
        client_id=request.client_id,
        position_side=request.position_side,
        quantity=request.quantity,
        status=status,
        stop_price=request.stop_price,
        take_price=request.take_price,
        working=request.working,
        **fields,
    )


def market_order_of(t: TriggerOrder, filled: Decimal, avg: Decimal, update_ms: int, final: bool | None = None) -> Order:
    """The market order a fired trigger placed, under the trigger's client id: what a venue adapter
    hands its fill tracker, so the fill is booked as the protective order's."""
    done = t.status is TriggerStatus.FINISHED if final is None else final
    if filled >= t.quantity:
        status = OrderStatus.FILLED
    else:
        status = OrderStatus.CANCELED if done else OrderStatus.PARTIALLY_FILLED
    assert t.side is not None
    return Order(
        t.venue,
        t.symbol,
        t.client_id,
        status,
        t.side,
        t.position_side,
        OrderType.MARKET,
        t.quantity,
        filled_qty=filled,
        avg_price=avg,
        venue_order_id=t.actual_order_id,
        update_ms=update_ms,
    )
