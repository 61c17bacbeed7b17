"""execution.performance against a well-kept reference (empyrical-reloaded) on the same series, and
against hand-worked cases for what the reference does not cover (flows, dates, round trips)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from execution import performance as perf

empyrical = pytest.importorskip("empyrical", reason="empyrical-reloaded (requirements-dev.txt) not installed")

DAY = perf.DAY_MS
T0 = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)  # 2025-01-01 00:00 UTC


def minute_walk(days: int, seed: int = 3, start_nav: float = 10_000.0) -> perf.NavPoints:
    """NAV every 15 minutes (a random walk with drift and a crash) and a BTC mark beside it."""
    rng = np.random.default_rng(seed)
    n = days * 96
    r = rng.normal(0.00004, 0.003, n)
    r[n // 3 : n // 3 + 200] -= 0.002  # a drawdown worth measuring
    nav = start_nav * np.cumprod(1 + r)
    btc = 90_000 * np.cumprod(1 + rng.normal(0.00002, 0.004, n))
    ts = T0 + 60_000 + 900_000 * np.arange(n)
    return perf.NavPoints.of(ts, nav, btc)


def reference_daily(points: perf.NavPoints, inception: float) -> pd.Series:
    """Day-close returns computed the plain pandas way (independently of the module)."""
    s = pd.Series(points.nav, index=pd.to_datetime(points.ts, unit="ms", utc=True))
    closes = s.groupby(s.index.floor("D")).last()
    prev = closes.shift(1)
    prev.iloc[0] = inception
    return closes / prev - 1


def test_daily_returns_and_risk_match_empyrical():
    points = minute_walk(400).with_inception(10_000.0)
    daily = perf.daily_returns(points)
    ref = reference_daily(points.window(T0, points.ts[-1]), 10_000.0)
    assert len(daily) == len(ref) == 400
    np.testing.assert_allclose(daily.to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-15)
    r = perf.risk(daily)
    assert r.days == 400
    assert r.sharpe == pytest.approx(empyrical.sharpe_ratio(daily, annualization=365), rel=1e-9)
    assert r.sortino == pytest.approx(empyrical.sortino_ratio(daily, annualization=365), rel=1e-9)
    assert r.annual_volatility == pytest.approx(empyrical.annual_volatility(daily, annualization=365), rel=1e-9)
    assert r.annual_return == pytest.approx(empyrical.annual_return(daily, annualization=365), rel=1e-9)
    assert r.calmar == pytest.approx(empyrical.calmar_ratio(daily, annualization=365), rel=1e-9)
    assert r.max_drawdown == pytest.approx(-empyrical.max_drawdown(daily), rel=1e-9)
    summary = perf.returns_summary(points)
    assert summary is not None
    assert summary.since_inception == pytest.approx(empyrical.cum_returns_final(daily), rel=1e-9)
    assert summary.since_inception == pytest.approx(points.nav[-1] / 10_000.0 - 1, rel=1e-12)


def test_monthly_table_matches_empyrical_aggregation():
    points = minute_walk(400).with_inception(10_000.0)
    summary = perf.returns_summary(points)
    assert summary is not None
    daily = perf.daily_returns(points)
    ref = empyrical.aggregate_returns(daily, "monthly")
    got = {m.month: m.value for m in summary.monthly}
    assert list(got) == [f"{y:04d}-{m:02d}" for y, m in ref.index]
    np.testing.assert_allclose(list(got.values()), ref.to_numpy(), rtol=1e-9)
    year = empyrical.aggregate_returns(daily, "yearly")
    assert summary.year_to_date == pytest.approx(year.iloc[-1], rel=1e-9)
    assert summary.month_to_date == pytest.approx(ref.iloc[-1], rel=1e-9)
    assert summary.today == pytest.approx(daily.iloc[-1], rel=1e-9)


def test_capital_flows_are_not_returns():
    # 1000 -> 1100 (+10 %), then a 500 deposit, then 1600 -> 1440 (-10 %), then a 440 withdrawal, flat
    ts = [T0, T0 + DAY, T0 + 2 * DAY, T0 + 3 * DAY, T0 + 4 * DAY]
    nav = [1000.0, 1100.0, 1600.0, 1440.0, 1000.0]
    flows = perf.flows_from_records(
        [{"ts": T0 + DAY + 5, "amount_usdt": 500}, {"ts": T0 + 3 * DAY + 5, "amount_usdt": "-440"}]
    )
    points = perf.NavPoints.of(ts, nav)
    np.testing.assert_allclose(perf.interval_returns(points, flows), [0.1, 0.0, -0.1, 0.0])
    idx = perf.growth_index(points, flows)
    assert perf.period_return(points, idx, T0, T0 + 4 * DAY) == pytest.approx(1.1 * 0.9 - 1)
    assert perf.period_return(points, perf.growth_index(points), T0, T0 + 4 * DAY) == pytest.approx(0.0)
    c = perf.costs([], [], flows, T0, T0 + 4 * DAY)
    assert (c.deposits, c.withdrawals) == (Decimal(500), Decimal(440))
    with pytest.raises(perf.PerformanceInputError, match="capital flow #0"):
        perf.flows_from_records([{"ts": T0}])
    with pytest.raises(perf.PerformanceInputError, match="no capital"):
        perf.interval_returns(points, [perf.Flow(T0 + 5, Decimal(-1000))])


def test_max_drawdown_dates_and_recovery():
    ts = [T0 + i * DAY for i in range(7)]
    points = perf.NavPoints.of(ts, [100, 120, 90, 60, 100, 121, 110])
    dd = perf.max_drawdown(points, perf.growth_index(points))
    assert dd is not None and dd.depth == pytest.approx(0.5)
    assert (dd.peak_ts, dd.trough_ts, dd.recovered_ts) == (ts[1], ts[3], ts[5])
    still = perf.NavPoints.of(ts[:5], [100, 120, 90, 60, 100])
    dd = perf.max_drawdown(still, perf.growth_index(still))
    assert dd is not None and dd.recovered_ts is None


def test_benchmark_needs_real_marks_and_says_what_it_covers():
    ts = [T0 + i * DAY for i in range(4)]
    none = perf.NavPoints.of(ts, [1, 1, 1, 1])
    assert perf.benchmark_return(none, ts[0], ts[-1]) is None  # never invented
    late = perf.NavPoints.of(ts, [1, 1, 1, 1], [None, 100.0, 110.0, 121.0])
    b = perf.benchmark_return(late, ts[0], ts[-1])
    assert b is not None and b.value == pytest.approx(0.21) and b.from_ts == ts[1] and not b.covers_period
    full = perf.NavPoints.of(ts, [1, 1, 1, 1], [100.0, 100.0, 110.0, 121.0])
    b = perf.benchmark_return(full, ts[0], ts[-1])
    assert b is not None and b.covers_period
    np.testing.assert_allclose(perf.rebased_benchmark(full, np.asarray([50.0, 1, 1, 1])), [50, 50, 55, 60.5])


def test_nav_points_validation():
    p = perf.NavPoints.of([3, 1, 2, 2], [30.0, 10.0, 20.0, 21.0])
    assert list(p.ts) == [1, 2, 3] and list(p.nav) == [10.0, 21.0, 30.0]
    with pytest.raises(perf.PerformanceInputError, match="ts=2"):
        perf.NavPoints.of([1, 2], [1.0, float("nan")])
    with pytest.raises(perf.PerformanceInputError, match="2 timestamps but 1"):
        perf.NavPoints.of([1, 2], [1.0])
    with pytest.raises(perf.PerformanceInputError, match="expected YYYY-MM"):
        perf.month_bounds("June")


def fill(ts, side, ps, qty, price, fee, pnl=0, symbol="BTCUSDT", reason="", seq=0):
    return {
        "kind": "fill",
        "ts": ts,
        "venue": "binance_um",
        "symbol": symbol,
        "side": side,
        "position_side": ps,
        "qty": qty,
        "price": price,
        "fee_usdt": fee,
        "realized_pnl_usdt": pnl,
        "reason": reason,
        "seq": seq,
    }


def test_round_trips_in_hedge_mode_with_funding():
    fills = [
        fill(T0 - 10, "SELL", "LONG", 1, 100, 0.1, 5),  # closes something opened before the records: skipped
        fill(T0, "BUY", "LONG", 1, 100, 0.1),
        fill(T0, "SELL", "SHORT", 2, 100, 0.2, seq=1),  # the SHORT book is separate (hedge mode)
        fill(T0 + 1000, "BUY", "LONG", 1, 110, 0.11),
        fill(T0 + 2000, "SELL", "LONG", 2, 120, 0.24, 30, reason="take_profit"),
        fill(T0 + 3000, "BUY", "SHORT", 2, 90, 0.18, 20, reason="stop_loss"),
        fill(T0 + 4000, "BUY", "LONG", 1, 100, 0.1),  # still open: not a round trip
    ]
    funding = [
        {"ts": T0 + 1500, "venue": "binance_um", "symbol": "BTCUSDT", "position_side": "LONG", "amount_usdt": -0.5},
        {"ts": T0 + 1500, "venue": "binance_um", "symbol": "BTCUSDT", "position_side": "SHORT", "amount_usdt": 0.4},
    ]
    trips = perf.round_trips(fills, funding)
    assert [(t.position_side, t.closed_ts) for t in trips] == [("LONG", T0 + 2000), ("SHORT", T0 + 3000)]
    long, short = trips
    assert long.qty == 2 and long.entry_price == Decimal(105) and long.exit_price == Decimal(120)
    assert long.fees == Decimal("0.45") and long.funding == Decimal("-0.5") and long.net == Decimal("29.05")
    assert long.exit_reason == "take_profit" and long.opened_ts == T0
    assert short.net == Decimal("20") - Decimal("0.38") + Decimal("0.4")
    stats = perf.trade_stats(trips)
    assert stats.trades == 2 and stats.win_rate == 1.0 and stats.profit_factor is None
    losing = perf.round_trips([fill(T0, "BUY", "LONG", 1, 100, 1), fill(T0 + 1, "SELL", "LONG", 1, 90, 1, -10)])
    stats = perf.trade_stats(trips + losing)
    assert stats.win_rate == pytest.approx(2 / 3)
    assert stats.profit_factor == pytest.approx(float((long.net + short.net) / 12))
    assert [s.symbol for s in stats.per_symbol] == ["BTCUSDT"] and stats.per_symbol[0].trades == 3
    with pytest.raises(perf.PerformanceInputError, match="'price'"):
        perf.round_trips([{"ts": 1, "side": "BUY", "position_side": "LONG", "qty": 1, "fee_usdt": 0}])


def test_month_figures():
    points = minute_walk(70).with_inception(10_000.0)
    fills = [fill(int(datetime(2025, 2, 3, tzinfo=UTC).timestamp() * 1000), "BUY", "LONG", 1, 100, "0.5")]
    funding = [{"ts": int(datetime(2025, 2, 4, tzinfo=UTC).timestamp() * 1000), "amount_usdt": "-0.25"}]
    m = perf.month_figures(points, "2025-02", fills=fills, funding=funding)
    assert m is not None
    lo, hi = perf.month_bounds("2025-02")
    base = points.window(0, lo - 1)
    inside = points.window(lo, hi)
    assert m.from_ts == base.ts[-1] and m.to_ts == inside.ts[-1]
    assert float(m.nav_start) == pytest.approx(base.nav[-1]) and float(m.nav_end) == pytest.approx(inside.nav[-1])
    assert m.ret == pytest.approx(inside.nav[-1] / base.nav[-1] - 1)
    assert m.benchmark is not None and m.benchmark.value == pytest.approx(inside.btc[-1] / base.btc[-1] - 1)
    assert m.costs.fees == Decimal("0.5") and m.costs.funding == Decimal("-0.25") and m.costs.slippage is None
    month = pd.Series(np.concatenate(([base.nav[-1]], inside.nav)))
    assert m.max_drawdown is not None
    assert m.max_drawdown.depth == pytest.approx(float((1 - month / month.cummax()).max()))
    assert perf.month_figures(points, "2024-12") is None
