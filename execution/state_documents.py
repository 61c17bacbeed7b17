"""The current-value documents the executor publishes (nav, positions, control), built from the
engine's books. Pure: the engine hands itself in as an `EngineView` and the sink writes them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from execution import health
from execution.control import ControlState
from execution.guard import Guard
from execution.journal import Journal
from execution.ledger import Ledger, position_record
from execution.nav_source import NavSource
from execution.portfolio import Performance
from execution.router import OrderRouter
from execution.settings import Settings
from execution.strategy import PositionKey, Strategy, SymbolKey


class EngineView(Protocol):
    settings: Settings
    ledger: Ledger
    perf: Performance
    control: ControlState
    router: OrderRouter
    strategies: Sequence[Strategy]
    guards: Sequence[Guard]
    market: dict[SymbolKey, dict]
    stale: set[SymbolKey]
    reconciliation: list[dict]
    cycle_ts: int
    bars: int
    fills: int
    trade_seq: int
    journals: Journal
    started_wall_ms: int
    run_label: str
    nav_source: NavSource

    @property
    def screened(self) -> frozenset[SymbolKey]: ...


def nav_doc(e: EngineView, now: int) -> dict:
    led, perf = e.ledger, e.perf
    nav = e.nav_source.nav(led)
    d_abs, d_pct, ref = perf.change_24h()
    return {
        "env": e.settings.hedge_env,
        "profile": e.settings.profile,
        "safe_mode": e.settings.safe_mode,
        "dry_run": e.settings.dry_run,
        "mode": e.control.mode,
        "nav": nav,
        "wallet_balance": led.wallet,
        "unrealized_pnl": led.unrealized(),
        "initial_capital": led.initial_wallet,
        "realized_pnl_total": led.realized_total,
        "fees_total": led.fees_total,
        "funding_total": led.funding_total,
        "peak_nav": round(perf.peak_nav, 8),
        "drawdown_pct": round(perf.drawdown_pct(nav), 6),
        "breaker_reference": {  # what the drawdown breaker measures from (re-based on an approved resume)
            "drawdown_nav": round(perf.dd_ref_nav, 8),
            "rebased": perf.rebased,
        },
        "max_drawdown_pct": round(perf.max_dd_pct, 6),
        "day": perf.day,
        "day_start_nav": round(perf.day_start_nav, 8),
        "daily_pnl_pct": round((float(nav) - perf.day_start_nav) / perf.day_start_nav * 100, 6)
        if perf.day_start_nav
        else 0.0,
        "nav_24h_ago": round(ref, 8),
        "change_24h_abs": round(d_abs, 8),
        "change_24h_pct": round(d_pct, 6),
        "reserve_btc": e.settings.reserve_btc,
        "reserve_included_in_nav": False,
        "open_positions": len(led.positions),
        "bars": e.bars,
        "fills": e.fills,  # the trade log's length: readers re-read it only when this grows
        "journal_seq": e.journals.seq,  # the last seq of any journal: nothing was journaled while it stays
        "orders_sent": e.router.orders_sent,
        "orders_rejected": e.router.orders_rejected,
        "market_ts": e.cycle_ts,
        "updated_at_ms": now,
        "started_at_ms": e.started_wall_ms,
        "run": e.run_label,
        **e.nav_source.fields(led),
    }


def positions_doc(e: EngineView, now: int) -> dict:
    led = e.ledger
    per_venue: dict[str, dict] = {}
    for v in sorted({p.venue for p in led.positions.values()}):
        per_venue[v] = {"gross_notional": led.gross_notional(v), "net_notional": led.net_notional(v)}
    notes: dict[PositionKey, dict] = {}
    for strategy in e.strategies:
        notes.update(strategy.position_notes())
    rows = []
    for p in sorted(led.positions.values(), key=lambda p: (p.symbol, p.position_side.value, p.venue)):
        row = position_record(p)
        note = notes.get((p.venue, p.symbol, p.position_side))
        if note:
            row.update(note)
        rows.append(row)
    return {
        "positions": rows,
        "gross_notional": led.gross_notional(),
        "net_notional": led.net_notional(),
        "per_venue": per_venue,
        "market": [dict(v, age_ms=now - v.get("recv_ts", v.get("mark_ts", now))) for _, v in sorted(e.market.items())],
        # the trade log's seq of the last fill these positions include: a reader shows the trades up
        # to it, so positions and trades never disagree (the log is written first, this document later)
        "trade_seq": e.trade_seq,
        "market_ts": e.cycle_ts,
        "updated_at_ms": now,
    }


def resume_blocker(settings: Settings) -> str:
    """Why a HOLD cannot be cleared on this executor ("" when the two-man resume can work)."""
    if not settings.secret("APPROVE_TOKEN"):
        return (
            "APPROVE_TOKEN is not configured on the executor: resume-confirm is refused, so a HOLD "
            "(operator or breaker) cannot be cleared; set APPROVE_TOKEN in the executor's environment and restart it"
        )
    return ""


def control_doc(e: EngineView, now: int) -> dict:
    doc = e.control.to_doc()
    doc.update(
        safe_mode=e.settings.safe_mode,
        dry_run=e.settings.dry_run,
        profile=e.settings.profile,
        limits={
            "KILL_DD_PCT": e.settings.risk.kill_dd_pct,
            "KILL_DAILY_LOSS_PCT": e.settings.risk.kill_daily_loss_pct,
            "MAX_POSITIONS": e.settings.risk.max_positions,
            "MAX_LEVERAGE": e.settings.risk.max_leverage,
            "MAX_ORDERS_PER_MIN": e.settings.risk.max_orders_per_min,
            "MAX_CANCELS_PER_MIN": e.settings.risk.max_cancels_per_min,
        },
        counters={
            "orders_last_min": e.router.order_rate.count(e.cycle_ts),
            "cancels_last_min": e.router.cancel_rate.count(e.cycle_ts),
            "orders_sent": e.router.orders_sent,
            "orders_rejected": e.router.orders_rejected,
        },
        resume_blocked=resume_blocker(e.settings),
        stale_symbols=sorted(f"{v}:{s}" for v, s in e.stale),
        screened_symbols=sorted(f"{v}:{s}" for v, s in e.screened),
        reconciliation=e.reconciliation[-50:],
        guards=[dict(status, name=g.name) for g in e.guards if (status := g.status())],
        strategies=[dict(status, name=s.name) for s in e.strategies if (status := s.status())],
        repairs_pending=[
            f"order {cid} on {f.request.venue} {f.request.symbol}: outcome unknown, being looked up"
            for cid, f in sorted(e.router.in_flight.items())
            if f.unknown
        ],
        market_ts=e.cycle_ts,
        updated_at_ms=now,
    )
    doc.update(health.assess(doc).to_doc())
    return doc
