"""Replay of a recorded (or generated) market directory as one time-ordered event stream."""
from __future__ import annotations

import heapq
from collections.abc import Iterator
from pathlib import Path

from execution.feeds.base import Feed
from execution.feeds.events import Event
from execution.feeds.market_files import SeriesFile, discover, read_candles, read_funding


class ReplayFeed(Feed):
    def __init__(self, market_dir: Path, series: list[SeriesFile] | None = None, start_ms: int = 0,
                 max_gap_bars: int = 4):
        self.market_dir = Path(market_dir)
        self.series = series if series is not None else discover(self.market_dir)
        self.start_ms = start_ms
        self.max_gap_bars = max_gap_bars

    def symbols(self, kind: str = "15m") -> list[tuple[str, str]]:
        return [(s.venue, s.symbol) for s in self.series if s.kind == kind]

    def events(self) -> Iterator[Event]:
        streams = []
        for s in self.series:
            if s.kind == "15m":
                streams.append(read_candles(s.path, s.venue, s.symbol, max_gap_bars=self.max_gap_bars))
            else:
                streams.append(read_funding(s.path, s.venue, s.symbol))
        start = self.start_ms
        for ev in heapq.merge(*streams, key=_order):
            if ev.ts >= start:
                yield ev


def _order(ev: Event) -> tuple[int, int]:
    return ev.ts, ev.rank
