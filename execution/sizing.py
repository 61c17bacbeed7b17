"""Entry sizing: how much notional one screener entry takes. Pure; chosen per symbol by the
strategy block's `sizer` (config/strategy_config.json).

    fixed            capital_per_trade x leverage, whatever the symbol's volatility (the default)
    atr_risk_parity  the notional whose loss at the ATR stop (sl_atr x ATR away) is
                     `risk_per_trade_pct` % of NAV: a quiet symbol gets a larger position, a
                     volatile one a smaller, and each trade risks the same share of the fund.
                     Bounded by what is left under MAX_NOTIONAL_PER_SYMBOL_USDT,
                     MAX_GROSS_NOTIONAL_USDT and MAX_LEVERAGE (gross / NAV), so it shrinks to fit
                     instead of being vetoed.

The venue's filters come after (quantity rounded down to the step in `execution/filters.py`, the
venue's and MIN_NOTIONAL_BLOCK_USD's minimums), then the risk gate (`execution/risk.py`).
`risk_at_stop` says what an entry of a given quantity would lose at its stop, for either sizer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from execution.risk import ExposureView
from execution.settings import RiskLimits, StrategyParams


@dataclass(frozen=True, slots=True)
class Size:
    notional: Decimal  # USDT, before rounding to the venue's step
    capped_by: str = ""  # the bound that made it smaller than the sizer wanted ("" when none)


class Sizer(Protocol):
    name: str
    needs_exposure: bool  # whether `size` reads the account's exposure

    def size(
        self, params: StrategyParams, limits: RiskLimits, price: Decimal, atr: float, view: ExposureView | None
    ) -> Size: ...


class FixedSizer:
    name = "fixed"
    needs_exposure = False

    def size(
        self, params: StrategyParams, limits: RiskLimits, price: Decimal, atr: float, view: ExposureView | None
    ) -> Size:
        return Size(params.capital_per_trade * params.leverage)


class AtrRiskParitySizer:
    name = "atr_risk_parity"
    needs_exposure = True

    def size(
        self, params: StrategyParams, limits: RiskLimits, price: Decimal, atr: float, view: ExposureView | None
    ) -> Size:
        stop_distance = Decimal(repr(params.sl_atr)) * Decimal(repr(atr))
        if view is None or stop_distance <= 0 or price <= 0 or view.nav <= 0:
            return Size(Decimal(0), "no ATR or NAV")
        risk_usdt = view.nav * Decimal(repr(params.risk_per_trade_pct)) / 100
        wanted = risk_usdt / stop_distance * price
        rooms = {
            "MAX_NOTIONAL_PER_SYMBOL_USDT": limits.max_notional_per_symbol_usdt - view.symbol_notional,
            "MAX_GROSS_NOTIONAL_USDT": limits.max_gross_notional_usdt - view.gross_notional,
            "MAX_LEVERAGE": view.nav * Decimal(repr(limits.max_leverage)) - view.gross_notional,
        }
        bound, room = min(rooms.items(), key=lambda kv: kv[1])
        if room < wanted:
            return Size(max(room, Decimal(0)), bound)
        return Size(wanted)


SIZERS: dict[str, Sizer] = {s.name: s for s in (FixedSizer(), AtrRiskParitySizer())}


def sizer_for(params: StrategyParams) -> Sizer:
    return SIZERS[params.sizer]


def risk_at_stop(qty: Decimal, atr: float, sl_atr: float) -> Decimal:
    """USDT lost if an entry of `qty` hits its stop (sl_atr x ATR from the entry), before costs."""
    return qty * Decimal(repr(sl_atr)) * Decimal(repr(atr))
