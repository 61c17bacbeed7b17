"""Market data no market makes: dropped, and reported as `[feed]` lines, before the core sees it.

Every feed's events pass through `screened` (execution/app.py wraps the feed), so a replayed
file, the generated market and the live websockets are held to the same rules:

- out of range: a time before 2009 or from 2100 on (a year-10000 or 1e300 timestamp), a price
  outside [1e-9, 1e9] USDT (1e300, 1.7e308), a volume above 1e18, anything not finite, a funding
  rate beyond 5% a settlement: `FeedIssue(kind="bad_value")`, the event dropped;
- implausible: a candle whose open, high, low or close is further from the last accepted close
  than both 50% and 40 times the recent per-bar volatility (an exponential average over about a
  day of log returns), and never more than a 4x move: `FeedIssue(kind="implausible")`, dropped.
  The thresholds leave every bar of the recorded 2024H1 and 2025H1 markets and of a year of the
  generated market alone (their worst bar is 37 sigma and 18%); a 1000x bar is dropped. A move
  that persists for 3 bars that agree with each other is a new price level: it is accepted with
  a `level_shift` issue that re-warms the symbol's indicators.

Nothing non-finite gets past this point, so nothing non-finite reaches the books or the state.
Pure (no clock, no I/O); the screen costs 1-2 microseconds a candle (a few comparisons; the
volatility estimate moves on with one log per accepted bar).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from execution.feeds.base import Feed
from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, FundingSettled, MarkUpdate

MIN_TS_MS = 1_230_768_000_000  # 2009-01-01
MAX_TS_MS = 4_102_444_800_000  # 2100-01-01
MIN_PRICE, MAX_PRICE = 1e-9, 1e9
MAX_VOLUME = 1e18
MAX_FUNDING_RATE = 0.05
FLOOR = math.log(1.5)  # a bar moving less than 50% is never called implausible
CAP = math.log(4.0)  # a bar moving more than 4x always is
K_SIGMA = 40.0
ALPHA = 2 / (96 + 1)  # about a day of 15-minute bars
MIN_HISTORY = 20  # bars before the volatility estimate counts (the floor and cap apply from the first)
LEVEL_SHIFT_BARS = 3
VAR_FLOOR = 1e-8


def _price_ok(x: float) -> bool:
    return MIN_PRICE <= x <= MAX_PRICE  # False for NaN too


def _ts_ok(ts: int) -> bool:
    return MIN_TS_MS <= ts < MAX_TS_MS


@dataclass(slots=True)  # slots: its fields are read on every candle
class _Track:
    ref: float = 0.0  # last accepted close
    ref_ts: int = 0
    var: float = 0.0  # EWMA of squared per-bar log returns
    n: int = 0
    limit: float = FLOOR  # log of the largest one-bar move allowed now
    factor: float = math.exp(FLOOR)  # exp(limit): the band is [ref / factor, ref * factor]
    pending: list[float] = field(default_factory=list)  # closes of consecutive implausible bars

    def limit_for(self, bars: float) -> float:
        sigma = math.sqrt(max(self.var, VAR_FLOOR) * bars)
        return min(CAP, max(FLOOR, K_SIGMA * sigma if self.n >= MIN_HISTORY else 0.0))


class Plausibility:
    """Per-symbol state of the candle check (feed it every event in time order)."""

    def __init__(self) -> None:
        self._tracks: dict[tuple[str, str], _Track] = {}

    def candle(self, c: CandleClosed) -> list[Event] | None:
        """None to pass `c` on unchanged, else what to pass instead: [issue], or [issue, c] for a
        new price level. The common case is a few comparisons (the band is computed per accepted bar)."""
        o, h, lo, cl, v = c.open, c.high, c.low, c.close, c.volume
        if not (
            MIN_TS_MS <= c.ts < MAX_TS_MS
            and MIN_PRICE <= lo <= MAX_PRICE
            and MIN_PRICE <= h <= MAX_PRICE
            and MIN_PRICE <= o <= MAX_PRICE
            and MIN_PRICE <= cl <= MAX_PRICE
            and 0.0 <= v <= MAX_VOLUME
        ):
            return [
                self._issue(c, "bad_value", f"out of range: open_time={c.open_time} o={o} h={h} l={lo} c={cl} v={v}")
            ]
        t = self._tracks.get((c.venue, c.symbol))
        if t is None:
            self._tracks[(c.venue, c.symbol)] = _Track(ref=cl, ref_ts=c.ts)
            return None
        bar_ms = c.ts - c.open_time
        if c.ts - t.ref_ts <= bar_ms or bar_ms <= 0:
            limit, factor = t.limit, t.factor
        else:  # after a gap the price may have travelled further
            limit = t.limit_for((c.ts - t.ref_ts) / bar_ms)
            factor = math.exp(limit)
        ref = t.ref
        high, low = ref * factor, ref / factor
        if low <= lo and h <= high and low <= o <= high and low <= cl <= high:
            r = math.log(cl / ref)  # accepted: the volatility estimate and the band move on (inlined: hot path)
            var = t.var = r * r if t.n == 0 else (1 - ALPHA) * t.var + ALPHA * r * r
            t.ref, t.ref_ts = cl, c.ts
            t.n += 1
            if t.n >= MIN_HISTORY and K_SIGMA * math.sqrt(var) > FLOOR or t.limit != FLOOR:
                limit = t.limit_for(1.0)
                if limit != t.limit:
                    t.limit, t.factor = limit, math.exp(limit)
            if t.pending:
                t.pending.clear()
            return None
        return self._implausible(t, c, limit)

    def _implausible(self, t: _Track, c: CandleClosed, limit: float) -> list[Event]:
        cl = c.close
        t.pending.append(cl)
        if not all(abs(math.log(x / t.pending[0])) <= FLOOR for x in t.pending):
            t.pending[:] = [cl]
        if len(t.pending) >= LEVEL_SHIFT_BARS:
            detail = (
                f"price level moved from {t.ref:g} to {cl:g} for {len(t.pending)} bars: accepted (indicators re-warm)"
            )
            self._tracks[(c.venue, c.symbol)] = _Track(ref=cl, ref_ts=c.ts)
            return [FeedIssue(c.ts, c.venue, c.symbol, "level_shift", detail, reset=True), c]
        move = max(abs(math.log(x / t.ref)) for x in (c.open, c.high, c.low, cl))
        return [
            self._issue(
                c,
                "implausible",
                f"a {math.exp(move):.1f}x move in one bar from {t.ref:g} (o={c.open:g} h={c.high:g} l={c.low:g} "
                f"c={cl:g}; limit {math.exp(limit):.2f}x): bar dropped",
            )
        ]

    @staticmethod
    def _issue(ev: CandleClosed, kind: str, detail: str) -> FeedIssue:
        ts = ev.ts if _ts_ok(ev.ts) else 0
        return FeedIssue(ts, ev.venue, ev.symbol, kind, detail)


def event_problem(ev: Event) -> str | None:
    """Why a non-candle event cannot be used (non-finite or out of range), or None."""
    if not _ts_ok(ev.ts) and not isinstance(ev, FeedIssue):
        return f"time {ev.ts} out of range"
    if isinstance(ev, BookUpdate):
        if not (_price_ok(ev.bid) and _price_ok(ev.ask)) or not (
            0.0 <= ev.bid_qty <= MAX_VOLUME and 0.0 <= ev.ask_qty <= MAX_VOLUME
        ):
            return f"book out of range: bid={ev.bid} x {ev.bid_qty} ask={ev.ask} x {ev.ask_qty}"
    elif isinstance(ev, FundingSettled):
        if not abs(ev.rate) <= MAX_FUNDING_RATE:
            return f"funding rate {ev.rate} out of range"
    elif isinstance(ev, MarkUpdate):
        if ev.mark is not None and not _price_ok(ev.mark):
            return f"mark price {ev.mark} out of range"
        if ev.funding_rate is not None and not abs(ev.funding_rate) <= MAX_FUNDING_RATE:
            return f"funding rate {ev.funding_rate} out of range"
    return None


def screened(events: Iterable[Event], checker: Plausibility | None = None) -> Iterator[Event]:
    """`events` with every implausible or out-of-range one replaced by a FeedIssue saying why."""
    p = checker or Plausibility()
    candle = p.candle
    for ev in events:
        if type(ev) is CandleClosed:
            out = candle(ev)
            if out is None:
                yield ev
            else:
                yield from out
            continue
        problem = None if type(ev) is FeedIssue else event_problem(ev)
        if problem is None:
            yield ev
        else:
            yield FeedIssue(ev.ts if _ts_ok(ev.ts) else 0, ev.venue, ev.symbol, "bad_value", f"{problem}: dropped")


class ScreenedFeed(Feed):
    """Any feed, its events passed through `screened`."""

    def __init__(self, inner: Feed):
        self.inner = inner

    def events(self) -> Iterator[Event]:
        return screened(self.inner.events())

    def close(self) -> None:
        self.inner.close()
