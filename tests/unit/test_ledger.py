from decimal import Decimal as D

import pytest

from execution.ledger import Ledger, OverClose
from execution.models import Fill, PositionSide, Side

L, S = PositionSide.LONG, PositionSide.SHORT


def fill(side, pside, qty, price, fee="0", ts=1):
    return Fill(ts, "binance_um", "BTCUSDT", side, pside, D(qty), D(price), D(fee), D(0), "cid", "intent")


def test_long_and_short_are_separate_books_in_hedge_mode():
    led = Ledger(D("1000"))
    led.apply_fill(fill(Side.BUY, L, "0.010", "60000"))
    led.apply_fill(fill(Side.SELL, S, "0.004", "60100"))
    assert led.position_qty("binance_um", "BTCUSDT", L) == D("0.010")
    assert led.position_qty("binance_um", "BTCUSDT", S) == D("0.004")
    led.mark("binance_um", "BTCUSDT", D("61000"))
    # long +10, short -3.6
    assert led.unrealized() == D("0.010") * 1000 - D("0.004") * 900


def test_average_entry_and_realised_pnl_on_partial_close():
    led = Ledger(D("1000"))
    led.apply_fill(fill(Side.BUY, L, "1", "100", fee="0.05"))
    led.apply_fill(fill(Side.BUY, L, "1", "110", fee="0.055"))
    booked = led.apply_fill(fill(Side.SELL, L, "0.5", "120", fee="0.03"))
    assert booked.realized_pnl_usdt == D("7.5")  # (120 - 105) * 0.5
    assert led.position("binance_um", "BTCUSDT", L).entry_price == D("105")
    assert led.wallet == D("1000") + D("7.5") - D("0.135")


def test_short_realises_when_price_falls():
    led = Ledger(D("0"))
    led.apply_fill(fill(Side.SELL, S, "2", "50"))
    booked = led.apply_fill(fill(Side.BUY, S, "2", "45"))
    assert booked.realized_pnl_usdt == D("10")
    assert led.positions == {}


def test_closing_more_than_held_is_refused():
    led = Ledger(D("0"))
    led.apply_fill(fill(Side.BUY, L, "1", "100"))
    with pytest.raises(OverClose):
        led.apply_fill(fill(Side.SELL, L, "1.5", "100"))
    with pytest.raises(OverClose):
        led.apply_fill(fill(Side.BUY, S, "0.1", "100"))  # closing a SHORT that does not exist


def test_funding_longs_pay_shorts_when_rate_positive():
    led = Ledger(D("0"))
    led.apply_fill(fill(Side.BUY, L, "1", "100"))
    led.apply_fill(fill(Side.SELL, S, "3", "100"))
    pays = {
        p.position_side: p.amount_usdt for p in led.apply_funding("binance_um", "BTCUSDT", 8, D("0.0001"), D("100"))
    }
    assert pays == {L: D("-0.01"), S: D("0.03")}
    assert led.funding_total == D("0.02")


def test_nav_identity_and_snapshot_round_trip():
    led = Ledger(D("10000"))
    led.apply_fill(fill(Side.BUY, L, "0.013", "60123.4", fee="0.39080210"))
    led.apply_funding("binance_um", "BTCUSDT", 8, D("0.000123"), D("60200"))
    led.mark("binance_um", "BTCUSDT", D("60500.1"))
    assert led.nav() == led.initial_wallet + led.realized_total - led.fees_total + led.funding_total + led.unrealized()
    again = Ledger.restore(led.snapshot())
    assert again.nav() == led.nav()
    assert again.positions.keys() == led.positions.keys()
