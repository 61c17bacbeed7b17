"""What a venue's account history says, in the unified model: its trades and the balance changes
that are not trades (funding, transfers, other income). The venue reconciler
(`execution/venue_reconciler.py`) compares these with the journal.

Every record carries the venue's own id (Binance `incomeType:tranId` and trade `id`, OKX `billId`),
so a record is booked once whatever overlaps the readings have. Amounts are + in / - out of the
account; quantities are base units (OKX contracts converted with ctVal in the adapter).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol, runtime_checkable

from execution.models import PositionSide, Side

ZERO = Decimal(0)


@dataclass(frozen=True)
class AccountEvent:
    """A balance change that is not a trade."""

    kind: str  # funding | transfer | other
    venue: str
    venue_id: str  # unique per account on that venue
    ts: int
    symbol: str  # "" for a transfer
    amount: Decimal  # + received / - paid, in `asset`
    asset: str
    detail: str  # the venue's own type (Binance incomeType, OKX type/subType)
    qty: Decimal = ZERO  # OKX funding: the position it was paid on, in base units
    mark_price: Decimal = ZERO  # OKX funding: the mark price it was computed at


@dataclass(frozen=True)
class VenueTrade:
    """One execution of one of the account's orders."""

    venue: str
    trade_id: str  # unique per account on that venue (Binance trade id, OKX billId)
    order_id: str
    client_order_id: str  # "" when the venue's trade list does not carry it (Binance)
    ts: int
    symbol: str
    side: Side
    position_side: PositionSide
    qty: Decimal  # base units
    price: Decimal
    fee: Decimal  # paid: + cost, - rebate
    fee_asset: str
    maker: bool
    realized_pnl: Decimal = ZERO  # as the venue computed it (gross of fees)


@runtime_checkable
class AccountHistory(Protocol):
    """A venue adapter that can read its account's history (BinanceUM, OkxPerp)."""

    name: str

    def venue_now_ms(self) -> int:
        """The venue's clock now (local clock + the measured offset)."""

    def account_events(self, start_ms: int, end_ms: int) -> list[AccountEvent]:
        """Funding, transfers and other income in [start_ms, end_ms], oldest first."""

    def trades(self, start_ms: int, end_ms: int, symbols: Iterable[str]) -> list[VenueTrade]:
        """The account's trades in [start_ms, end_ms] (on `symbols` where the venue needs them), oldest first."""

    def client_order_id_of(self, symbol: str, order_id: str) -> str:
        """The client order id of a venue order id ("" when the venue does not know it)."""

    def knows_order(self, venue_order_id: str) -> bool:
        """True while the adapter books that order's fills itself (an order this process tracks)."""
