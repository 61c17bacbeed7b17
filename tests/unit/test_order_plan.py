"""Pure rules of complete order execution: split above the market max, remainders, cut-backs."""

from decimal import Decimal as D

import pytest

from execution.models import SymbolFilters
from execution.order_plan import cut_back, remainder, split_quantity

F = SymbolFilters("binance_um", "BTCUSDT", D("0.1"), D("0.001"), D("0.001"), D("1000"), D("100"), D("0.001"), D("0.05"))


@pytest.mark.parametrize(
    ("qty", "children"),
    [
        ("0.04", ["0.04"]),
        ("0.05", ["0.05"]),
        ("0.12", ["0.05", "0.05", "0.02"]),
        ("0.1005", ["0.05", "0.05"]),  # below the step: dropped, never rounded up
        ("0.1", ["0.05", "0.05"]),
    ],
)
def test_split_keeps_every_child_at_most_the_market_max(qty, children):
    assert split_quantity(D(qty), F) == [D(c) for c in children]


def test_a_last_child_below_the_minimum_is_shared_with_the_one_before():
    f = SymbolFilters("okx_perp", "X", D("0.1"), D("0.01"), D("0.05"), D("1000"), D(0), D("0.01"), D("1"))
    assert split_quantity(D("2.03"), f) == [D("1"), D("0.51"), D("0.52")]
    assert all(c <= 1 and c >= f.min_qty for c in split_quantity(D("7.99"), f))
    assert sum(split_quantity(D("7.99"), f)) == D("7.99")


def test_no_market_max_means_one_order():
    f = SymbolFilters("paper", "X", D("0.1"), D("0.001"), D("0.001"), D("1000"), D(0))
    assert split_quantity(D("123.456"), f) == [D("123.456")]


def test_remainder_is_what_can_still_be_sent():
    assert remainder(D("0.05"), D("0.02"), F) == D("0.03")
    assert remainder(D("0.05"), D("0.0495"), F) == 0  # below the minimum quantity: nothing to send
    assert remainder(D("0.05"), D("0.05"), F) == 0


def test_cut_back_halves_and_stops_at_the_minimum_notional():
    assert cut_back(D("0.05"), F, D(60000)) == D("0.025")
    assert cut_back(D("0.003"), F, D(60000)) == 0  # half is 0.001: 60 USDT < the 100 USDT minimum
    assert cut_back(D("0.004"), F, D(60000)) == D("0.002")  # 120 USDT: allowed
    assert cut_back(D("0.001"), F, D(60000)) == 0
