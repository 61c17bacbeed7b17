"""The risk gate and the breakers. Pure: numbers in, named reasons out.

`entry_rejections` answers whether one new-risk order may go (closing orders never ask);
`breaker_trips` answers whether the account as a whole must stop taking risk (HOLD).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from execution.models import Position
from execution.settings import RiskLimits


@dataclass(frozen=True, slots=True)
class ExposureView:
    nav: Decimal
    gross_notional: Decimal
    symbol_notional: Decimal
    open_positions: int


def entry_rejections(limits: RiskLimits, view: ExposureView, order_notional: Decimal) -> list[str]:
    out = []
    if view.open_positions >= limits.max_positions:
        out.append(f"MAX_POSITIONS: {view.open_positions} open, limit {limits.max_positions}")
    if view.symbol_notional + order_notional > limits.max_notional_per_symbol_usdt:
        out.append(
            f"MAX_NOTIONAL_PER_SYMBOL_USDT: {view.symbol_notional + order_notional:.2f} > "
            f"{limits.max_notional_per_symbol_usdt}"
        )
    gross_after = view.gross_notional + order_notional
    if gross_after > limits.max_gross_notional_usdt:
        out.append(f"MAX_GROSS_NOTIONAL_USDT: {gross_after:.2f} > {limits.max_gross_notional_usdt}")
    if view.nav <= 0:
        out.append("NAV <= 0")
    elif gross_after / view.nav > Decimal(str(limits.max_leverage)):
        out.append(f"MAX_LEVERAGE: gross/NAV {gross_after / view.nav:.2f} > {limits.max_leverage:g}")
    return out


def drawdown_pct(nav: float, peak: float) -> float:
    return (peak - nav) / peak * 100 if peak > 0 and nav < peak else 0.0


def daily_loss_pct(nav: float, day_start_nav: float) -> float:
    """Loss since the start of the day (midnight in DAY_BOUNDARY_TZ), % of that day's first NAV."""
    return (day_start_nav - nav) / day_start_nav * 100 if day_start_nav > 0 else 0.0


def breaker_trips(
    limits: RiskLimits, *, nav: float, peak_nav: float, margin_ratio: float | None = None
) -> list[tuple[str, str]]:
    """Breakers that trip HOLD from account numbers: (name, detail). NAV figures are floats
    (`Ledger.nav_float`): they are checked at every market instant and only compared. The daily
    loss is not one of them: it stops new risk until the next day and re-arms by itself
    (execution/guards/daily_stop.py)."""
    out = []
    dd = drawdown_pct(nav, peak_nav)
    if dd >= limits.kill_dd_pct:
        out.append(("drawdown", f"drawdown {dd:.2f}% from peak {peak_nav:.2f} >= KILL_DD_PCT {limits.kill_dd_pct:g}"))
    if margin_ratio is not None and margin_ratio < limits.min_margin_ratio:
        out.append(
            (
                "margin_stress",
                f"equity/maintenance margin {margin_ratio:.2f} < MIN_MARGIN_RATIO {limits.min_margin_ratio:g}",
            )
        )
    return out


class RateWindow:
    """Events in the last `window_ms` of event time; the event that would cross the limit is refused."""

    __slots__ = ("limit", "window_ms", "_times")

    def __init__(self, limit: int, window_ms: int = 60_000):
        self.limit = limit
        self.window_ms = window_ms
        self._times: deque[int] = deque()

    def _trim(self, now: int) -> None:
        while self._times and self._times[0] <= now - self.window_ms:
            self._times.popleft()

    def allow(self, now: int) -> bool:
        """Record and allow, or refuse without recording."""
        self._trim(now)
        if len(self._times) >= self.limit:
            return False
        self._times.append(now)
        return True

    def count(self, now: int) -> int:
        self._trim(now)
        return len(self._times)


CAP_TOLERANCE = 1.1  # the gate keeps orders inside a cap; prices may move a position 10% past it


def account_trips(
    limits: RiskLimits,
    *,
    nav: float,
    positions: Iterable[Position],
    maintenance: float,
) -> list[tuple[str, str]]:
    """Breakers on the account as it stands (prices move, a reconciliation finds more positions):
    the order gate keeps new orders inside the limits, these catch the account drifting out.
    Checked at every market instant with positions open, in floats (compared, never booked).
    `maintenance`: the positions' maintenance margin from the venues' tiers (execution/margin.py)."""
    out = []
    count = 0
    gross = 0.0
    per_symbol: dict[str, float] = {}
    for p in positions:
        count += 1
        notional = float(p.notional)
        gross += notional
        per_symbol[p.symbol] = per_symbol.get(p.symbol, 0.0) + notional
    if count > limits.max_positions:
        out.append(("max_positions", f"{count} open positions > MAX_POSITIONS {limits.max_positions}"))
    if gross > float(limits.max_gross_notional_usdt) * CAP_TOLERANCE:
        out.append(
            (
                "notional_cap",
                f"gross notional {gross:.2f} > 110% of MAX_GROSS_NOTIONAL_USDT {limits.max_gross_notional_usdt}",
            )
        )
    per_symbol_cap = float(limits.max_notional_per_symbol_usdt) * CAP_TOLERANCE
    for symbol, notional in per_symbol.items():
        if notional > per_symbol_cap:
            out.append(
                (
                    "notional_cap",
                    (
                        f"{symbol} notional {notional:.2f} > 110% of MAX_NOTIONAL_PER_SYMBOL_USDT "
                        f"{limits.max_notional_per_symbol_usdt}"
                    ),
                )
            )
            break
    if nav > 0 and gross / nav > limits.max_leverage * CAP_TOLERANCE:
        out.append(("max_leverage", f"gross/NAV {gross / nav:.2f} > 110% of MAX_LEVERAGE {limits.max_leverage:g}"))
    ratio = margin_ratio(nav, maintenance)
    if ratio is not None and ratio < limits.min_margin_ratio:
        out.append(
            (
                "margin_stress",
                (
                    f"equity/maintenance margin {ratio:.2f} (maintenance {maintenance:.2f} USDT from the venues' "
                    f"tiers) < MIN_MARGIN_RATIO {limits.min_margin_ratio:g}"
                ),
            )
        )
    return out


def margin_ratio(nav: float, maintenance: float) -> float | None:
    """Equity / maintenance margin; None without maintenance margin (nothing open)."""
    return nav / maintenance if maintenance > 0 else None
