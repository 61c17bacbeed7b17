"""Incremental indicators: O(1) per candle, so a six-month replay costs microseconds per bar.

Each class takes one value (or candle) at a time and answers None until it is warm.
Definitions: population z-score of close over `window`; RSI and ATR with Wilder smoothing
(seeded by the simple mean of the first `period` values), as on most charting venues.
"""

from __future__ import annotations

import math
from collections import deque


class RollingZScore:
    __slots__ = ("window", "_values", "_sum", "_sumsq", "_since_exact")

    def __init__(self, window: int):
        if window < 2:
            raise ValueError("z-score window must be >= 2")
        self.window = window
        self._values: deque[float] = deque()
        self._sum = 0.0
        self._sumsq = 0.0
        self._since_exact = 0

    def update(self, x: float) -> float | None:
        values = self._values
        values.append(x)
        self._sum += x
        self._sumsq += x * x
        if len(values) > self.window:
            old = values.popleft()
            self._sum -= old
            self._sumsq -= old * old
        self._since_exact += 1
        if self._since_exact >= self.window:  # bound floating drift of the running sums
            self._sum = math.fsum(values)
            self._sumsq = math.fsum(v * v for v in values)
            self._since_exact = 0
        n = len(values)
        if n < self.window:
            return None
        mean = self._sum / n
        var = self._sumsq / n - mean * mean
        if var <= 1e-18 * max(1.0, mean * mean):
            return 0.0
        return (x - mean) / math.sqrt(var)


class WilderRSI:
    __slots__ = ("period", "_prev", "_gain", "_loss", "_count")

    def __init__(self, period: int):
        if period < 2:
            raise ValueError("RSI period must be >= 2")
        self.period = period
        self._prev: float | None = None
        self._gain = 0.0
        self._loss = 0.0
        self._count = 0

    def update(self, close: float) -> float | None:
        prev, self._prev = self._prev, close
        if prev is None:
            return None
        change = close - prev
        gain = change if change > 0 else 0.0
        loss = -change if change < 0 else 0.0
        p = self.period
        if self._count < p:
            self._gain += gain
            self._loss += loss
            self._count += 1
            if self._count < p:
                return None
            self._gain /= p
            self._loss /= p
        else:
            self._gain = (self._gain * (p - 1) + gain) / p
            self._loss = (self._loss * (p - 1) + loss) / p
        if self._loss == 0.0:
            return 100.0 if self._gain > 0 else 50.0
        return 100.0 - 100.0 / (1.0 + self._gain / self._loss)


class WilderATR:
    __slots__ = ("period", "_prev_close", "_atr", "_count")

    def __init__(self, period: int):
        if period < 1:
            raise ValueError("ATR period must be >= 1")
        self.period = period
        self._prev_close: float | None = None
        self._atr = 0.0
        self._count = 0

    def update(self, high: float, low: float, close: float) -> float | None:
        pc = self._prev_close
        self._prev_close = close
        tr = high - low if pc is None else max(high - low, abs(high - pc), abs(low - pc))
        p = self.period
        if self._count < p:
            self._atr += tr
            self._count += 1
            if self._count < p:
                return None
            self._atr /= p
            return self._atr
        self._atr = (self._atr * (p - 1) + tr) / p
        return self._atr
