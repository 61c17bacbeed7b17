"""The 8-hour update: state in, JSON payload and message text out. Pure (no I/O, no clock).

Telegram HTML parse mode: the only markup is the bold header; every value that comes from state
or configuration (env name, symbols, venues, notes) is cut to `MAX_FIELD_CHARS` and then escaped
(`<`, `>`, `&`), so a symbol like `A<B>&C` shows as written and cannot break the message. With at
most 5 position lines, 5 trade lines and `MAX_NOTES` notes, the text stays far below Telegram's
4096 characters whatever the state holds.

    HEDGE — 8h Update (prod)
    Time: 2026-11-22 08:00 UTC

    NAV: 12,345.67 USDT  (Δ24h: +123.45, +1.01%)
    Drawdown: 3.2%  |  Trend: ↑

    Open Positions (top 5):
    • SOLUSDT  LONG  4  uPnL +8.80
    • XRPUSDT  LONG  10  uPnL +50.00  |  SHORT 10 uPnL -49.00 (hedged)
    • BTC hedged: LONG okx_perp 0.01 / SHORT binance_um 0.01  uPnL +1.00  net +1.00 USDT

    Recent PnL (last 5 trades):
    • SOLUSDT +12.30  (SELL/LONG 11-22 07:45)

    Notes:
    • Reserve: 0.013 BTC (not included in NAV)
    • Screener: attempted=4, emitted=1 (last cycle)

The labels and the JSON fields are the fund's (its runbook's Telemetry_Format): `timestamp` is
ISO UTC, `positions` is one {symbol, side, qty, uPnl} per (symbol, position side) of the top
groups, `recent_trades` carry `pnl`; extra fields (venue, ms times, groups, notes) ride along.
A LONG and a SHORT of one symbol on one venue are one "(hedged)" line; a LONG on one venue and
a SHORT of the same asset on the other are one cross-venue "hedged" line.

Money is Decimal from the state's JSON text (`Decimal(str(x))`), rounded half-even for display;
the payload carries the same rounded values as JSON numbers. The Δ24h percentage is a return, so
it comes from execution.performance like every return the fund shows.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from execution import health
from execution.arb.symbols import pair_of

TREND_THRESHOLD_PCT = Decimal("0.25")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
TOP_POSITIONS = 5
LAST_TRADES = 5
MAX_FIELD_CHARS = 48  # a symbol, venue or env name longer than this is cut (with "…")
MAX_NOTE_CHARS = 160
MAX_NOTES = 8
STALE_AFTER_MS = 30 * 60_000  # state older than this gets a warning note
DELTA_REF_SLACK_MS = HOUR_MS  # a Δ24h reference more than this off 24h gets a note saying over what span
UNAVAILABLE = "unavailable (no readable NAV in state and no venue answered)"


# -- numbers ---------------------------------------------------------------------------------------
def dec(value: object) -> Decimal | None:
    """A finite Decimal from a JSON number or numeric string; None for anything else."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    try:
        d = Decimal(str(value).strip()) if isinstance(value, (int, float, str, Decimal)) else None
    except InvalidOperation:
        return None
    return d if d is not None and d.is_finite() else None


def _q(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def _num(d: Decimal | None, places: int) -> float | None:
    """A payload number: rounded like the text shows it."""
    return None if d is None else float(_q(d, places))


def _signed(d: Decimal, places: int = 2) -> str:
    q = _q(d, places)
    if q == 0:
        q = abs(q)  # never "-0.00"
    return f"{q:+,.{places}f}"


def _plain(d: Decimal) -> str:
    """0.33600000 -> 0.336, 4.0 -> 4, 1E+1 -> 10."""
    return f"{d.normalize():f}"


# -- positions ---------------------------------------------------------------------------------------
@dataclass
class Group:
    """Open positions with the same (symbol, position side), summed."""

    symbol: str
    position_side: str
    venues: list[str]
    qty: Decimal
    upnl: Decimal
    notional: Decimal

    @property
    def venue(self) -> str:
        return "+".join(self.venues)


def pair_key(venue: str, symbol: str) -> str:
    """What two legs of a cross-venue hedge share: BTCUSDT@binance_um and BTC-USDT-SWAP@okx_perp -> BTC-USDT."""
    pair = pair_of(venue, symbol)
    if pair:
        return pair
    if "-" in symbol:  # other venues: BASE-QUOTE[-SUFFIX]
        return "-".join(symbol.split("-")[:2])
    for quote in ("USDT", "USDC", "BUSD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return f"{symbol[: -len(quote)]}-{quote}"
    return symbol


def normalize_positions(raw: object) -> tuple[list[dict], int]:
    """(usable position rows, number skipped as malformed). A usable row has a venue, a symbol, a
    LONG/SHORT side and a non-zero quantity; uPnL and notional default to 0."""
    if not isinstance(raw, list):
        return [], 0 if raw in (None, {}) else 1
    rows, skipped = [], 0
    for p in raw:
        if not isinstance(p, dict):
            skipped += 1
            continue
        venue, symbol, side = p.get("venue"), p.get("symbol"), p.get("position_side")
        qty = dec(p.get("qty"))
        if not (
            isinstance(venue, str)
            and venue
            and isinstance(symbol, str)
            and symbol
            and side in ("LONG", "SHORT")
            and qty is not None
            and qty != 0
        ):
            skipped += 1
            continue
        upnl = dec(p.get("unrealized_pnl")) or Decimal(0)
        notional = dec(p.get("notional"))
        if notional is None:
            mark = dec(p.get("mark_price")) or dec(p.get("entry_price")) or Decimal(0)
            notional = abs(qty) * mark
        rows.append(
            {
                "venue": venue,
                "symbol": symbol,
                "position_side": side,
                "qty": abs(qty),
                "upnl": upnl,
                "notional": abs(notional),
            }
        )
    return rows, skipped


def group_positions(rows: list[dict]) -> list[dict]:
    """Rows grouped by (symbol, position side); a LONG and a SHORT of one symbol on one venue
    become one "same_symbol" row, a pair held LONG on one venue and SHORT on another one "hedged"
    row. Sorted by |uPnL| (a paired row by its combined uPnL), largest first."""
    groups: dict[tuple[str, str], Group] = {}
    for p in rows:
        g = groups.get((p["symbol"], p["position_side"]))
        if g is None:
            g = groups[(p["symbol"], p["position_side"])] = Group(
                p["symbol"], p["position_side"], [], Decimal(0), Decimal(0), Decimal(0)
            )
        if p["venue"] not in g.venues:
            g.venues.append(p["venue"])
        g.qty += p["qty"]
        g.upnl += p["upnl"]
        g.notional += p["notional"]
    out: list[dict] = []
    used: set[int] = set()
    for (symbol, side), lg in groups.items():
        sg = groups.get((symbol, "SHORT"))
        if side != "LONG" or sg is None or set(sg.venues).isdisjoint(lg.venues):
            continue
        used.update((id(lg), id(sg)))
        out.append({"kind": "same_symbol", "long": lg, "short": sg, "upnl": lg.upnl + sg.upnl})
    by_pair: dict[str, list[Group]] = {}
    for g in groups.values():
        if id(g) not in used:
            by_pair.setdefault(pair_key(g.venues[0], g.symbol), []).append(g)
    for pair, members in by_pair.items():
        longs = [g for g in members if g.position_side == "LONG"]
        shorts = [g for g in members if g.position_side == "SHORT"]
        for lg in longs:
            sg = next((s for s in shorts if id(s) not in used and set(s.venues).isdisjoint(lg.venues)), None)
            if sg is None:
                continue
            used.update((id(lg), id(sg)))
            out.append(
                {
                    "kind": "hedged",
                    "pair": pair,
                    "base": pair.split("-")[0],
                    "long": lg,
                    "short": sg,
                    "upnl": lg.upnl + sg.upnl,
                    "net_notional": lg.notional - sg.notional,
                }
            )
    for g in groups.values():
        if id(g) not in used:
            out.append({"kind": "single", "group": g, "upnl": g.upnl})
    out.sort(key=lambda r: -abs(r["upnl"]))
    return out


def _legs(r: dict) -> list[Group]:
    return [r["group"]] if r["kind"] == "single" else [r["long"], r["short"]]


def _runbook_position(g: Group) -> dict:
    """One entry of the runbook's `positions`: symbol, side, qty, uPnl (+ venue, notional)."""
    return {
        "symbol": g.symbol,
        "side": g.position_side,
        "qty": float(g.qty),
        "uPnl": _num(g.upnl, 3),
        "venue": g.venue,
        "notional_usdt": _num(g.notional, 2),
    }


def _position_payload(r: dict) -> dict:
    if r["kind"] == "same_symbol":
        lg, sg = r["long"], r["short"]
        return {
            "kind": "same_symbol",
            "symbol": lg.symbol,
            "venue": lg.venue,
            "unrealized_pnl": _num(r["upnl"], 2),
            "legs": [
                {"position_side": g.position_side, "qty": float(g.qty), "unrealized_pnl": _num(g.upnl, 2)}
                for g in (lg, sg)
            ],
        }
    if r["kind"] == "hedged":
        legs = [
            {
                "symbol": g.symbol,
                "venue": g.venue,
                "position_side": g.position_side,
                "qty": float(g.qty),
                "unrealized_pnl": _num(g.upnl, 2),
            }
            for g in (r["long"], r["short"])
        ]
        return {
            "kind": "hedged",
            "pair": r["pair"],
            "base": r["base"],
            "unrealized_pnl": _num(r["upnl"], 2),
            "net_notional_usdt": _num(r["net_notional"], 2),
            "legs": legs,
        }
    g: Group = r["group"]
    return {
        "kind": "single",
        "symbol": g.symbol,
        "venue": g.venue,
        "position_side": g.position_side,
        "qty": float(g.qty),
        "unrealized_pnl": _num(g.upnl, 2),
        "notional_usdt": _num(g.notional, 2),
    }


# -- trades ------------------------------------------------------------------------------------------
def closing_trades(trades: object, n: int = LAST_TRADES) -> list[dict]:
    """The last `n` fills that closed (part of) a position, newest first. `pnl_usdt` is the fill's
    realised PnL (as the venue reports it, before fees) minus that fill's fee."""
    if not isinstance(trades, list):
        return []
    closes = []
    for t in trades:
        if not isinstance(t, dict) or t.get("kind", "fill") != "fill":
            continue
        side, pside = t.get("side"), t.get("position_side")
        if (side, pside) not in (("SELL", "LONG"), ("BUY", "SHORT")):
            continue
        ts, realized = dec(t.get("ts")), dec(t.get("realized_pnl_usdt"))
        if ts is None or realized is None or not isinstance(t.get("symbol"), str):
            continue
        fee = dec(t.get("fee_usdt")) or Decimal(0)
        closes.append((int(ts), int(dec(t.get("seq")) or 0), t, realized, fee))
    closes.sort(key=lambda c: (c[0], c[1]))
    out: list[dict] = []
    for when, _seq, t, realized, fee in reversed(closes[-n:]):
        out.append(
            {
                "ts": when,
                "venue": str(t.get("venue") or ""),
                "symbol": t["symbol"],
                "side": t["side"],
                "position_side": t["position_side"],
                "qty": _num(dec(t.get("qty")), 8),
                "price": _num(dec(t.get("price")), 8),
                "realized_pnl_usdt": _num(realized, 2),
                "fee_usdt": _num(fee, 4),
                "pnl_usdt": _num(realized - fee, 2),
                "pnl": _num(realized - fee, 2),  # the runbook's name
            }
        )
    return out


# -- NAV history -------------------------------------------------------------------------------------
def _points(history: object) -> list[tuple[int, Decimal]]:
    out = []
    for item in history if isinstance(history, list) else []:
        try:
            ts, nav = int(item[0]), dec(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if nav is not None and nav > 0:
            out.append((ts, nav))
    out.sort(key=lambda p: p[0])
    return out


def delta_24h(nav: Decimal, as_of_ms: int, history: object) -> tuple[Decimal, Decimal, int] | None:
    """(abs, pct, reference ts) against the newest NAV point at least 24h older than `as_of_ms`, or
    (history shorter than a day) the oldest point: the executor's own definition. None without
    history before `as_of_ms`."""
    points = [p for p in _points(history) if p[0] < as_of_ms]
    if not points:
        return None
    ref = points[0]
    for p in points:
        if p[0] <= as_of_ms - DAY_MS:
            ref = p
        else:
            break
    delta = nav - ref[1]
    return delta, _return_pct(points, ref, nav, as_of_ms, delta / ref[1] * 100), ref[0]


def _return_pct(
    points: list[tuple[int, Decimal]], ref: tuple[int, Decimal], nav: Decimal, as_of_ms: int, simple: Decimal
) -> Decimal:
    """The return from `ref` to `nav` as the performance module measures every return the fund shows
    (time-weighted; with no capital flow between them it is the plain NAV change, `simple`). The
    message never depends on it: without the module (numpy/pandas missing) it is `simple`."""
    try:
        from execution import performance as perf

        window = [p for p in points if p[0] >= ref[0]]
        series = perf.NavPoints.of([p[0] for p in window] + [as_of_ms], [float(p[1]) for p in window] + [float(nav)])
        r = perf.period_return(series, perf.growth_index(series), ref[0], as_of_ms)
    except Exception:  # noqa: BLE001 - the 8-hour message goes out whatever this module can load
        return simple
    return simple if r is None else Decimal(repr(r * 100))


def trend_of(delta_pct: Decimal | float | None) -> str:
    """up above +0.25 %, down below -0.25 %, flat otherwise (and without a Δ24h)."""
    if delta_pct is None:
        return "flat"
    pct = Decimal(str(delta_pct))
    if pct > TREND_THRESHOLD_PCT:
        return "up"
    if pct < -TREND_THRESHOLD_PCT:
        return "down"
    return "flat"


def worst_daily_loss_pct(history: object) -> Decimal | None:
    """Worst loss within one UTC day against that day's start (the last point of the day before,
    else the day's first point), as a positive percentage; the daily-loss breaker's measure at the
    history's resolution. None without history."""
    points = _points(history)
    if not points:
        return None
    worst = Decimal(0)
    start, day, prev = points[0][1], points[0][0] // DAY_MS, points[0][1]
    for ts, nav in points:
        if ts // DAY_MS != day:
            day, start = ts // DAY_MS, prev
        worst = max(worst, (start - nav) / start * 100)
        prev = nav
    return worst


# -- payload -----------------------------------------------------------------------------------------
def _clip(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _span(ms: int) -> str:
    hours = ms / HOUR_MS
    return f"{hours:.1f}h" if hours < 48 else f"{hours / 24:.1f} days"


def build_payload(
    *,
    env: str,
    now_ms: int,
    nav_doc: dict,
    positions: object = None,
    trades: object = None,
    history: object = None,
    daily_history: object = None,
    screener: dict | None = None,
    control: dict | None = None,
    source: str = "local",
    reserve_btc: Decimal | float | str = "0",
    updated_at_ms: int = 0,
    notes: list[str] | tuple[str, ...] = (),
) -> dict:
    """Everything the message says, as JSON-ready data (the `[heartbeat] payload` line).

    `history`: the last two days at full resolution (for Δ24h); `daily_history`: a longer range at
    any resolution (for the worst daily loss), defaulting to `history`. `notes`: what the caller
    wants the reader to know (fallbacks, unreadable documents). Malformed parts of the state are
    skipped with a note, never raised on."""
    notes = list(notes)
    nav_doc = nav_doc if isinstance(nav_doc, dict) else {}
    screener = screener if isinstance(screener, dict) else {}
    control = control if isinstance(control, dict) else {}
    nav = dec(nav_doc.get("nav"))
    as_of = int(dec(nav_doc.get("market_ts")) or now_ms)

    delta: tuple[Decimal, Decimal, int | None] | None = None
    if nav is not None:
        delta = delta_24h(nav, as_of, history)
        if delta is None:
            d_abs, d_pct = dec(nav_doc.get("change_24h_abs")), dec(nav_doc.get("change_24h_pct"))
            if d_abs is not None and d_pct is not None:
                delta = (d_abs, d_pct, None)
                notes.append("Δ24h as the executor computed it (no NAV history readable)")
        elif delta[2] is not None and abs(as_of - delta[2] - DAY_MS) > DELTA_REF_SLACK_MS:
            why = "NAV history shorter than a day" if as_of - delta[2] < DAY_MS else "gap in NAV history"
            notes.append(f"Δ24h measured over {_span(as_of - delta[2])} ({why})")

    drawdown = dec(nav_doc.get("drawdown_pct"))
    if drawdown is None and nav is not None:
        peak = dec(nav_doc.get("peak_nav"))
        if peak is not None and peak > 0:
            drawdown = max(Decimal(0), (peak - nav) / peak * 100)

    rows, skipped = normalize_positions(positions)
    if skipped:
        notes.append(f"{skipped} malformed position record{'s' if skipped != 1 else ''} skipped")
    grouped = group_positions(rows)

    raw_cycle = screener.get("last_cycle")
    cycle: dict = raw_cycle if isinstance(raw_cycle, dict) else {}
    attempted, emitted = dec(cycle.get("attempted")), dec(cycle.get("emitted"))

    mode = control.get("mode") if isinstance(control.get("mode"), str) else None
    if mode and mode != "RUN":
        reason = control.get("reason") or ", ".join(str(b) for b in control.get("breakers") or []) or "no reason given"
        notes.insert(0, f"Mode: {mode} ({reason})")
    fund_health = health.assess(control) if control else None
    if fund_health is not None and fund_health.state:  # the Mode note already says HOLD / kill and why
        shown = [r for r in fund_health.reasons if not r.startswith(("HOLD:", "kill switch:"))]
        notes.insert(0, f"Health: {fund_health.label}" + (f" ({'; '.join(shown)})" if shown else ""))
    if updated_at_ms and now_ms - updated_at_ms > STALE_AFTER_MS:
        notes.insert(0, f"⚠ State last written {_span(now_ms - updated_at_ms)} ago: is the executor running?")
    elif nav is not None and abs(now_ms - as_of) > STALE_AFTER_MS:  # a replay, or a feed that lags
        notes.insert(
            0,
            "Figures as of "
            + datetime.fromtimestamp(as_of / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
            + " (market time of the state)",
        )

    raw_limits = control.get("limits")
    limits: dict = raw_limits if isinstance(raw_limits, dict) else {}
    worst_daily = worst_daily_loss_pct(history if daily_history is None else daily_history)
    return {
        "env": str(env),
        "timestamp": datetime.fromtimestamp(int(now_ms) / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "timestamp_ms": int(now_ms),
        "as_of_ms": as_of if nav is not None else None,
        "state_updated_at_ms": int(updated_at_ms) or None,
        "source": source,
        "mode": mode,
        "health_state": fund_health.state if fund_health is not None else None,
        "health_reasons": list(fund_health.reasons) if fund_health is not None else [],
        "nav": _num(nav, 2),
        "nav_24h_delta_abs": _num(delta[0], 2) if delta else None,
        "nav_24h_delta_pct": _num(delta[1], 4) if delta else None,
        "nav_24h_ref_ts": delta[2] if delta else None,
        "drawdown_pct": _num(drawdown, 4),
        "trend": trend_of(delta[1] if delta else None),
        "reserve_btc": float(dec(reserve_btc) or 0),
        "positions": [_runbook_position(g) for r in grouped[:TOP_POSITIONS] for g in _legs(r)],
        "position_groups": [_position_payload(r) for r in grouped[:TOP_POSITIONS]],
        "position_groups_total": len(grouped),
        "open_positions": len(rows),
        "recent_trades": closing_trades(trades),
        "screener": {
            "attempted": int(attempted) if attempted is not None else None,
            "emitted": int(emitted) if emitted is not None else None,
        },
        "kpis": {
            "max_dd_pct": _num(dec(nav_doc.get("max_drawdown_pct")), 4),
            "max_daily_loss_pct": _num(worst_daily, 4),
        },
        "limits": {
            "kill_dd_pct": _num(dec(limits.get("KILL_DD_PCT")), 4),
            "kill_daily_loss_pct": _num(dec(limits.get("KILL_DAILY_LOSS_PCT")), 4),
        },
        "notes": [_clip(n, MAX_NOTE_CHARS) for n in notes[:MAX_NOTES]],
    }


# -- text --------------------------------------------------------------------------------------------
def _escape_clip(text: str, limit: int) -> str:
    """`text` HTML-escaped and cut so that the escaped form is at most `limit` characters (an
    escaped `&` counts 5): the message's size is bounded by what is sent, not what is shown."""
    escaped = html.escape(text, quote=False)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for ch in text:
        piece = html.escape(ch, quote=False)
        if used + len(piece) > limit - 1:
            return "".join(out) + "…"
        out.append(piece)
        used += len(piece)
    return "".join(out)


def _e(value: object) -> str:
    return _escape_clip(str(value), MAX_FIELD_CHARS)


def _local(ts_ms: int, tz: tzinfo) -> datetime:
    return datetime.fromtimestamp(ts_ms / 1000, tz=UTC).astimezone(tz)


def _n(value: object) -> Decimal:
    """A number of a payload from `build_payload` (always written as a number there)."""
    d = dec(value)
    if d is None:
        raise ValueError(f"not a number in the payload: {value!r}")
    return d


def _group_line(g: dict) -> str:
    if g["kind"] == "hedged":
        lo, sh = g["legs"]
        return (
            f"• {_e(g['base'])} hedged: LONG {_e(lo['venue'])} {_plain(_n(lo['qty']))} / SHORT "
            f"{_e(sh['venue'])} {_plain(_n(sh['qty']))}  uPnL {_signed(_n(g['unrealized_pnl']))}  "
            f"net {_signed(_n(g['net_notional_usdt']))} USDT"
        )
    if g["kind"] == "same_symbol":
        lo, sh = g["legs"]
        return (
            f"• {_e(g['symbol'])}  LONG  {_plain(_n(lo['qty']))}  uPnL {_signed(_n(lo['unrealized_pnl']))}  |  "
            f"SHORT {_plain(_n(sh['qty']))} uPnL {_signed(_n(sh['unrealized_pnl']))} (hedged)"
        )
    return (
        f"• {_e(g['symbol'])}  {g['position_side']:<5} {_plain(_n(g['qty']))}  uPnL {_signed(_n(g['unrealized_pnl']))}"
    )


def render_text(p: dict, tz: tzinfo = UTC) -> str:
    """The message (Telegram HTML) for a payload from `build_payload`, in the runbook's layout."""
    when = _local(p["timestamp_ms"], tz).strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"<b>HEDGE — 8h Update ({_e(p['env'])})</b>", f"Time: {when}", ""]
    if p["nav"] is None:
        lines.append(f"NAV: {UNAVAILABLE}")
    else:
        nav = _n(p["nav"])
        if p["nav_24h_delta_abs"] is None:
            delta = "Δ24h: n/a"
        else:
            delta = f"Δ24h: {_signed(_n(p['nav_24h_delta_abs']))}, {_signed(_n(p['nav_24h_delta_pct']))}%"
        lines.append(f"NAV: {nav:,.2f} USDT  ({delta})")
        dd = "n/a" if p["drawdown_pct"] is None else f"{_q(_n(p['drawdown_pct']), 1)}%"
        lines.append(f"Drawdown: {dd}  |  Trend: {ARROWS[p['trend']]}")
    groups = p["position_groups"]
    if p["nav"] is not None or groups:  # without a NAV, still what is readable
        lines.append("")
        total = p.get("position_groups_total", len(groups))
        if groups:
            more = f" of {total}" if total > TOP_POSITIONS else ""
            lines.append(f"Open Positions (top {TOP_POSITIONS}{more}):")
        else:
            lines.append("Open Positions: none")
        lines.extend(_group_line(g) for g in groups)
    if p["nav"] is not None or p["recent_trades"]:
        lines.append("")
        label = f"Recent PnL (last {LAST_TRADES} trades)"
        lines.append(f"{label}:" if p["recent_trades"] else f"{label}: none")
        for t in p["recent_trades"]:
            at = _local(t["ts"], tz).strftime("%m-%d %H:%M")
            lines.append(f"• {_e(t['symbol'])} {_signed(_n(t['pnl']))}  ({t['side']}/{t['position_side']} {at})")
    lines += ["", "Notes:", f"• Reserve: {_plain(_n(p['reserve_btc']))} BTC (not included in NAV)"]
    s = p["screener"]
    if s["attempted"] is None or s["emitted"] is None:
        lines.append("• Screener: n/a (last cycle)")
    else:
        lines.append(f"• Screener: attempted={s['attempted']}, emitted={s['emitted']} (last cycle)")
    for note in p["notes"][:MAX_NOTES]:
        lines.append("• " + _escape_clip(str(note), MAX_NOTE_CHARS))
    if p["nav"] is None:
        lines.append("Check the executor: supervisorctl status hedge-executor")
    return "\n".join(lines)
