import re
from dataclasses import replace

from execution.decision import candidate_signal, decide
from execution.feeds.events import CandleClosed
from execution.models import PositionSide, Side
from execution.rules_sl_tp import exit_reason, levels
from execution.screener import Reading, SymbolScreener, screener_line
from execution.settings import StrategyParams

P = StrategyParams(
    timeframe="15m",
    mode="momentum",
    z_window=5,
    z_threshold=1.5,
    rsi_period=3,
    rsi_buy_max=80,
    rsi_sell_min=20,
    atr_period=3,
    capital_per_trade=100,
    leverage=2,
    sl_atr=2,
    tp_atr=3,
    max_hold_bars=10,
    cooldown_bars=2,
)
LINE = re.compile(
    r"^\[screener\] (\S+) 15m z=[+-]\d+\.\d\d rsi=\d+\.\d atr=\d+\.\d{3} cross_up=(True|False) "
    r"cross_down=(True|False) in_trade=(True|False) side=(-|LONG|SHORT)$"
)


def candle(i, close, spread=1.0):
    t = i * 900_000
    return CandleClosed(t + 900_000, "binance_um", "SOLUSDT", t, close, close + spread, close - spread, close, 1.0)


def test_breakout_above_threshold_is_a_cross_up_once():
    s = SymbolScreener("binance_um", "SOLUSDT", P)
    closes = [100, 101, 100, 101, 100, 101, 100, 101, 110, 112]
    readings = [s.update(candle(i, c)) for i, c in enumerate(closes)]
    assert readings[:4] == [None] * 4
    ups = [r.cross_up for r in readings if r]
    assert ups.count(True) == 1 and readings[8].cross_up and readings[8].z > P.z_threshold
    assert not readings[9].cross_up  # already above: no new cross


def test_screener_line_has_the_exact_shape_operators_grep():
    r = Reading(0, "binance_um", "SOLUSDT", "15m", 150.0, 2.5712, 53.31, 1.65, True, False)
    line = screener_line(r, False, "-")
    assert (
        line == "[screener] SOLUSDT 15m z=+2.57 rsi=53.3 atr=0.011 cross_up=True cross_down=False in_trade=False side=-"
    )
    assert LINE.match(line)


def test_candidates_follow_mode_and_rsi_bounds():
    r = Reading(0, "v", "S", "15m", 100.0, 2.0, 50.0, 1.0, True, False)
    assert candidate_signal(r, P) is Side.BUY
    assert candidate_signal(r._replace(rsi=85.0), P) is None  # too hot to buy
    down = r._replace(z=-2.0, cross_up=False, cross_down=True)
    assert candidate_signal(down, P) is Side.SELL
    assert candidate_signal(down._replace(rsi=10.0), P) is None
    mr = replace(P, mode="mean_reversion", rsi_buy_max=35, rsi_sell_min=65)
    assert candidate_signal(down._replace(rsi=30.0), mr) is Side.BUY


def test_vetoes_are_named():
    r = Reading(0, "v", "S", "15m", 100.0, 2.0, 50.0, 1.0, True, False)
    ok = decide(
        r, P, in_trade=False, open_positions=0, max_positions=2, cooldown_left=0, symbol_ok=True, hold_reason=None
    )
    assert ok.go and ok.position_side is PositionSide.LONG and ok.veto == []
    bad = decide(
        r,
        P,
        in_trade=True,
        open_positions=2,
        max_positions=2,
        cooldown_left=1,
        symbol_ok=False,
        hold_reason="breaker drawdown",
    )
    assert not bad.go
    assert bad.veto == [
        "already_in_trade",
        "max_positions(2>=2)",
        "cooldown(1 bars)",
        "bad_market_data",
        "hold(breaker drawdown)",
    ]


def test_sl_tp_levels_and_exits_both_sides():
    lv = levels(PositionSide.LONG, 100.0, 2.0, 2.0, 3.0)
    assert (lv.stop_loss, lv.take_profit) == (96.0, 106.0)
    assert exit_reason(PositionSide.LONG, lv, 96.0, 1, 10) == "stop_loss"
    assert exit_reason(PositionSide.LONG, lv, 106.5, 1, 10) == "take_profit"
    assert exit_reason(PositionSide.LONG, lv, 100.0, 10, 10) == "max_hold"
    assert exit_reason(PositionSide.LONG, lv, 100.0, 9, 10) is None
    sv = levels(PositionSide.SHORT, 100.0, 2.0, 2.0, 3.0)
    assert (sv.stop_loss, sv.take_profit) == (104.0, 94.0)
    assert exit_reason(PositionSide.SHORT, sv, 104.0, 1, 0) == "stop_loss"
    assert exit_reason(PositionSide.SHORT, sv, 93.0, 1, 0) == "take_profit"
    assert exit_reason(PositionSide.SHORT, sv, 100.0, 10_000, 0) is None  # 0 disables the time stop
