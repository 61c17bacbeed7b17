"""How an engine is assembled from settings, venues, a state sink and (on resume) a snapshot.

Every component is built here, already restored from the snapshot, and handed to the engine's
constructor: the engine is never patched after construction. The order of `strategies` is the
order they see each event (the arbitrage loop first, then the protection of the screener's
positions, then the screener: the screener's SL/TP closes only what the arbitrage book does not
own, and the stop validator runs once before the screener can open anything).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution import clock, snapshot
from execution.alerting import Alerting
from execution.breakers import AccountBreakers
from execution.commands import CommandApplier
from execution.control import ControlState
from execution.control_log import CommandReader
from execution.engine import Engine, ResumePoint
from execution.exchanges.base import Venue
from execution.guard import Guard, hedge_leg_vetoes
from execution.guards.daily_stop import DailyStop
from execution.guards.denylist import DenylistGuard
from execution.guards.depeg import DepegGuard
from execution.guards.funding import FundingGuard
from execution.guards.min_notional import MinNotionalGuard
from execution.guards.warmup import WarmupGuard
from execution.journal import Journal
from execution.ledger import Ledger
from execution.metrics_hooks import MetricsHooks, NullMetrics
from execution.notify import Notifier, NullNotifier
from execution.portfolio import Performance
from execution.protection import Protection
from execution.router import OrderRouter
from execution.screener_strategy import ScreenerStrategy
from execution.settings import Settings
from execution.simulation import MarketSimulator
from execution.state.atomic import read_lines
from execution.state.layout import COLLECTION_FILES
from execution.state.store import StateSink
from execution.strategy import CommandHandler, Strategy, SymbolKey
from execution.trades import InFlight
from execution.triggers import WorkingType
from execution.venue_truth import VenueTruth


def build_engine(
    s: Settings,
    venues: Mapping[str, Venue],
    sink: StateSink,
    *,
    universe: Iterable[SymbolKey],
    simulators: Mapping[str, MarketSimulator] | None = None,
    notifier: Notifier | None = None,
    snap: dict[str, Any] | None = None,
    journaled_ids: Mapping[str, int] | None = None,
    command_reader: CommandReader | None = None,
    applied_command_ids: Iterable[str] = (),
    seal_key: bytes = b"",
    with_arbitrage: bool = True,
    extra_strategies: Iterable[Strategy] = (),
    extra_guards: Iterable[Guard] = (),
    market_symbols: Iterable[SymbolKey] | None = None,
    venue_truth: VenueTruth | None = None,
    opening_capital: Decimal | None = None,
    wall_ms: Callable[[], int] = clock.wall_ms,
    publish_interval_ms: int = 1000,
    run_label: str = "",
    metrics: MetricsHooks | None = None,
    trade_from_ms: int = 0,
) -> Engine:
    """`metrics`: the executor's Prometheus hooks (execution.metrics.start), NullMetrics when off.
    `trade_from_ms`: events before it only warm the indicators (a research backtest's window
    starts there, its warm-up before it); a resumed run trades from its snapshot instead.
    `venue_truth` (testnet/live): the venue reconciler, a guard and the NAV source;
    `opening_capital`: what a first start on an exchange profile opens the books with (the
    venues' USDT wallets) instead of INITIAL_CAPITAL_USDT."""
    metrics = metrics or NullMetrics()
    snap = snapshot.upgrade(snap) if snap else {}
    journal = Journal(sink, int(snap.get("seq", 0)), journaled_ids)
    capital = opening_capital if opening_capital is not None else s.initial_capital_usdt
    ledger = Ledger.restore(snap["ledger"]) if snap else Ledger(capital)
    perf = Performance(capital, s.risk.day_boundary_tz)
    if snap:
        perf.restore(snap["perf"])
    control = ControlState.from_doc(snap["control"]) if snap else ControlState()
    alerting = Alerting(journal, notifier or NullNotifier(), control, s.hedge_env)
    counters = snap.get("counters", {})
    router = OrderRouter(
        venues,
        control,
        alerting.trip,
        max_orders_per_min=s.risk.max_orders_per_min,
        max_cancels_per_min=s.risk.max_cancels_per_min,
        in_flight={f["cid"]: InFlight.from_doc(f) for f in snap.get("in_flight", [])},
        orders_sent=counters.get("orders_sent", 0),
        orders_rejected=counters.get("orders_rejected", 0),
        remainder_retries=s.execution.remainder_retries,
        cutback_max=s.execution.cutback_max,
        alert=alerting.alert,
        metrics=metrics,
    )
    guards = build_guards(
        s,
        market_symbols=market_symbols,
        resumed_at=int(snap.get("market_ts", 0)),
        live_start_ms=wall_ms() if s.feed == "live" else None,
    )
    guards.extend(extra_guards)
    if venue_truth is not None:
        guards.append(venue_truth)
    strategies: list[Strategy] = []
    arbitrage = build_arbitrage(s, venues, journal, control, alerting, metrics, guards) if with_arbitrage else None
    if arbitrage is not None:
        strategies.append(arbitrage)
    protection = Protection(
        venues,
        enabled=s.execution.protective_orders,
        working=WorkingType(s.execution.trigger_price),
        interval_s=s.execution.stop_validator_interval_s,
        wall_ms=wall_ms,
        metrics=metrics,
    )
    screener = ScreenerStrategy(s, universe, protection=protection)
    protection.protect(screener)
    strategies.extend([protection, screener])  # the protection first: its start-up check precedes any entry
    strategies.extend(extra_strategies)
    for strategy in strategies:
        strategy.restore(snap.get("strategies", {}).get(strategy.name, {}))
    for guard in guards:
        guard.restore(snap.get("guards", {}).get(guard.name, {}))
    simulators = simulators or {}
    for name, state in snap.get("paper_venues", {}).items():
        if name in simulators:
            simulators[name].restore(state)
    commands = None
    if command_reader is not None:
        handlers: dict[str, CommandHandler] = {}
        for strategy in strategies:
            handlers.update(strategy.commands())
        for guard in guards:
            handlers.update(guard.commands())
        commands = CommandApplier(command_reader, lambda: s.secret("APPROVE_TOKEN"), handlers, applied_command_ids)
    resume = ResumePoint(market_ts=trade_from_ms - 1) if trade_from_ms > 0 else ResumePoint()
    if snap:
        resume = ResumePoint(
            market_ts=snap["market_ts"],
            bars=counters.get("bars", 0),
            fills=counters.get("fills", 0),
            last_nav_point_ts=snap.get("last_nav_point_ts", 0),
            trade_seq=counters.get("trade_seq", 0),
        )
    return Engine(
        s,
        venues,
        sink,
        journal=journal,
        alerting=alerting,
        ledger=ledger,
        perf=perf,
        control_state=control,
        router=router,
        strategies=strategies,
        guards=guards,
        simulators=simulators,
        commands=commands,
        nav_source=venue_truth,
        resume=resume,
        wall_ms=wall_ms,
        publish_interval_ms=publish_interval_ms,
        run_label=run_label,
        metrics=metrics,
        seal_key=seal_key,
    )


def build_guards(
    s: Settings,
    *,
    market_symbols: Iterable[SymbolKey] | None = None,
    resumed_at: int = 0,
    live_start_ms: int | None = None,
) -> list[Guard]:
    """The account breakers, then the runbook's guards as config/risk_limits.json enables them.
    `market_symbols`: what the feed carries (None: unknown), so the depeg guard knows whether its
    reference market will come; `resumed_at`: the snapshot's market time (events up to it only
    warm the indicators: the guards restored from the snapshot already saw them);
    `live_start_ms`: a live feed's start on the wall clock (the warm-up's anchor; recorded and
    generated markets warm up over their first WARMUP_SEC)."""
    g = s.guards
    guards: list[Guard] = [AccountBreakers(), DailyStop(s.risk.kill_daily_loss_pct, s.risk.day_boundary_tz)]
    if g.depeg_enabled:
        available = None if market_symbols is None else g.depeg_reference in set(market_symbols)
        guards.append(DepegGuard(g, available, after_ts=resumed_at))
    if g.funding_enabled:
        guards.append(FundingGuard(g, owner=ScreenerStrategy.name, after_ts=resumed_at))
    guards.append(WarmupGuard(g.warmup_sec, anchor_ms=live_start_ms))
    guards.append(DenylistGuard(g.denylist_path, g.denylist))
    if g.min_notional_block_usd > 0:
        guards.append(MinNotionalGuard(g.min_notional_block_usd))
    return guards


def guard_hold(guards: Iterable[Guard]) -> str:
    """Why every new risk is held by a guard right now ("" when none does)."""
    return "; ".join(reason for g in guards if (reason := g.holds_new_risk()))


def build_arbitrage(
    s: Settings,
    venues: Mapping[str, Venue],
    journal: Journal,
    control: ControlState,
    alerting: Alerting,
    metrics: MetricsHooks | None = None,
    guards: Iterable[Guard] = (),
) -> Strategy | None:
    """The arbitrage loop when config/arbitrage.json exists and is enabled. It sends no order
    (dry run, simulated fills journaled) under DRY_RUN_MODE, or under SAFE_MODE when a venue is
    a real exchange. It sends its legs itself, so the guards that hold every new risk (depeg,
    daily stop, warm-up) reach it through `holding`, beside HOLD, and the per-symbol ones
    (denylist, minimum notional) vet each entry's legs through `vet_legs`."""
    held_by_guards = list(guards)
    from execution.arb.config import load as load_arb_config
    from execution.arb.loop import ArbitrageLoop
    from execution.arb.strategy import ArbitrageStrategy

    cfg = load_arb_config(s.config_dir)
    if cfg is None or not cfg.enabled:
        return None
    dry_run = s.dry_run or (s.safe_mode and any(venues[v].is_exchange for v in cfg.venues))
    loop = ArbitrageLoop(
        cfg,
        dict(venues),
        journal=journal.append,
        dry_run=dry_run,
        half_spread_bps={name: vc.half_spread_bps for name, vc in s.venues.items()},
        holding=lambda: control.reason if control.holding else guard_hold(held_by_guards),
        trip=alerting.trip,
        max_orders_per_min=s.risk.max_orders_per_min,
        order_metrics=metrics,
        vet_legs=lambda legs: hedge_leg_vetoes(held_by_guards, legs),
    )
    return ArbitrageStrategy(loop)


def journaled_ids_after(state_dir: Path, seq: int) -> dict[str, int]:
    """Ids (and seq numbers) of journal records written after a snapshot: a resumed run must not
    write them again, and must number the records after them as the first run did."""
    out: dict[str, int] = {}
    for name in COLLECTION_FILES.values():
        for rec in read_lines(state_dir / name):
            if rec.get("seq", 0) > seq and "id" in rec:
                out[rec["id"]] = int(rec["seq"])
    return out
