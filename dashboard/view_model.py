"""What the investor page shows, derived from state documents: pure functions, no Streamlit, no I/O.

The app only draws what these return, so every figure on the page can be checked here against
the document it came from. Inputs are the executor's documents as read (floats, strings or
missing keys); anything missing or malformed becomes "—" rather than an exception, because a
half-written deployment must still render a readable page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

import numpy as np

DAY_MS = 86_400_000
MINUTE_MS = 60_000
DASH = "—"
QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD")

RANGES: dict[str, int | None] = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "All": None}


# ---------------------------------------------------------------------------------------------
# numbers and formatting
def dec(value: object) -> Decimal | None:
    """A document value as Decimal (via str, so 0.1 stays 0.1), or None when it is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def fmt_money(value: object, signed: bool = False, places: int = 2) -> str:
    d = dec(value)
    if d is None:
        return DASH
    q = d.quantize(Decimal(1).scaleb(-places))
    if q == 0:
        q = abs(q)  # never "-0.00"
    return f"{q:+,.{places}f}" if signed else f"{q:,.{places}f}"


def fmt_pct(value: object, signed: bool = False, places: int = 2) -> str:
    s = fmt_money(value, signed, places)
    return s if s == DASH else f"{s}%"


def fmt_num(value: object, max_places: int = 8) -> str:
    """A quantity or price as the document has it (no rounding beyond `max_places`, no trailing zeros)."""
    d = dec(value)
    if d is None:
        return DASH
    if d == d.to_integral_value():
        return f"{d.to_integral_value():,}" if abs(d) >= 1000 else str(d.to_integral_value())
    q = d.quantize(Decimal(1).scaleb(-max_places)).normalize()
    text = f"{q:,f}" if abs(q) >= 1000 else f"{q:f}"
    return text


MAX_TS_MS = 4_102_444_800_000  # 2100-01-01: a later time is a broken document, shown as a dash


def valid_ts(ms: object) -> int:
    """`ms` as epoch milliseconds when it is a plausible time, else 0 (an absurd 1e30 takes no page down)."""
    d = dec(ms)
    return int(d) if d is not None and 0 < d < MAX_TS_MS else 0


def fmt_ts(ms: object, seconds: bool = False) -> str:
    ts = valid_ts(ms)
    if not ts:
        return DASH
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&@])")
# what can make Markdown act (a link, an autolink, a badge or emoji, HTML, code, emphasis, math)
_ACTIVE = re.compile(r"[\\`*\[\]()<>~$!|@]|:[A-Za-z/]|(?i:www)\.")


def md_escape(text: object) -> str:
    """Text from the state shown literally where Streamlit renders Markdown (st.markdown, st.table
    cells): a HOLD reason with a link in it stays text, never a clickable link or a badge. Text in
    which nothing can act (figures, dates, venue names) is returned as it is."""
    plain = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", plain) if _ACTIVE.search(plain) else str(text)


def fmt_age(ms: int | float | None) -> str:
    if ms is None:
        return DASH
    s = max(0, int(ms // 1000))
    if s < 90:
        return f"{s} s"
    m = s // 60
    if m < 90:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min"
    return f"{h // 24} d {h % 24} h"


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
# KPIs and exposure
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
    rows = _rows(positions)
    nav_v = dec(nav.get("nav"))
    gross = (
        dec(positions.get("gross_notional")) if "gross_notional" in positions else _sum(r.get("notional") for r in rows)
    )
    net = (
        dec(positions.get("net_notional"))
        if "net_notional" in positions
        else _sum(_signed(r, r.get("notional")) for r in rows)
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


@dataclass(frozen=True)
class VenueExposure:
    venue: str
    legs: int
    long_notional: Decimal
    short_notional: Decimal
    gross: Decimal
    net: Decimal
    unrealized_pnl: Decimal


def exposure_by_venue(positions: dict) -> list[VenueExposure]:
    """Per venue: legs, long/short/gross/net notional at mark, uPnL. Gross/net come from the executor's
    `per_venue` figures where it wrote them, else from the rows."""
    raw = positions.get("per_venue")
    per_venue: dict = raw if isinstance(raw, dict) else {}
    out = []
    venues = sorted({str(r.get("venue", "?")) for r in _rows(positions)} | set(per_venue))
    for v in venues:
        rows = [r for r in _rows(positions) if str(r.get("venue", "?")) == v]
        long_n = _sum(r.get("notional") for r in rows if _side(r) == "LONG") or Decimal(0)
        short_n = _sum(r.get("notional") for r in rows if _side(r) == "SHORT") or Decimal(0)
        got = per_venue.get(v)
        pv: dict = got if isinstance(got, dict) else {}
        gross = dec(pv.get("gross_notional"))
        net = dec(pv.get("net_notional"))
        out.append(
            VenueExposure(
                venue=v,
                legs=len(rows),
                long_notional=long_n,
                short_notional=short_n,
                gross=gross if gross is not None else long_n + short_n,
                net=net if net is not None else long_n - short_n,
                unrealized_pnl=_sum(r.get("unrealized_pnl") for r in rows) or Decimal(0),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# positions: hedge-mode legs grouped per asset, cross-venue pairs with their net delta
@dataclass(frozen=True)
class Leg:
    asset: str
    venue: str
    symbol: str
    side: str  # LONG | SHORT
    qty: Decimal | None
    entry: Decimal | None
    mark: Decimal | None
    unrealized_pnl: Decimal | None
    notional: Decimal | None
    leverage: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    opened_ts: int


@dataclass(frozen=True)
class AssetGroup:
    asset: str
    legs: list[Leg]
    net_qty: Decimal  # base units, LONG positive
    net_notional: Decimal  # USDT at mark, LONG positive
    unrealized_pnl: Decimal

    @property
    def venues(self) -> list[str]:
        return sorted({leg.venue for leg in self.legs})

    @property
    def cross_venue_pair(self) -> bool:
        """LONG on one venue and SHORT on another: an arbitrage (or hedged) pair across venues."""
        longs = {leg.venue for leg in self.legs if leg.side == "LONG"}
        shorts = {leg.venue for leg in self.legs if leg.side == "SHORT"}
        return bool(longs) and bool(shorts) and len(longs | shorts) > 1


def base_asset(venue: str, symbol: str, aliases: dict[tuple[str, str], str] | None = None) -> str:
    """BTCUSDT (Binance) and BTC-USDT-SWAP (OKX) are the same asset, BTC."""
    if aliases and (venue, symbol) in aliases:
        return aliases[(venue, symbol)]
    s = symbol.upper()
    if "-" in s:
        return s.split("-")[0]
    for q in QUOTES:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)]
    return s


def arb_aliases(arb: dict) -> dict[tuple[str, str], str]:
    """(venue, symbol) -> asset from the arbitrage document's configured pairs (e.g. pair "BTC-USDT")."""
    out: dict[tuple[str, str], str] = {}
    for p in _list(arb.get("pairs")):
        name = str(p.get("pair") or "")
        asset = name.split("-")[0].upper() if name else ""
        if not asset:
            continue
        for key, value in p.items():
            if key.endswith("_symbol") and isinstance(value, str):
                venue = {"binance": "binance_um", "okx": "okx_perp"}.get(key[: -len("_symbol")], key[: -len("_symbol")])
                out[(venue, value)] = asset
    return out


def position_groups(positions: dict, arb: dict | None = None) -> list[AssetGroup]:
    aliases = arb_aliases(arb or {})
    groups: dict[str, list[Leg]] = {}
    for r in _rows(positions):
        venue, symbol = str(r.get("venue", "?")), str(r.get("symbol", "?"))
        asset = base_asset(venue, symbol, aliases)
        groups.setdefault(asset, []).append(
            Leg(
                asset=asset,
                venue=venue,
                symbol=symbol,
                side=_side(r),
                qty=dec(r.get("qty")),
                entry=dec(r.get("entry_price")),
                mark=dec(r.get("mark_price")),
                unrealized_pnl=dec(r.get("unrealized_pnl")),
                notional=dec(r.get("notional")),
                leverage=dec(r.get("leverage")),
                stop_loss=dec(r.get("stop_loss")),
                take_profit=dec(r.get("take_profit")),
                opened_ts=int(dec(r.get("opened_ts")) or 0),
            )
        )
    out = []
    for asset in sorted(groups):
        legs = sorted(groups[asset], key=lambda g: (g.side != "LONG", g.venue, g.symbol))
        sign = {leg: (1 if leg.side == "LONG" else -1) for leg in legs}
        out.append(
            AssetGroup(
                asset=asset,
                legs=legs,
                net_qty=sum((sign[leg] * (leg.qty or Decimal(0)) for leg in legs), Decimal(0)),
                net_notional=sum((sign[leg] * (leg.notional or Decimal(0)) for leg in legs), Decimal(0)),
                unrealized_pnl=sum((leg.unrealized_pnl or Decimal(0) for leg in legs), Decimal(0)),
            )
        )
    return out


def leg_rows(groups: list[AssetGroup]) -> list[dict[str, str]]:
    rows = []
    for g in groups:
        for leg in g.legs:
            rows.append(
                {
                    "Asset": g.asset,
                    "Side": leg.side,
                    "Venue": leg.venue,
                    "Symbol": leg.symbol,
                    "Qty": fmt_num(leg.qty),
                    "Entry": fmt_num(leg.entry),
                    "Mark": fmt_num(leg.mark),
                    "uPnL (USDT)": fmt_money(leg.unrealized_pnl, signed=True),
                    "Notional (USDT)": fmt_money(leg.notional),
                    "Leverage": f"{fmt_num(leg.leverage)}x" if leg.leverage is not None else DASH,
                    "Stop / Take": f"{fmt_num(leg.stop_loss, 4)} / {fmt_num(leg.take_profit, 4)}"
                    if leg.stop_loss is not None or leg.take_profit is not None
                    else DASH,
                    "Opened": fmt_ts(leg.opened_ts),
                }
            )
    return rows


def pair_rows(groups: list[AssetGroup]) -> list[dict[str, str]]:
    rows = []
    for g in groups:
        if not g.cross_venue_pair:
            continue
        legs = " + ".join(f"{leg.side} {fmt_num(leg.qty)} {leg.venue}" for leg in g.legs)
        rows.append(
            {
                "Asset": g.asset,
                "Legs": legs,
                "Net delta (base)": fmt_num(g.net_qty),
                "Net delta (USDT)": fmt_money(g.net_notional, signed=True),
                "uPnL (USDT)": fmt_money(g.unrealized_pnl, signed=True),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------------
# tables: signals, trades, screener, arbitrage
def signal_rows(signals: list[dict], n: int = 10) -> list[dict[str, str]]:
    rows = []
    for s in sorted(_list(signals), key=lambda s: int(dec(s.get("ts")) or 0), reverse=True)[:n]:
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
        _list(trades), key=lambda t: (int(dec(t.get("ts")) or 0), int(dec(t.get("seq")) or 0)), reverse=True
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
    for r in list(_list(tail))[-n:][::-1]:
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
    for p in _list(doc.get("pairs")):
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
    for f in _list(doc.get("funding")):
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
    return ArbitrageView(True, msg, pairs, funding, len(_list(doc.get("open_pairs"))))


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


# ---------------------------------------------------------------------------------------------
def _rows(positions: dict) -> list[dict]:
    return [
        r for r in _list(positions.get("positions") if isinstance(positions, dict) else None) if isinstance(r, dict)
    ]


def _list(value: object) -> list[dict]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _side(row: dict) -> str:
    return str(row.get("position_side") or "").upper() or "?"


def _signed(row: dict, value: object) -> Decimal | None:
    d = dec(value)
    if d is None:
        return None
    return -d if _side(row) == "SHORT" else d


def _sum(values) -> Decimal | None:
    total, seen = Decimal(0), False
    for v in values:
        d = v if isinstance(v, Decimal) else dec(v)
        if d is not None:
            total += d
            seen = True
    return total if seen else None
