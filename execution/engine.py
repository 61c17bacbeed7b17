"""The trading loop: market events in, orders out, books kept, state published.

    event -> guards observe -> simulated venues see the price -> fills booked -> marks
          -> strategies (screener, arbitrage, ...) -> ctx.submit -> guards vet -> router -> venue
    end of each timestamp ("cycle") -> strategies, NAV, peak/drawdown, guards (breakers),
          NAV history, unknown orders looked up, state documents, restart snapshot

Everything it works with is given at construction (`execution/app.py` composes it): the
strategies and guards are lists it iterates, operator commands come through a
`CommandApplier`, alerts through `Alerting`, simulated venues through the `MarketSimulator`
port. Adding a strategy or a guard never changes this file.

No clock is read for trading decisions: time comes from the events. The wall clock paces only
document publication, control-log polling and the periodic account line. Idempotent on restart:
every journal record has an id derived from what it records, and records already journaled
(found on resume) are not written again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from time import perf_counter
from typing import Any

from execution import clock, logs, snapshot, state_documents
from execution.alerting import Alerting
from execution.bookings import Bookings
from execution.commands import CommandApplier
from execution.control import ControlState
from execution.control_log import ChainPosition
from execution.exchanges.base import Venue
from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, FundingSettled, MarkUpdate, Tick
from execution.filters import derive_filters
from execution.guard import Guard, ObserverTable
from execution.journal import Journal
from execution.ledger import Ledger
from execution.metrics_hooks import MetricsHooks, NullMetrics, slippage_bps
from execution.models import Fill, FundingPayment, Intent, PositionSide
from execution.nav_source import LedgerNav, NavSource
from execution.portfolio import Performance
from execution.reconcile import Difference, reconcile_venue
from execution.router import OrderRouter
from execution.settings import Settings
from execution.simulation import MarketSimulator
from execution.state.store import DocumentTap, StateSink
from execution.strategy import Strategy, SymbolKey

CONTROL_POLL_MS = 200
NAV_POINT_MIN_MS = 60_000
UNKNOWN_RECHECK_MS = 5_000  # how often an order whose outcome is unknown is looked up again


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run stands: events up to `market_ts` only warm the indicators."""

    market_ts: int = 0
    bars: int = 0
    fills: int = 0
    last_nav_point_ts: int = 0
    trade_seq: int = 0


class Engine:
    def __init__(
        self,
        settings: Settings,
        venues: Mapping[str, Venue],
        sink: StateSink,
        *,
        journal: Journal,
        alerting: Alerting,
        ledger: Ledger,
        perf: Performance,
        control_state: ControlState,
        router: OrderRouter,
        strategies: Sequence[Strategy],
        guards: Sequence[Guard] = (),
        simulators: Mapping[str, MarketSimulator] | None = None,
        commands: CommandApplier | None = None,
        nav_source: NavSource | None = None,
        resume: ResumePoint = ResumePoint(),
        wall_ms: Callable[[], int] = clock.wall_ms,
        publish_interval_ms: int = 1000,
        run_label: str = "",
        metrics: MetricsHooks | None = None,
        seal_key: bytes = b"",
    ):
        self.settings = settings
        self.venues = venues
        self.sink = sink
        self.journals = journal
        self.alerting = alerting
        self.ledger = ledger
        self.perf = perf
        self.control = control_state
        self.router = router
        self.strategies: Sequence[Strategy] = tuple(strategies)
        self.guards: Sequence[Guard] = tuple(guards)
        # only the guards that watch an event's type see it (most vet orders or act at cycle end;
        # a no-op call per guard per event is a measurable share of a replay)
        self._observers = ObserverTable(self.guards)
        self.simulators: Mapping[str, MarketSimulator] = simulators or {}
        self.commands = commands
        self.nav_source: NavSource = nav_source or LedgerNav()
        self.wall_ms = wall_ms
        self.publish_interval_ms = publish_interval_ms
        self.run_label = run_label
        self.metrics: MetricsHooks = metrics or NullMetrics()
        self._metered = not isinstance(self.metrics, NullMetrics)  # without metrics: not even the clock reads
        self._cycle_t0 = 0.0
        self.benchmark = settings.benchmark
        self.seal_key = seal_key  # seals the restart snapshot (execution/snapshot.py)
        self.log = logs.get()
        self.bookings = Bookings(self.ledger, self.perf, self.nav_source, self.log, self.journal, self._on_fill)
        self.warming_until_ts = resume.market_ts
        self.bars = resume.bars
        self.fills = resume.fills
        self.last_nav_point_ts = resume.last_nav_point_ts
        self.trade_seq = resume.trade_seq  # journal seq of the last fill booked (the positions reflect it)
        self.cycle_ts = 0
        self.started_wall_ms = wall_ms()
        self.stale: set[SymbolKey] = set()
        self.market: dict[SymbolKey, dict] = {}  # latest live book top / mark / funding per symbol
        self.reconciliation: list[dict] = []
        self._screened = frozenset().union(*(s.universe for s in self.strategies))
        self._last_control_poll = 0
        self._last_publish_wall = 0
        self._last_account_wall = 0
        self._last_unknown_check = 0

    # ------------------------------------------------------------------------------------------
    # event entry
    def on_event(self, ev: Event) -> None:
        if self.commands is not None:
            now = self.wall_ms()
            if now - self._last_control_poll >= CONTROL_POLL_MS:
                self._last_control_poll = now
                self.commands.poll(self)
        if ev.ts > self.cycle_ts:
            if self.cycle_ts:
                self.end_cycle()
            self.cycle_ts = ev.ts
            if self._metered:
                self._cycle_t0 = perf_counter()
        for guard in self._observers[type(ev)]:
            guard.observe(ev, self)
        if isinstance(ev, CandleClosed):
            self.on_candle(ev)
        elif isinstance(ev, FundingSettled):
            self.on_funding(ev)
        elif isinstance(ev, FeedIssue):
            self.on_issue(ev)
        elif isinstance(ev, BookUpdate):
            self.on_book(ev)
        elif isinstance(ev, MarkUpdate):
            self.on_mark_update(ev)
        elif isinstance(ev, Tick):
            for venue in self.venues.values():  # fills an account stream reported meanwhile
                if venue.is_exchange:
                    self._drain(venue)

    def run(self, events: Iterable[Event], should_stop: Callable[[], bool] = lambda: False) -> None:
        for ev in events:
            self.on_event(ev)
            if should_stop():
                break
        if self.cycle_ts:
            self.end_cycle()

    # ------------------------------------------------------------------------------------------
    # market data
    def on_candle(self, c: CandleClosed) -> None:
        trading = c.ts > self.warming_until_ts
        close = _dec(c.close)
        sim = self.simulators.get(c.venue)
        filled = c.venue in self.venues  # a real venue reports fills whenever it has them
        if sim is not None:
            if not sim.has_filters(c.symbol):
                self._add_derived_filters(sim, c)
            filled = trading and sim.works_on(c.symbol)
            if filled:
                sim.on_bar(c.symbol, c.open_time, _dec(c.open), _dec(c.high), _dec(c.low), close)
        if trading:
            self.bars += 1
            if filled:  # before the close is shown: protective orders placed on these fills are inside the bar
                self._drain(self.venues[c.venue])
        if sim is not None:
            sim.on_mark(c.symbol, c.ts, close)
        self.ledger.mark(c.venue, c.symbol, close)
        for strategy in self.strategies:
            strategy.on_candle(c, self, trading)

    def on_funding(self, f: FundingSettled) -> None:
        for strategy in self.strategies:
            strategy.on_funding(f, self)
        if f.ts <= self.warming_until_ts:
            return
        sim = self.simulators.get(f.venue)
        if sim is not None:
            sim.on_funding(f.symbol, f.ts, _dec(f.rate))
            self._drain(self.venues[f.venue])

    def on_book(self, b: BookUpdate) -> None:
        key = (b.venue, b.symbol)
        mid = _dec((b.bid + b.ask) / 2)
        sim = self.simulators.get(b.venue)
        if sim is not None:
            if sim.has_working_orders:
                sim.on_book(b.symbol, b.ts, _dec(b.bid), _dec(b.ask))
            sim.on_mark(b.symbol, b.ts, mid)
        venue = self.venues.get(b.venue)
        if venue is not None:
            self._drain(venue)
        self.ledger.mark(b.venue, b.symbol, mid)
        row = self.market.setdefault(key, {"venue": b.venue, "symbol": b.symbol})
        row.update(bid=b.bid, ask=b.ask, book_ts=b.ts, recv_ts=b.recv_ts or b.ts)
        trading = b.ts > self.warming_until_ts
        for strategy in self.strategies:
            strategy.on_book(b, self, trading)

    def on_mark_update(self, m: MarkUpdate) -> None:
        """Live mark price / funding information: shown in state."""
        row = self.market.setdefault((m.venue, m.symbol), {"venue": m.venue, "symbol": m.symbol})
        if m.mark is not None:
            row["mark"] = m.mark
        if m.funding_rate is not None:
            row["funding_rate"] = m.funding_rate
        if m.next_funding_ms:
            row["next_funding_time_ms"] = m.next_funding_ms
        row["mark_ts"] = m.ts

    def on_issue(self, i: FeedIssue) -> None:
        key = (i.venue, i.symbol)
        if i.kind == "stale":
            self.log.warning(
                "[feed] %s %s stale: %s (no new risk on it; exits still allowed)", i.venue, i.symbol, i.detail
            )
            self.stale.add(key)
            if self._screened and self._screened <= self.stale:
                self.trip("stale_data", "market data stale on every screened symbol", i.ts)
            return
        if i.kind == "recovered":
            self.log.info("[feed] %s %s recovered: %s", i.venue, i.symbol, i.detail)
            self.stale.discard(key)
            return
        if i.kind == "clock_skew":
            self.trip("clock_skew", f"{i.venue}: {i.detail}", i.ts)
            return
        if i.kind == "unit":
            self.log.warning("[feed] %s %s %s: %s", i.venue, i.symbol, i.kind, i.detail)
            return
        self.log.warning(
            "[feed] %s %s %s: %s%s", i.venue, i.symbol, i.kind, i.detail, " (indicators re-warm)" if i.reset else ""
        )
        for strategy in self.strategies:
            strategy.on_feed_issue(i, self)

    def _add_derived_filters(self, sim: MarketSimulator, c: CandleClosed) -> None:
        f = derive_filters(c.venue, c.symbol, c.close)
        sim.add_filters(f)
        self.log.warning(
            "[feed] %s %s no configured filters; derived tick=%s step=%s min_notional=%s",
            c.venue,
            c.symbol,
            f.tick_size,
            f.step_size,
            f.min_notional,
        )

    # ------------------------------------------------------------------------------------------
    # the context strategies and guards work through (StrategyContext / GuardContext)
    def submit(self, intent: Intent, purpose: str, owner: str, leverage: int | None = None) -> str | None:
        """Send one order for an intent; its client order id, or None if nothing was sent."""
        cid = self.router.submit(intent, purpose, owner, leverage, vet=self._vet if self.guards else None)
        if cid is not None:
            self._drain(self.venues[intent.venue])  # a live venue may have filled already
        return cid

    def _vet(self, intent: Intent) -> str | None:
        for guard in self.guards:
            reason = guard.vet(intent, self)
            if reason:
                return f"{guard.name}: {reason}"
        return None

    def working_on(self, venue: str, symbol: str) -> bool:
        return bool(self.router.in_flight) and self.router.working_on(venue, symbol)

    def held_by(self, owner: str, venue: str, symbol: str, side: PositionSide) -> Decimal:
        qty = self.ledger.position_qty(venue, symbol, side)
        for strategy in self.strategies:
            if strategy.name != owner:
                qty -= strategy.owned_qty(venue, symbol, side)
        return max(qty, Decimal(0))

    def is_stale(self, key: SymbolKey) -> bool:
        return key in self.stale

    @property
    def screened(self) -> frozenset[SymbolKey]:
        """Every symbol some strategy screens (all of them stale: the stale-data breaker)."""
        return self._screened

    def nav(self) -> Decimal:
        """The NAV the fund reports (the ledger's on paper, the venues' on testnet/live)."""
        return self.bookings.nav()

    def journal(self, collection: str, record: dict) -> None:
        self.journals.append(collection, record)

    def trip(self, breaker: str, detail: str, ts: int) -> None:
        self.alerting.trip(breaker, detail, ts)

    def alert(self, alert_id: str, ts: int, kind: str, text: str, **fields: Any) -> None:
        self.alerting.alert(alert_id, ts, kind, text, **fields)

    # ------------------------------------------------------------------------------------------
    # fills and funding
    def _drain(self, venue: Venue) -> None:
        fills = venue.drain_fills()
        while fills:  # booking a fill may produce another (a protective order that fires at once)
            for fill in fills:
                self._on_fill(fill)
            fills = venue.drain_fills()
        for payment in venue.drain_funding():
            self._on_funding_payment(payment)

    def _on_fill(self, fill: Fill, extra: Mapping[str, Any] | None = None) -> None:
        cid = fill.client_order_id
        flight = self.router.in_flight.get(cid)
        claimer, purpose, leverage, ref = None, "unknown", 1, None
        if flight is not None:
            purpose, leverage, ref = flight.purpose, int(flight.meta.get("leverage", 1)), flight.ref_price
        else:
            for strategy in self.strategies:
                claimed = strategy.claims(cid)
                if claimed:
                    claimer, purpose, leverage = strategy, claimed, strategy.leverage_for(fill.venue, fill.symbol)
                    ref = strategy.reference_price(cid)
                    break
        booked = self.ledger.apply_fill(fill, leverage=leverage)
        self.fills += 1
        record = booked.record()
        record["reason"] = purpose
        record["ref_price"] = ref  # the price the order was decided on: slippage = fill price against it
        record.update(extra or {})  # the venue's ids and commission for a fill recovered from its history
        self.journal("trades", record)
        self.trade_seq = record.get("seq", self.trade_seq)
        if self._metered:
            price = float(fill.price)
            slip = slippage_bps(fill.side.value, price, float(ref)) if ref is not None else None
            self.metrics.on_fill(fill.venue, fill.symbol, purpose, price * float(fill.qty), slip)
        self.log.info(
            "[executor] FILL %s %s %s positionSide=%s qty=%s price=%s fee=%s realized=%s cid=%s",
            fill.venue,
            fill.symbol,
            fill.side.value,
            fill.position_side.value,
            fill.qty,
            fill.price,
            booked.fee_usdt,
            booked.realized_pnl_usdt,
            cid,
        )
        if claimer is not None:
            claimer.on_fill(fill, booked, None, self)
            return
        if flight is not None:
            self.router.settle(cid)
            for strategy in self.strategies:
                if strategy.name == flight.owner:
                    strategy.on_fill(fill, booked, flight, self)
            return
        for strategy in self.strategies:  # nobody's order (found at reconciliation): every strategy sees it
            strategy.on_fill(fill, booked, None, self)

    def _on_funding_payment(self, p: FundingPayment) -> None:
        self.ledger.apply_funding_payment(p)
        self.journal("funding", p.record())
        self.log.info(
            "[executor] FUNDING %s %s positionSide=%s rate=%s amount_usdt=%s",
            p.venue,
            p.symbol,
            p.position_side.value,
            p.rate,
            p.amount_usdt,
        )

    # ------------------------------------------------------------------------------------------
    # operator actions (the CommandApplier's OperatorPort)
    def flatten_all(self, reason: str) -> None:
        """Close every position with the right position side; cancel resting entries."""
        self.router.cancel_entries(self.cycle_ts)
        for strategy in self.strategies:
            strategy.flatten(self.cycle_ts, reason, self)
        self.control.flatten_pending = bool(self.ledger.positions) or self.router.closing()

    def reconcile(self, ts: int) -> list[Difference]:
        """Compare books with every venue; journal and show differences; change nothing."""
        diffs: list[Difference] = []
        ours_open = set(self.router.in_flight)
        for name, venue in self.venues.items():
            self.router.resolve_unknown(name)
            in_flight = self.router.in_flight
            ours_here = {c for c in ours_open if c in in_flight and in_flight[c].request.venue == name}
            diffs.extend(reconcile_venue(venue, self.ledger.positions, ours_here))
        self.reconciliation = [d.record(ts) for d in diffs]
        for d, rec in zip(diffs, self.reconciliation, strict=True):
            self.log.warning("[state] RECONCILE %s %s %s: %s", d.kind, d.venue, d.symbol or "-", d.detail)
            self.journal("incidents", rec)
        self.log.info("[state] reconciliation done: %d difference(s) across %d venue(s)", len(diffs), len(self.venues))
        return diffs

    # ------------------------------------------------------------------------------------------
    # end of a market instant
    def end_cycle(self) -> None:
        ts = self.cycle_ts
        if ts <= self.warming_until_ts:
            return
        for strategy in self.strategies:
            strategy.on_cycle_end(ts, self, True)
        nav = self.nav_source.nav_float(self.ledger)  # a float: peak, drawdown, breakers; booked amounts stay Decimal
        self.perf.update(ts, nav)
        for guard in self.guards:
            guard.on_cycle_end(ts, self)
        if self.control.flatten_pending and not self.ledger.positions and not self.router.in_flight:
            self.control.flatten_pending = False
            self.log.info("[control] flatten complete: no open positions")
        if ts - self.last_nav_point_ts >= NAV_POINT_MIN_MS:
            mark = self.ledger.marks.get(self.benchmark)
            self.sink.nav_point(ts, nav, self.perf.drawdown_pct(nav), float(mark) if mark else None)
            self.last_nav_point_ts = ts
        now = self.wall_ms()
        if now - self._last_unknown_check >= UNKNOWN_RECHECK_MS and any(
            f.unknown for f in self.router.in_flight.values()
        ):
            self._last_unknown_check = now  # outcome unknown: ask again; nothing new on that symbol meanwhile
            for name in self.router.unknown_venues():
                self.router.resolve_unknown(name)
                self._drain(self.venues[name])  # a fill the lookup found is booked now
        if now - self._last_publish_wall >= self.publish_interval_ms:
            self.publish(now)
        if now - self._last_account_wall >= self.settings.account_log_interval_s * 1000:
            self.account_line()
            self._last_account_wall = now
        if self._metered:
            self.metrics.on_cycle(perf_counter() - self._cycle_t0, now / 1000.0)

    # ------------------------------------------------------------------------------------------
    # state out
    @property
    def control_position(self) -> ChainPosition | None:
        return self.commands.position if self.commands is not None else None

    def publish(self, now: int | None = None, force: bool = False) -> None:
        now = self.wall_ms() if now is None else now
        self._last_publish_wall = now
        sink: StateSink = DocumentTap(self.sink) if self._metered else self.sink
        nav_doc = state_documents.nav_doc(self, now)
        sink.put("nav", nav_doc)
        sink.put("positions", state_documents.positions_doc(self, now))
        sink.put("control", state_documents.control_doc(self, now))
        for strategy in self.strategies:
            strategy.publish(sink, now)
        sink.put_file(
            "peak_state",
            {
                "peak_nav": round(self.perf.peak_nav, 8),
                "peak_ts": self.perf.peak_ts,
                "nav": nav_doc["nav"],
                "drawdown_pct": nav_doc["drawdown_pct"],
                "max_drawdown_pct": nav_doc["max_drawdown_pct"],
                "day": self.perf.day,
                "day_start_nav": round(self.perf.day_start_nav, 8),
                "market_ts": self.cycle_ts,
                "updated_at_ms": now,
            },
        )
        sink.put_file("synced_state", snapshot.take(self, now, self.seal_key))
        sink.flush(force=force)
        if isinstance(sink, DocumentTap):  # the metrics say what the documents say (outbox: after this flush)
            from execution.metrics_state import update_from_state  # loaded only with metrics on

            update_from_state(self.metrics, sink.docs, now, self.sink.outbox())

    def account_line(self) -> None:
        s, led = self.settings, self.ledger
        self.log.info(
            "[executor] account OK — futures=True testnet=%s dry_run=%s balances: [USDT wallet=%.2f "
            "upnl=%.2f nav=%.2f] positions: %d",
            s.profile == "testnet",
            s.dry_run,  # DRY_RUN_MODE, as on the start line (paper is named by profile=paper there)
            led.wallet,
            led.unrealized(),
            self.nav(),
            len(led.positions),
        )

    def close(self) -> None:
        """Stop the strategies' own machinery (threads, sessions) and the alert channel."""
        for strategy in self.strategies:
            strategy.close()
        self.alerting.notifier.close()
