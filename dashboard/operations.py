"""Operations: what an operator reads and an investor does not need. Read-only, same login.

Mode and its reason, health state and its reasons, SAFE_MODE / DRY_RUN / profile, breakers, guards,
alerts, freshness and read problems (file names, never server paths), every position leg with venue codes and stop / take levels, the
latest fills, signals, the screener tail and the arbitrage diagnostics.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # run by st.navigation as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd
import streamlit as st

from dashboard import formatting as fm
from dashboard import positions_view as pv
from dashboard import shared
from dashboard import view_model as vm
from dashboard.data import Loaded
from execution import clock, health

CFG = shared.settings()
FILLS_SHOWN = 10


def _table(rows: list[dict[str, str]], empty: str) -> None:
    if rows:  # table cells are Markdown: what the state says is shown literally
        st.table(pd.DataFrame([{k: fm.md_escape(v) for k, v in r.items()} for r in rows]), hide_index=True)
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


def header(data: Loaded, now: int) -> None:
    fresh = vm.freshness(data.source, data.updated_at_ms, now, CFG.stale_after_ms)
    badge = vm.mode_badge(data.doc("control"), data.doc("nav"))
    if data.docs:
        stale = " :red-badge[NOT REPORTING]" if fresh.level == "stale" else ""
        reason = f" &nbsp;{fm.md_escape(badge.reason)}" if badge.mode != "RUN" and badge.reason else ""
        fund = health.assess(data.doc("control"))
        colour = {health.HEALTHY: "green", health.DEGRADED: "orange", health.HALTED: "red"}[fund.state]
        st.markdown(_badges(badge) + f" :{colour}-badge[health {fund.state} {fund.label}]" + stale + reason)
        for why in fund.reasons:
            st.caption(f"Health: {fm.md_escape(why)}")
    if fresh.level == "stale":
        st.warning(fresh.message)
    elif fresh.level == "none":
        st.info(fresh.message)
    else:
        st.caption(fresh.message)
    market_ts = fm.dec(data.doc("nav").get("market_ts"))
    if market_ts:
        st.caption(f"Market data up to {fm.fmt_ts(market_ts)}.")
    if CFG.firestore_configured and data.source and data.source != "firestore":
        st.warning("Firestore is not reachable: showing the executor's local state files instead.")
    for msg in data.errors:
        st.warning(f"Could not read part of the state ({msg}); the rest of the page is shown.")
    if data.problems:
        st.warning("Some state files could not be read: " + "; ".join(data.problems[:5]))


def breakers_and_alerts(data: Loaded) -> None:
    control = data.doc("control")
    breakers = [b for b in control.get("breakers") or [] if isinstance(b, dict)]
    _table(
        [
            {
                "Breaker": str(b.get("name", fm.DASH)),
                "Detail": str(b.get("detail", fm.DASH)),
                "At": fm.fmt_ts(b.get("ts")),
            }
            for b in breakers
        ],
        "No breaker tripped.",
    )
    rows = [
        {"Time": fm.fmt_ts(a.get("ts")), "Kind": str(a.get("kind", fm.DASH)), "Text": str(a.get("text", fm.DASH))}
        for a in sorted(data.alerts, key=lambda a: int(fm.dec(a.get("ts")) or 0), reverse=True)
    ]
    st.markdown("**Latest alerts**")
    _table(rows, "No alerts.")


def guards(data: Loaded) -> None:
    rows = []
    for g in data.doc("control").get("guards") or []:
        if not isinstance(g, dict):
            continue
        state = "idle" if g.get("idle") else "ACTIVE" if g.get("active") else "armed"
        detail = (
            g.get("idle")
            or g.get("reason")
            or ", ".join(
                f"{k}={v}"
                for k, v in g.items()
                if k not in ("name", "active", "routine", "reason") and v not in (None, [], {})
            )
        )
        rows.append({"Guard": str(g.get("name", fm.DASH)), "State": state, "Detail": str(detail or fm.DASH)})
    _table(rows, "No guard has anything to report.")


def kpis(data: Loaded) -> None:
    k = vm.kpis(data.doc("nav"), data.doc("positions"), CFG.reserve_btc)
    c = st.columns(4)
    c[0].metric("Open positions", str(k.open_positions), help="Open legs (hedge mode: LONG and SHORT count apart).")
    c[1].metric("Gross exposure (USDT)", fm.fmt_money(k.gross_exposure))
    c[2].metric("Net exposure (USDT)", fm.fmt_money(k.net_exposure, signed=True))
    c[3].metric("24h PnL (USDT)", fm.fmt_money(k.change_24h_abs, signed=True))
    st.caption(
        f"Peak NAV {fm.fmt_money(k.peak_nav)} USDT · max drawdown (every point) {fm.fmt_pct(k.max_drawdown_pct)} · "
        f"unrealized PnL {fm.fmt_money(k.unrealized_pnl, signed=True)} USDT · gross "
        f"{k.gross_leverage if k.gross_leverage is not None else fm.DASH}x NAV"
    )


def positions(data: Loaded) -> None:
    groups = pv.position_groups(data.doc("positions"), data.doc("arbitrage"))
    _table(pv.leg_rows(groups), "No open positions.")
    pairs = pv.pair_rows(groups)
    if pairs:
        st.markdown("**Cross-venue pairs** (net delta is what the pair leaves exposed)")
        _table(pairs, "")
    rows = [
        {
            "Venue": e.venue,
            "Legs": str(e.legs),
            "Long (USDT)": fm.fmt_money(e.long_notional),
            "Short (USDT)": fm.fmt_money(e.short_notional),
            "Gross (USDT)": fm.fmt_money(e.gross),
            "Net (USDT)": fm.fmt_money(e.net, signed=True),
            "uPnL (USDT)": fm.fmt_money(e.unrealized_pnl, signed=True),
        }
        for e in pv.exposure_by_venue(data.doc("positions"))
    ]
    st.markdown("**Exposure per venue**")
    _table(rows, "No exposure: no open positions.")


def activity(data: Loaded) -> None:
    st.subheader("Trade log")
    st.caption(f"The {FILLS_SHOWN} most recent fills, newest first.")
    _table(vm.trade_rows(data.trades[-FILLS_SHOWN * 2 :], FILLS_SHOWN), "No trades yet.")
    st.subheader("Signals")
    st.caption("Latest trade intents from the screener, newest first.")
    _table(vm.signal_rows(data.signals), "No signals yet.")
    st.subheader("Screener")
    screener = data.doc("screener")
    cycle = screener.get("last_cycle")
    last: dict = cycle if isinstance(cycle, dict) else {}
    st.caption(
        "Last 10 readings, newest first: z-score of close, RSI, ATR and cross flags."
        + (
            f" Last cycle {fm.fmt_ts(last.get('ts'))}: {last.get('attempted', 0)} read, "
            f"{last.get('emitted', 0)} signalled."
            if last.get("ts")
            else ""
        )
    )
    _table(vm.screener_rows(screener.get("tail") or []), "No screener readings yet.")


def arbitrage(data: Loaded, now: int) -> None:
    view = vm.arbitrage_view(data.docs.get("arbitrage"), now, CFG.stale_after_ms)
    if not view.running:
        st.info(view.message)
        return
    st.caption(view.message + (f" Open pairs: {view.open_pairs}." if view.open_pairs else ""))
    _table(view.pairs, "No pair evaluated yet.")
    st.markdown("**Funding**")
    _table(view.funding, "No funding rates yet.")


def section(title: str | None, draw) -> None:
    if title:
        st.subheader(title)
    try:
        draw()
    except Exception as exc:  # noqa: BLE001 - a section must never take the page down
        print(f"[dashboard] operations section {title!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        st.warning(f"{title or 'This section'} could not be shown: {type(exc).__name__}.")


@st.fragment(run_every=CFG.refresh_s)
def operations() -> None:
    now = clock.wall_ms()
    data = shared.live(CFG, with_alerts=True)
    section(None, lambda: header(data, now))
    section("Breakers and alerts", lambda: breakers_and_alerts(data))
    section("Guards", lambda: guards(data))
    section("Exposure", lambda: kpis(data))
    section("Positions", lambda: positions(data))
    section(None, lambda: activity(data))
    section("Arbitrage", lambda: arbitrage(data, now))
    st.caption(f"Read-only view. Page refreshed {fm.fmt_ts(now, seconds=True)} every {CFG.refresh_s:g} s.")


st.title("Operations")
operations()
