"""DRY_RUN_MODE for testnet/live: the whole pipeline against a real venue's market, no order sent.

Reads (filters, fees, funding, book top, time, account mode) go to the real venue; orders go to a
paper account that fills at the real venue's current book top (taker, with the configured
slippage). Every fill is marked simulated, so it is journaled with `status="simulated"`.
"""

from __future__ import annotations

from decimal import Decimal

from execution.exchanges.base import Venue
from execution.exchanges.paper import PaperVenue
from execution.margin import MarginSchedule
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    Fill,
    FundingInfo,
    FundingPayment,
    MarginType,
    Order,
    OrderRequest,
    Position,
    SymbolFilters,
)


class RealBookDryRunVenue(Venue):
    """DRY_RUN_MODE: a paper account filling at a real venue's touch; reads go to the real venue."""

    is_exchange = False

    def __init__(self, real: Venue, initial_balance: Decimal, slippage_bps: Decimal = Decimal(2)):
        self.real = real
        self.name = real.name
        self.order_endpoint = f"dry-run:{real.name}"
        self.paper = PaperVenue(
            real.name,
            initial_balance,
            {},
            FeeSchedule(Decimal(0), Decimal(0)),
            slippage_bps=slippage_bps,
            half_spread_bps=Decimal(0),
        )

    def _prepare(self, symbol: str) -> None:
        if not self.paper.has_filters(symbol):
            self.paper.add_filters(self.real.filters(symbol))
        self.paper._fees = self.real.fees(symbol)
        top = self.real.book_top(symbol)
        self.paper.on_mark(symbol, top.ts, top.mid)

    # reads: the real venue
    def server_time_ms(self) -> int:
        return self.real.server_time_ms()

    def filters(self, symbol: str) -> SymbolFilters:
        return self.real.filters(symbol)

    def fees(self, symbol: str) -> FeeSchedule:
        return self.real.fees(symbol)

    def margin_tiers(self, symbol: str) -> MarginSchedule | None:
        return self.real.margin_tiers(symbol)

    def funding(self, symbol: str) -> FundingInfo:
        return self.real.funding(symbol)

    def book_top(self, symbol: str) -> BookTop:
        return self.real.book_top(symbol)

    def is_dual_side(self) -> bool:
        return self.real.is_dual_side()

    def set_dual_side(self, enabled: bool) -> bool:
        return False  # a dry run changes nothing on the venue

    def margin_type(self, symbol: str) -> MarginType:
        return self.real.margin_type(symbol)

    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool:
        return False

    def leverage(self, symbol: str) -> int:
        return self.real.leverage(symbol)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        return False

    # orders and account: the simulated paper account
    def place_order(self, request: OrderRequest) -> Order:
        self._prepare(request.symbol)
        order = self.paper.place_order(request)
        top = self.real.book_top(request.symbol)
        touch = top.ask if request.side.value == "BUY" else top.bid  # a taker pays the spread
        self.paper.on_price(request.symbol, max(top.ts, self.paper.server_time_ms()), touch)
        return order

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        return self.paper.cancel_order(symbol, client_order_id)

    def cancel_all(self, symbol: str) -> int:
        return self.paper.cancel_all(symbol)

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        return self.paper.get_order(symbol, client_order_id)

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return self.paper.open_orders(symbol)

    def positions(self) -> list[Position]:
        return self.paper.positions()

    def balance(self) -> Balance:
        return self.paper.balance()

    def drain_fills(self) -> list[Fill]:
        return self.paper.drain_fills()

    def drain_funding(self) -> list[FundingPayment]:
        return self.paper.drain_funding()

    def close(self) -> None:
        self.real.close()
