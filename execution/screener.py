"""Per-symbol screener: closed candles -> z-score of close, RSI, ATR, and threshold crosses.

Pure: no I/O, no clock. `screener_line` renders the exact line operators grep.
"""

from __future__ import annotations

from typing import NamedTuple

from execution.feeds.events import CandleClosed
from execution.indicators import RollingZScore, WilderATR, WilderRSI
from execution.settings import StrategyParams


class Reading(NamedTuple):
    """One screened candle (an immutable tuple: one is built per candle in a replay)."""

    ts: int
    venue: str
    symbol: str
    timeframe: str
    close: float
    z: float
    rsi: float
    atr: float
    cross_up: bool  # z crossed up through +threshold on this candle
    cross_down: bool  # z crossed down through -threshold on this candle

    @property
    def atr_pct(self) -> float:
        return self.atr / self.close


_new_tuple = tuple.__new__


class SymbolScreener:
    __slots__ = ("venue", "symbol", "params", "_z", "_rsi", "_atr", "_prev_z", "bars", "readings")

    def __init__(self, venue: str, symbol: str, params: StrategyParams):
        self.venue, self.symbol, self.params = venue, symbol, params
        self.reset()

    def reset(self) -> None:
        """Forget history (after a gap): the symbol re-warms before it can signal again."""
        p = self.params
        self._z = RollingZScore(p.z_window)
        self._rsi = WilderRSI(p.rsi_period)
        self._atr = WilderATR(p.atr_period)
        self._prev_z: float | None = None
        self.bars = 0
        self.readings = 0  # readings since the last reset: 1 = the symbol has just finished warming up

    def update(self, c: CandleClosed) -> Reading | None:
        self.bars += 1
        z = self._z.update(c.close)
        rsi = self._rsi.update(c.close)
        atr = self._atr.update(c.high, c.low, c.close)
        prev_z, self._prev_z = self._prev_z, z
        if z is None or rsi is None or atr is None:
            return None
        self.readings += 1
        thr = self.params.z_threshold
        cross_up = prev_z is not None and prev_z <= thr < z
        cross_down = prev_z is not None and prev_z >= -thr > z
        # tuple.__new__: the NamedTuple without its Python-level __new__ (one Reading per candle)
        return _new_tuple(
            Reading, (c.ts, c.venue, c.symbol, self.params.timeframe, c.close, z, rsi, atr, cross_up, cross_down)
        )


def screener_line(r: Reading, in_trade: bool, side: str) -> str:
    """`[screener] SOLUSDT 15m z=+2.57 rsi=53.3 atr=0.011 cross_up=True cross_down=False in_trade=False side=-`

    atr is printed relative to the close (ATR / close), so it reads the same on every symbol.
    """
    return (
        f"[screener] {r.symbol} {r.timeframe} z={r.z:+.2f} rsi={r.rsi:.1f} atr={r.atr / r.close:.3f} "
        f"cross_up={r.cross_up} cross_down={r.cross_down} in_trade={in_trade} side={side}"
    )
