"""Composition root: settings -> venues, feed, state sink, engine. The only place that wires edges
to the core; `execution.executor` and `execution.replay` are thin entry points over it."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution import clock, control_log, logs, snapshot, venue_filters
from execution.assembly import build_engine, journaled_ids_after
from execution.control import hold
from execution.control_log import ChainPosition
from execution.deadman import DeadManSwitch
from execution.engine import Engine
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.exchanges.paper import PaperVenue
from execution.feeds.base import Feed
from execution.feeds.market_files import discover
from execution.feeds.plausibility import ScreenedFeed
from execution.feeds.replay import ReplayFeed
from execution.feeds.synthetic import GeneratedFeed
from execution.guard import Guard
from execution.metrics_hooks import MetricsHooks
from execution.notify import Notifier
from execution.settings import VENUES, ConfigError, Settings
from execution.settings.paths import is_directory
from execution.simulation import MarketSimulator
from execution.state.atomic import read_json
from execution.state.open import open_sink
from execution.state.store import StateSink
from execution.strategy import SymbolKey
from execution.venue_match import Reading
from execution.venue_reconciler import VenueReconciler
from execution.venue_truth import VenueTruth

EXIT_CONFIG = 2


class StateConflict(Exception):
    """STATE_DIR holds another run's state: refusing to mix two books."""


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    feed: Feed
    sink: StateSink
    venues: dict[str, Venue]
    resumed_from_ts: int
    deadman: DeadManSwitch | None = None
    account_streams: list[Any] = field(default_factory=list)  # private order streams of real exchange venues

    def close(self) -> None:
        """Shut down in an order that loses nothing: the private streams stop first, then the state
        sink flushes and closes, then the venues and the engine."""
        for stream in self.account_streams:
            stream.stop()
        self.sink.close()
        for venue in self.venues.values():
            venue.close()
        self.engine.close()


def paper_venues(s: Settings) -> dict[str, PaperVenue]:
    """One paper account per venue. The screener venue gets the fund's capital; the other
    venue gets the same amount so both legs of an arbitrage have margin."""
    out = {}
    for name in VENUES:
        vc = s.venues[name]
        filters = {sym: f for (v, sym), f in s.filters.items() if v == name}
        leverage = {sym: cfg.target_leverage for sym, cfg in s.symbols.items() if cfg.venue == name}
        tiers = {sym: t for (v, sym), t in s.margin_tiers.items() if v == name}
        out[name] = PaperVenue(
            name,
            s.initial_capital_usdt,
            filters,
            vc.fees,
            slippage_bps=vc.slippage_bps,
            half_spread_bps=vc.half_spread_bps,
            default_leverage=s.default_strategy.leverage,
            leverage=leverage,
            margin_tiers=tiers,
        )
    return out


def build_venues(s: Settings) -> tuple[dict[str, Venue], dict[str, MarketSimulator]]:
    """The venues of the profile, and which of them are simulated (driven by market data)."""
    if s.profile == "paper":
        paper = paper_venues(s)
        return dict(paper), dict(paper)
    from execution.exchanges.dry_run import RealBookDryRunVenue
    from execution.exchanges.factory import build_exchange_venues

    venues = build_exchange_venues(s)
    if s.dry_run:  # the real venues only answer reads; fills are simulated and journaled as such
        logs.get().warning("[executor] DRY_RUN_MODE=true: orders are simulated against the venues' books")
        dry: dict[str, Venue] = {
            n: RealBookDryRunVenue(v, s.initial_capital_usdt, s.venues[n].slippage_bps) for n, v in venues.items()
        }
        return dry, {}
    return venues, {}


def screener_universe(s: Settings, available: Iterable[SymbolKey]) -> list[SymbolKey]:
    """Configured symbols on the screener venue that the feed has; for a market directory with
    none of them, every symbol of its screener venue (or of the first venue it has)."""
    reference = {s.guards.depeg_reference} if s.guards.depeg_enabled else set()
    available = sorted(set(available) - reference)  # the peg's reference market is watched, never screened
    configured = [(s.symbol_config(sym).venue, sym) for sym in s.symbols]
    chosen = [k for k in configured if k in available]
    if chosen:
        return chosen
    on_venue = [k for k in available if k[0] == s.screener_venue]
    if on_venue:
        return on_venue
    first = available[0][0] if available else s.screener_venue
    return [k for k in available if k[0] == first]


def build_feed(s: Settings, start_ms: int | None = None) -> tuple[Feed, list[SymbolKey], str]:
    """The profile's feed behind the market-data screen (execution/feeds/plausibility.py)."""
    feed, available, label = _raw_feed(s, start_ms)
    return ScreenedFeed(feed), available, label


def _raw_feed(s: Settings, start_ms: int | None = None) -> tuple[Feed, list[SymbolKey], str]:
    if s.feed == "generated":
        generated = GeneratedFeed(seed=s.seed, start_ms=start_ms)
        market = generated.market
        available = market.symbols()
        return generated, available, f"generated:seed={s.seed}:start={market.t}"
    if s.feed == "replay":
        assert s.market_dir is not None
        if not is_directory(s.market_dir):
            raise ConfigError(".env", "MARKET_DIR", "an existing market directory", str(s.market_dir))
        series = discover(s.market_dir)
        if not any(x.kind == "15m" for x in series):
            raise ConfigError(
                ".env", "MARKET_DIR", "a market directory with <venue>/<SYMBOL>_15m.csv[.gz] files", str(s.market_dir)
            )
        replay = ReplayFeed(s.market_dir, series)
        return replay, replay.symbols("15m"), f"replay:{s.market_dir.resolve()}"
    from execution.feeds.live import LiveConfig, LiveFeed

    symbols = live_symbols(s)
    if s.guards.depeg_enabled:  # the peg's reference market (DEPEG_REFERENCE) streams beside the traded ones
        ref_venue, ref_symbol = s.guards.depeg_reference
        if ref_symbol not in symbols.setdefault(ref_venue, []):
            symbols[ref_venue].append(ref_symbol)
    backfill = max([s.default_strategy.warmup_bars] + [c.strategy.warmup_bars for c in s.symbols.values()]) + 20
    ct_vals = {sym: f.contract_value for (v, sym), f in s.filters.items() if v == "okx_perp"}
    cfg = LiveConfig.from_settings(s.live, s.access.endpoints, symbols, backfill, s.risk.max_clock_skew_ms, ct_vals)
    return LiveFeed(cfg), [(v, sym) for v, syms in symbols.items() for sym in syms], f"live:{s.profile}"


def live_symbols(s: Settings) -> dict[str, list[str]]:
    """Every (venue, symbol) the executor needs live: the screener's universe and both legs of
    every configured arbitrage pair."""
    out: dict[str, list[str]] = {}
    for sym, cfg in s.symbols.items():
        out.setdefault(cfg.venue, []).append(sym)
    from execution.arb.config import load as load_arb_config

    arb = load_arb_config(s.config_dir)
    if arb is not None and arb.enabled:
        for pair in arb.pairs.values():
            for venue, sym in pair.symbols.items():
                if sym not in out.setdefault(venue, []):
                    out[venue].append(sym)
    return out


def build_venue_truth(s: Settings, venues: Mapping[str, Venue]) -> VenueTruth | None:
    """The venue reconciler on exchange profiles (None on paper). Under DRY_RUN it reads the real
    venues behind the simulated ones and books nothing from them."""
    if s.profile == "paper":
        return None
    from execution.exchanges.dry_run import RealBookDryRunVenue

    real = {n: v.real if isinstance(v, RealBookDryRunVenue) else v for n, v in venues.items()}
    reconciler = VenueReconciler(real, live_symbols(s), booking=not s.dry_run)
    r = s.reconcile
    return VenueTruth(
        reconciler,
        interval_ms=int(r.interval_s * 1000),
        tolerance_usdt=r.drift_tolerance_usdt,
        tolerance_pct=r.drift_tolerance_pct,
        hold=r.drift_hold,
        simulated=s.dry_run,
    )


def open_runtime(
    s: Settings, sink: StateSink | None = None, notifier: Notifier | None = None, metrics: MetricsHooks | None = None
) -> Runtime:
    venues, simulators = build_venues(s)
    if s.profile != "paper":  # the venues' live filters win; a difference from the file is said once
        venue_filters.log_mismatches(venues, s.filters, live_symbols(s), logs.get())
    feed, available, run_label = build_feed(s)
    state_dir = s.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    snap = _read_snapshot(state_dir, run_label)
    if sink is None:
        # a replay re-creates its state from the data: fsync at close only (files stay whole anyway)
        sink = open_sink(state_dir, s.store, durable=s.feed != "replay")
    universe = screener_universe(s, available)
    log = logs.get()
    truth = build_venue_truth(s, venues)
    opening: Decimal | None = None
    opening_readings: dict[str, Reading] = {}
    if truth is not None and snap is None and truth.reconciler.booking:
        opening, opening_readings = truth.reconciler.opening_capital()  # before anything trades
        log.info(
            "[state] books opened from the venues' USDT wallets: %s USDT (%s); INITIAL_CAPITAL_USDT is for paper",
            opening,
            ", ".join(f"{n} {r.wallet}" for n, r in opening_readings.items()),
        )
    key, distrust, position = _verified_start(state_dir, snap)
    try:
        engine = build_engine(
            s,
            venues,
            sink,
            universe=universe,
            simulators=simulators,
            notifier=notifier,
            snap=snap,
            journaled_ids=journaled_ids_after(state_dir, snap.get("seq", 0)) if snap is not None else None,
            command_reader=control_log.CommandReader(state_dir, position),
            applied_command_ids=control_log.acknowledged_ids(state_dir),
            extra_guards=_audit_alerts(sink),
            seal_key=key,
            market_symbols=available,
            venue_truth=truth,
            opening_capital=opening,
            run_label=run_label,
            metrics=metrics,
        )
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        if snap is None:
            raise
        raise StateConflict(
            f"{state_dir / 'synced_state.json'} cannot be restored ({exc.__class__.__name__}: {exc}"
            f"{'; it does not verify either' if distrust else ''}); move it away to start fresh"
        ) from None
    if distrust:
        _hold_unverified(engine, distrust, snap or {}, position)
    resumed = 0
    if snap is not None:
        resumed = snap["market_ts"]
        log.info(
            "[state] resuming run %s from market_ts=%d (seq=%d); earlier events only warm indicators",
            run_label,
            resumed,
            snap.get("seq", 0),
        )
    now = clock.wall_ms()
    if s.profile == "live":
        hold(engine.control, "live profile always starts in HOLD; reconcile, then two-man resume", "startup", now)
        log.warning("[control] live profile: starting in HOLD")
    if truth is not None:  # venue truth first: what the venues booked while we were away, then the diff
        truth.seed(opening_readings, now)
        truth.start(engine, now, state_dir if snap is not None else None, int(snap.get("seq", 0)) if snap else 0)
    engine.reconcile(now)
    deadman = None
    if s.feed == "live" and any(v.is_exchange for v in venues.values()):
        deadman = DeadManSwitch(venues, live_symbols(s))
    streams = []
    if s.feed == "live" and not s.dry_run:
        from execution.feeds.account_stream import start_account_streams

        streams = start_account_streams(venues, s.access, s.profile)
        if truth is not None:  # a (re)connected private stream: fills may have been missed meanwhile
            for stream in streams:
                stream.on_connect = truth.reconciler.request_trade_check
    log.info(
        "[executor] profile=%s safe_mode=%s dry_run=%s feed=%s universe=%s",
        s.profile,
        s.safe_mode,
        s.dry_run,
        run_label,
        ",".join(f"{v}:{sym}" for v, sym in sorted(universe)),
    )
    return Runtime(s, engine, feed, sink, venues, resumed, deadman, streams)


def _audit_alerts(sink: StateSink) -> list[Guard]:
    """The Firestore audit's findings become alerts (when the sink mirrors to Firestore)."""
    from execution.audit_alerts import FirestoreAuditAlerts
    from execution.state.mirror import MirrorSink

    if isinstance(sink, MirrorSink) and sink.mirror.audit is not None:
        return [FirestoreAuditAlerts(sink.mirror.audit)]
    return []


def _verified_start(state_dir: Path, snap: dict | None) -> tuple[bytes, str | None, ChainPosition]:
    """(seal key, why the snapshot does not verify or None, where to read the control log from)."""
    key, key_problem = snapshot.load_key(state_dir)
    distrust = snapshot.verify(snap, key) if snap is not None else None
    if distrust and key_problem:
        distrust = f"{distrust} ({key_problem})"
    position = ChainPosition.from_doc(snap.get("control_log")) if snap is not None and not distrust else None
    if position is None:  # a fresh run, or a snapshot that does not verify: what is in the log is never applied
        position = ChainPosition.at_end(state_dir)
    return key, distrust, position


def _hold_unverified(engine: Engine, problem: str, snap: dict, position: ChainPosition) -> None:
    """A restart snapshot that does not verify: HOLD (never RUN), an incident and an alert."""
    now = clock.wall_ms()
    skipped = max(0, position.offset - int(snap.get("control_offset", 0) or 0))
    detail = f"{problem}; restarted in HOLD, control log read from byte {position.offset} ({skipped} bytes not applied)"
    logs.get().error("[state] SNAPSHOT NOT VERIFIED: %s", detail)
    engine.journal(
        "incidents", {"id": f"snapshot-unverified:{now}", "ts": now, "kind": "snapshot_unverified", "detail": detail}
    )
    engine.alerting.trip("snapshot", detail, now)


def _read_snapshot(state_dir: Path, run_label: str) -> dict | None:
    snap_path = state_dir / "synced_state.json"
    if not snap_path.exists():
        return None
    try:
        snap = read_json(snap_path)
    except (OSError, ValueError) as exc:
        raise StateConflict(f"{snap_path} is unreadable ({exc}); move it away to start fresh") from None
    if not isinstance(snap, dict):
        raise StateConflict(
            f"{snap_path} is not a snapshot (a JSON {type(snap).__name__}); move it away to start fresh"
        )
    if snap.get("run") != run_label:
        raise StateConflict(
            f"{state_dir} holds the state of another run ({snap.get('run')!r}, this one is {run_label!r}); "
            "use another STATE_DIR (or --state-dir), or move the old one away"
        )
    return snap


def fail_config(exc: Exception) -> int:
    print(str(exc), file=sys.stderr)
    return EXIT_CONFIG


def open_runtime_or_exit_code(
    s: Settings, notifier: Notifier | None = None, metrics: MetricsHooks | None = None
) -> Runtime | int:
    """The runtime, or the exit code (2) after one line on stderr saying what is wrong."""
    try:
        return open_runtime(s, notifier=notifier, metrics=metrics)
    except ConfigError as exc:
        return fail_config(exc)
    except StateConflict as exc:
        print(f"state error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except VenueError as exc:  # an exchange profile must read its venues before it may trade
        print(f"venue error: {exc.venue} code={exc.code}: {exc.message} (nothing traded)", file=sys.stderr)
        return EXIT_CONFIG
