"""The 8-hour update's message text: a payload from `build_payload` (telegram/payload.py) in,
Telegram HTML out. Pure (no I/O, no clock). The update is built in parts: positions
(telegram/positions.py), the NAV history (telegram/nav_history.py), the numbers
(telegram/numbers.py), escaping and length bounds (telegram/html_safe.py).

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

from datetime import UTC, datetime, tzinfo
from decimal import Decimal

from telegram.html_safe import escape_clip, field
from telegram.numbers import dec, plain, rounded, signed
from telegram.payload import LAST_TRADES, MAX_NOTE_CHARS, MAX_NOTES, TOP_POSITIONS

ARROWS = {"up": "↑", "down": "↓", "flat": "→"}
UNAVAILABLE = "unavailable (no readable NAV in state and no venue answered)"


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
            f"• {field(g['base'])} hedged: LONG {field(lo['venue'])} {plain(_n(lo['qty']))} / SHORT "
            f"{field(sh['venue'])} {plain(_n(sh['qty']))}  uPnL {signed(_n(g['unrealized_pnl']))}  "
            f"net {signed(_n(g['net_notional_usdt']))} USDT"
        )
    if g["kind"] == "same_symbol":
        lo, sh = g["legs"]
        return (
            f"• {field(g['symbol'])}  LONG  {plain(_n(lo['qty']))}  uPnL {signed(_n(lo['unrealized_pnl']))}  |  "
            f"SHORT {plain(_n(sh['qty']))} uPnL {signed(_n(sh['unrealized_pnl']))} (hedged)"
        )
    return (
        f"• {field(g['symbol'])}  {g['position_side']:<5} {plain(_n(g['qty']))}  uPnL {signed(_n(g['unrealized_pnl']))}"
    )


def render_text(p: dict, tz: tzinfo = UTC) -> str:
    """The message (Telegram HTML) for a payload from `build_payload`, in the runbook's layout."""
    when = _local(p["timestamp_ms"], tz).strftime("%Y-%m-%d %H:%M %Z")
    lines = [f"<b>HEDGE — 8h Update ({field(p['env'])})</b>", f"Time: {when}", ""]
    if p["nav"] is None:
        lines.append(f"NAV: {UNAVAILABLE}")
    else:
        nav = _n(p["nav"])
        if p["nav_24h_delta_abs"] is None:
            delta = "Δ24h: n/a"
        else:
            delta = f"Δ24h: {signed(_n(p['nav_24h_delta_abs']))}, {signed(_n(p['nav_24h_delta_pct']))}%"
        lines.append(f"NAV: {nav:,.2f} USDT  ({delta})")
        dd = "n/a" if p["drawdown_pct"] is None else f"{rounded(_n(p['drawdown_pct']), 1)}%"
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
            lines.append(f"• {field(t['symbol'])} {signed(_n(t['pnl']))}  ({t['side']}/{t['position_side']} {at})")
    lines += ["", "Notes:", f"• Reserve: {plain(_n(p['reserve_btc']))} BTC (not included in NAV)"]
    s = p["screener"]
    if s["attempted"] is None or s["emitted"] is None:
        lines.append("• Screener: n/a (last cycle)")
    else:
        lines.append(f"• Screener: attempted={s['attempted']}, emitted={s['emitted']} (last cycle)")
    for note in p["notes"][:MAX_NOTES]:
        lines.append("• " + escape_clip(str(note), MAX_NOTE_CHARS))
    if p["nav"] is None:
        lines.append("Check the executor: supervisorctl status hedge-executor")
    return "\n".join(lines)
