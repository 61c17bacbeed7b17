"""The fund's performance figures: one pure module for the dashboard, the monthly statement, the
heartbeat and the replay report, so every place shows the same number for the same thing.

Inputs are plain data, never files or stores:
- NAV points: `NavPoints.of(ts_ms, nav, btc=None)` (UTC epoch ms, NAV in USDT, and optionally the
  BTC mark recorded beside each point, NaN/None where it was not);
- capital flows: `flows_from_records([{"ts": ms, "amount_usdt": +deposit/-withdrawal}, ...])`
  (the shape of `capital_flows.jsonl`); none means returns are plain NAV returns;
- trade records (`trade_log.jsonl` fills) and funding records (`funding_log.jsonl`).

Returns are time-weighted: the NAV series is cut at every point, each interval's return is
`nav_i / (nav_{i-1} + flows in (t_{i-1}, t_i]) - 1` (a flow is taken to arrive right after the
previous point, so deposits and withdrawals never count as gain or loss), and the intervals are
chained. Period returns (day, month, year, since inception) run from the last point at or before
the period's start (or the first point, for a fund younger than the period) to the last point in
it. Risk ratios use daily returns between UTC day closes, annualised over 365 days (crypto trades
every day), risk-free rate 0; they agree with empyrical's on the same returns (tests). Money that
is summed for display (fees, funding, P&L) is Decimal; ratios are floats.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from execution.round_trips import (  # noqa: F401 - re-exported: the one performance API
    PerformanceInputError,
    RoundTrip,
    SymbolResult,
    TradeStats,
    round_trips,
    trade_stats,
)
from execution.round_trips import dec as _dec
from execution.round_trips import need_dec as _need_dec
from execution.round_trips import need_int as _need_int
from execution.round_trips import to_int as _int

DAY_MS = 86_400_000
PERIODS_PER_YEAR = 365
ZERO = Decimal(0)


# ---------------------------------------------------------------------------------------------
# inputs
@dataclass(frozen=True)
class NavPoints:
    """NAV points in time order, one per timestamp. `btc` is the BTC mark beside each point (NaN: none)."""

    ts: np.ndarray  # int64 epoch ms, strictly increasing
    nav: np.ndarray  # float64, > 0
    btc: np.ndarray  # float64, NaN where not recorded

    @classmethod
    def of(cls, ts: Iterable, nav: Iterable, btc: Iterable | None = None) -> NavPoints:
        """Sorts, keeps the last value of a repeated timestamp, and refuses non-positive or non-finite NAVs."""
        t = np.asarray(list(ts), dtype=np.int64)
        n = np.asarray(list(nav), dtype=np.float64)
        if len(t) != len(n):
            raise PerformanceInputError(f"NAV points: {len(t)} timestamps but {len(n)} NAV values")
        b = np.full(len(t), np.nan) if btc is None else _floats(btc, len(t))
        bad = ~np.isfinite(n) | (n <= 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise PerformanceInputError(f"NAV point at ts={int(t[i])}: NAV {n[i]!r} is not a positive number")
        order = np.argsort(t, kind="stable")
        t, n, b = t[order], n[order], b[order]
        if len(t) > 1:
            keep = np.append(t[1:] != t[:-1], True)  # the last value written for a timestamp wins
            t, n, b = t[keep], n[keep], b[keep]
        return cls(t, n, b)

    def __len__(self) -> int:
        return len(self.ts)

    def window(self, start_ms: int, end_ms: int) -> NavPoints:
        keep = (self.ts >= start_ms) & (self.ts <= end_ms)
        return NavPoints(self.ts[keep], self.nav[keep], self.btc[keep])

    def with_inception(self, nav: float | Decimal | None, ts_ms: int | None = None) -> NavPoints:
        """The starting capital as a point before the first one (at `ts_ms`, default 1 ms before it), so
        the first interval's result counts; nothing changes if it equals the first NAV or is unknown."""
        if nav is None or not len(self) or float(nav) <= 0 or float(nav) == float(self.nav[0]):
            return self
        t0 = int(self.ts[0]) - 1 if ts_ms is None or ts_ms >= self.ts[0] else int(ts_ms)
        return NavPoints(
            np.insert(self.ts, 0, t0), np.insert(self.nav, 0, float(nav)), np.insert(self.btc, 0, self.btc[0])
        )


@dataclass(frozen=True)
class Flow:
    ts: int
    amount: Decimal  # + deposit, - withdrawal (USDT)


def flows_from_records(records: Iterable[Mapping]) -> list[Flow]:
    """Capital-flow journal records (`ts`, `amount_usdt`) as Flows, in time order."""
    out = []
    for i, r in enumerate(records):
        ts, amount = _int(r.get("ts")), _dec(r.get("amount_usdt"))
        if ts is None or amount is None:
            raise PerformanceInputError(
                f"capital flow #{i} ({r.get('id', 'no id')}): needs ts and amount_usdt, got {r!r}"
            )
        out.append(Flow(ts, amount))
    return sorted(out, key=lambda f: f.ts)


# ---------------------------------------------------------------------------------------------
# time-weighted returns
def interval_returns(points: NavPoints, flows: Iterable[Flow] = ()) -> np.ndarray:
    """Return of each interval between consecutive points, flows excluded (len(points) - 1 values)."""
    if len(points) < 2:
        return np.empty(0)
    inflow = np.zeros(len(points) - 1)
    for f in flows:
        i = int(np.searchsorted(points.ts, f.ts, side="left"))  # first point at or after the flow
        if 1 <= i < len(points):
            inflow[i - 1] += float(f.amount)
    base = points.nav[:-1] + inflow
    if (base <= 0).any():
        i = int(np.argmax(base <= 0))
        raise PerformanceInputError(
            f"capital flows before ts={int(points.ts[i + 1])} leave no capital to measure a return on"
        )
    return points.nav[1:] / base - 1


def growth_index(points: NavPoints, flows: Iterable[Flow] = ()) -> np.ndarray:
    """Value of 1 invested at the first point, at every point (the time-weighted return index)."""
    if not len(points):
        return np.empty(0)
    return np.concatenate(([1.0], np.cumprod(1 + interval_returns(points, flows))))


def period_return(points: NavPoints, index: np.ndarray, start_ms: int, end_ms: int) -> float | None:
    """Time-weighted return from the last point at or before `start_ms` (else the first point) to the last
    point at or before `end_ms`; None when the period has no point after its base."""
    base, end = _base_and_end(points, start_ms, end_ms)
    if base is None or end is None or end <= base:
        return None
    return float(index[end] / index[base] - 1)


def _base_and_end(points: NavPoints, start_ms: int, end_ms: int) -> tuple[int | None, int | None]:
    if not len(points):
        return None, None
    end = int(np.searchsorted(points.ts, end_ms, side="right")) - 1
    base = max(0, int(np.searchsorted(points.ts, start_ms, side="right")) - 1)
    return base, (end if end >= 0 else None)


def day_start(ms: int) -> int:
    return ms - ms % DAY_MS


def month_start(ms: int) -> int:
    d = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return int(datetime(d.year, d.month, 1, tzinfo=UTC).timestamp() * 1000)


def year_start(ms: int) -> int:
    return int(datetime(datetime.fromtimestamp(ms / 1000, tz=UTC).year, 1, 1, tzinfo=UTC).timestamp() * 1000)


def month_bounds(month: str) -> tuple[int, int]:
    """'YYYY-MM' -> [first ms, last ms] of that UTC month; a clear error for anything else."""
    try:
        first = datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        raise PerformanceInputError(f"month {month!r}: expected YYYY-MM, e.g. 2025-06") from None
    nxt = datetime(first.year + first.month // 12, first.month % 12 + 1, 1, tzinfo=UTC)
    return int(first.timestamp() * 1000), int(nxt.timestamp() * 1000) - 1


# ---------------------------------------------------------------------------------------------
# daily returns, drawdown, risk
def daily_returns(points: NavPoints, flows: Iterable[Flow] = ()) -> pd.Series:
    """Return of each UTC day, close to close (the first day from the first point), flows excluded;
    indexed by the day (midnight UTC)."""
    if len(points) < 2:
        return pd.Series(dtype=float)
    index = growth_index(points, flows)
    days = points.ts // DAY_MS
    last_of_day = np.append(days[1:] != days[:-1], True)
    closes = index[last_of_day]
    prev = np.concatenate(([index[0]], closes[:-1]))
    rets = closes / prev - 1
    when = pd.to_datetime(days[last_of_day] * DAY_MS, unit="ms", utc=True)
    if last_of_day[0]:  # the first point alone closed its day: it is the base, not a return
        rets, when = rets[1:], when[1:]
    return pd.Series(rets, index=when)


def drawdown(index: np.ndarray) -> np.ndarray:
    """Fraction below the running peak at every point (0 at a new high)."""
    if not len(index):
        return np.empty(0)
    return 1 - index / np.maximum.accumulate(index)


@dataclass(frozen=True)
class Drawdown:
    depth: float  # fraction, 0.12 = 12 % below the peak
    peak_ts: int
    trough_ts: int
    recovered_ts: int | None  # first point back at the peak; None while still below it


def max_drawdown(points: NavPoints, index: np.ndarray) -> Drawdown | None:
    if not len(points):
        return None
    dd = drawdown(index)
    trough = int(np.argmax(dd))
    peak = int(np.argmax(index[: trough + 1]))
    back = np.nonzero(index[trough:] >= index[peak])[0]
    recovered = int(points.ts[trough + int(back[0])]) if dd[trough] > 0 and len(back) else None
    return Drawdown(float(dd[trough]), int(points.ts[peak]), int(points.ts[trough]), recovered)


@dataclass(frozen=True)
class Risk:
    days: int  # daily returns used
    annual_return: float | None  # compound annual growth over those days
    annual_volatility: float | None
    sharpe: float | None
    sortino: float | None  # None when no day lost money
    calmar: float | None  # None without a drawdown
    max_drawdown: float | None  # on day closes (the same points the ratios use)


def risk(daily: pd.Series, periods: int = PERIODS_PER_YEAR) -> Risk:
    r = np.asarray(daily, dtype=np.float64)
    r = r[np.isfinite(r)]
    n = len(r)
    if n == 0:
        return Risk(0, None, None, None, None, None, None)
    growth = float(np.prod(1 + r))
    cagr = growth ** (periods / n) - 1 if growth > 0 else -1.0
    idx = np.concatenate(([1.0], np.cumprod(1 + r)))
    mdd = float(drawdown(idx).max())
    std = float(np.std(r, ddof=1)) if n > 1 else math.nan
    vol = std * math.sqrt(periods) if n > 1 else None
    mean = float(np.mean(r))
    sharpe = mean / std * math.sqrt(periods) if n > 1 and std > 0 else None
    downside = math.sqrt(float(np.mean(np.minimum(r, 0) ** 2)))
    sortino = mean / downside * math.sqrt(periods) if downside > 0 else None
    calmar = cagr / mdd if mdd > 0 else None
    return Risk(n, cagr, vol, sharpe, sortino, calmar, mdd)


# ---------------------------------------------------------------------------------------------
# benchmark: holding BTC over the same period
@dataclass(frozen=True)
class Benchmark:
    value: float  # BTC return over [from_ts, to_ts]
    from_ts: int
    to_ts: int
    covers_period: bool  # False when the BTC mark starts later (or ends earlier) than the period


def benchmark_return(points: NavPoints, start_ms: int, end_ms: int) -> Benchmark | None:
    """BTC mark return over the same span as `period_return`, from the marks recorded beside the NAV
    points; None when fewer than two points in the span carry a mark (never invented)."""
    base, end = _base_and_end(points, start_ms, end_ms)
    if base is None or end is None or end <= base:
        return None
    span = np.arange(base, end + 1)
    have = span[np.isfinite(points.btc[span]) & (points.btc[span] > 0)]
    if len(have) < 2:
        return None
    a, b = int(have[0]), int(have[-1])
    value = float(points.btc[b] / points.btc[a] - 1)
    return Benchmark(value, int(points.ts[a]), int(points.ts[b]), a == base and b == end)


def rebased_benchmark(points: NavPoints, to: np.ndarray) -> np.ndarray:
    """BTC marks rescaled so the first marked point equals `to` there (NaN where no mark): the NAV line's
    'what holding BTC instead would show'."""
    out = np.full(len(points), np.nan)
    have = np.nonzero(np.isfinite(points.btc) & (points.btc > 0))[0]
    if len(have):
        i = int(have[0])
        out[have] = points.btc[have] / points.btc[i] * float(to[i])
    return out


# ---------------------------------------------------------------------------------------------
# monthly table and period summaries
@dataclass(frozen=True)
class MonthReturn:
    month: str  # YYYY-MM
    value: float
    benchmark: float | None


def monthly_returns(points: NavPoints, index: np.ndarray) -> list[MonthReturn]:
    if len(points) < 2:
        return []
    out = []
    for month in sorted({_month(int(t)) for t in points.ts[1:]}):
        lo, hi = month_bounds(month)
        value = period_return(points, index, lo - 1, hi)
        if value is not None:
            bench = benchmark_return(points, lo - 1, hi)
            out.append(MonthReturn(month, value, bench.value if bench and bench.covers_period else None))
    return out


@dataclass(frozen=True)
class Returns:
    as_of_ts: int
    inception_ts: int
    nav: float
    since_inception: float | None
    year_to_date: float | None
    month_to_date: float | None
    today: float | None
    benchmark: Benchmark | None  # since inception
    risk: Risk
    max_drawdown: Drawdown | None  # on the points given (day closes for the dashboard and statement)
    monthly: list[MonthReturn]


def returns_summary(points: NavPoints, flows: Iterable[Flow] = ()) -> Returns | None:
    """Everything the investor page's headline, risk table and monthly table show, from one series."""
    if not len(points):
        return None
    flows = list(flows)
    index = growth_index(points, flows)
    now, first = int(points.ts[-1]), int(points.ts[0])
    return Returns(
        as_of_ts=now,
        inception_ts=first,
        nav=float(points.nav[-1]),
        since_inception=period_return(points, index, first, now),
        year_to_date=period_return(points, index, year_start(now) - 1, now),
        month_to_date=period_return(points, index, month_start(now) - 1, now),
        today=period_return(points, index, day_start(now) - 1, now),
        benchmark=benchmark_return(points, first, now),
        risk=risk(daily_returns(points, flows)),
        max_drawdown=max_drawdown(points, index),
        monthly=monthly_returns(points, index),
    )


def trade_equity(trips: Iterable[RoundTrip], capital: float, start_ms: int, end_ms: int) -> NavPoints:
    """A group of round trips (one symbol, month, exit reason, ...) as an account of its own:
    `capital` plus their net P&L booked on the day each closed, at every UTC day close from
    `start_ms` to `end_ms`, so days without a close count as flat days in the group's risk figures."""
    first = day_start(start_ms)
    days = np.arange(first, day_start(end_ms) + DAY_MS, DAY_MS, dtype=np.int64)
    pnl = np.zeros(len(days))
    for t in trips:
        i = int((day_start(t.closed_ts) - first) // DAY_MS)
        if 0 <= i < len(days):
            pnl[i] += float(t.net)
    nav = capital + np.cumsum(pnl)
    ts = np.concatenate(([first - 1], days + DAY_MS - 1))
    return NavPoints(ts, np.concatenate(([capital], nav)), np.full(len(ts), np.nan))


# ---------------------------------------------------------------------------------------------
# fees, funding, slippage, capital flows (closed round trips: execution/round_trips.py)
@dataclass(frozen=True)
class Costs:
    fees: Decimal  # paid (positive = cost)
    funding: Decimal  # received (+) or paid (-), as booked
    slippage: Decimal | None  # cost against the reference price; None: no fill records one
    deposits: Decimal
    withdrawals: Decimal  # positive amount withdrawn


def costs(
    fills: Iterable[Mapping], funding: Iterable[Mapping], flows: Iterable[Flow], start_ms: int, end_ms: int
) -> Costs:
    fees, fund, slip, slip_seen = ZERO, ZERO, ZERO, False
    for i, f in enumerate(fills):
        ts = _need_int(f, "ts", "fill", i)
        if start_ms <= ts <= end_ms:
            fees += _need_dec(f, "fee_usdt", "fill", i)
            ref = _dec(f.get("ref_price"))
            if ref is not None:
                sign = 1 if str(f.get("side", "")).upper() == "BUY" else -1
                slip += sign * (_need_dec(f, "price", "fill", i) - ref) * _need_dec(f, "qty", "fill", i)
                slip_seen = True
    for i, p in enumerate(funding):
        if start_ms <= _need_int(p, "ts", "funding record", i) <= end_ms:
            fund += _need_dec(p, "amount_usdt", "funding record", i)
    inside = [f.amount for f in flows if start_ms <= f.ts <= end_ms]
    return Costs(
        fees,
        fund,
        slip if slip_seen else None,
        sum((a for a in inside if a > 0), ZERO),
        -sum((a for a in inside if a < 0), ZERO),
    )


# ---------------------------------------------------------------------------------------------
# one month: what the statement prints and the page shows for that month
@dataclass(frozen=True)
class MonthFigures:
    month: str
    from_ts: int  # the base point (previous month's last NAV, or inception)
    to_ts: int
    nav_start: Decimal
    nav_end: Decimal
    ret: float
    benchmark: Benchmark | None
    max_drawdown: Drawdown | None  # within the month, on the points given
    costs: Costs
    trades: TradeStats  # round trips closed in the month


def month_figures(
    points: NavPoints,
    month: str,
    flows: Iterable[Flow] = (),
    fills: Iterable[Mapping] = (),
    funding: Iterable[Mapping] = (),
) -> MonthFigures | None:
    """None when the series has no point in that month after its base."""
    flows, funding = list(flows), list(funding)
    lo, hi = month_bounds(month)
    index = growth_index(points, flows)
    ret = period_return(points, index, lo - 1, hi)
    base, end = _base_and_end(points, lo - 1, hi)
    if ret is None or base is None or end is None:
        return None
    inside = slice(base, end + 1)
    sub = NavPoints(points.ts[inside], points.nav[inside], points.btc[inside])
    trips = [t for t in round_trips(fills, funding) if lo <= t.closed_ts <= hi]
    return MonthFigures(
        month=month,
        from_ts=int(points.ts[base]),
        to_ts=int(points.ts[end]),
        nav_start=_money(points.nav[base]),
        nav_end=_money(points.nav[end]),
        ret=ret,
        benchmark=benchmark_return(points, lo - 1, hi),
        max_drawdown=max_drawdown(sub, index[inside]),
        costs=costs(fills, funding, flows, lo, hi),
        trades=trade_stats(trips),
    )


# ---------------------------------------------------------------------------------------------
def _month(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m")


def _money(x: float) -> Decimal:
    return Decimal(repr(float(x))).quantize(Decimal("0.00000001"))


def _floats(values: Iterable, n: int) -> np.ndarray:
    out = np.full(n, np.nan)
    for i, v in enumerate(list(values)[:n]):
        try:
            out[i] = float(v) if v is not None else np.nan
        except (TypeError, ValueError):
            out[i] = np.nan
    return out
