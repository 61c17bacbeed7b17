"""Investor overview: one read-only page. It reads state and draws it; it never writes or trades.

    streamlit run dashboard/app.py --server.address 127.0.0.1 --server.port 8501 --server.headless true

All figures come from dashboard.view_model; this module only lays them out. The page re-runs a
fragment every DASHBOARD_REFRESH_SECONDS; reads are cached for DASHBOARD_CACHE_SECONDS and
shared by every viewer of this process. The only widget is the chart's range selector, which
changes nothing but the view.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard import settings as dsettings
from dashboard import view_model as vm
from dashboard.data import Loaded, load
from dashboard.history import NavHistory
from execution import clock
from execution.state.open import open_reader

st.set_page_config(
    page_title="Fund overview",
    layout="wide",
    initial_sidebar_state="collapsed",
    menu_items={"Get help": None, "Report a bug": None, "About": "Read-only investor overview."},
)

dsettings.load_env_file()
try:
    CFG = dsettings.load()
except dsettings.DashboardConfigError as exc:
    print(f"dashboard config: {exc}", file=sys.stderr)
    st.warning(f"The dashboard is misconfigured and cannot show figures: {exc}")
    st.stop()


@st.cache_resource(show_spinner=False)
def _reader(store_key: tuple):
    return open_reader(dict(os.environ))


@st.cache_resource(show_spinner=False)
def _history(store_key: tuple, ttl_ms: int) -> NavHistory:
    return NavHistory(ttl_ms, clock.wall_ms)


@st.cache_data(ttl=CFG.cache_ttl_s, show_spinner=False, max_entries=16)
def _live(store_key: tuple) -> Loaded:
    return load(_reader(store_key))


def _table(rows: list[dict[str, str]], empty: str) -> None:
    if rows:
        st.table(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption(empty)


def _badges(badge: vm.ModeBadge) -> str:
    colour = {"RUN": "green", "HOLD": "orange", "KILL": "red"}.get(badge.mode, "gray")
    parts = [f":{colour}-badge[{badge.mode}]"]
    if badge.safe_mode:
        parts.append(":blue-badge[SAFE_MODE]")
    if badge.dry_run:
        parts.append(":blue-badge[DRY_RUN]")
    if badge.profile:
        parts.append(f":{'violet' if badge.profile == 'live' else 'gray'}-badge[{badge.profile}]")
    return " ".join(parts)


def _header(data: Loaded, now: int) -> None:
    fresh = vm.freshness(data.source, data.updated_at_ms, now, CFG.stale_after_ms)
    badge = vm.mode_badge(data.doc("control"), data.doc("nav"))
    if not data.empty:
        st.markdown(_badges(badge) + (f" &nbsp;{badge.reason}" if badge.mode != "RUN" and badge.reason else ""))
    if fresh.level == "stale":
        st.warning(fresh.message)
    elif fresh.level == "none":
        st.info(fresh.message)
    else:
        st.caption(fresh.message)
    market_ts = vm.dec(data.doc("nav").get("market_ts"))
    if market_ts:
        st.caption(f"Market data up to {vm.fmt_ts(market_ts)}.")
    if CFG.firestore_configured and data.source and data.source != "firestore":
        st.warning("Firestore is not reachable: showing the executor's local state files instead.")
    for msg in data.errors:
        st.warning(f"Could not read part of the state ({msg}); the rest of the page is shown.")
    if data.problems:
        st.warning("Some state files could not be read: " + "; ".join(data.problems[:5]))


def _kpis(data: Loaded) -> vm.Kpis:
    k = vm.kpis(data.doc("nav"), data.doc("positions"), CFG.reserve_btc)
    c = st.columns(6)
    c[0].metric(
        "NAV (USDT)",
        vm.fmt_money(k.nav),
        help="Account equity: wallet balance plus unrealized PnL at mark, in USDT. Excludes the BTC reserve.",
    )
    c[1].metric(
        "24h PnL (USDT)",
        vm.fmt_money(k.change_24h_abs, signed=True),
        delta=vm.fmt_pct(k.change_24h_pct, signed=True) if k.change_24h_pct is not None else None,
        help="NAV change against the NAV 24 hours earlier (or the oldest point, for a younger fund).",
    )
    c[2].metric(
        "Drawdown from peak",
        vm.fmt_pct(k.drawdown_pct),
        help=f"How far NAV is below its peak of {vm.fmt_money(k.peak_nav)} USDT. "
        f"Largest so far: {vm.fmt_pct(k.max_drawdown_pct)}.",
    )
    c[3].metric(
        "Open positions",
        str(k.open_positions),
        help="Open legs (a LONG and a SHORT on the same symbol count as two: the accounts run in hedge mode).",
    )
    c[4].metric(
        "Gross exposure (USDT)",
        vm.fmt_money(k.gross_exposure),
        help="Sum of all legs' notional at mark." + (f" {k.gross_leverage}x NAV." if k.gross_leverage else ""),
    )
    c[5].metric(
        "Net exposure (USDT)",
        vm.fmt_money(k.net_exposure, signed=True),
        help="LONG notional minus SHORT notional at mark.",
    )
    st.caption(
        f"Peak NAV {vm.fmt_money(k.peak_nav)} USDT · max drawdown {vm.fmt_pct(k.max_drawdown_pct)} · "
        f"unrealized PnL {vm.fmt_money(k.unrealized_pnl, signed=True)} USDT · gross exposure "
        f"{k.gross_leverage if k.gross_leverage is not None else vm.DASH}x NAV"
    )
    return k


def _reserve(k: vm.Kpis) -> None:
    st.subheader("BTC reserve")
    st.metric(
        "BTC reserve",
        f"{vm.fmt_num(k.reserve_btc)} BTC" if k.reserve_btc is not None else vm.DASH,
        label_visibility="collapsed",
    )
    st.caption("Held in BTC outside the trading accounts. Not part of NAV and never added to it.")


def _exposure(data: Loaded) -> None:
    rows = [
        {
            "Venue": e.venue,
            "Legs": str(e.legs),
            "Long (USDT)": vm.fmt_money(e.long_notional),
            "Short (USDT)": vm.fmt_money(e.short_notional),
            "Gross (USDT)": vm.fmt_money(e.gross),
            "Net (USDT)": vm.fmt_money(e.net, signed=True),
            "uPnL (USDT)": vm.fmt_money(e.unrealized_pnl, signed=True),
        }
        for e in vm.exposure_by_venue(data.doc("positions"))
    ]
    st.markdown("**Exposure per venue**")
    _table(rows, "No exposure: no open positions.")


def _chart(data: Loaded) -> None:
    st.subheader("NAV")
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
    nav_doc = data.doc("nav")
    end = int(vm.dec(nav_doc.get("market_ts")) or 0) or data.updated_at_ms or clock.wall_ms()
    start, end = vm.range_window(rng, end)
    history = _history(CFG.store_key, int(CFG.cache_ttl_s * 1000))
    try:
        series = history.window(_reader(CFG.store_key), data.source, start, end)
    except Exception as exc:  # noqa: BLE001 - a failing history read must not take the page down
        st.warning(f"NAV history could not be read ({type(exc).__name__}); showing the current figures only.")
        series = vm.NavSeries(*(pd.Series(dtype=float).to_numpy() for _ in range(3)))
    if series.empty:
        peak = data.peak_state or nav_doc
        extra = (
            f" Peak NAV {vm.fmt_money(peak.get('peak_nav'))} USDT, drawdown {vm.fmt_pct(peak.get('drawdown_pct'))}."
            if peak.get("peak_nav") is not None
            else ""
        )
        st.info(f"No NAV history in this range yet.{extra}")
        return
    ts, nav, dd = vm.downsample(series.ts, series.nav, series.dd, CFG.chart_points)
    x = pd.to_datetime(ts, unit="ms", utc=True)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    fig.add_trace(go.Scatter(x=x, y=nav, name="NAV (USDT)", mode="lines", line={"width": 1.6}), row=1, col=1)
    fig.add_trace(
        go.Scatter(
            x=x, y=-dd, name="Drawdown (%)", mode="lines", fill="tozeroy", line={"width": 1, "color": "#d62728"}
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="NAV (USDT)", row=1, col=1, tickformat=",.0f")
    fig.update_yaxes(title_text="Drawdown %", row=2, col=1, ticksuffix="%")
    fig.update_layout(height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10}, showlegend=False, hovermode="x unified")
    st.plotly_chart(fig, config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]})
    s = vm.history_summary(series)
    shown = f"{len(ts)} of {s['points']} points" if len(ts) != len(series.ts) else f"{s['points']} points"
    st.caption(
        f"{s['from']} → {s['to']} · {shown} · low {s['low']} / high {s['high']} USDT · "
        f"deepest drawdown in range {s['max_dd']}"
    )


def _positions(data: Loaded) -> None:
    st.subheader("Positions")
    groups = vm.position_groups(data.doc("positions"), data.doc("arbitrage"))
    _table(vm.leg_rows(groups), "No open positions.")
    pairs = vm.pair_rows(groups)
    if pairs:
        st.markdown(
            "**Cross-venue pairs** (LONG on one venue, SHORT on another; net delta is what the pair leaves exposed)"
        )
        _table(pairs, "")
    _exposure(data)


def _activity(data: Loaded) -> None:
    st.subheader("Signals")
    st.caption("Latest trade intents from the screener, newest first.")
    _table(vm.signal_rows(data.signals), "No signals yet.")
    st.subheader("Trade log")
    st.caption("The 5 most recent fills, newest first.")
    _table(vm.trade_rows(data.trades), "No trades yet.")
    st.subheader("Screener")
    screener = data.doc("screener")
    last = screener.get("last_cycle") if isinstance(screener.get("last_cycle"), dict) else {}
    st.caption(
        "Last 10 readings, newest first: z-score of close, RSI, ATR and cross flags."
        + (
            f" Last cycle {vm.fmt_ts(last.get('ts'))}: {last.get('attempted', 0)} read, "
            f"{last.get('emitted', 0)} signalled."
            if last.get("ts")
            else ""
        )
    )
    _table(vm.screener_rows(screener.get("tail") or []), "No screener readings yet.")


def _arbitrage(data: Loaded, now: int) -> None:
    st.subheader("Arbitrage")
    view = vm.arbitrage_view(data.docs.get("arbitrage"), now, CFG.stale_after_ms)
    if not view.running:
        st.info(view.message)
        return
    st.caption(view.message + (f" Open pairs: {view.open_pairs}." if view.open_pairs else ""))
    _table(view.pairs, "No pair evaluated yet.")
    st.markdown("**Funding**")
    _table(view.funding, "No funding rates yet.")


@st.fragment(run_every=CFG.refresh_s)
def overview() -> None:
    now = clock.wall_ms()
    data = _live(CFG.store_key)
    _header(data, now)
    if data.empty:
        st.info(
            "No figures to show yet: the executor has not published a NAV document"
            + (" (showing the last peak/drawdown it saved)." if data.peak_state else ".")
        )
        if data.peak_state:
            st.metric("Last known NAV (USDT)", vm.fmt_money(data.peak_state.get("nav")))
            st.caption(
                f"Peak NAV {vm.fmt_money(data.peak_state.get('peak_nav'))} USDT · drawdown "
                f"{vm.fmt_pct(data.peak_state.get('drawdown_pct'))} · as of "
                f"{vm.fmt_ts(data.peak_state.get('updated_at_ms'))}"
            )
        k = vm.kpis({}, {}, CFG.reserve_btc)
        _reserve(k)
    else:
        k = _kpis(data)
        _chart(data)
        _positions(data)
        _reserve(k)
        _activity(data)
        _arbitrage(data, now)
    st.caption(f"Read-only view. Page refreshed {vm.fmt_ts(now, seconds=True)} every {CFG.refresh_s:g} s.")


st.title("Fund overview")
overview()
