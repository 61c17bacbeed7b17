"""Fills from order snapshots: what a live adapter reports through `drain_fills()`.

A REST venue tells us an order's cumulative filled quantity and average price each time we see
the order (the placement answer, a query, a cancel answer). The difference from what was already
reported is a new fill, priced so that the reported fills add up to the venue's average price.
Only orders this process placed (`track`) produce fills: an order seen for the first time after
a restart belongs to the reconciliation, which must not book it twice.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal

from execution.models import FeeSchedule, Fill, Order


@dataclass(slots=True)
class _Seen:
    intent_id: str
    filled: Decimal = Decimal(0)
    notional: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    liquidity: str = "taker"


class FillTracker:
    """Thread-safe: REST answers (the trading thread) and the account stream (its own thread)
    report the same orders; whichever sees a fill first books it, the other sees nothing new."""

    def __init__(self, venue: str):
        self.venue = venue
        self._orders: dict[str, _Seen] = {}
        self._fills: list[Fill] = []
        self._live: dict[str, str] = {}  # venue order id -> client order id, tracked orders not final yet
        self._lock = threading.Lock()

    def track(self, client_order_id: str, intent_id: str, liquidity: str = "taker") -> None:
        with self._lock:
            self._orders.setdefault(client_order_id, _Seen(intent_id, liquidity=liquidity))

    def is_tracked(self, client_order_id: str) -> bool:
        return client_order_id in self._orders

    def knows(self, venue_order_id: str) -> bool:
        """True while this tracker books that venue order: tracked and not final, or a fill of it
        not drained yet (the venue reconciler leaves such an order to it)."""
        with self._lock:
            return venue_order_id in self._live or any(f.venue_order_id == venue_order_id for f in self._fills)

    def set_liquidity(self, client_order_id: str, liquidity: str) -> None:
        seen = self._orders.get(client_order_id)
        if seen is not None:
            seen.liquidity = liquidity

    def observe(self, order: Order, fees: FeeSchedule, fee_total_usdt: Decimal | None = None) -> Fill | None:
        """Book the part of `order` not yet reported. `fee_total_usdt` is the venue's cumulative fee
        when it reports one (OKX); otherwise the fee is the fill's notional times the maker or
        taker rate of `fees`, by how the order traded."""
        with self._lock:
            return self._observe(order, fees, fee_total_usdt)

    def _observe(self, order: Order, fees: FeeSchedule, fee_total_usdt: Decimal | None) -> Fill | None:
        seen = self._orders.get(order.client_order_id)
        if seen is None:
            return None
        if order.venue_order_id:
            self._live[order.venue_order_id] = order.client_order_id
        if order.filled_qty <= seen.filled or order.avg_price <= 0:
            if order.status.is_final and order.filled_qty <= seen.filled:
                self._forget(order)
            return None
        qty = order.filled_qty - seen.filled
        total_notional = order.avg_price * order.filled_qty
        price = (total_notional - seen.notional) / qty
        if price <= 0:  # rounding of the venue's average price: fall back to the average itself
            price = order.avg_price
        if fee_total_usdt is not None:
            fee = fee_total_usdt - seen.fee
            seen.fee = fee_total_usdt
        else:
            fee = qty * price * (fees.maker_rate if seen.liquidity == "maker" else fees.taker_rate)
        seen.filled, seen.notional = order.filled_qty, total_notional
        fill = Fill(
            ts=order.update_ms,
            venue=self.venue,
            symbol=order.symbol,
            side=order.side,
            position_side=order.position_side,
            qty=qty,
            price=price,
            fee_usdt=fee,
            realized_pnl_usdt=Decimal(0),
            client_order_id=order.client_order_id,
            intent_id=seen.intent_id,
            liquidity=seen.liquidity,
            simulated=False,
            venue_order_id=order.venue_order_id,
        )
        self._fills.append(fill)
        if order.status.is_final:
            self._forget(order)
        return fill

    def _forget(self, order: Order) -> None:
        del self._orders[order.client_order_id]
        self._live.pop(order.venue_order_id, None)

    def drain(self) -> list[Fill]:
        with self._lock:
            out, self._fills = self._fills, []
        return out
