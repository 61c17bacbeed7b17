"""Overview: the investor page. Plain words, returns since inception, the NAV chart against holding
BTC, monthly returns, risk, costs, what the fund holds and its closed trades. Read-only: its widgets
(chart range, month, page of trades, CSV download) change only the view.

Each section is drawn on its own: one that cannot be read or computed says so in one line and the
others are still shown. Figures come from execution.performance via dashboard/shared.py.
"""

from __future__ import annotations

import functools
import math
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run by st.navigation as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
import streamlit as st

from dashboard import charts, shared
from dashboard import formatting as fm
from dashboard import investor as iv
from dashboard import plain_html as ht
from dashboard import view_model as vm
from dashboard.data import Loaded
from execution import clock

CFG = shared.settings()
METRIC_WIDTH = 165  # px: two headline figures per row on a 390 px phone, a single row on a desktop


def section(title: str | None, draw: Callable[[], None]) -> None:
    """One section; if it fails, one line says so and the rest of the page goes on."""
    if title:
        st.subheader(title, anchor=False)  # no link icon per heading: fewer elements to draw
    try:
        draw()
    except Exception as exc:  # noqa: BLE001 - a section must never take the page down
        print(f"[dashboard] overview section {title!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        st.warning(f"{title or 'This section'} could not be shown just now; the rest of the page is current.")


def table(rows: list[dict], empty: str) -> None:
    """A plain HTML table (dashboard/plain_html.py): it wraps and scrolls on a phone, and its first
    columns (P&L among them) stay in view."""
    if rows:
        st.html(ht.rows_html(rows))
    else:
        st.caption(empty)


def status_line(data: Loaded, now: int) -> None:
    s = iv.status(data.doc("control"), data.doc("nav"), data.updated_at_ms, now, CFG.stale_after_ms)
    colour = {"ok": "green", "caution": "violet", "paused": "orange", "down": "red"}.get(s.level, "gray")
    badges = [f":{colour}-badge[{s.label}]"]
    if s.simulated:
        badges.append(f":blue-badge[{s.simulated_label}]")
    st.markdown(" ".join(badges))
    if s.level in ("caution", "paused") and s.explanation:
        st.caption(s.explanation)
    if s.level == "down":
        st.warning(f"The fund has not reported since {fm.fmt_ts(data.updated_at_ms)}: figures are as of then.")
    elif s.level == "none":
        st.info("No figures to show yet: the fund has not published its first report.")
    if data.unreadable or data.errors:
        st.warning("Part of the data could not be read just now; the sections affected say so.")


def headline(data: Loaded, fig: shared.Figures) -> None:
    h = iv.headline(data.doc("nav"), fig.returns)
    box = st.container(horizontal=True, gap="small")
    box.metric("NAV (USDT)", h.nav, width=METRIC_WIDTH)
    box.metric("Since inception", h.since_inception, width=METRIC_WIDTH)
    box.metric("This month", h.month, width=METRIC_WIDTH)
    box.metric("Today", h.today, width=METRIC_WIDTH)
    box.metric("Holding BTC", h.benchmark, width=METRIC_WIDTH)
    box.metric("Drawdown", h.drawdown, width=METRIC_WIDTH)
    st.html(ht.notes_html("What these figures mean", headline_notes(h.inception)))
    if fig.returns is not None and fig.returns.benchmark is None:
        st.caption("Benchmark (holding BTC) not available yet: the history does not record the BTC price yet.")
    if "nav" in data.unreadable:
        st.caption("The latest NAV report could not be read just now: NAV is the last recorded day close.")


def headline_notes(inception: str) -> list[tuple[str, str]]:
    return [
        ("NAV", "Account equity in USDT (excludes the BTC reserve)."),
        (
            "Since inception",
            f"Time-weighted return since {inception}; deposits and withdrawals are not counted as gains or losses.",
        ),
        ("This month", "Time-weighted return since the last NAV of last month."),
        ("Today", "Since the last NAV of yesterday (UTC)."),
        ("Holding BTC", "Bitcoin's price change over the same period since inception."),
        ("Drawdown", "How far NAV is below its highest value so far."),
    ]


def chart(data: Loaded, fig: shared.Figures) -> None:
    rng = (
        st.segmented_control(
            "Range",
            list(vm.RANGES),
            default=CFG.default_range,
            key="nav_range",
            required=True,
            label_visibility="collapsed",
        )
        or CFG.default_range
    )
    if "history" in fig.problems:
        st.info("The NAV history could not be read just now.")
        return
    series, figure = shared.chart(CFG, data, fig, rng)
    if series.empty:
        st.info("No NAV history in this range yet.")
        return
    charts.show(figure, key=f"nav_chart_{rng}")
    low, high = float(series.nav.min()), float(series.nav.max())
    note = " (the same points as the return and risk figures)" if rng == "All" else ""
    bench = "" if pd.notna(series.btc).any() else " · benchmark not available yet for this range"
    st.caption(
        f"{fm.fmt_ts(int(series.ts[0]))} → {fm.fmt_ts(int(series.ts[-1]))} · {len(series.ts)} points, "
        f"{series.sampled}{note} · low {fm.fmt_money(low)} / high {fm.fmt_money(high)} USDT · "
        f"deepest drawdown {fm.fmt_pct(float(series.drawdown_pct.max()))}{bench}"
    )


def monthly(fig: shared.Figures) -> None:
    if fig.returns is None or not fig.returns.monthly:
        st.caption("No complete month of history yet.")
        return
    years, rows, cols = iv.monthly_table(fig.returns.monthly)

    def colour(r: int, c: int) -> str:
        v = rows[r][c]
        if v is None or math.isnan(v) or v == 0:
            return ""
        alpha = min(0.85, 0.15 + abs(v) * 8)
        return f"background-color: rgba({'22,163,74' if v > 0 else '220,38,38'},{alpha:.2f})"

    shown = [["" if v is None or math.isnan(v) else iv.fmt_ret(v, places=1) for v in row] for row in rows]
    st.html(ht.grid_html(cols, shown, index=years, index_name="Year", style=colour))
    st.caption(
        "Time-weighted return of each month (UTC), deposits and withdrawals excluded; Year compounds the months."
    )


def risk(fig: shared.Figures) -> None:
    if fig.returns is None:
        st.caption("No history yet.")
        return
    table(iv.risk_rows(fig.returns, fig.stats), "")
    st.caption("Ratios use daily returns between UTC day closes, annualised over 365 days.")


def costs(data: Loaded, fig: shared.Figures) -> None:
    if "trades" in fig.problems or "trades" in data.unreadable:
        st.info("The trade records could not be read just now.")
        return
    c = fig.costs
    if c is None:
        st.caption("No trades yet.")
        return
    box = st.container(horizontal=True, gap="small")
    box.metric("Fees paid (USDT)", fm.fmt_money(c.fees), width=METRIC_WIDTH)
    box.metric("Funding (USDT)", fm.fmt_money(c.funding, signed=True), width=METRIC_WIDTH)
    if c.slippage is not None:
        box.metric("Slippage (USDT)", fm.fmt_money(c.slippage), width=METRIC_WIDTH)
    if data.flows_journaled:
        box.metric("Deposits (USDT)", fm.fmt_money(c.deposits), width=METRIC_WIDTH)
        box.metric("Withdrawals (USDT)", fm.fmt_money(c.withdrawals), width=METRIC_WIDTH)
    st.caption(
        "Since inception. Funding: payments on perpetual futures, positive received, negative paid."
        + (
            " Slippage: the cost of fills against the price each order was decided on."
            if c.slippage is not None
            else " Slippage is not recorded yet."
        )
        + ("" if data.flows_journaled else " No deposits or withdrawals are recorded yet.")
    )


def holdings(data: Loaded) -> None:
    if "positions" in data.unreadable:
        st.info("Current positions could not be read just now.")
        return
    table(iv.exposure_rows(data.doc("positions"), data.doc("arbitrage")), "No open positions: the fund is in cash.")
    if data.trades_pending:
        st.caption("These holdings include trades that are still being loaded; they appear at the next refresh.")
    k = vm.kpis(data.doc("nav"), data.doc("positions"), CFG.reserve_btc)
    reserve = f"{fm.fmt_num(k.reserve_btc)} BTC" if k.reserve_btc is not None else fm.DASH
    st.metric("BTC reserve", reserve, width=METRIC_WIDTH)
    st.caption("Held in BTC outside the trading accounts. Not part of NAV and never added to it.")


def month_choice(months: list[str]) -> str:
    """A year (when there is more than one), then a month of it, as rows of buttons like the chart's
    range: a drop-down list (st.selectbox) cost ~0.2 s of every visit for its frontend code alone.
    `months` is newest first; the newest is chosen until the viewer picks another."""
    years = list(dict.fromkeys(m[:4] for m in months))
    year = years[0]
    if len(years) > 1:
        year = st.segmented_control("Year", years, default=year, key="statement_year", required=True) or year
    names = {iv.MONTHS[int(m[5:7]) - 1]: m for m in sorted(m for m in months if m.startswith(year))}
    newest = list(names)[-1]
    # one key per year: a year's months are that control's options
    name = st.segmented_control("Month", list(names), default=newest, key=f"statement_month_{year}", required=True)
    return names.get(str(name), names[newest])


def month_detail(data: Loaded, fig: shared.Figures) -> None:
    if not fig.months:
        st.caption("No month of history yet.")
        return
    name = month_choice(fig.months)
    m = shared.month(data.version, str(name), fig, data)
    if m is None:
        st.caption("No figures for this month.")
        return
    table([{"Figure": k, "Value": v} for k, v in iv.month_rows(m).items()], "")
    st.caption(f"The monthly statement for {name} shows these figures (scripts/statement.py).")


def trades(data: Loaded, fig: shared.Figures) -> None:
    if "trades" in fig.problems or "trades" in data.unreadable:
        st.info("The trade records could not be read just now.")
        return
    n = len(fig.trips)
    if not n:
        st.caption("No closed trades yet.")
        return
    page = st.pagination(iv.pages(n), key="trips_page")
    table(iv.round_trip_rows(fig.trips, int(page or 1)), "")
    st.caption(
        f"{n} closed trades, newest first (page {page} of {iv.pages(n)}). P&L is after fees and funding."
        + ("" if data.trades_complete else " Only the most recent trade records are kept in this view.")
    )
    st.download_button(  # the CSV is made only when asked for: no file built and fetched on every load
        "Download all closed trades (CSV)",
        functools.partial(iv.round_trips_csv, fig.trips),
        file_name="closed_trades.csv",
        mime="text/csv",
        on_click="ignore",
    )
    st.markdown("**Results per asset**")
    table(iv.per_symbol_rows(fig.stats), "")


@st.fragment(run_every=CFG.refresh_s)
def overview() -> None:
    now = clock.wall_ms()
    data = shared.live(CFG)
    fig = shared.figures(CFG, data)
    section(None, lambda: status_line(data, now))
    section(None, lambda: headline(data, fig))
    section("NAV", lambda: chart(data, fig))
    section("Monthly returns", lambda: monthly(fig))
    section("Risk", lambda: risk(fig))
    section("Costs", lambda: costs(data, fig))
    section("Holdings", lambda: holdings(data))
    section("Month by month", lambda: month_detail(data, fig))
    section("Closed trades", lambda: trades(data, fig))
    as_of = fm.fmt_ts(data.updated_at_ms) if data.updated_at_ms else fm.DASH
    st.caption(f"Read-only view. Data as of {as_of}; page refreshed {fm.fmt_ts(now, seconds=True)}.")


st.title("Fund overview")
overview()
