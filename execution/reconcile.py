"""Reconciliation: our books against what each venue says, before anything else is sent.

Pure comparison functions plus one runner. Differences are reported, never "fixed" by
guessing: orders we do not know are left alone (a human may have placed them), positions that
differ are shown, and an order whose outcome was unknown is resolved by its client order id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.models import Order, Position


@dataclass(frozen=True)
class Difference:
    kind: str  # position_mismatch | unknown_position | missing_position | unknown_order | missing_order | venue_error
    venue: str
    symbol: str
    detail: str

    def record(self, ts: int) -> dict:
        digest = hashlib.sha256(self.detail.encode()).hexdigest()[:10]
        return {
            "id": f"reconcile:{ts}:{self.kind}:{self.venue}:{self.symbol}:{digest}",
            "ts": ts,
            "kind": "reconcile",
            "difference": self.kind,
            "venue": self.venue,
            "symbol": self.symbol,
            "detail": self.detail,
        }


def diff_positions(
    venue: str, ours: dict[tuple, Position], theirs: list[Position], tolerance: Decimal = Decimal("1e-9")
) -> list[Difference]:
    out = []
    mine = {(p.symbol, p.position_side): p for (v, _, _), p in ours.items() if v == venue and p.qty > 0}
    seen = set()
    for p in theirs:
        key = (p.symbol, p.position_side)
        seen.add(key)
        own = mine.get(key)
        if own is None:
            out.append(
                Difference(
                    "unknown_position",
                    venue,
                    p.symbol,
                    f"venue holds {p.position_side.value} {p.qty} @ {p.entry_price}; our books have none",
                )
            )
        elif abs(own.qty - p.qty) > tolerance:
            out.append(
                Difference(
                    "position_mismatch", venue, p.symbol, f"{p.position_side.value}: ours {own.qty}, venue {p.qty}"
                )
            )
    for key, own in mine.items():
        if key not in seen:
            out.append(
                Difference(
                    "missing_position",
                    venue,
                    own.symbol,
                    f"our books hold {own.position_side.value} {own.qty}; venue has none",
                )
            )
    return out


def diff_orders(venue: str, ours: set[str], theirs: list[Order]) -> list[Difference]:
    out = []
    open_ids = {o.client_order_id for o in theirs}
    for o in theirs:
        if o.client_order_id not in ours:
            out.append(
                Difference(
                    "unknown_order",
                    venue,
                    o.symbol,
                    f"open order {o.client_order_id} {o.side.value} {o.position_side.value} "
                    f"{o.quantity} not placed by us: left alone",
                )
            )
    for cid in sorted(ours - open_ids):
        out.append(Difference("missing_order", venue, "", f"in-flight {cid} is not open on the venue"))
    return out


def reconcile_venue(venue: Venue, ours_positions: dict, ours_open: set[str]) -> list[Difference]:
    try:
        theirs_positions = venue.positions()
        theirs_orders = venue.open_orders()
    except VenueError as exc:
        return [Difference("venue_error", venue.name, "", f"could not read the venue: code={exc.code} {exc.message}")]
    return diff_positions(venue.name, ours_positions, theirs_positions) + diff_orders(
        venue.name, ours_open, theirs_orders
    )
