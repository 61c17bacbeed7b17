from decimal import Decimal as D

import pytest

from execution.filters import FilterViolation, check_order, derive_filters, round_price, round_qty
from execution.models import OrderType, Side, SymbolFilters

BTC = SymbolFilters(
    "binance_um",
    "BTCUSDT",
    tick_size=D("0.10"),
    step_size=D("0.001"),
    min_qty=D("0.001"),
    max_qty=D("1000"),
    min_notional=D("5"),
    market_step_size=D("0.001"),
    market_max_qty=D("120"),
)


def test_quantity_rounds_down_to_the_step_never_up():
    assert round_qty(D("0.0129999"), BTC) == D("0.012")
    assert round_qty(D("0.0009"), BTC) == 0
    assert round_qty(D("-1"), BTC) == 0


def test_price_rounds_away_from_aggression():
    assert round_price(D("60000.17"), BTC, Side.BUY) == D("60000.1")
    assert round_price(D("60000.11"), BTC, Side.SELL) == D("60000.2")


@pytest.mark.parametrize(
    "qty,price,ref,code",
    [
        (D("0"), None, D("60000"), -4003),
        (D("0.0015"), None, D("60000"), -1111),
        (D("0.001"), D("60000.05"), D("60000"), -4014),
        (D("121"), None, D("60000"), -4005),  # market max qty
        (D("0.001"), None, D("4000"), -4164),  # 4 USDT < 5 min notional
    ],
)
def test_check_order_answers_with_binance_codes(qty, price, ref, code):
    order_type = OrderType.LIMIT if price is not None else OrderType.MARKET
    with pytest.raises(FilterViolation) as exc:
        check_order(BTC, order_type, qty, price, ref)
    assert exc.value.code == code


def test_min_notional_does_not_apply_to_closing_orders():
    check_order(BTC, OrderType.MARKET, D("0.001"), None, D("4000"), reduce_only=True)


def test_below_min_qty_is_4004():
    f = SymbolFilters("binance_um", "SOLUSDT", D("0.001"), D("1"), D("1"), D("1000"), D("5"))
    f2 = SymbolFilters("binance_um", "X", D("0.001"), D("0.5"), D("1"), D("1000"), D("0"))
    with pytest.raises(FilterViolation) as exc:
        check_order(f2, OrderType.MARKET, D("0.5"), None, D("100"))
    assert exc.value.code == -4004
    check_order(f, OrderType.MARKET, D("1"), None, D("150"))


def test_derived_filters_make_one_step_worth_about_a_dollar_or_more():
    for price in (0.0123, 1.5, 150.0, 3000.0, 60000.0):
        f = derive_filters("binance_um", "X", price)
        step_value = f.step_size * D(repr(price))
        assert (D(1) <= step_value < D(10)) or (f.step_size == 1 and price < 1)
        assert f.tick_size * 10_000 <= D(repr(price)) * 10
        assert f.source == "derived"
    with pytest.raises(ValueError):
        derive_filters("binance_um", "X", float("nan"))
