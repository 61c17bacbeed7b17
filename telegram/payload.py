"""The 8-hour update as JSON-ready data (`build_payload`, the `[heartbeat] payload` line): the
fund's runbook fields (Telemetry_Format) and extra ones (venue, ms times, groups, notes). Pure
(no I/O, no clock: `now_ms` comes in); malformed parts of the state are skipped with a note."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from execution import health
from telegram.html_safe import clip
from telegram.nav_history import DAY_MS, delta_24h, trend_of, worst_daily_loss_pct
from telegram.numbers import dec, num
from telegram.positions import group_positions, legs, normalize_positions, position_payload, runbook_position

HOUR_MS = 3_600_000
TOP_POSITIONS = 5
LAST_TRADES = 5
MAX_NOTE_CHARS = 160
MAX_NOTES = 8
STALE_AFTER_MS = 30 * 60_000  # state older than this gets a warning note
DELTA_REF_SLACK_MS = HOUR_MS  # a Δ24h reference more than this off 24h gets a note saying over what span


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
                "qty": num(dec(t.get("qty")), 8),
                "price": num(dec(t.get("price")), 8),
                "realized_pnl_usdt": num(realized, 2),
                "fee_usdt": num(fee, 4),
                "pnl_usdt": num(realized - fee, 2),
                "pnl": num(realized - fee, 2),  # the runbook's name
            }
        )
    return out


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
        "nav": num(nav, 2),
        "nav_24h_delta_abs": num(delta[0], 2) if delta else None,
        "nav_24h_delta_pct": num(delta[1], 4) if delta else None,
        "nav_24h_ref_ts": delta[2] if delta else None,
        "drawdown_pct": num(drawdown, 4),
        "trend": trend_of(delta[1] if delta else None),
        "reserve_btc": float(dec(reserve_btc) or 0),
        "positions": [runbook_position(g) for r in grouped[:TOP_POSITIONS] for g in legs(r)],
        "position_groups": [position_payload(r) for r in grouped[:TOP_POSITIONS]],
        "position_groups_total": len(grouped),
        "open_positions": len(rows),
        "recent_trades": closing_trades(trades),
        "screener": {
            "attempted": int(attempted) if attempted is not None else None,
            "emitted": int(emitted) if emitted is not None else None,
        },
        "kpis": {
            "max_dd_pct": num(dec(nav_doc.get("max_drawdown_pct")), 4),
            "max_daily_loss_pct": num(worst_daily, 4),
        },
        "limits": {
            "kill_dd_pct": num(dec(limits.get("KILL_DD_PCT")), 4),
            "kill_daily_loss_pct": num(dec(limits.get("KILL_DAILY_LOSS_PCT")), 4),
        },
        "notes": [clip(n, MAX_NOTE_CHARS) for n in notes[:MAX_NOTES]],
    }
