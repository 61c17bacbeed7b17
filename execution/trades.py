"""What the executor keeps about its own trades and orders in flight (persisted in synced_state)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from execution.models import OrderRequest, PositionSide
from execution.rules_sl_tp import Levels


@dataclass(slots=True)
class OpenTrade:
    venue: str
    symbol: str
    position_side: PositionSide
    intent_id: str
    entry_ts: int
    levels: Levels | None
    bars_held: int = 0
    exit_pending: str = ""  # client order id of the exit in flight

    def to_doc(self) -> dict:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "position_side": self.position_side.value,
            "intent_id": self.intent_id,
            "entry_ts": self.entry_ts,
            "bars_held": self.bars_held,
            "stop_loss": self.levels.stop_loss if self.levels else None,
            "take_profit": self.levels.take_profit if self.levels else None,
            "exit_pending": self.exit_pending,
        }

    @classmethod
    def from_doc(cls, d: dict) -> OpenTrade:
        lv = Levels(d["stop_loss"], d["take_profit"]) if d.get("stop_loss") is not None else None
        return cls(
            d["venue"],
            d["symbol"],
            PositionSide(d["position_side"]),
            d["intent_id"],
            d["entry_ts"],
            lv,
            d.get("bars_held", 0),
            d.get("exit_pending", ""),
        )


@dataclass(slots=True)
class InFlight:
    """An order sent and not yet final; `owner` is the strategy whose fills these are;
    `ref_price` the price its intent was decided on (each fill's slippage is measured against it)."""

    request: OrderRequest
    purpose: str
    sent_ts: int
    meta: dict = field(default_factory=dict)
    unknown: bool = False
    owner: str = "screener"
    ref_price: Decimal | None = None

    def to_doc(self) -> dict:
        return {
            "cid": self.request.client_order_id,
            "purpose": self.purpose,
            "sent_ts": self.sent_ts,
            "meta": self.meta,
            "unknown": self.unknown,
            "owner": self.owner,
            "ref_price": str(self.ref_price) if self.ref_price is not None else None,
            "request": self.request.to_doc(),
        }

    @classmethod
    def from_doc(cls, d: dict) -> InFlight:
        return cls(
            OrderRequest.from_doc(d["request"]),
            d["purpose"],
            d["sent_ts"],
            d.get("meta", {}),
            d.get("unknown", False),
            d.get("owner", "screener"),
            Decimal(d["ref_price"]) if d.get("ref_price") else None,
        )
