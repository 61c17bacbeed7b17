"""The port through which market data drives a simulated venue (the paper venue today).

A real exchange fills orders by itself; a simulated one must be shown each price. The engine
is given the simulated venues as `simulators` (the composition root decides which venues are
simulated: the engine never asks what kind of venue it has), shows them every candle, book and
funding settlement, and keeps their books in the restart snapshot.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from execution.models import SymbolFilters


class MarketSimulator(Protocol):
    @property
    def has_working_orders(self) -> bool:
        """An order rests: prices must be shown to it (else only marks matter)."""

    def works_on(self, symbol: str) -> bool:
        """An order on this symbol rests: its bars must be shown whole (`on_bar`)."""

    def has_filters(self, symbol: str) -> bool: ...

    def add_filters(self, filters: SymbolFilters) -> None: ...

    def on_price(self, symbol: str, ts: int, price: Decimal) -> None:
        """A traded price: resting orders fill at it."""

    def on_bar(self, symbol: str, ts: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal) -> None:
        """A candle opening at `ts`: orders waiting for a price fill at the open, resting limits and
        trigger orders where its range reaches them, never outside [lo, h]. Until `on_mark` shows
        the close, an order placed meanwhile is inside this bar."""

    def on_book(self, symbol: str, ts: int, bid: Decimal, ask: Decimal) -> None: ...

    def on_mark(self, symbol: str, ts: int, price: Decimal) -> None: ...

    def on_funding(self, symbol: str, ts: int, rate: Decimal, next_funding_ms: int = 0) -> None: ...

    def snapshot(self) -> dict: ...

    def restore(self, snap: dict) -> None: ...
