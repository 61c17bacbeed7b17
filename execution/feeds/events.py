"""Events that enter the core. Every event carries its own time (`ts`, epoch ms): the core never
reads a clock, so a replay runs as fast as the CPU allows and tests are deterministic.

Events are immutable `NamedTuple`s: a replay builds one per bar, and a tuple is built in C
(about 4x cheaper than a frozen dataclass, whose `__init__` sets each field through
`object.__setattr__`). Compare events of one type only: a tuple equals any tuple of equal values.
"""

from __future__ import annotations

from typing import NamedTuple

# Order of events that share a timestamp: a candle closing at T is the price at T, funding at T
# is exchanged on the positions held at T, book tops are the newest information.
RANK_CANDLE = 0
RANK_FUNDING = 1
RANK_BOOK = 2
RANK_ISSUE = -1  # a gap or bad row is known before the candle that follows it
RANK_MARK = 3
RANK_TICK = 9


class CandleClosed(NamedTuple):
    ts: int  # close time = open_time + timeframe
    venue: str
    symbol: str
    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float

    @property
    def rank(self) -> int:
        return RANK_CANDLE


class FundingSettled(NamedTuple):
    ts: int
    venue: str
    symbol: str
    rate: float

    @property
    def rank(self) -> int:
        return RANK_FUNDING


class BookUpdate(NamedTuple):
    ts: int
    venue: str
    symbol: str
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    recv_ts: int = 0

    @property
    def rank(self) -> int:
        return RANK_BOOK


class MarkUpdate(NamedTuple):
    """Mark price and/or the current funding rate with the next settlement time (live streams).
    A field the message did not carry is None."""

    ts: int
    venue: str
    symbol: str
    mark: float | None = None
    funding_rate: float | None = None
    next_funding_ms: int | None = None
    recv_ts: int = 0

    @property
    def rank(self) -> int:
        return RANK_MARK


class Tick(NamedTuple):
    """Time passes with no market event (a quiet live feed): lets the loop run its periodic work."""

    ts: int
    venue: str = ""
    symbol: str = ""

    @property
    def rank(self) -> int:
        return RANK_TICK


class FeedIssue(NamedTuple):
    """Bad or missing market data: reported as a `[feed]` line, never raised into the loop.

    kind: gap | duplicate | non_monotonic | bad_value | parse_error | unit | recovered | stale
    `reset` asks the core to re-warm the symbol's indicators (the series is no longer contiguous).
    """

    ts: int
    venue: str
    symbol: str
    kind: str
    detail: str
    reset: bool = False

    @property
    def rank(self) -> int:
        return RANK_ISSUE


Event = CandleClosed | FundingSettled | BookUpdate | MarkUpdate | Tick | FeedIssue
