"""A venue wrapper that injects the faults two-leg execution must survive.

It wraps a real venue (the paper venue in tests) and lets a test script what happens to the
next order(s) that match a predicate:

    reject          refused before it reaches the venue (a typed error, default -2019 margin)
    partial         reaches the venue for only `fraction` of the quantity; reported with the
                    full quantity and, once the venue is done with it, as EXPIRED (what Binance
                    answers for a market order that ran out of liquidity)
    timeout_placed  reaches the venue, then the call fails with UnknownOutcome
    timeout_lost    the call fails with UnknownOutcome and the order never reached the venue

and it can disconnect (every call fails with VenueUnavailable, or, for `after_send=True`, an
order is placed and the answer lost) until `reconnect()`, optionally only after `n` more
successful orders ("disconnect between legs"). Every order the wrapper was asked to send is
kept in `requests`, every order that reached the venue in `placed`: tests assert on both.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from execution.exchanges.base import Venue
from execution.exchanges.errors import InsufficientMargin, UnknownOutcome, VenueError, VenueUnavailable
from execution.filters import round_qty
from execution.models import Order, OrderRequest, OrderStatus

Match = Callable[[OrderRequest], bool]


def opening(req: OrderRequest) -> bool:
    return not req.is_closing


def closing(req: OrderRequest) -> bool:
    return req.is_closing


@dataclass
class _Fault:
    kind: str
    match: Match
    times: int
    fraction: Decimal = Decimal("0.5")
    error: VenueError | None = None


class FaultyVenue(Venue):
    def __init__(self, inner: Venue):
        self.inner = inner
        self.name = inner.name
        self.is_exchange = inner.is_exchange
        self.requests: list[OrderRequest] = []
        self.placed: list[OrderRequest] = []
        self._faults: list[_Fault] = []
        self._partial: dict[str, Decimal] = {}  # cid -> quantity asked for
        self._down = False
        self._down_after_send = False
        self._down_in: int | None = None
        self.calls_while_down = 0
        self._lock = threading.Lock()

    # -- scripting -------------------------------------------------------------------------------
    def fail_next(
        self, kind: str, match: Match = opening, times: int = 1, fraction: str = "0.5", error: VenueError | None = None
    ) -> None:
        if kind not in ("reject", "partial", "timeout_placed", "timeout_lost"):
            raise ValueError(kind)
        self._faults.append(_Fault(kind, match, times, Decimal(fraction), error))

    def disconnect(self, after_orders: int | None = None, after_send: bool = False) -> None:
        """Go down now, or after `after_orders` more orders have been placed."""
        self._down_after_send = after_send
        if after_orders:
            self._down_in = after_orders
        else:
            self._down = True

    def reconnect(self) -> None:
        self._down = False
        self._down_in = None

    @property
    def down(self) -> bool:
        return self._down

    def _check_up(self, what: str) -> None:
        if self._down:
            self.calls_while_down += 1
            raise VenueUnavailable(self.name, "disconnected", f"{what}: connection refused")

    def _take_fault(self, req: OrderRequest) -> _Fault | None:
        for f in self._faults:
            if f.times > 0 and f.match(req):
                f.times -= 1
                return f
        return None

    # -- orders ----------------------------------------------------------------------------------
    def place_order(self, request: OrderRequest) -> Order:
        with self._lock:
            self.requests.append(request)
            if self._down and self._down_after_send:
                self.calls_while_down += 1
                self.placed.append(request)
                self.inner.place_order(request)
                raise UnknownOutcome(self.name, "disconnected", "connection lost after the request was sent")
            self._check_up("place_order")
            fault = self._take_fault(request)
            if fault is not None and fault.kind == "reject":
                raise fault.error or InsufficientMargin(self.name, -2019, "Margin is insufficient.")
            if fault is not None and fault.kind == "timeout_lost":
                raise UnknownOutcome(self.name, "timeout", "read timed out; the request may not have arrived")
            sent = request
            if fault is not None and fault.kind == "partial":
                qty = round_qty(request.quantity * fault.fraction, self.inner.filters(request.symbol))
                sent = dataclasses.replace(request, quantity=qty)
                self._partial[request.client_order_id] = request.quantity
            order = self.inner.place_order(sent)
            self.placed.append(sent)
            if self._down_in is not None:
                self._down_in -= 1
                if self._down_in <= 0:
                    self._down, self._down_in = True, None
            if fault is not None and fault.kind == "timeout_placed":
                raise UnknownOutcome(self.name, "timeout", "read timed out after the request was sent")
            return self._view(order)

    def _view_or_none(self, order: Order | None) -> Order | None:
        return None if order is None else self._view(order)

    def _view(self, order: Order) -> Order:
        asked = self._partial.get(order.client_order_id)
        if asked is None:
            return dataclasses.replace(order)
        status = order.status
        if status is OrderStatus.FILLED:
            status = OrderStatus.EXPIRED
        elif status is OrderStatus.NEW and order.filled_qty > 0:
            status = OrderStatus.PARTIALLY_FILLED
        return dataclasses.replace(order, quantity=asked, status=status)

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        self._check_up("get_order")
        return self._view_or_none(self.inner.get_order(symbol, client_order_id))

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        self._check_up("cancel_order")
        return self._view(self.inner.cancel_order(symbol, client_order_id))

    def cancel_all(self, symbol: str) -> int:
        self._check_up("cancel_all")
        return self.inner.cancel_all(symbol)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        self._check_up("open_orders")
        return [self._view(o) for o in self.inner.open_orders(symbol)]

    # -- everything else goes through (failing while down) ---------------------------------------
    def server_time_ms(self) -> int:
        self._check_up("server_time")
        return self.inner.server_time_ms()

    def filters(self, symbol):
        return self.inner.filters(symbol)

    def fees(self, symbol):
        return self.inner.fees(symbol)

    def funding(self, symbol):
        self._check_up("funding")
        return self.inner.funding(symbol)

    def book_top(self, symbol):
        self._check_up("book_top")
        return self.inner.book_top(symbol)

    def is_dual_side(self) -> bool:
        self._check_up("is_dual_side")
        return self.inner.is_dual_side()

    def set_dual_side(self, enabled: bool) -> bool:
        return self.inner.set_dual_side(enabled)

    def margin_type(self, symbol):
        self._check_up("margin_type")
        return self.inner.margin_type(symbol)

    def set_margin_type(self, symbol, margin_type) -> bool:
        return self.inner.set_margin_type(symbol, margin_type)

    def leverage(self, symbol) -> int:
        self._check_up("leverage")
        return self.inner.leverage(symbol)

    def set_leverage(self, symbol, leverage) -> bool:
        return self.inner.set_leverage(symbol, leverage)

    def positions(self):
        self._check_up("positions")
        return self.inner.positions()

    def balance(self):
        return self.inner.balance()

    def drain_fills(self):
        return self.inner.drain_fills()

    def drain_funding(self):
        return self.inner.drain_funding()
