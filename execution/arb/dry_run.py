"""SAFE_MODE / dry run: a venue stand-in that never sends anything.

It answers orders at once, FILLED at the price the loop's own book shows (plus the expected
slippage), so the whole pipeline — legs, rescue, exits, metrics — runs exactly as it would,
and the loop journals each fill with `status="simulated"`. Reference data (filters, fees,
funding, account settings) still comes from the wrapped venue: it is read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from execution.exchanges.base import Venue
from execution.exchanges.errors import BadRequest, OrderNotFound
from execution.margin import MarginSchedule
from execution.models import (
    BPS_PER_UNIT,
    Balance,
    BookTop,
    FeeSchedule,
    Fill,
    FundingInfo,
    MarginType,
    Order,
    OrderRequest,
    OrderStatus,
    Position,
    Side,
    SymbolFilters,
)


class ArbDryRunVenue(Venue):
    """The arbitrage loop's simulated order venue: every order FILLED at once at the loop's quote."""

    def __init__(
        self,
        inner: Venue,
        quote: Callable[[str, str, Side], Decimal | None],
        slippage_bps: Decimal,
        now_ms: Callable[[], int],
    ):
        self.inner = inner
        self.name = inner.name
        self.is_exchange = False
        self.order_endpoint = f"dry-run:{inner.name}"
        self._quote = quote
        self._slip = slippage_bps / BPS_PER_UNIT
        self._now = now_ms
        self._orders: dict[str, Order] = {}
        self._fills: list[Fill] = []

    def place_order(self, request: OrderRequest) -> Order:
        if request.client_order_id in self._orders:
            raise BadRequest(self.name, -4116, "ClientOrderId is duplicated.")
        px = self._quote(request.venue, request.symbol, request.side)
        if px is None:
            raise BadRequest(self.name, "dry_run", f"no book for {request.symbol}: cannot simulate a fill")
        px = px * (1 + self._slip) if request.side is Side.BUY else px * (1 - self._slip)
        order = Order(
            venue=self.name,
            symbol=request.symbol,
            client_order_id=request.client_order_id,
            status=OrderStatus.FILLED,
            side=request.side,
            position_side=request.position_side,
            order_type=request.order_type,
            quantity=request.quantity,
            filled_qty=request.quantity,
            avg_price=px,
            price=request.price,
            venue_order_id=f"dry-{len(self._orders) + 1}",
            update_ms=self._now(),
        )
        self._orders[request.client_order_id] = order
        self._fills.append(
            Fill(
                ts=self._now(),
                venue=self.name,
                symbol=request.symbol,
                side=request.side,
                position_side=request.position_side,
                qty=request.quantity,
                price=px,
                fee_usdt=Decimal(0),
                realized_pnl_usdt=Decimal(0),
                client_order_id=request.client_order_id,
                intent_id=request.intent_id,
                liquidity="taker",
                simulated=True,
            )
        )
        return order

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        o = self._orders.get(client_order_id)
        return o if o is not None and o.symbol == symbol else None

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        raise OrderNotFound(self.name, -2011, "Unknown order sent.")

    def cancel_all(self, symbol: str) -> int:
        return 0

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return []

    def drain_fills(self) -> list[Fill]:
        out, self._fills = self._fills, []
        return out

    # read-only reference data and account state come from the real venue
    def server_time_ms(self) -> int:
        return self.inner.server_time_ms()

    def filters(self, symbol: str) -> SymbolFilters:
        return self.inner.filters(symbol)

    def fees(self, symbol: str) -> FeeSchedule:
        return self.inner.fees(symbol)

    def margin_tiers(self, symbol: str) -> MarginSchedule | None:
        return self.inner.margin_tiers(symbol)

    def funding(self, symbol: str) -> FundingInfo:
        return self.inner.funding(symbol)

    def book_top(self, symbol: str) -> BookTop:
        return self.inner.book_top(symbol)

    def is_dual_side(self) -> bool:
        return self.inner.is_dual_side()

    def set_dual_side(self, enabled: bool) -> bool:
        raise BadRequest(self.name, "dry_run", "dry run does not change account settings")

    def margin_type(self, symbol: str) -> MarginType:
        return self.inner.margin_type(symbol)

    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool:
        raise BadRequest(self.name, "dry_run", "dry run does not change account settings")

    def leverage(self, symbol: str) -> int:
        return self.inner.leverage(symbol)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        raise BadRequest(self.name, "dry_run", "dry run does not change account settings")

    def positions(self) -> list[Position]:
        return self.inner.positions()

    def balance(self) -> Balance:
        return self.inner.balance()
