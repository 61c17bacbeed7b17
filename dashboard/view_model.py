"""What the investor page shows, derived from state documents: pure functions, no Streamlit, no I/O.

The app only draws what these return, so every figure on the page can be checked here against
the document it came from. Inputs are the executor's documents as read (floats, strings or
missing keys); anything missing or malformed becomes "—" rather than an exception, because a
half-written deployment must still render a readable page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np

from dashboard.formatting import (
    DASH,
    dec,
    dec_sum,
    dict_list,
    fmt_age,
    fmt_money,
    fmt_num,
    fmt_pct,
    fmt_ts,
    position_rows,
    signed,
)

DAY_MS = 86_400_000
MINUTE_MS = 60_000

RANGES: dict[str, int | None] = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "All": None}


# ---------------------------------------------------------------------------------------------
# freshness and mode
@dataclass(frozen=True)
class Freshness:
    level: str  # "ok" | "stale" | "none"
    source: str
    updated_at_ms: int
    age_ms: int | None
    stale_after_ms: int
    message: str


def freshness(source: str, updated_at_ms: int, now_ms: int, stale_after_ms: int) -> Freshness:
    """Stale means no executor write for longer than `stale_after_ms` (wall clock, as the executor wrote it)."""
    src = {"firestore": "Firestore", "local": "local files"}.get(source, source or "unknown source")
    if not updated_at_ms:
        return Freshness("none", source, 0, None, stale_after_ms, f"No executor data yet ({src}).")
    age = max(0, now_ms - updated_at_ms)  # an executor clock slightly ahead reads as "just now"
    when = fmt_ts(updated_at_ms)
    if age > stale_after_ms:
        return Freshness(
            "stale",
            source,
            updated_at_ms,
            age,
            stale_after_ms,
            f"Data is stale: no executor update for {fmt_age(age)} (last {when}, from {src}); "
            f"figures below are as of that time.",
        )
    return Freshness(
        "ok", source, updated_at_ms, age, stale_after_ms, f"Updated {fmt_age(age)} ago ({when}) from {src}."
    )


@dataclass(frozen=True)
class ModeBadge:
    mode: str  # RUN | HOLD | KILL
    reason: str
    safe_mode: bool | None
    dry_run: bool
    profile: str
    env: str

    @property
    def labels(self) -> list[str]:
        out = [self.mode]
        if self.safe_mode:
            out.append("SAFE_MODE")
        if self.dry_run:
            out.append("DRY_RUN")
        if self.profile:
            out.append(self.profile)
        return out


def mode_badge(control: dict, nav: dict) -> ModeBadge:
    """The control document is authoritative; the NAV document carries the same fields as a fallback."""

    def pick(key: str, default=None):
        for doc in (control, nav):
            if isinstance(doc, dict) and doc.get(key) is not None:
                return doc[key]
        return default

    mode = str(pick("mode", "") or "").upper() or "UNKNOWN"
    if control.get("kill"):
        mode = "KILL"
    safe = pick("safe_mode")
    return ModeBadge(
        mode=mode,
        reason=str(pick("reason", "") or ""),
        safe_mode=None if safe is None else bool(safe),
        dry_run=bool(pick("dry_run", False)),
        profile=str(pick("profile", "") or ""),
        env=str(pick("env", "") or ""),
    )


# ---------------------------------------------------------------------------------------------
# KPIs
@dataclass(frozen=True)
class Kpis:
    nav: Decimal | None
    change_24h_abs: Decimal | None
    change_24h_pct: Decimal | None
    drawdown_pct: Decimal | None
    peak_nav: Decimal | None
    max_drawdown_pct: Decimal | None
    open_positions: int
    gross_exposure: Decimal | None
    net_exposure: Decimal | None
    gross_leverage: Decimal | None  # gross exposure / NAV
    unrealized_pnl: Decimal | None
    reserve_btc: Decimal | None


def kpis(nav: dict, positions: dict, reserve_default: Decimal | None) -> Kpis:
    rows = position_rows(positions)
    nav_v = dec(nav.get("nav"))
    gross = (
        dec(positions.get("gross_notional"))
        if "gross_notional" in positions
        else dec_sum(r.get("notional") for r in rows)
    )
    net = (
        dec(positions.get("net_notional"))
        if "net_notional" in positions
        else dec_sum(signed(r, r.get("notional")) for r in rows)
    )
    if not positions:
        gross = net = None
    lev = (gross / nav_v).quantize(Decimal("0.01")) if gross is not None and nav_v else None
    reserve = dec(nav.get("reserve_btc"))
    n_open = len(rows) if positions else int(dec(nav.get("open_positions")) or 0)
    return Kpis(
        nav=nav_v,
        change_24h_abs=dec(nav.get("change_24h_abs")),
        change_24h_pct=dec(nav.get("change_24h_pct")),
        drawdown_pct=dec(nav.get("drawdown_pct")),
        peak_nav=dec(nav.get("peak_nav")),
        max_drawdown_pct=dec(nav.get("max_drawdown_pct")),
        open_positions=n_open,
        gross_exposure=gross,
        net_exposure=net,
        gross_leverage=lev,
        unrealized_pnl=dec(nav.get("unrealized_pnl")),
        reserve_btc=reserve if reserve is not None else reserve_default,
    )


# ---------------------------------------------------------------------------------------------
# tables: signals, trades, screener, arbitrage
def signal_rows(signals: list[dict], n: int = 10) -> list[dict[str, str]]:
    rows = []
    for s in sorted(dict_list(signals), key=lambda s: int(dec(s.get("ts")) or 0), reverse=True)[:n]:
        rows.append(
            {
                "Time": fmt_ts(s.get("ts")),
                "Venue": str(s.get("venue", DASH)),
                "Symbol": str(s.get("symbol", DASH)),
                "Signal": f"{s.get('signal', DASH)} {s.get('position_side', '')}".strip(),
                "Price": fmt_num(s.get("price")),
                "Qty": fmt_num(s.get("qty")),
                "Notional (USDT)": fmt_money(s.get("notional_usdt")),
                "z": fmt_num(s.get("z"), 4),
                "RSI": fmt_num(s.get("rsi"), 2),
                "Stop": fmt_num(s.get("stop_loss"), 4),
                "Take": fmt_num(s.get("take_profit"), 4),
            }
        )
    return rows


def trade_rows(trades: list[dict], n: int = 5) -> list[dict[str, str]]:
    rows = []
    for t in sorted(
        dict_list(trades), key=lambda t: (int(dec(t.get("ts")) or 0), int(dec(t.get("seq")) or 0)), reverse=True
    )[:n]:
        rows.append(
            {
                "Time": fmt_ts(t.get("ts")),
                "Venue": str(t.get("venue", DASH)),
                "Symbol": str(t.get("symbol", DASH)),
                "Side": f"{t.get('side', DASH)} {t.get('position_side', '')}".strip(),
                "Qty": fmt_num(t.get("qty")),
                "Price": fmt_num(t.get("price")),
                "Fee (USDT)": fmt_money(t.get("fee_usdt"), places=4),
                "Realized (USDT)": fmt_money(t.get("realized_pnl_usdt"), signed=True),
                "Reason": str(t.get("reason") or t.get("kind") or DASH),
            }
        )
    return rows


def screener_rows(tail: list[dict], n: int = 10) -> list[dict[str, str]]:
    rows = []
    for r in list(dict_list(tail))[-n:][::-1]:
        cross = "up" if r.get("cross_up") else "down" if r.get("cross_down") else DASH
        rows.append(
            {
                "Time": fmt_ts(r.get("ts")),
                "Venue": str(r.get("venue", DASH)),
                "Symbol": str(r.get("symbol", DASH)),
                "Close": fmt_num(r.get("close")),
                "z": fmt_num(r.get("z"), 4),
                "RSI": fmt_num(r.get("rsi"), 2),
                "ATR": fmt_num(r.get("atr"), 4),
                "ATR %": fmt_pct((dec(r.get("atr_pct")) or 0) * 100, places=3)
                if dec(r.get("atr_pct")) is not None
                else DASH,
                "Cross": cross,
                "In trade": str(r.get("side")) if r.get("in_trade") else DASH,
            }
        )
    return rows


@dataclass(frozen=True)
class ArbitrageView:
    running: bool
    message: str
    pairs: list[dict[str, str]] = field(default_factory=list)
    funding: list[dict[str, str]] = field(default_factory=list)
    open_pairs: int = 0


def arbitrage_view(doc: dict | None, now_ms: int, stale_after_ms: int) -> ArbitrageView:
    if not isinstance(doc, dict) or not doc:
        return ArbitrageView(False, "Arbitrage engine not running (no arbitrage document in the state store).")
    updated = int(dec(doc.get("updated_at_ms")) or 0)
    ref_ms = int(dec(doc.get("market_ts")) or 0) or now_ms  # "next funding in ..." on the data's own clock
    notes = []
    if doc.get("enabled") is False:
        notes.append("arbitrage is disabled in its configuration")
    if doc.get("dry_run"):
        notes.append("dry run: edges are evaluated, no orders sent")
    if updated and now_ms - updated > stale_after_ms:
        notes.append(f"stale: last update {fmt_age(now_ms - updated)} ago")
    pairs = []
    for p in dict_list(doc.get("pairs")):
        reasons = p.get("reasons")
        pairs.append(
            {
                "Pair": str(p.get("pair", DASH)),
                "Direction": str(p.get("direction") or DASH),
                "Net edge (bps)": fmt_money(p.get("net_edge_bps"), signed=True),
                "Gross edge (bps)": fmt_money(p.get("gross_edge_bps"), signed=True),
                "Basis (bps)": fmt_money(p.get("basis_bps"), signed=True),
                "Funding (bps)": fmt_money(p.get("funding_bps"), signed=True),
                "Why not trading": "; ".join(str(x) for x in reasons)
                if isinstance(reasons, list) and reasons
                else DASH,
                "As of": fmt_ts(p.get("ts")),
            }
        )
    funding = []
    for f in dict_list(doc.get("funding")):
        nxt = int(dec(f.get("next_funding_time_ms")) or 0)
        rate = dec(f.get("rate"))
        funding.append(
            {
                "Venue": str(f.get("venue", DASH)),
                "Symbol": str(f.get("symbol", DASH)),
                "Rate": f"{fmt_num(rate * 100, 8)}%" if rate is not None else DASH,
                "Next funding": fmt_ts(nxt),
                "In": fmt_age(nxt - ref_ms) if nxt and nxt >= ref_ms else (DASH if not nxt else "settled"),
            }
        )
    msg = "Arbitrage engine running" + (f" ({'; '.join(notes)})" if notes else "") + "."
    if not pairs:
        msg += " No pairs configured."
    return ArbitrageView(True, msg, pairs, funding, len(dict_list(doc.get("open_pairs"))))


# ---------------------------------------------------------------------------------------------
# NAV history: range window and downsampling for the chart
def range_window(key: str, end_ms: int) -> tuple[int, int]:
    """[start, end] for a range label; "All" starts at 0."""
    if key not in RANGES:
        raise ValueError(f"unknown range {key!r} (known: {', '.join(RANGES)})")
    span = RANGES[key]
    return (0 if span is None else max(0, end_ms - span)), end_ms


def downsample(
    ts: np.ndarray, nav: np.ndarray, dd: np.ndarray, max_points: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """At most `max_points` points: per bucket the last NAV (a real value the fund had) and the deepest
    drawdown (so a drawdown spike is never smoothed away). The newest point is always kept as is."""
    n = len(ts)
    if n <= max_points or max_points < 2:
        return ts, nav, dd
    edges = np.linspace(0, n, max_points + 1).astype(np.int64)
    starts, ends = edges[:-1], edges[1:] - 1
    keep = ends >= starts
    starts, ends = starts[keep], ends[keep]
    dd_max = np.maximum.reduceat(dd, starts)
    return ts[ends], nav[ends], dd_max


@dataclass(frozen=True)
class NavSeries:
    ts: np.ndarray
    nav: np.ndarray
    dd: np.ndarray

    @property
    def empty(self) -> bool:
        return len(self.ts) == 0


def history_summary(series: NavSeries) -> dict[str, str]:
    """What the chart spans, for its caption."""
    if series.empty:
        return {"points": "0", "from": DASH, "to": DASH, "low": DASH, "high": DASH, "max_dd": DASH}
    return {
        "points": str(len(series.ts)),
        "from": fmt_ts(int(series.ts[0])),
        "to": fmt_ts(int(series.ts[-1])),
        "low": fmt_money(float(series.nav.min())),
        "high": fmt_money(float(series.nav.max())),
        "max_dd": fmt_pct(float(series.dd.max())),
    }
