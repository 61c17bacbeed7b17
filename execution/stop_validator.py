"""The stop validator's rules: what protective orders a position needs on its venue, and what is
wrong with the ones there. Pure; `execution/protection.py` does the I/O and the repairs.

A protected leg (one screener position: venue, symbol, position side) needs a stop-loss and a
take-profit that close it: the closing side (SELL for LONG, BUY for SHORT), its own position
side, its quantity, its prices. A venue with an OCO order takes both prices in one order; the
others take one order per price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execution.models import PositionSide
from execution.triggers import TriggerOrder


@dataclass(frozen=True, slots=True)
class Leg:
    venue: str
    symbol: str
    position_side: PositionSide
    qty: Decimal  # what the owner holds, base units
    stop: Decimal  # already rounded to the venue's tick
    take: Decimal
    intent_id: str  # the entry's: the protective orders' client ids derive from it

    @property
    def key(self) -> tuple[str, str, PositionSide]:
        return (self.venue, self.symbol, self.position_side)


def needed(leg: Leg, native_oco: bool) -> list[tuple[str, Decimal | None, Decimal | None]]:
    """(kind, stop price, take price) of each order the leg needs."""
    if native_oco:
        return [("oco", leg.stop, leg.take)]
    return [("stop", leg.stop, None), ("take", None, leg.take)]


def problems(leg: Leg, orders: list[TriggerOrder]) -> list[str]:
    """What is wrong with the open protective orders of a leg (empty: it is protected).
    `orders` are ours, open on the venue, for this leg."""
    out: list[str] = []
    for what, want in (("stop", leg.stop), ("take", leg.take)):
        mine = [o for o in orders if (o.stop_price if what == "stop" else o.take_price) is not None]
        if not mine:
            out.append(f"missing_{what}")
            continue
        o = mine[0]
        if len(mine) > 1:
            out.append(f"duplicate_{what}")
        if not o.closes:
            out.append(f"wrong_side_{what}({o.side.value if o.side else '-'})")
        if o.position_side is not leg.position_side or o.symbol != leg.symbol:
            out.append(f"wrong_position_{what}({o.symbol} {o.position_side.value})")
        if o.quantity != leg.qty:
            out.append(f"wrong_qty_{what}({o.quantity}!={leg.qty})")
        price = o.stop_price if what == "stop" else o.take_price
        if price != want:
            out.append(f"wrong_price_{what}({price}!={want})")
    return out


def orphans(ours_open: list[TriggerOrder], live_keys: set[tuple[str, str, PositionSide]]) -> list[TriggerOrder]:
    """Our open protective orders whose position is gone."""
    return [o for o in ours_open if (o.venue, o.symbol, o.position_side) not in live_keys]
