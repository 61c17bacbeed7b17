"""The 8-hour update: state in, JSON payload and message text out. Pure (no I/O, no clock).

Text layout (HTML parse mode; symbols and notes are escaped):

    HEDGE — 8h Update (prod)
    2026-11-22 08:00 UTC
    NAV: 12,345.67 USDT  (Δ24h: +123.45, +1.01%)
    Drawdown: 3.2%  |  Trend: ↑
    Open positions (top 5 by |uPnL|):
    • BTC hedged: LONG okx_perp 0.010 / SHORT binance_um 0.010  uPnL +1.23
    • SOLUSDT LONG 4  uPnL +8.80
    Last 5 trades:
    • SOLUSDT SELL/LONG  PnL +12.30
    Notes:
    Reserve: 0.013 BTC (not included in NAV)
    Screener last cycle: attempted=4, emitted=1
"""
from __future__ import annotations

import html
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

TREND_THRESHOLD_PCT = 0.25
DAY_MS = 86_400_000
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def base_asset(symbol: str) -> str:
    """BTCUSDT -> BTC, BTC-USDT-SWAP -> BTC (what a hedged pair has in common)."""
    if "-" in symbol:
        return symbol.split("-")[0]
    for quote in ("USDT", "USDC", "BUSD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)]
    return symbol


def trend_of(delta_pct: float | None) -> str:
    if delta_pct is None:
        return "flat"
    if delta_pct > TREND_THRESHOLD_PCT:
        return "up"
    if delta_pct < -TREND_THRESHOLD_PCT:
        return "down"
    return "flat"


def delta_24h(nav: float, now_ts: int, history: list[tuple[int, float, float]]) -> tuple[float, float] | None:
    """(abs, pct) against the newest history point at least 24h older than `now_ts`; None if none."""
    ref = None
    for ts, value, _dd in history:
        if ts <= now_ts - DAY_MS:
            ref = value
        else:
            break
    if ref is None and history and history[0][0] < now_ts:
        ref = history[0][1]  # shorter history than a day: against its first point
    if not ref:
        return None
    return nav - ref, (nav - ref) / ref * 100.0


def worst_daily_loss_pct(history: list[tuple[int, float, float]]) -> float:
    """Worst UTC-day close-to-close loss in the history, as a positive percentage (0 if none)."""
    closes: dict[int, float] = {}
    for ts, value, _ in history:
        closes[ts // DAY_MS] = value
    days = sorted(closes)
    worst = 0.0
    for a, b in zip(days, days[1:]):
        if closes[a] > 0:
            worst = max(worst, (closes[a] - closes[b]) / closes[a] * 100.0)
    return worst


def group_positions(positions: list[dict]) -> list[dict]:
    """Positions grouped by (symbol, position side); a base asset held LONG on one venue and SHORT
    on another becomes one hedged line. Sorted by |uPnL|, largest first."""
    groups: dict[tuple[str, str], dict] = {}
    for p in positions:
        key = (p["symbol"], p["position_side"])
        g = groups.setdefault(key, {"symbol": p["symbol"], "position_side": p["position_side"], "venue": p["venue"],
                                    "qty": 0.0, "unrealized_pnl": 0.0, "notional": 0.0})
        g["qty"] += float(p["qty"])
        g["unrealized_pnl"] += float(p.get("unrealized_pnl") or 0.0)
        g["notional"] += float(p.get("notional") or 0.0)
    rows, used = [], set()
    by_base: dict[str, list[tuple[str, str]]] = {}
    for key, g in groups.items():
        by_base.setdefault(base_asset(g["symbol"]), []).append(key)
    for base, keys in by_base.items():
        longs = [k for k in keys if groups[k]["position_side"] == "LONG"]
        shorts = [k for k in keys if groups[k]["position_side"] == "SHORT"]
        for lk in longs:
            sk = next((s for s in shorts if s not in used and groups[s]["venue"] != groups[lk]["venue"]), None)
            if sk is None:
                continue
            used.update((lk, sk))
            long_, short = groups[lk], groups[sk]
            rows.append({"kind": "hedged", "base": base, "long": long_, "short": short,
                         "unrealized_pnl": long_["unrealized_pnl"] + short["unrealized_pnl"],
                         "net_delta_usdt": long_["notional"] - short["notional"]})
    for key, g in groups.items():
        if key not in used:
            rows.append({"kind": "single", **g})
    rows.sort(key=lambda r: -abs(r["unrealized_pnl"]))
    return rows


def closing_trades(trades: list[dict], n: int = 5) -> list[dict]:
    """The last `n` fills that closed (part of) a position, with their PnL net of fees."""
    closes = [t for t in trades if (t.get("side") == "SELL") == (t.get("position_side") == "LONG")]
    return [{"ts": t["ts"], "venue": t["venue"], "symbol": t["symbol"], "side": t["side"],
             "position_side": t["position_side"], "qty": t["qty"], "price": t["price"],
             "pnl_usdt": round(float(t.get("realized_pnl_usdt", 0)) - float(t.get("fee_usdt", 0)), 8)}
            for t in closes[-n:]]


def build_payload(*, env: str, now_ms: int, nav_doc: dict, positions: list[dict], trades: list[dict],
                  history: list[tuple[int, float, float]], screener: dict, source: str,
                  reserve_btc: float, daily_history: list[tuple[int, float, float]] | None = None) -> dict:
    """`history`: the last day or two at full resolution (for Δ24h); `daily_history`: a longer
    range at any resolution (for the worst daily loss); it defaults to `history`."""
    nav = float(nav_doc["nav"])
    market_ts = int(nav_doc.get("market_ts") or now_ms)
    d = delta_24h(nav, market_ts, history)
    if d is None and nav_doc.get("change_24h_abs") is not None:
        d = float(nav_doc["change_24h_abs"]), float(nav_doc.get("change_24h_pct") or 0.0)
    cycle = screener.get("last_cycle") or {}
    groups = group_positions(positions)
    return {
        "env": env,
        "timestamp": now_ms,
        "market_ts": market_ts,
        "source": source,
        "nav": round(nav, 2),
        "nav_24h_delta_abs": round(d[0], 2) if d else None,
        "nav_24h_delta_pct": round(d[1], 4) if d else None,
        "drawdown_pct": round(float(nav_doc.get("drawdown_pct") or 0.0), 4),
        "trend": trend_of(d[1] if d else None),
        "reserve_btc": reserve_btc,
        "positions": [_position_payload(g) for g in groups[:5]],
        "open_positions": len(positions),
        "recent_trades": closing_trades(trades),
        "screener": {"attempted": int(cycle.get("attempted", 0)), "emitted": int(cycle.get("emitted", 0))},
        "kpis": {"max_dd_pct": round(float(nav_doc.get("max_drawdown_pct") or 0.0), 4),
                 "max_daily_loss_pct": round(worst_daily_loss_pct(
                     history if daily_history is None else daily_history), 4)},
    }


def _position_payload(g: dict) -> dict:
    if g["kind"] == "hedged":
        return {"kind": "hedged", "base": g["base"], "unrealized_pnl": round(g["unrealized_pnl"], 2),
                "net_delta_usdt": round(g["net_delta_usdt"], 2),
                "legs": [{k: g[leg][k] for k in ("symbol", "venue", "position_side", "qty")} for leg in ("long", "short")]}
    return {"kind": "single", "symbol": g["symbol"], "venue": g["venue"], "position_side": g["position_side"],
            "qty": g["qty"], "unrealized_pnl": round(g["unrealized_pnl"], 2)}


def _signed(x: float, digits: int = 2) -> str:
    return f"{x:+,.{digits}f}"


def _qty(x: float) -> str:
    return f"{x:.8f}".rstrip("0").rstrip(".")


MAX_FIELD_CHARS = 48  # a symbol or env name longer than this is cut: the message stays far below 4096


def _clip(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_FIELD_CHARS else text[: MAX_FIELD_CHARS - 1] + "…"


def render_text(p: dict, tz: str = "UTC") -> str:
    e = lambda s: html.escape(_clip(s), quote=False)  # noqa: E731
    zone = ZoneInfo(tz)
    local = datetime.fromtimestamp(p["timestamp"] / 1000, tz=timezone.utc).astimezone(zone)
    lines = [f"<b>HEDGE — 8h Update ({e(p['env'])})</b>", local.strftime("%Y-%m-%d %H:%M %Z")]
    if p["nav_24h_delta_abs"] is None:
        lines.append(f"NAV: {p['nav']:,.2f} USDT  (Δ24h: n/a)")
    else:
        lines.append(f"NAV: {p['nav']:,.2f} USDT  (Δ24h: {_signed(p['nav_24h_delta_abs'])}, "
                     f"{_signed(p['nav_24h_delta_pct'])}%)")
    lines.append(f"Drawdown: {p['drawdown_pct']:.1f}%  |  Trend: {ARROWS[p['trend']]}")
    lines.append(f"Open positions ({p['open_positions']}; top 5 by |uPnL|):" if p["positions"] else "Open positions: none")
    for g in p["positions"]:
        if g["kind"] == "hedged":
            lo, sh = g["legs"]
            lines.append(f"• {e(g['base'])} hedged: LONG {e(lo['venue'])} {_qty(lo['qty'])} / SHORT {e(sh['venue'])} "
                         f"{_qty(sh['qty'])}  uPnL {_signed(g['unrealized_pnl'])}  Δ {_signed(g['net_delta_usdt'])}")
        else:
            lines.append(f"• {e(g['symbol'])} {g['position_side']} {_qty(g['qty'])}  uPnL {_signed(g['unrealized_pnl'])}")
    lines.append("Last 5 trades:" if p["recent_trades"] else "Last 5 trades: none")
    for t in p["recent_trades"]:
        lines.append(f"• {e(t['symbol'])} {t['side']}/{t['position_side']}  PnL {_signed(t['pnl_usdt'])}")
    lines.append("Notes:")
    lines.append(f"Reserve: {p['reserve_btc']:g} BTC (not included in NAV)")
    lines.append(f"Screener last cycle: attempted={p['screener']['attempted']}, emitted={p['screener']['emitted']}")
    if p.get("source") and p["source"] != "firestore":
        lines.append(f"Source: {e(p['source'])}")
    return "\n".join(lines)


def render_unavailable(p: dict, tz: str = "UTC") -> str:
    local = datetime.fromtimestamp(p["timestamp"] / 1000, tz=timezone.utc).astimezone(ZoneInfo(tz))
    return "\n".join([f"<b>HEDGE — 8h Update ({html.escape(_clip(p['env']), quote=False)})</b>",
                      local.strftime("%Y-%m-%d %H:%M %Z"),
                      "NAV: unavailable (no readable state and no venue reachable)",
                      "Check the executor: supervisorctl status hedge-executor"])
