"""The seam a trading strategy plugs into: the engine's loop calls these hooks, nothing else.

A strategy reads market events, decides, and sends orders through the context it is handed on
every call (`StrategyContext`: the router, the books, journals, breakers). It never holds a
reference to the engine, so strategies are built before the engine and the engine is given the
list (`Engine(strategies=[...])`). The screener (`execution/screener_strategy.py`) and the
arbitrage loop (`execution/arb/strategy.py`) are two of them; a new one subclasses
`BaseStrategy`, overrides the hooks it needs and is added to the list in `execution/app.py`.

Ownership: fills of orders a strategy sent through `ctx.submit` come back to it by client order
id; a strategy that sends orders itself (the arbitrage legs) claims them with `claims`. What
each strategy holds of a shared hedge-mode position is `owned_qty`, so one never closes
another's part.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from execution.control import Answer, ControlState
from execution.feeds.events import BookUpdate, CandleClosed, FeedIssue, FundingSettled
from execution.models import Fill, Intent, PositionSide

if TYPE_CHECKING:
    from execution.control_log import Command
    from execution.exchanges.base import Venue
    from execution.ledger import Ledger
    from execution.settings import Settings
    from execution.state.store import StateSink
    from execution.trades import InFlight

SymbolKey = tuple[str, str]
PositionKey = tuple[str, str, PositionSide]
# (command, context) -> (answer, result document or None)
CommandHandler = Callable[["Command", "StrategyContext"], tuple[Answer, dict | None]]


class StrategyContext(Protocol):
    """What a strategy may use of the engine while a hook runs."""

    settings: Settings
    ledger: Ledger
    control: ControlState
    venues: Mapping[str, Venue]
    cycle_ts: int

    def submit(self, intent: Intent, purpose: str, owner: str, leverage: int | None = None) -> str | None:
        """Send one order (HOLD, order rate and guards apply); its client order id or None."""

    def working_on(self, venue: str, symbol: str) -> bool:
        """An order on this symbol is not final yet."""

    def held_by(self, owner: str, venue: str, symbol: str, side: PositionSide) -> Decimal:
        """What `owner` holds: the hedge-mode position minus what the other strategies own."""

    def is_stale(self, key: SymbolKey) -> bool: ...

    def journal(self, collection: str, record: dict) -> None: ...

    def trip(self, breaker: str, detail: str, ts: int) -> None: ...

    def alert(self, alert_id: str, ts: int, kind: str, text: str, **fields: Any) -> None: ...


class Strategy(Protocol):
    name: str

    @property
    def universe(self) -> frozenset[SymbolKey]:
        """Symbols it screens: when every one of them is stale the stale-data breaker trips."""

    def on_candle(self, c: CandleClosed, ctx: StrategyContext, trading: bool) -> None: ...

    def on_book(self, b: BookUpdate, ctx: StrategyContext, trading: bool) -> None: ...

    def on_funding(self, f: FundingSettled, ctx: StrategyContext) -> None: ...

    def on_feed_issue(self, i: FeedIssue, ctx: StrategyContext) -> None: ...

    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None:
        """A fill of one of its orders (`flight`), or one nobody claimed (`flight` is None)."""

    def on_cycle_end(self, ts: int, ctx: StrategyContext, trading: bool) -> None: ...

    def claims(self, client_order_id: str) -> str | None:
        """The purpose (for the trade log) of an order it sent itself, else None."""

    def reference_price(self, client_order_id: str) -> Decimal | None:
        """The price an order it sent itself was decided on (its fills' slippage is measured
        against it); None when it does not know."""

    def leverage_for(self, venue: str, symbol: str) -> int: ...

    def owned_qty(self, venue: str, symbol: str, side: PositionSide) -> Decimal: ...

    def flatten(self, ts: int, reason: str, ctx: StrategyContext) -> None: ...

    def commands(self) -> Mapping[str, CommandHandler]:
        """Operator commands it answers (name -> handler), applied through the control log."""

    def position_notes(self) -> Mapping[PositionKey, dict]:
        """Extra fields for the positions document (stop-loss, take-profit, ...)."""

    def publish(self, sink: StateSink, now_wall: int) -> None:
        """Its own state documents."""

    def status(self) -> dict | None:
        """Figures for the control document (`strategies`), e.g. counters; None: nothing to show."""

    def snapshot(self) -> dict: ...

    def restore(self, snap: dict) -> None: ...

    def close(self) -> None: ...


class BaseStrategy:
    """No-op hooks: a strategy overrides only what it uses."""

    name = "base"

    @property
    def universe(self) -> frozenset[SymbolKey]:
        return frozenset()

    def on_candle(self, c: CandleClosed, ctx: StrategyContext, trading: bool) -> None:
        return None

    def on_book(self, b: BookUpdate, ctx: StrategyContext, trading: bool) -> None:
        return None

    def on_funding(self, f: FundingSettled, ctx: StrategyContext) -> None:
        return None

    def on_feed_issue(self, i: FeedIssue, ctx: StrategyContext) -> None:
        return None

    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None:
        return None

    def on_cycle_end(self, ts: int, ctx: StrategyContext, trading: bool) -> None:
        return None

    def claims(self, client_order_id: str) -> str | None:
        return None

    def reference_price(self, client_order_id: str) -> Decimal | None:
        return None

    def leverage_for(self, venue: str, symbol: str) -> int:
        return 1

    def owned_qty(self, venue: str, symbol: str, side: PositionSide) -> Decimal:
        return Decimal(0)

    def flatten(self, ts: int, reason: str, ctx: StrategyContext) -> None:
        return None

    def commands(self) -> Mapping[str, CommandHandler]:
        return {}

    def position_notes(self) -> Mapping[PositionKey, dict]:
        return {}

    def publish(self, sink: StateSink, now_wall: int) -> None:
        return None

    def status(self) -> dict | None:
        return None

    def snapshot(self) -> dict:
        return {}

    def restore(self, snap: dict) -> None:
        return None

    def close(self) -> None:
        return None
