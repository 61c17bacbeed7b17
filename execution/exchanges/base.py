"""The one interface every venue implements (paper, Binance USD-M, OKX perpetual swaps).

Everything crosses it in the unified model of `execution.models`: base-unit quantities,
`Decimal` prices, side + position side, epoch-ms times. Errors cross it as the typed
exceptions of `execution.exchanges.errors`.

Fills and funding payments are *pulled* (`drain_fills`, `drain_funding`): the paper venue
produces them as market data arrives, a live adapter from order responses and its user stream.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from execution.exchanges.errors import BadRequest
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
from execution.triggers import TriggerOrder, TriggerRequest


class Venue(ABC):
    name: str
    #: True when orders reach a real matching engine (testnet counts: it is a real venue).
    is_exchange: bool = False
    #: where orders go, as the ORDER_REQ line names it (a REST path, or a simulator's own name)
    order_endpoint: str = ""

    # -- time and health -------------------------------------------------------------------
    @abstractmethod
    def server_time_ms(self) -> int: ...

    def ping(self) -> bool:
        self.server_time_ms()
        return True

    # -- reference data --------------------------------------------------------------------
    @abstractmethod
    def filters(self, symbol: str) -> SymbolFilters: ...

    @abstractmethod
    def fees(self, symbol: str) -> FeeSchedule: ...

    @abstractmethod
    def funding(self, symbol: str) -> FundingInfo: ...

    def margin_tiers(self, symbol: str) -> MarginSchedule | None:
        """The venue's maintenance-margin tiers for the symbol (Binance leverage brackets, OKX
        position tiers), read with the filters; None when the venue publishes none we could read."""
        return None

    @abstractmethod
    def book_top(self, symbol: str) -> BookTop: ...

    # -- account configuration -------------------------------------------------------------
    @abstractmethod
    def is_dual_side(self) -> bool:
        """True when the account is in hedge (dual-side / long_short) position mode."""

    @abstractmethod
    def set_dual_side(self, enabled: bool) -> bool:
        """Returns True if something changed; "no need to change" is success, not an error."""

    @abstractmethod
    def margin_type(self, symbol: str) -> MarginType: ...

    @abstractmethod
    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool: ...

    @abstractmethod
    def leverage(self, symbol: str) -> int: ...

    @abstractmethod
    def set_leverage(self, symbol: str, leverage: int) -> bool: ...

    # -- orders ----------------------------------------------------------------------------
    @abstractmethod
    def place_order(self, request: OrderRequest) -> Order:
        """Send one order. Raises a typed VenueError; UnknownOutcome means: query by
        client_order_id before anything is sent again."""

    @abstractmethod
    def cancel_order(self, symbol: str, client_order_id: str) -> Order: ...

    @abstractmethod
    def cancel_all(self, symbol: str) -> int:
        """Cancel every open order on the symbol; returns how many were open."""

    @abstractmethod
    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        """None when the venue does not know the id (the order never arrived)."""

    @abstractmethod
    def open_orders(self, symbol: str | None = None) -> list[Order]: ...

    # -- account ---------------------------------------------------------------------------
    @abstractmethod
    def positions(self) -> list[Position]:
        """Non-zero positions, one per (symbol, position side)."""

    @abstractmethod
    def balance(self) -> Balance: ...

    # -- events ----------------------------------------------------------------------------
    def drain_fills(self) -> list[Fill]:
        return []

    def drain_funding(self) -> list[FundingPayment]:
        return []

    # -- protective trigger orders (execution/triggers.py) --------------------------------
    #: the venue keeps stop-loss / take-profit trigger orders (False: the executor's own SL/TP only)
    supports_triggers: bool = False
    #: one order may carry both a stop and a take-profit price (OKX `oco`); False: one price each
    native_oco: bool = False

    def place_trigger(self, request: TriggerRequest) -> TriggerOrder:
        """Rest a protective order on the venue; its fills come back through `drain_fills`
        under `request.client_id`. Raises a typed VenueError when the venue refuses it."""
        raise BadRequest(self.name, "NO_TRIGGERS", f"{self.name} keeps no trigger orders")

    def cancel_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        """Cancel one; None when the venue does not know it (or it is final already)."""
        return None

    def get_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        """Its current state (fired ones with what their market order filled); None if unknown."""
        return None

    def open_triggers(self, symbol: str | None = None) -> list[TriggerOrder]:
        """Trigger orders resting on the venue (ours and anyone else's)."""
        return []

    def track_trigger(self, client_id: str, intent_id: str) -> None:  # noqa: B027 - optional hook
        """After a restart: report fills of this trigger again (placed by an earlier process)."""

    def arm_cancel_all_after(self, symbol: str, timeout_ms: int) -> bool:
        """Dead-man switch: the venue cancels the symbol's open orders if not re-armed within
        `timeout_ms` (0 disarms). Returns False where the venue has no such feature."""
        return False

    def close(self) -> None:  # noqa: B027 - optional hook: most venues hold nothing to release
        """Release connections; the venue object is not used afterwards."""
