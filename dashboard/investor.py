"""What the investor page (Overview) shows, in plain words: pure functions over state documents and
execution.performance results, no Streamlit and no I/O.

Every figure comes from execution.performance on the series given here, so the page, the monthly
statement (scripts/statement.py) and the tests compute the same number the same way. Operator
detail (mode names, hold reasons, venue codes, indicator values, exit reasons) never appears here:
it belongs on the Operations page.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np

from dashboard.formatting import DASH, MAX_TS_MS, dec, fmt_money, fmt_ts, valid_ts
from dashboard.positions_view import base_asset, position_groups
from execution import health
from execution import performance as perf

ASSET_NAMES = {
    "BTC": "Bitcoin",
    "ETH": "Ether",
    "SOL": "Solana",
    "BNB": "BNB",
    "XRP": "XRP",
    "DOGE": "Dogecoin",
    "ADA": "Cardano",
    "AVAX": "Avalanche",
    "LINK": "Chainlink",
    "LTC": "Litecoin",
}
VENUE_NAMES = {"binance_um": "Binance", "okx_perp": "OKX", "paper": "Paper venue"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ROUND_TRIPS_PER_PAGE = 20


def asset_name(asset: str) -> str:
    return ASSET_NAMES.get(asset.upper(), asset.upper())


def venue_name(venue: str) -> str:
    return VENUE_NAMES.get(venue, venue.replace("_", " ").title())


def fmt_ret(value: float | None, signed: bool = True, places: int = 2) -> str:
    """A return given as a fraction (0.0123) shown in percent ("+1.23%")."""
    if value is None or not np.isfinite(value):
        return DASH
    return f"{fmt_money(Decimal(repr(value * 100)), signed=signed, places=places)}%"


def fmt_ratio(value: float | None) -> str:
    return DASH if value is None or not np.isfinite(value) else f"{value:.2f}"


def fmt_day(ms: int | None) -> str:
    ts = valid_ts(ms)
    return DASH if not ts else datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d")


# ---------------------------------------------------------------------------------------------
# status: Trading / Paused / Not reporting, simulated money
@dataclass(frozen=True)
class Status:
    label: str  # "Trading" | "Trading with extra caution" | "Paused" | "Not reporting since HH:MM UTC" | "No data yet"
    level: str  # "ok" | "caution" | "paused" | "down" | "none"
    simulated: bool
    simulated_label: str
    explanation: str = ""  # one plain sentence from the health state (execution/health.py), no reasons


def status(control: dict, nav: dict, updated_at_ms: int, now_ms: int, stale_after_ms: int) -> Status:
    """Plain words only: the operator's hold reason and mode names stay on the Operations page."""

    def pick(key: str):
        for doc in (control, nav):
            if isinstance(doc, dict) and doc.get(key) is not None:
                return doc[key]
        return None

    profile = str(pick("profile") or "").lower()
    dry = bool(pick("dry_run"))
    safe = bool(pick("safe_mode"))
    simulated = profile in ("paper", "testnet") or dry or (profile == "live" and safe)
    sim_label = ""
    if simulated:
        why = {"paper": "paper trading", "testnet": "exchange test accounts"}.get(profile, "no real orders are sent")
        sim_label = f"Simulated money ({why})"
    if not 0 < updated_at_ms < MAX_TS_MS:
        return Status("No data yet", "none", simulated, sim_label)
    if now_ms - updated_at_ms > stale_after_ms:
        when = datetime.fromtimestamp(updated_at_ms / 1000, tz=UTC)
        same_day = when.date() == datetime.fromtimestamp(now_ms / 1000, tz=UTC).date()
        text = when.strftime("%H:%M UTC") if same_day else when.strftime("%Y-%m-%d %H:%M UTC")
        return Status(f"Not reporting since {text}", "down", simulated, sim_label)
    mode = str(pick("mode") or "").upper()
    state = health.assess(control).state
    if mode == "RUN" and not control.get("kill") and state != health.HALTED:
        if state == health.DEGRADED:
            return Status("Trading with extra caution", "caution", simulated, sim_label, health.investor_text(state))
        return Status("Trading", "ok", simulated, sim_label, health.investor_text(state))
    return Status("Paused", "paused", simulated, sim_label, health.investor_text(health.HALTED))


# ---------------------------------------------------------------------------------------------
# the series behind the headline, risk table, monthly table and the "All" chart
def since_inception(daily: perf.NavPoints, nav: dict) -> perf.NavPoints:
    """Day closes since inception (the daily history document) with the starting capital the executor
    published (`initial_capital`) as the first point."""
    start = dec(nav.get("initial_capital"))
    return daily.with_inception(float(start) if start and start > 0 else None)


@dataclass(frozen=True)
class Headline:
    nav: str
    since_inception: str
    month: str
    today: str
    benchmark: str  # holding BTC since inception, or why not
    drawdown: str  # now, from the executor's peak (every point)
    inception: str


def headline(nav: dict, r: perf.Returns | None) -> Headline:
    bench = DASH
    if r is not None:
        b = r.benchmark
        if b is None:
            bench = DASH  # the page says why beside it: never an invented figure
        elif b.covers_period:
            bench = fmt_ret(b.value)
        else:
            bench = f"{fmt_ret(b.value)} since {fmt_day(b.from_ts)}"
    nav_value = dec(nav.get("nav"))
    if nav_value is None and r is not None:
        nav_value = Decimal(repr(r.nav))
    return Headline(
        nav=fmt_money(nav_value),
        since_inception=fmt_ret(r.since_inception) if r else DASH,
        month=fmt_ret(r.month_to_date) if r else DASH,
        today=fmt_ret(r.today) if r else DASH,
        benchmark=bench,
        drawdown=f"{fmt_money(nav.get('drawdown_pct'))}%" if dec(nav.get("drawdown_pct")) is not None else DASH,
        inception=fmt_day(r.inception_ts) if r else DASH,
    )


def risk_rows(r: perf.Returns, stats: perf.TradeStats | None) -> list[dict[str, str]]:
    k, dd = r.risk, r.max_drawdown
    if dd is None or dd.depth == 0:
        dd_value, dd_note = fmt_ret(0.0, signed=False), "none yet"
    else:
        back = f"recovered {fmt_day(dd.recovered_ts)}" if dd.recovered_ts else "not recovered yet"
        dd_value, dd_note = fmt_ret(-dd.depth), f"peak {fmt_day(dd.peak_ts)}, low {fmt_day(dd.trough_ts)}, {back}"
    rows = [
        ("Annualised return", fmt_ret(k.annual_return), f"compound growth over {k.days} days"),
        ("Annualised volatility", fmt_ret(k.annual_volatility, signed=False), "of daily returns"),
        ("Sharpe ratio", fmt_ratio(k.sharpe), "daily returns, risk-free rate 0"),
        ("Sortino ratio", fmt_ratio(k.sortino), "" if k.sortino is not None else "no losing day yet"),
        ("Calmar ratio", fmt_ratio(k.calmar), "annualised return / max drawdown"),
        ("Max drawdown", dd_value, f"on day closes: {dd_note}"),
    ]
    if stats is not None:
        rows += [
            ("Closed trades", str(stats.trades), ""),
            ("Win rate", fmt_ret(stats.win_rate, signed=False, places=1), "trades closed with a net gain"),
            ("Profit factor", fmt_ratio(stats.profit_factor), "" if stats.profit_factor else "no losing trade yet"),
        ]
    return [{"Measure": a, "Value": b, "Note": c} for a, b, c in rows]


def monthly_table(monthly: Iterable[perf.MonthReturn]) -> tuple[list[str], list[list[float | None]], list[str]]:
    """Years x (12 months + Year): (row labels, values as fractions or None, column labels)."""
    by_year: dict[int, dict[int, float]] = {}
    for m in monthly:
        y, mo = int(m.month[:4]), int(m.month[5:7])
        by_year.setdefault(y, {})[mo] = m.value
    years = sorted(by_year, reverse=True)
    rows = []
    for y in years:
        vals: list[float | None] = [by_year[y].get(mo) for mo in range(1, 13)]
        year = float(np.prod([1 + v for v in vals if v is not None]) - 1)
        rows.append([*vals, year])
    return [str(y) for y in years], rows, [*MONTHS, "Year"]


# ---------------------------------------------------------------------------------------------
# what the fund holds, in plain words
def exposure_rows(positions: dict, arb: dict | None = None) -> list[dict[str, str]]:
    rows = []
    for g in position_groups(positions, arb):
        longs = [leg for leg in g.legs if leg.side == "LONG"]
        shorts = [leg for leg in g.legs if leg.side == "SHORT"]
        if longs and shorts:
            position = "Hedged (long and short)"
        else:
            position = "Long" if longs else "Short"
        rows.append(
            {
                "Asset": asset_name(g.asset),
                "Position": position,
                "Net exposure (USDT)": fmt_money(g.net_notional, signed=True),
                "Unrealised P&L (USDT)": fmt_money(g.unrealized_pnl, signed=True),
                "Where": ", ".join(venue_name(v) for v in g.venues),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# closed trades as round trips
ROUND_TRIP_COLUMNS = ("Closed", "Asset", "P&L (USDT)", "Return", "Direction", "Opened", "Size (USDT)", "Costs (USDT)")


def round_trip_rows(trips: list[perf.RoundTrip], page: int, per_page: int = ROUND_TRIPS_PER_PAGE) -> list[dict]:
    """Newest first; P&L in the third column so a phone shows it without scrolling."""
    newest = sorted(trips, key=lambda t: t.closed_ts, reverse=True)
    out = []
    for t in newest[(page - 1) * per_page : page * per_page]:
        out.append(
            {
                "Closed": fmt_ts(t.closed_ts).replace(" UTC", ""),
                "Asset": asset_name(base_asset(t.venue, t.symbol)),
                "P&L (USDT)": fmt_money(t.net, signed=True),
                "Return": fmt_ret(t.return_pct / 100 if t.return_pct is not None else None),
                "Direction": t.position_side.title(),
                "Opened": fmt_ts(t.opened_ts).replace(" UTC", ""),
                "Size (USDT)": fmt_money(t.entry_price * t.qty),
                "Costs (USDT)": fmt_money(t.fees - t.funding),
            }
        )
    return out


def pages(n: int, per_page: int = ROUND_TRIPS_PER_PAGE) -> int:
    return max(1, -(-n // per_page))


def round_trips_csv(trips: list[perf.RoundTrip]) -> str:
    """Every closed round trip, oldest first, full precision (for the investor's own spreadsheet)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "opened_utc",
            "closed_utc",
            "asset",
            "direction",
            "venue",
            "quantity",
            "entry_price",
            "exit_price",
            "price_pnl_usdt",
            "fees_usdt",
            "funding_usdt",
            "net_pnl_usdt",
            "return_pct",
        ]
    )
    for t in sorted(trips, key=lambda t: (t.closed_ts, t.opened_ts)):
        w.writerow(
            [
                fmt_ts(t.opened_ts, seconds=True),
                fmt_ts(t.closed_ts, seconds=True),
                asset_name(base_asset(t.venue, t.symbol)),
                t.position_side.title(),
                venue_name(t.venue),
                t.qty,
                t.entry_price.quantize(Decimal("0.00000001")),
                t.exit_price.quantize(Decimal("0.00000001")),
                t.realized,
                t.fees,
                t.funding,
                t.net,
                f"{t.return_pct:.4f}" if t.return_pct is not None else "",
            ]
        )
    return out.getvalue()


def per_symbol_rows(stats: perf.TradeStats) -> list[dict[str, str]]:
    return [
        {
            "Asset": asset_name(base_asset("", s.symbol)),
            "Closed trades": str(s.trades),
            "Won": str(s.wins),
            "Net P&L (USDT)": fmt_money(s.net, signed=True),
        }
        for s in stats.per_symbol
    ]


# ---------------------------------------------------------------------------------------------
# one month, as on the statement
def month_rows(m: perf.MonthFigures) -> dict[str, str]:
    """The month's figures by name: the page and scripts/statement.py print exactly these strings."""
    c, b, dd = m.costs, m.benchmark, m.max_drawdown
    if b is None:
        bench = "not available yet"
    else:
        bench = fmt_ret(b.value) + ("" if b.covers_period else f" (from {fmt_day(b.from_ts)})")
    return {
        "NAV at start (USDT)": fmt_money(m.nav_start),
        "NAV at end (USDT)": fmt_money(m.nav_end),
        "Return": fmt_ret(m.ret),
        "Holding BTC": bench,
        "Max drawdown": fmt_ret(-dd.depth) if dd is not None and dd.depth > 0 else fmt_ret(0.0, signed=False),
        "Fees paid (USDT)": fmt_money(c.fees),
        "Funding (USDT)": fmt_money(c.funding, signed=True),
        "Slippage (USDT)": fmt_money(c.slippage) if c.slippage is not None else "not recorded yet",
        "Deposits (USDT)": fmt_money(c.deposits),
        "Withdrawals (USDT)": fmt_money(c.withdrawals),
        "Closed trades": str(m.trades.trades),
        "Period": f"{fmt_ts(m.from_ts)} → {fmt_ts(m.to_ts)}",
    }


# ---------------------------------------------------------------------------------------------
# the NAV chart's series
@dataclass(frozen=True)
class ChartSeries:
    ts: np.ndarray
    nav: np.ndarray
    btc: np.ndarray  # rebased to the NAV at the first marked point; NaN where no mark
    drawdown_pct: np.ndarray  # from the highest NAV since inception (day closes before the range)
    sampled: str  # what one point is

    @property
    def empty(self) -> bool:
        return len(self.ts) == 0


def chart_series(
    window: perf.NavPoints, inception: perf.NavPoints, flows: Iterable[perf.Flow], sampled: str
) -> ChartSeries:
    """The range's points, with drawdown measured against every earlier day close too (so a range that
    starts below the fund's peak starts below zero), flows excluded."""
    flows = list(flows)
    if not len(window):
        e = np.empty(0)
        return ChartSeries(np.empty(0, np.int64), e, e, e, sampled)
    before = inception.window(0, int(window.ts[0]) - 1)
    merged = perf.NavPoints.of(
        np.concatenate((before.ts, window.ts)),
        np.concatenate((before.nav, window.nav)),
        np.concatenate((before.btc, window.btc)),
    )
    dd = perf.drawdown(perf.growth_index(merged, flows))[len(before) :]
    return ChartSeries(window.ts, window.nav, perf.rebased_benchmark(window, window.nav), dd * 100, sampled)


def sampling(span_ms: int | None) -> str:
    """What one chart point is for a range (execution/state/layout.history_plan)."""
    from execution.state.layout import FULL_RESOLUTION_MAX_MS, HOURLY_MAX_MS

    if span_ms is not None and span_ms <= FULL_RESOLUTION_MAX_MS:
        return "every NAV point"
    if span_ms is not None and span_ms <= HOURLY_MAX_MS:
        return "one point per hour (the hour's last NAV)"
    return "one point per UTC day (the day's last NAV)"
