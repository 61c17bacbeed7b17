"""Stop-loss / take-profit / time-stop rules, ATR-based. Pure; checked on every closed candle.

Levels are fixed at entry from the ATR of the signal candle: a LONG stops at
entry - sl_atr * ATR and takes profit at entry + tp_atr * ATR (mirrored for SHORT). A trade
older than max_hold_bars candles is closed (0 disables). Checks use the candle's close, so an
exit fills at the next price, like every other market order.
"""

from __future__ import annotations

from dataclasses import dataclass

from execution.models import PositionSide


@dataclass(frozen=True, slots=True)
class Levels:
    stop_loss: float
    take_profit: float


def levels(position_side: PositionSide, entry: float, atr: float, sl_atr: float, tp_atr: float) -> Levels:
    s = position_side.sign
    return Levels(stop_loss=entry - s * sl_atr * atr, take_profit=entry + s * tp_atr * atr)


def exit_reason(
    position_side: PositionSide, lv: Levels, close: float, bars_held: int, max_hold_bars: int
) -> str | None:
    if position_side is PositionSide.LONG:
        if close <= lv.stop_loss:
            return "stop_loss"
        if close >= lv.take_profit:
            return "take_profit"
    else:
        if close >= lv.stop_loss:
            return "stop_loss"
        if close <= lv.take_profit:
            return "take_profit"
    if max_hold_bars and bars_held >= max_hold_bars:
        return "max_hold"
    return None
