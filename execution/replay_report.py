"""The replay report: what a replayed window did, per symbol, per month and per exit reason.

    python -m execution.replay MARKET_DIR --state-dir DIR --report [--report-html FILE]

Read from what the replay wrote (trade log, funding log, NAV history in STATE_DIR) and the
market's own closes (buy-and-hold of each symbol over the same span); every figure comes from
`execution.performance`, the module the dashboard, the statement and the heartbeat use.

Rows: `all` is the account itself (its NAV series: return, Sharpe, Sortino, Calmar, max
drawdown; fees, funding and slippage of every fill). Every other row is a group of closed round
trips (one symbol, one month of closes, one exit reason) taken as an account of its own: the
starting capital plus the group's net P&L on the day each trip closed, so its ratios say how
that slice of trading would have looked alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from execution import performance as perf
from execution.feeds.events import CandleClosed
from execution.feeds.market_files import discover, read_candles
from execution.state.atomic import read_lines


@dataclass(frozen=True)
class Row:
    label: str
    trades: int
    win_rate: float | None
    profit_factor: float | None
    expectancy: Decimal | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_dd: float | None  # fraction
    fees: Decimal
    funding: Decimal
    slippage: Decimal | None
    net: Decimal
    ret: float | None = None  # NAV return (the account and its months)
    buy_hold: float | None = None  # the symbol's own price return over the window


@dataclass
class Report:
    start_ms: int
    end_ms: int
    capital: float
    overall: Row
    symbols: list[Row] = field(default_factory=list)
    months: list[Row] = field(default_factory=list)
    exits: list[Row] = field(default_factory=list)
    points: perf.NavPoints | None = None
    monthly: list[perf.MonthReturn] = field(default_factory=list)


def load_nav_points(state_dir: Path) -> perf.NavPoints:
    ts: list[int] = []
    nav: list[float] = []
    for path in sorted((state_dir / "history" / "nav").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        ts.extend(doc.get("ts", []))
        nav.extend(doc.get("nav", []))
    return perf.NavPoints.of(ts, nav)


def buy_and_hold(market_dir: Path, symbols: Iterable[str], start_ms: int, end_ms: int) -> dict[str, float]:
    """Each symbol's close-to-close return over [start_ms, end_ms] (the first venue that has it)."""
    wanted, out = set(symbols), {}
    for series in discover(market_dir):
        if series.kind != "15m" or series.symbol not in wanted or series.symbol in out:
            continue
        first = last = None
        for ev in read_candles(series.path, series.venue, series.symbol):
            if isinstance(ev, CandleClosed) and start_ms <= ev.ts <= end_ms:
                first = ev.close if first is None else first
                last = ev.close
        if first and last:
            out[series.symbol] = last / first - 1
    return out


def build(state_dir: Path, market_dir: Path, capital: float) -> Report:
    fills = read_lines(state_dir / "trade_log.jsonl")
    funding = read_lines(state_dir / "funding_log.jsonl")
    points = load_nav_points(state_dir)
    if not len(points):
        raise perf.PerformanceInputError(f"{state_dir}: no NAV history to report on")
    start, end = int(points.ts[0]), int(points.ts[-1])
    points = points.with_inception(capital)
    trips = perf.round_trips(fills, funding)
    summary = perf.returns_summary(points)
    assert summary is not None
    costs = perf.costs(fills, funding, [], 0, 2**62)
    overall = _row("all", trips, capital, start, end, summary.risk, ret=summary.since_inception)
    overall = Row(**{**overall.__dict__, "fees": costs.fees, "funding": costs.funding, "slippage": costs.slippage})
    bh = buy_and_hold(market_dir, {t.symbol for t in trips}, start, end)
    report = Report(start, end, capital, overall, points=points, monthly=summary.monthly)
    report.symbols = _groups(trips, lambda t: t.symbol, capital, start, end, buy_hold=bh)
    month_ret = {m.month: m.value for m in summary.monthly}
    report.months = _groups(trips, lambda t: _month(t.closed_ts), capital, start, end, month_ret=month_ret)
    report.exits = _groups(trips, lambda t: t.exit_reason or "-", capital, start, end)
    return report


def _groups(
    trips: list[perf.RoundTrip],
    key: Callable[[perf.RoundTrip], str],
    capital: float,
    start: int,
    end: int,
    buy_hold: dict[str, float] | None = None,
    month_ret: dict[str, float] | None = None,
) -> list[Row]:
    groups: dict[str, list[perf.RoundTrip]] = {}
    for t in trips:
        groups.setdefault(key(t), []).append(t)
    rows = []
    for label in sorted(groups):
        lo, hi = (start, end)
        if month_ret is not None:
            lo, hi = perf.month_bounds(label)
            lo, hi = max(lo, start), min(hi, end)
        eq = perf.trade_equity(groups[label], capital, lo, hi)
        rows.append(
            _row(
                label,
                groups[label],
                capital,
                lo,
                hi,
                perf.risk(perf.daily_returns(eq)),
                ret=(month_ret or {}).get(label),
                buy_hold=(buy_hold or {}).get(label),
            )
        )
    return rows


def _row(
    label: str,
    trips: list[perf.RoundTrip],
    capital: float,
    start: int,
    end: int,
    risk: perf.Risk,
    ret: float | None = None,
    buy_hold: float | None = None,
) -> Row:
    s = perf.trade_stats(trips)
    return Row(
        label,
        s.trades,
        s.win_rate,
        s.profit_factor,
        s.expectancy,
        s.avg_win,
        s.avg_loss,
        risk.sharpe,
        risk.sortino,
        risk.calmar,
        risk.max_drawdown,
        s.fees,
        s.funding,
        s.slippage,
        s.net,
        ret,
        buy_hold,
    )


COLUMNS = (
    ("trades", 6),
    ("win%", 6),
    ("PF", 5),
    ("expect", 8),
    ("avg win", 8),
    ("avg loss", 8),
    ("Sharpe", 6),
    ("Sortino", 7),
    ("Calmar", 6),
    ("max DD", 7),
    ("fees", 9),
    ("funding", 8),
    ("slippage", 8),
    ("net", 9),
    ("return", 8),
    ("b&hold", 8),
)


def cells(r: Row) -> list[str]:
    return [
        str(r.trades),
        _pct(r.win_rate, signed=False),
        _num(r.profit_factor),
        _money(r.expectancy),
        _money(r.avg_win),
        _money(r.avg_loss),
        _num(r.sharpe),
        _num(r.sortino),
        _num(r.calmar),
        _pct(r.max_dd, signed=False),
        _money(r.fees),
        _money(r.funding),
        _money(r.slippage),
        _money(r.net),
        _pct(r.ret),
        _pct(r.buy_hold),
    ]


def text(report: Report) -> str:
    first, last = _month(report.start_ms), _month(report.end_ms)
    out = [
        (
            f"replay report: {_day(report.start_ms)} .. {_day(report.end_ms)} ({first}..{last}), "
            f"capital {report.capital:,.2f} USDT; money in USDT; groups are closed round trips "
            "(ratios on capital + the group's P&L, daily)"
        )
    ]
    for title, rows in (
        ("account", [report.overall]),
        ("per symbol", report.symbols),
        ("per month (by close)", report.months),
        ("per exit reason", report.exits),
    ):
        width = max([len(title)] + [len(r.label) for r in rows])
        out.append("")
        out.append(f"{title:<{width}} " + " ".join(f"{name:>{w}}" for name, w in COLUMNS))
        for r in rows:
            out.append(
                f"{r.label:<{width}} " + " ".join(f"{c:>{w}}" for c, (_, w) in zip(cells(r), COLUMNS, strict=True))
            )
    if report.overall.slippage is None:
        out.append("slippage: n/a (the fills carry no reference price)")
    return "\n".join(out)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def _month(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m")


def _pct(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:+.2f}%" if signed else f"{x * 100:.2f}%"


def _num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _money(x: Decimal | None) -> str:
    return "n/a" if x is None else f"{float(x):.2f}"
