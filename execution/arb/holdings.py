"""What the arbitrage loop holds: open pairs, attempts in flight, and the purpose of every order
it sent. Pure bookkeeping, no I/O."""

from __future__ import annotations

from collections import OrderedDict, deque
from decimal import Decimal

from execution.arb.attempt import Attempt, LegOrder
from execution.arb.book import OpenPair
from execution.arb.outcomes import leg_purpose
from execution.models import PositionSide

ZERO = Decimal(0)
PURPOSES_KEPT = 4096


class ArbBook:
    """What the arbitrage loop holds: open pairs, attempts in flight, and the purpose of every
    order it sent (for the trade log and for claiming fills), with the order times that feed
    the arbitrage order-rate check. Restored in place: the loop's aliases stay valid."""

    def __init__(self) -> None:
        self.open_pairs: dict[str, OpenPair] = {}
        self.attempts: dict[str, Attempt] = {}  # active, by attempt id
        self._purpose: OrderedDict[str, str] = OrderedDict()
        self._ref: dict[str, Decimal] = {}  # the book price each order was sent against (kept with its purpose)
        self._order_ts: deque[int] = deque()  # every arbitrage order, closes included

    def record_order(self, leg: LegOrder, ts: int, ref_price: Decimal | None = None) -> None:
        self._order_ts.append(ts)
        cid = leg.request.client_order_id
        self._purpose[cid] = leg_purpose(leg)
        if ref_price is not None:
            self._ref[cid] = ref_price
        while len(self._purpose) > PURPOSES_KEPT:
            self._ref.pop(self._purpose.popitem(last=False)[0], None)

    def ref_price(self, client_order_id: str) -> Decimal | None:
        """The book price (ask for a buy, bid for a sell) when the order was sent; not kept across
        a restart."""
        return self._ref.get(client_order_id)

    def orders_last_min(self, now: int) -> int:
        while self._order_ts and self._order_ts[0] <= now - 60_000:
            self._order_ts.popleft()
        return len(self._order_ts)

    def purpose(self, client_order_id: str) -> str | None:
        return self._purpose.get(client_order_id)

    def settled_pairs(self) -> list[OpenPair]:
        """Open pairs no attempt is working on."""
        return [p for p in self.open_pairs.values() if not any(a.pair is p for a in self.attempts.values())]

    def owned_qty(self, venue: str, symbol: str, position_side: PositionSide) -> Decimal:
        total = ZERO
        for p in self.open_pairs.values():
            for leg in p.legs:
                if leg.venue == venue and leg.symbol == symbol and leg.position_side is position_side:
                    total += leg.qty
        for a in self.attempts.values():
            if a.pair.pair_id not in self.open_pairs:  # an entry still in flight: its book is not listed yet
                for leg in a.pair.legs:
                    if leg.venue == venue and leg.symbol == symbol and leg.position_side is position_side:
                        total += leg.qty
            for order in a.legs + a.rescues:  # filled on the venue, not yet in the pair book
                r = order.request
                if (
                    not order.applied
                    and order.filled > 0
                    and r.venue == venue
                    and r.symbol == symbol
                    and r.position_side is position_side
                ):
                    total += order.filled if r.side is position_side.opening_side else -order.filled
        return max(total, ZERO)

    def restore(self, open_pairs: list[dict], attempts: list[Attempt]) -> None:
        self.open_pairs.clear()
        self.open_pairs.update({d["pair_id"]: OpenPair.from_doc(d) for d in open_pairs})
        for a in attempts:
            self.attempts[a.attempt_id] = a
            for leg in a.legs + a.rescues:
                self._purpose[leg.request.client_order_id] = leg_purpose(leg)
