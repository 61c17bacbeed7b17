"""The latest book per venue of each arbitrage pair, and the per-pair scan state.

Books are kept as floats on the hot path (the pre-screen) and turned into the exact `BookTop`
only when something needs it: the exact edge, an order, a document."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from execution.arb.basis import RollingBasis
from execution.arb.config import PairConfig
from execution.arb.edge import Edge
from execution.models import BookTop

ZERO = Decimal(0)


def float_to_decimal(x: float) -> Decimal:
    return Decimal(repr(x))


class Books:
    """The latest book per venue of one pair, kept as floats on the hot path and turned into the
    exact (`Decimal`) `BookTop` only when something needs it (the exact edge, an order, a doc).

    A candle-synthesized book is stored as its close; its exact form is the close +- the half
    spread, rounded outward to the tick, as the paper venue quotes it."""

    __slots__ = ("raw", "_exact")

    def __init__(self):
        self.raw: dict[str, tuple] = {}  # venue -> (ts, bid, ask, symbol, spec)
        self._exact: dict[str, BookTop] = {}

    def set_candle(
        self, venue: str, symbol: str, ts: int, close: float, half: float, half_d: Decimal, tick: Decimal | None
    ) -> None:
        self.raw[venue] = (ts, close * (1 - half), close * (1 + half), symbol, (close, half_d, tick))
        self._exact.pop(venue, None)

    def set_book(
        self,
        venue: str,
        book: BookTop | None,
        ts: int,
        bid: float,
        ask: float,
        symbol: str,
        qty: tuple[float, float] = (0.0, 0.0),
    ) -> None:
        self.raw[venue] = (ts, bid, ask, symbol, qty)
        if book is None:
            self._exact.pop(venue, None)
        else:
            self._exact[venue] = book

    def __contains__(self, venue: str) -> bool:
        return venue in self.raw

    def __len__(self) -> int:
        return len(self.raw)

    def ts(self, venue: str) -> int:
        return self.raw[venue][0]

    def __getitem__(self, venue: str) -> BookTop:
        book = self._exact.get(venue)
        if book is not None:
            return book
        ts, bid, ask, symbol, spec = self.raw[venue]
        if len(spec) == 3:  # candle: (close, half spread, tick)
            close, half, tick = spec
            c = float_to_decimal(close)
            bid_d, ask_d = c * (1 - half), c * (1 + half)
            if tick is not None:
                bid_d = (bid_d / tick).to_integral_value(rounding=ROUND_FLOOR) * tick
                ask_d = (ask_d / tick).to_integral_value(rounding=ROUND_CEILING) * tick
            book = BookTop(venue, symbol, bid_d, ZERO, ask_d, ZERO, ts)
        else:
            book = BookTop(
                venue,
                symbol,
                float_to_decimal(bid),
                float_to_decimal(spec[0]),
                float_to_decimal(ask),
                float_to_decimal(spec[1]),
                ts,
            )
        self._exact[venue] = book
        return book

    def get(self, venue: str) -> BookTop | None:
        return self[venue] if venue in self.raw else None

    def venues(self) -> list[str]:
        return list(self.raw)


@dataclass(slots=True)
class PairState:
    cfg: PairConfig
    venue_a: str
    venue_b: str
    basis: RollingBasis
    books: Books = field(default_factory=Books)
    edges: tuple[Edge, Edge | None] | None = None  # exact, better first (None: only the pre-screen ran)
    quick_net_bps: float | None = None  # best direction, float pre-screen
    quick_long_a: bool = True  # the pre-screen's better direction is long venue_a / short venue_b
    reasons: list[str] = field(default_factory=list)
    evaluated_ts: int = 0
    flatten_requested: bool = False
