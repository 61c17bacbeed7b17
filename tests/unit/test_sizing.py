"""Entry sizing: fixed notional, or the ATR risk-parity notional that loses RISK_PER_TRADE_PCT of
NAV at the ATR stop, shrunk (not vetoed) to fit the caps and the leverage limit."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest

from execution.risk import ExposureView
from execution.settings import load_settings
from execution.sizing import SIZERS, risk_at_stop, sizer_for

S = load_settings({})
PARAMS = replace(S.default_strategy, sizer="atr_risk_parity", risk_per_trade_pct=0.1, sl_atr=2.5)
RISK = S.risk  # MAX_NOTIONAL_PER_SYMBOL_USDT 2500, MAX_GROSS_NOTIONAL_USDT 8000, MAX_LEVERAGE 3


def view(nav="10000", gross="0", symbol="0") -> ExposureView:
    return ExposureView(nav=D(nav), gross_notional=D(gross), symbol_notional=D(symbol), open_positions=0)


def test_fixed_is_capital_per_trade_times_leverage_whatever_the_volatility():
    fixed = sizer_for(S.default_strategy)
    assert fixed.name == "fixed" and not fixed.needs_exposure
    calm = fixed.size(S.default_strategy, RISK, D("60000"), 50.0, None)
    wild = fixed.size(S.default_strategy, RISK, D("60000"), 900.0, None)
    assert calm.notional == wild.notional == S.default_strategy.capital_per_trade * S.default_strategy.leverage


def test_risk_parity_loses_the_same_share_of_nav_at_the_stop_on_any_symbol():
    rp = SIZERS["atr_risk_parity"]
    losses = []
    for price, atr in (("60000", 300.0), ("150", 2.4), ("3000", 45.0)):
        size = rp.size(PARAMS, RISK, D(price), atr, view())
        assert size.capped_by == ""
        qty = size.notional / D(price)
        losses.append(risk_at_stop(qty, atr, PARAMS.sl_atr))
    assert all(loss == pytest.approx(D("10"), rel=D("1e-12")) for loss in losses)  # 0.1% of 10,000


def test_a_quiet_symbol_gets_more_notional_than_a_volatile_one():
    rp = SIZERS["atr_risk_parity"]
    quiet = rp.size(PARAMS, RISK, D("100"), 0.2, view()).notional  # ATR 0.2%
    wild = rp.size(PARAMS, RISK, D("100"), 1.0, view()).notional  # ATR 1%
    assert quiet == 5 * wild


@pytest.mark.parametrize(
    "exposure,bound,room",
    [
        (view(symbol="2000", gross="2000"), "MAX_NOTIONAL_PER_SYMBOL_USDT", D("500")),
        (view(gross="7800"), "MAX_GROSS_NOTIONAL_USDT", D("200")),
        (view(nav="1000", gross="2700"), "MAX_LEVERAGE", D("300")),
        (view(gross="9000"), "MAX_GROSS_NOTIONAL_USDT", D("0")),
    ],
)
def test_risk_parity_shrinks_to_what_the_caps_leave(exposure, bound, room):
    size = SIZERS["atr_risk_parity"].size(PARAMS, RISK, D("100"), 0.1, exposure)  # would want 4,000 at 10k NAV
    assert (size.capped_by, size.notional) == (bound, room)


def test_no_atr_means_no_size():
    assert SIZERS["atr_risk_parity"].size(PARAMS, RISK, D("100"), 0.0, view()).notional == 0
