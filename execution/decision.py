"""Decision: a screener reading becomes a candidate signal, then vetoes decide whether it is acted on.

Pure. The result is logged as one `[decision] {...}` JSON line whenever there is a candidate.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from execution.models import PositionSide, Side
from execution.screener import Reading
from execution.settings import StrategyParams


def candidate_signal(r: Reading, p: StrategyParams) -> Side | None:
    if p.mode == "momentum":
        side = Side.BUY if r.cross_up else Side.SELL if r.cross_down else None
    else:
        side = Side.BUY if r.cross_down else Side.SELL if r.cross_up else None
    if side is Side.BUY and r.rsi > p.rsi_buy_max:
        return None
    if side is Side.SELL and r.rsi < p.rsi_sell_min:
        return None
    return side


@dataclass(slots=True)
class Decision:
    ts: int
    venue: str
    symbol: str
    candidate: Side | None
    veto: list[str] = field(default_factory=list)

    @property
    def position_side(self) -> PositionSide | None:
        if self.candidate is None:
            return None
        return PositionSide.LONG if self.candidate is Side.BUY else PositionSide.SHORT

    @property
    def go(self) -> bool:
        return self.candidate is not None and not self.veto


def decide(
    r: Reading,
    p: StrategyParams,
    *,
    in_trade: bool,
    open_positions: int,
    max_positions: int,
    cooldown_left: int,
    symbol_ok: bool,
    hold_reason: str | None,
) -> Decision:
    d = Decision(r.ts, r.venue, r.symbol, candidate_signal(r, p))
    if d.candidate is None:
        return d
    if in_trade:
        d.veto.append("already_in_trade")
    if open_positions >= max_positions:
        d.veto.append(f"max_positions({open_positions}>={max_positions})")
    if cooldown_left > 0:
        d.veto.append(f"cooldown({cooldown_left} bars)")
    if not symbol_ok:
        d.veto.append("bad_market_data")
    if hold_reason:
        d.veto.append(f"hold({hold_reason})")
    return d
