"""Research building blocks: the search space file, the walk-forward folds, the trade statistics the
reports add to execution.performance, and the in-memory sink."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import optuna
import pytest

from execution import performance as perf
from execution.research.folds import DAY_MS, FoldError, walk_forward_folds
from execution.research.space import load_space
from execution.settings import ConfigError, load_settings
from execution.state.memory import MemorySink
from tests.conftest import PROJECT_ROOT

T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
SETTINGS = load_settings({}, CONFIG_DIR=str(PROJECT_ROOT / "config"))
DEFAULTS = SETTINGS.default_strategy


def space_file(tmp_path, doc):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(doc))
    return path


def test_the_shipped_space_is_valid_and_holds_the_current_defaults():
    space = load_space(PROJECT_ROOT / "execution" / "research" / "spaces" / "screener.json", DEFAULTS, 3)
    assert space.contains(space.current(DEFAULTS))  # every fold starts from the current default
    assert space.warmup_bars(DEFAULTS) == 193  # z_window up to 192 bars, + the bar that reads
    trial = optuna.trial.FixedTrial(space.current(DEFAULTS))
    assert space.suggest(trial) == space.current(DEFAULTS)


@pytest.mark.parametrize(
    "params, field, expected",
    [
        ({"z_window": {"low": 1, "high": 10}}, "params.z_window.low", "an integer in [2, 10000], got 1"),
        ({"z_window": {"low": 10.5, "high": 20}}, "params.z_window.low", "an integer, got 10.5"),
        ({"z_threshold": {"low": 2, "high": 1}}, "params.z_threshold.high", "a number above low (2), got 1"),
        ({"z_threshold": {"low": 1, "high": 2, "step": 3}}, "params.z_threshold.step", "a number in (0, 1], got 3"),
        ({"mode": {"choices": ["momentum", "trend"]}}, "params.mode.choices[1]", "one of "),
        ({"leverage": {"low": 1, "high": 5}}, "params.leverage.high", "<= MAX_LEVERAGE 3 of risk_limits.json, got 5"),
        ({"colour": {"low": 1, "high": 2}}, "params.colour", "a strategy_config.json field"),
        ({"timeframe": {"choices": ["15m"]}}, "params.timeframe", "a strategy_config.json field"),
        ({"sl_atr": {"low": 1, "high": 2, "bins": 3}}, "params.sl_atr.bins", "one of low, high, step, log, choices"),
    ],
)
def test_a_bad_space_is_one_config_error_naming_the_field(tmp_path, params, field, expected):
    path = space_file(tmp_path, {"params": params})
    with pytest.raises(ConfigError) as err:
        load_space(path, DEFAULTS, 3)
    assert f"config error: {path}: field '{field}': expected " in str(err.value)
    assert expected in str(err.value)


def test_objective_and_min_trades_are_checked(tmp_path):
    ok = {"params": {"sl_atr": {"low": 1, "high": 2}}}
    with pytest.raises(ConfigError, match="field 'objective'"):
        load_space(space_file(tmp_path, {**ok, "objective": "profit"}), DEFAULTS, 3)
    with pytest.raises(ConfigError, match="field 'min_trades'"):
        load_space(space_file(tmp_path, {**ok, "min_trades": -1}), DEFAULTS, 3)
    space = load_space(space_file(tmp_path, ok), DEFAULTS, 3)
    assert (space.objective, space.min_trades) == ("sharpe", 10)
    assert not space.contains({"sl_atr": 2.5}) and space.contains({"sl_atr": 1.7})


def test_folds_tile_the_data_and_every_test_follows_its_training_window():
    first, end = T0 + 900_000, T0 + 181 * DAY_MS  # 2025-01-01 00:15 .. 2025-07-01
    folds = walk_forward_folds(first, end, 4, train_ratio=2)
    tests = [f.test for f in folds if f.test is not None]
    assert len(tests) == 4 and folds[-1].test is None and folds[-1].name == "final"
    assert all(t.days == 30 for t in tests) and tests[-1].end_ms == end
    assert all(a.end_ms == b.start_ms for a, b in zip(tests, tests[1:], strict=False))  # contiguous
    for f in folds[:-1]:
        assert (
            f.test is not None
            and f.train.end_ms == f.test.start_ms
            and f.train.days == 60
            and f.train.start_ms >= first
        )
    assert folds[-1].train.end_ms == end and folds[-1].train.days == 60
    anchored = walk_forward_folds(first, end, 4, train_ratio=2, anchored=True)
    assert {f.train.start_ms for f in anchored} == {T0 + DAY_MS}
    with pytest.raises(FoldError, match="cannot hold 4 fold"):
        walk_forward_folds(first, first + 5 * DAY_MS, 4)


def fill(ts, side, pside, qty, price, fee, realized=0, reason="entry", ref=None):
    rec = {"ts": ts, "venue": "binance_um", "symbol": "BTCUSDT", "side": side, "position_side": pside}
    rec |= {"qty": qty, "price": price, "fee_usdt": fee, "realized_pnl_usdt": realized, "reason": reason}
    return rec | ({"ref_price": ref} if ref is not None else {})


def test_trade_stats_expectancy_average_win_loss_and_slippage():
    fills = [
        fill(T0, "BUY", "LONG", 1, 101, 1, ref=100),  # paid 1 above the decision price
        fill(T0 + 1, "SELL", "LONG", 1, 111, 1, 10, "take_profit", ref=112),  # sold 1 below it
        fill(T0 + 2, "BUY", "LONG", 2, 100, 1),
        fill(T0 + DAY_MS, "SELL", "LONG", 2, 95, 1, -10, "stop_loss"),
    ]
    win, loss = perf.round_trips(fills)
    assert win.net == 8 and loss.net == -12 and win.slippage == 2 and loss.slippage is None
    s = perf.trade_stats([win, loss])
    assert (s.expectancy, s.avg_win, s.avg_loss, s.fees, s.slippage) == (-2, 8, -12, 4, 2)
    assert perf.trade_stats([]).expectancy is None and perf.trade_stats([loss]).slippage is None
    eq = perf.trade_equity([win, loss], 1000, T0, T0 + 2 * DAY_MS)
    assert eq.nav.tolist() == [1000, 1008, 996, 996]  # capital, then each day's close
    assert eq.ts.tolist() == [T0 - 1, T0 + DAY_MS - 1, T0 + 2 * DAY_MS - 1, T0 + 3 * DAY_MS - 1]
    assert perf.daily_returns(eq).round(12).tolist() == [0.008, round(996 / 1008 - 1, 12), 0.0]


def test_memory_sink_keeps_journals_as_the_trade_log_writes_them():
    sink = MemorySink()
    sink.append("trades", {"qty": Decimal("0.413"), "price": Decimal("2421.39"), "side": "BUY"})
    assert sink.records("trades") == [{"qty": 0.413, "price": 2421.39, "side": "BUY"}]
    sink.nav_point(2, 10.0, 0.0)
    sink.nav_point(1, 11.0, 0.0)  # earlier than the last point: ignored, like the local store
    assert (sink.nav_ts, sink.nav) == ([2], [10.0])
    with pytest.raises(ValueError, match="unknown collection"):
        sink.append("nope", {})


def test_progress_is_plain_lines_in_a_log():
    import io

    from execution.research.walk_forward import Progress

    buf = io.StringIO()
    progress = Progress(2, buf)
    progress("fold0", 4, 8, 1.25)
    progress("fold1", 0, 8, None)
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("[research] fold0 trials 4/8 best=1.250 elapsed_s=")
    assert lines[1].startswith("[research] fold1 trials 0/8 best=n/a ")
