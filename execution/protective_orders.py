"""What the executor placed to protect one leg (one screener position on one venue): its
protective orders as last seen, the quantity and prices they carry, what of their fills is
booked. Pure data, persisted in the restart snapshot; execution/protection.py acts on it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from execution.models import PositionSide
from execution.triggers import TriggerOrder, TriggerStatus

PositionKey = tuple[str, str, PositionSide]


@dataclass
class LegProtection:
    """The protective orders of one leg, as placed (`version` counts replacements)."""

    venue: str
    symbol: str
    position_side: PositionSide
    intent_id: str
    qty: Decimal = Decimal(0)
    stop: Decimal = Decimal(0)
    take: Decimal = Decimal(0)
    version: int = 0
    placements: int = 0
    orders: dict[str, TriggerOrder] = field(default_factory=dict)
    booked: dict[str, Decimal] = field(default_factory=dict)  # client id -> fill quantity booked
    refused: int = 0
    closing: bool = False

    @property
    def key(self) -> PositionKey:
        return (self.venue, self.symbol, self.position_side)

    def open_ids(self) -> list[str]:
        return [cid for cid, o in self.orders.items() if o.status.is_open]

    def pending(self) -> bool:
        """An order fired and the venue's close is not booked yet: its fill is on the way."""
        return any(
            o.status is TriggerStatus.TRIGGERED
            or (o.status is TriggerStatus.FINISHED and o.filled_qty > self.booked.get(cid, Decimal(0)))
            for cid, o in self.orders.items()
        )

    def to_doc(self) -> dict:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "position_side": self.position_side.value,
            "intent_id": self.intent_id,
            "qty": str(self.qty),
            "stop": str(self.stop),
            "take": str(self.take),
            "version": self.version,
            "placements": self.placements,
            "orders": [o.to_doc() for o in self.orders.values()],
            "booked": {k: str(v) for k, v in self.booked.items()},
            "refused": self.refused,
            "closing": self.closing,
        }

    @classmethod
    def from_doc(cls, d: dict) -> LegProtection:
        g = cls(
            d["venue"],
            d["symbol"],
            PositionSide(d["position_side"]),
            d["intent_id"],
            Decimal(d["qty"]),
            Decimal(d["stop"]),
            Decimal(d["take"]),
            int(d["version"]),
            int(d.get("placements", 0)),
            refused=int(d.get("refused", 0)),
            closing=bool(d.get("closing", False)),
        )
        g.orders = {o.client_id: o for o in (TriggerOrder.from_doc(x) for x in d.get("orders", []))}
        g.booked = {k: Decimal(v) for k, v in d.get("booked", {}).items()}
        return g
