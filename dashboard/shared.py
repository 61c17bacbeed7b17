"""What both pages share in one dashboard process: settings, the state reader, cached reads and the
figures derived from them. Caches are keyed by the state store (its StoreEnv variables), so two apps in one
process (tests) never see each other's data, and derived figures by the data's version, so a refresh
that brings nothing new recomputes nothing (and hands the chart the very same figure).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from dashboard import investor as iv
from dashboard import settings as dsettings
from dashboard.data import Journals, Loaded, load
from dashboard.history import NavHistory
from execution import clock
from execution import performance as perf
from execution.state.open import open_reader
from execution.state.reader import StateReader


def settings() -> dsettings.DashboardSettings:
    dsettings.load_env_file()
    return dsettings.load()


@st.cache_resource(show_spinner=False)
def reader(store_key: tuple[tuple[str, str], ...]) -> StateReader:
    return open_reader(dsettings.store_from_key(store_key))


@st.cache_resource(show_spinner=False)
def history(store_key: tuple, ttl_ms: int) -> NavHistory:
    return NavHistory(ttl_ms, clock.wall_ms)


@st.cache_resource(show_spinner=False)
def journals(store_key: tuple) -> Journals:
    return Journals()


def live(cfg: dsettings.DashboardSettings, with_alerts: bool = False) -> Loaded:
    """The state as of at most `cache_ttl_s` ago, shared by every viewer (the same object: read-only)."""
    return _live(cfg.store_key, cfg.cache_ttl_s, with_alerts)


@st.cache_resource(show_spinner=False, ttl=600, max_entries=32)
def _live_cache(store_key: tuple, with_alerts: bool, slot: int) -> Loaded:
    return load(reader(store_key), journals(store_key), with_alerts=with_alerts)


def _live(store_key: tuple, ttl_s: float, with_alerts: bool) -> Loaded:
    slot = int(clock.wall_ms() // max(1, int(ttl_s * 1000))) if ttl_s > 0 else clock.wall_ms()
    return _live_cache(store_key, with_alerts, slot)


@dataclass(frozen=True)
class Figures:
    """Everything the Overview computes from one load, by execution.performance."""

    inception: perf.NavPoints  # day closes since inception (+ starting capital)
    flows: list[perf.Flow]
    returns: perf.Returns | None
    trips: list[perf.RoundTrip]
    stats: perf.TradeStats
    costs: perf.Costs | None  # since inception
    months: list[str]  # months with figures, newest first
    problems: dict[str, str]  # section -> what went wrong (no paths)


def figures(cfg: dsettings.DashboardSettings, data: Loaded) -> Figures:
    end = _end_ms(data)
    return _figures(cfg.store_key, int(cfg.cache_ttl_s * 1000), data.version, end, data)


def _end_ms(data: Loaded) -> int:
    nav = data.doc("nav")
    market = iv.dec(nav.get("market_ts"))
    return int(market) if market else (data.updated_at_ms or clock.wall_ms())


@st.cache_resource(show_spinner=False, max_entries=8, hash_funcs={Loaded: lambda d: d.version})
def _figures(store_key: tuple, ttl_ms: int, version: tuple, end_ms: int, data: Loaded) -> Figures:
    problems: dict[str, str] = {}
    try:
        daily = history(store_key, ttl_ms).points(reader(store_key), data.source, 0, end_ms)
        inception = iv.since_inception(daily, data.doc("nav"))
    except Exception as exc:  # noqa: BLE001 - the history feeds its own sections only
        problems["history"] = f"{type(exc).__name__}"
        inception = perf.NavPoints.of([], [])
    flows: list[perf.Flow] = []
    try:
        flows = perf.flows_from_records(data.flows)
    except perf.PerformanceInputError as exc:
        problems["flows"] = str(exc)[:200]
    returns = None
    try:
        returns = perf.returns_summary(inception, flows)
    except perf.PerformanceInputError as exc:
        problems["returns"] = str(exc)[:200]
    trips: list[perf.RoundTrip] = []
    costs = None
    try:
        trips = perf.round_trips(data.trades, data.funding)
        costs = perf.costs(data.trades, data.funding, flows, 0, end_ms)
    except perf.PerformanceInputError as exc:
        problems["trades"] = str(exc)[:200]
    months = [m.month for m in returns.monthly][::-1] if returns else []
    return Figures(inception, flows, returns, trips, perf.trade_stats(trips), costs, months, problems)


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs={Loaded: lambda d: d.version, Figures: id})
def month(version: tuple, name: str, fig: Figures, data: Loaded) -> perf.MonthFigures | None:
    return perf.month_figures(fig.inception, name, fig.flows, data.trades, data.funding)


def chart(cfg: dsettings.DashboardSettings, data: Loaded, fig: Figures, range_key: str):
    """(ChartSeries, the chart's data for charts.show) for a range: "All" is the since-inception day
    closes themselves."""
    return _chart(cfg.store_key, int(cfg.cache_ttl_s * 1000), cfg.chart_points, data.version, range_key, fig, data)


@st.cache_resource(show_spinner=False, max_entries=16, hash_funcs={Loaded: lambda d: d.version, Figures: id})
def _chart(store_key: tuple, ttl_ms: int, max_points: int, version: tuple, range_key: str, fig: Figures, data: Loaded):
    from dashboard import charts
    from dashboard.view_model import RANGES, range_window

    nav_ts = iv.dec(data.doc("nav").get("market_ts"))
    end = int(nav_ts) if nav_ts else (int(fig.inception.ts[-1]) if len(fig.inception) else _end_ms(data))
    if range_key == "All":
        window = fig.inception
    else:
        start, end = range_window(range_key, end)
        window = history(store_key, ttl_ms).points(reader(store_key), data.source, start, end)
    series = iv.chart_series(window, fig.inception, fig.flows, iv.sampling(RANGES[range_key]))
    if len(series.ts) > max_points:  # keep the points the caption describes: sample evenly, newest kept
        keep = np.unique(np.linspace(0, len(series.ts) - 1, max_points).astype(np.int64))
        series = iv.ChartSeries(
            series.ts[keep], series.nav[keep], series.btc[keep], series.drawdown_pct[keep], series.sampled + ", thinned"
        )
    return series, charts.figure_data(charts.nav_figure(series, range_key))
