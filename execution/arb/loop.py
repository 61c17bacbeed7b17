"""The arbitrage loop: the component the engine drives with market events.

Hook API (all times are event times, epoch ms; nothing here reads a clock for decisions):

    on_candle(c, trade)   a closed candle of a pair symbol: book synthesized from the close
                          with the venue's configured half spread (replay of 15m data)
    on_book(b, trade)     a book top: the scanner runs on every update (automatic mode)
    on_funding(f)         a funding settlement: the rate predicts the next window
    on_cycle_end(ts)      end of a market instant: leg timeouts, rescue retries, venue health,
                          breakers (delta, rescues per minute, fill mismatch)
    publish(sink, now)    the `arbitrage` state document
    owned_qty(...)        what the arbitrage book holds on a (venue, symbol, position side), so
                          other strategies sharing the hedge-mode position never close it
    purpose(cid)          arb_entry | arb_exit | arb_rescue, for the trade journal

`vet_legs`: the per-symbol guards on an entry's legs (execution/arb/leg_guards.py), beside
`holding` (the guards that hold every new risk). `trade=False` (the engine warming up after a
restart) keeps books and basis current but neither starts nor steps attempts. The loop decides
(scanner, preflight, exit rules, breakers); starting an attempt and settling it after every step
is `AttemptLifecycle`'s (execution/arb/lifecycle.py). Incidents go to the `incidents` journal
through `journal`, breakers trip HOLD through `trip`. Log lines are tagged `[arb]`.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from execution import logs
from execution.arb import preflight as pf
from execution.arb.attempt import Attempt, LegOrder
from execution.arb.basis import RollingBasis
from execution.arb.book import OpenPair
from execution.arb.config import ArbConfig
from execution.arb.deferred_log import DeferredLog
from execution.arb.dry_run import ArbDryRunVenue
from execution.arb.edge import (
    BPS_PER_UNIT,
    Edge,
)
from execution.arb.exits import exit_reason, next_funding_bps
from execution.arb.holdings import ArbBook
from execution.arb.leg_guards import LegGuards, LegVet
from execution.arb.leg_sender import LegSender
from execution.arb.lifecycle import AttemptLifecycle
from execution.arb.market_books import PairState, float_to_decimal
from execution.arb.metrics import ArbMetrics
from execution.arb.order_lines import answer_lines, send_line
from execution.arb.outcomes import (
    breaker_trips,
    order_metrics,
)
from execution.arb.plan import entry_plan
from execution.arb.reference import VenueReference
from execution.arb.scanner import EdgeScanner
from execution.arb.state_doc import arbitrage_doc, attempt_restore, attempt_snapshot
from execution.arb.two_leg import TwoLegRunner
from execution.control import ControlState
from execution.control import trip as control_trip
from execution.exchanges.base import Venue
from execution.feeds.events import BookUpdate, CandleClosed, FundingSettled
from execution.metrics_hooks import MetricsHooks, NullMetrics
from execution.models import BookTop, FeeSchedule, PositionSide, Side, SymbolFilters

ZERO = Decimal(0)
TWO = Decimal(2)
RECENT_KEPT = 20
QUICK_MARGIN_BPS = 0.5  # the float pre-screen sends anything this close to min_edge_bps to the exact maths


class ArbitrageLoop:
    def __init__(
        self,
        cfg: ArbConfig,
        venues: dict[str, Venue],
        *,
        journal: Callable[[str, dict], None],
        half_spread_bps: dict[str, Decimal] | None = None,
        dry_run: bool = False,
        holding: Callable[[], str] | None = None,
        trip: Callable[[str, str, int], None] | None = None,
        max_orders_per_min: int = 60,
        sender: LegSender | None = None,
        perf_ns: Callable[[], int] = time.perf_counter_ns,
        order_metrics: MetricsHooks | None = None,
        vet_legs: LegVet | None = None,
    ):
        self.cfg = cfg
        self.venues = venues
        self.journal = journal
        self.half_spread = {v: (half_spread_bps or {}).get(v, Decimal("0.5")) / BPS_PER_UNIT for v in cfg.venues}
        self._half_f = {v: float(h) for v, h in self.half_spread.items()}
        self.dry_run = dry_run
        self.control = ControlState()
        self._holding = holding or (lambda: self.control.reason if self.control.holding else "")
        self._trip = trip or (lambda name, detail, ts: control_trip(self.control, name, detail, ts))
        self.perf_ns = perf_ns
        self.order_metrics: MetricsHooks = order_metrics or NullMetrics()  # the executor's Prometheus hooks
        self.log = logs.get()
        self.leg_guards = LegGuards(vet_legs, self.log)  # the per-symbol guards on an entry's legs
        self.later = DeferredLog(self.log)  # written after the hot path, never before a send
        self.order_venues: dict[str, Venue] = dict(venues)
        if dry_run:
            self.order_venues = {
                name: ArbDryRunVenue(v, self._quote, cfg.expected_slippage_bps.get(name, ZERO), lambda: self.now)
                for name, v in venues.items()
            }
        self.sender = sender or LegSender(
            concurrent=cfg.leg_mode == "concurrent", timeout_s=cfg.leg_timeout_ms / 1000, perf_ns=perf_ns
        )
        self.runner = TwoLegRunner(
            self.order_venues,
            self.sender,
            leg_timeout_ms=cfg.leg_timeout_ms,
            not_found_limit=cfg.not_found_limit,
            partial_fill_policy=cfg.partial_fill_policy,
            filters=self.filters,
            sequential=cfg.leg_mode == "sequential",
            on_order=self._on_order,
            maker_timeout_ms=cfg.maker_timeout_ms,
        )
        self.pairs: dict[str, PairState] = {}
        self._by_symbol: dict[tuple[str, str], PairState] = {}
        a, b = cfg.venues
        for name, pc in cfg.pairs.items():
            ps = PairState(pc, a, b, RollingBasis(cfg.basis_window))
            self.pairs[name] = ps
            for v in (a, b):
                self._by_symbol[(v, pc.symbols[v])] = ps
        self.book = ArbBook()
        self.open_pairs = self.book.open_pairs  # the same dicts, updated in place
        self.attempts = self.book.attempts
        self.recent: deque[dict] = deque(maxlen=RECENT_KEPT)
        self.funding: dict[tuple[str, str], tuple[Decimal, int]] = {}  # rate, next settlement ms
        self.ref = VenueReference(cfg, venues)
        self.scanner = EdgeScanner(cfg, self.ref, self.funding)
        self.health = self.ref.health
        self.accounts = self.ref.accounts
        self.max_orders_per_min = max_orders_per_min
        self.metrics = ArbMetrics(cfg.mismatch_window)
        self.now = 0
        self.lifecycle = AttemptLifecycle(
            cfg,
            self.book,
            self.runner,
            self.metrics,
            fees=self.ref.fees,
            marks=lambda: self.marks,
            clock=lambda: self.now,
            perf_ns=perf_ns,
            journal=journal,
            trip=self._trip,
            recent=self.recent,
            later=self.later,
            log=self.log,
            dry_run_venues=self.order_venues if dry_run else None,
        )
        self._metrics_logged: tuple[int, int, int] = (0, 0, 0)
        self.min_edge_f = float(cfg.min_edge_bps)
        self._below_min_tail = f" bps < min_edge_bps {cfg.min_edge_bps}"  # the Decimal formatted once, not per book

    # ------------------------------------------------------------------------------------------
    # reference data (cached: a live venue answers these over HTTP)
    def filters(self, venue: str, symbol: str) -> SymbolFilters:
        return self.ref.filters(venue, symbol)

    def fees(self, venue: str, symbol: str) -> FeeSchedule:
        return self.ref.fees(venue, symbol)

    def _quote(self, venue: str, symbol: str, side: Side) -> Decimal | None:
        ps = self._by_symbol.get((venue, symbol))
        book = ps.books.get(venue) if ps else None
        if book is None:
            return None
        return book.ask if side is Side.BUY else book.bid

    # ------------------------------------------------------------------------------------------
    # hooks
    def on_candle(self, c: CandleClosed, trade: bool = True) -> None:
        ps = self._by_symbol.get((c.venue, c.symbol))
        if ps is None:
            return
        t0 = self.perf_ns()
        hs = self.half_spread.get(c.venue, ZERO)
        f = self.ref.filters_cache.get((c.venue, c.symbol)) or self.ref.filters_or_none(c.venue, c.symbol)
        ps.books.set_candle(
            c.venue, c.symbol, c.ts, c.close, self._half_f[c.venue], hs, f.tick_size if f is not None else None
        )
        self._on_book(ps, c.venue, c.ts, trade, t0)

    def on_book(self, b: BookUpdate, trade: bool = True) -> None:
        ps = self._by_symbol.get((b.venue, b.symbol))
        if ps is None:
            return
        t0 = self.perf_ns()
        ps.books.set_book(b.venue, None, b.ts, b.bid, b.ask, b.symbol, (b.bid_qty, b.ask_qty))
        self._on_book(ps, b.venue, b.ts, trade, t0)

    def on_book_top(self, book: BookTop, trade: bool = True, t0_ns: int | None = None) -> None:
        """A book already in the unified model (live adapters, the latency bench)."""
        ps = self._by_symbol.get((book.venue, book.symbol))
        if ps is not None:
            t0 = self.perf_ns() if t0_ns is None else t0_ns
            ps.books.set_book(book.venue, book, book.ts, float(book.bid), float(book.ask), book.symbol)
            self._on_book(ps, book.venue, book.ts, trade, t0)

    def on_funding(self, f: FundingSettled) -> None:
        if (f.venue, f.symbol) not in self._by_symbol:
            return
        interval = int(self.cfg.funding.interval_hours * 3_600_000)
        self.funding[(f.venue, f.symbol)] = (float_to_decimal(f.rate), f.ts + interval)

    def on_cycle_end(self, ts: int, trade: bool = True) -> None:
        self.now = max(self.now, ts)
        if not trade:
            return
        for a in list(self.attempts.values()):
            self.runner.step(a, self.now, cycle_end=True)
            self.lifecycle.after_step(a)
        if self.open_pairs or self.attempts:
            self._health_if_stale(self.now)
        self._check_breakers(self.now)
        for ps in self.pairs.values():
            if ps.flatten_requested:
                self._flatten_pair(ps, self.now, "flatten")
        self.later.flush()

    # ------------------------------------------------------------------------------------------
    @property
    def marks(self) -> dict[tuple[str, str], Decimal]:
        """Mid of the latest book per (venue, symbol): the mark the delta and the caps use."""
        out = {}
        for ps in self.pairs.values():
            for venue in ps.books.venues():
                book = ps.books[venue]
                out[(venue, book.symbol)] = book.mid
        return out

    def _on_book(self, ps: PairState, venue: str, ts: int, trade: bool, t0: int) -> None:
        try:
            self._on_book_inner(ps, venue, ts, trade, t0)
        finally:
            self.later.flush()

    def _on_book_inner(self, ps: PairState, venue: str, ts: int, trade: bool, t0: int) -> None:
        if ts > self.now:
            self.now = ts
        now = self.now
        if trade and self.attempts:
            for a in [a for a in self.attempts.values() if a.pair.pair == ps.cfg.pair]:
                self.runner.step(a, now)
                self.lifecycle.after_step(a)
        other = ps.venue_b if venue == ps.venue_a else ps.venue_a
        other_book = ps.books.raw.get(other)  # (ts, bid, ask, symbol, spec): one lookup for "present and fresh"
        if other_book is None or abs(ts - other_book[0]) > self.cfg.max_latency_ms:
            return
        quick = self.scanner.quick(ps, now)
        edges = None
        exposure = None
        if quick is not None and quick >= self.min_edge_f - QUICK_MARGIN_BPS:
            exposure = self.exposure()
            edges = self.evaluate(ps, now, exposure=exposure, only_best=True)  # exact, only when it could matter
        elif quick is not None:
            ps.edges, ps.evaluated_ts = None, now
            ps.reasons = [f"edge_below_min: net {quick:.2f}{self._below_min_tail}"]
        ps.basis.update(EdgeScanner.basis_ab(ps), now // self.cfg.basis_sample_ms)
        if not trade:
            return
        if self.open_pairs:
            self._check_exits(ps, now, t0)
        if edges is not None and self.cfg.enabled and self.cfg.auto and not self._busy(ps):
            best = edges[0]
            if best.net_edge_bps >= self.cfg.min_edge_bps:
                self.try_entry(ps, best, now, t0, exposure=exposure)

    def exposure(self) -> pf.Exposure:
        if not self.open_pairs:
            return pf.Exposure()
        return pf.exposure_of(self.open_pairs.values(), self.marks)

    def evaluate(
        self,
        ps: PairState,
        now: int,
        size_notional: Decimal | None = None,
        exposure: pf.Exposure | None = None,
        keep_reasons: bool = False,
        only_best: bool = False,
    ) -> tuple[Edge, Edge | None] | None:
        """Both directions of the pair's edge at the current books, better first."""
        return self.scanner.evaluate(ps, now, exposure or self.exposure(), size_notional, keep_reasons, only_best)

    def _busy(self, ps: PairState) -> str:
        for a in self.attempts.values():
            if a.pair.pair == ps.cfg.pair:
                return f"attempt {a.attempt_id} in {a.phase.value}"
        return ""

    def _health_if_stale(self, now: int) -> None:
        if self.ref.due(now):
            self.refresh_health(now)

    def preflight(self, ps: PairState, edge: Edge, now: int, exposure: pf.Exposure | None = None) -> list[str]:
        self._health_if_stale(now)
        ex = exposure or self.exposure()
        x = pf.PreflightInput(
            edge=edge,
            pair=ps.cfg,
            now_ms=now,
            book_ts={v: ps.books.ts(v) for v in ps.books.venues()},
            health=self.health,
            accounts=self.accounts,
            next_funding_ms={v: self.funding.get((v, ps.cfg.symbols[v]), (ZERO, 0))[1] for v in ps.books.venues()},
            exposure=ex,
            basis_samples=ps.basis.samples,
            holding=self._holding(),
            busy=self._busy(ps),
            guard_vetoes=self.leg_guards.reasons(edge),
        )
        reasons = pf.check(self.cfg, x)
        sent = self.orders_last_min(now)
        if sent + 2 > self.max_orders_per_min:
            reasons.append(f"order_rate: {sent} orders in the last minute, limit {self.max_orders_per_min}")
        return reasons

    # ------------------------------------------------------------------------------------------
    # entries
    def try_entry(
        self, ps: PairState, edge: Edge, now: int, t0: int, source: str = "auto", exposure: pf.Exposure | None = None
    ) -> dict:
        """IDLE -> PREFLIGHT -> LEGS, or refused with the named reasons (nothing is created then)."""
        reasons = self.preflight(ps, edge, now, exposure)
        ps.reasons = reasons
        self.leg_guards.decided(ps.cfg.pair, reasons)
        if reasons:
            self.metrics.refused += 1
            if source != "auto":
                self.log.info("[arb] REFUSED %s %s: %s", ps.cfg.pair, edge.direction, "; ".join(reasons))
            return {
                "accepted": False,
                "attempt_id": None,
                "reasons": reasons,
                "plan": self.plan(edge) if source != "auto" else None,
            }
        a = self.lifecycle.start_entry(ps.cfg.pair, edge, now, t0, source, self._maker_quote(edge))
        if source != "auto":
            self.later.flush()
        return {
            "accepted": True,
            "attempt_id": a.attempt_id,
            "reasons": [],
            "phase": a.phase.value,
            "plan": self.plan(edge) if source != "auto" else None,
        }

    def _maker_quote(self, edge: Edge) -> tuple[str, Decimal] | None:
        """(venue, price) of the post-only entry leg: our own side of the maker venue's book (a buy
        joins the bid, a sell the ask), or None (taker/taker) when not preferred or no book."""
        venue = self.cfg.maker_venue
        if not self.cfg.prefer_maker or venue not in (edge.long_venue, edge.short_venue):
            return None
        long = venue == edge.long_venue
        symbol = edge.long_symbol if long else edge.short_symbol
        price = self._quote(venue, symbol, Side.SELL if long else Side.BUY)
        return (venue, price) if price is not None else None

    def plan(self, edge: Edge) -> dict:
        return entry_plan(self, edge)

    # ------------------------------------------------------------------------------------------
    # exits
    def _check_exits(self, ps: PairState, now: int, t0: int) -> None:
        if self._busy(ps):
            return
        for p in list(self.open_pairs.values()):
            if p.pair != ps.cfg.pair:
                continue
            long_b, short_b = ps.books.get(p.long.venue), ps.books.get(p.short.venue)
            if long_b is None or short_b is None:
                continue
            ml, ms = long_b.mid, short_b.mid
            basis = (ms - ml) / ((ml + ms) / TWO) * BPS_PER_UNIT
            mean_ab = float_to_decimal(ps.basis.mean)
            mean = mean_ab if p.long.venue == ps.venue_a else -mean_ab
            reason = exit_reason(self.cfg, p, now, basis, mean, next_funding_bps(self.funding, p, now))
            if reason is not None:
                self.start_exit(p, reason, now, t0)
                return  # one attempt per pair at a time

    def start_exit(self, p: OpenPair, reason: str, now: int, t0: int | None = None) -> Attempt | None:
        return self.lifecycle.start_exit(p, reason, now, t0)

    def _flatten_pair(self, ps: PairState, now: int, reason: str) -> list[str]:
        started = []
        for p in list(self.open_pairs.values()):
            if p.pair == ps.cfg.pair and not self._busy(ps):
                a = self.start_exit(p, reason, now)
                if a is not None:
                    started.append(a.attempt_id)
        ps.flatten_requested = any(p.pair == ps.cfg.pair for p in self.open_pairs.values())
        return started

    def flatten(self, now: int | None = None, reason: str = "flatten") -> list[str]:
        """Close every arbitrage pair (one attempt per pair at a time; the rest follow at cycle end)."""
        now = self.now if now is None else now
        out = []
        for ps in self.pairs.values():
            ps.flatten_requested = True
            out += self._flatten_pair(ps, now, reason)
        self.later.flush()
        return out

    # ------------------------------------------------------------------------------------------
    # orders: recorded as the runner sends them, and what the engine asks about them
    def _on_order(self, leg: LegOrder, ts: int) -> None:
        """The runner's callback for every leg order handed to a venue (its answer included)."""
        r = leg.request
        self.book.record_order(leg, ts, self._quote(r.venue, r.symbol, r.side))
        order_metrics(self.order_metrics, leg)
        for level, msg, args in [send_line(leg), *answer_lines(leg)]:
            self.later.add(level, msg, *args)

    def reference_price(self, client_order_id: str) -> Decimal | None:
        return self.book.ref_price(client_order_id)

    def orders_last_min(self, now: int) -> int:
        return self.book.orders_last_min(now)

    def leverage_for(self, venue: str, symbol: str) -> int:
        ps = self._by_symbol.get((venue, symbol))
        return ps.cfg.leverage if ps else 1

    def purpose(self, client_order_id: str) -> str | None:
        return self.book.purpose(client_order_id)

    def owned_qty(self, venue: str, symbol: str, position_side: PositionSide) -> Decimal:
        return self.book.owned_qty(venue, symbol, position_side)

    def _check_breakers(self, now: int) -> None:
        if not self.open_pairs and not self.metrics.rescue_ts and not self.metrics.mismatch:
            return
        for name, detail in breaker_trips(self.cfg, self.book.settled_pairs(), self.marks, self.metrics, now):
            self.lifecycle.alert(name, detail)

    # ------------------------------------------------------------------------------------------
    # venue health (I/O at a bounded rate, never on the hot path after the first evaluation)
    def refresh_health(self, now: int) -> None:
        self.ref.refresh(now, self.pairs.values(), self.funding)

    # ------------------------------------------------------------------------------------------
    # state out
    def doc(self, now_wall: int) -> dict:
        return arbitrage_doc(self, now_wall)

    def publish(self, sink, now_wall: int) -> None:
        """Also the paced moment to re-read venue health (bounded by health_refresh_ms in event time)."""
        if self.now:
            self._health_if_stale(self.now)
        doc = self.doc(now_wall)
        sink.put("arbitrage", doc)
        m = self.metrics
        seen = (m.attempts, m.exits, m.incidents)
        if seen != self._metrics_logged:  # the [arb] metrics line, when something happened since the last one
            self._metrics_logged = seen
            self.log.info("[arb] metrics %s", json.dumps(doc["metrics"], separators=(",", ":")))

    # ------------------------------------------------------------------------------------------
    # restart
    def snapshot(self) -> dict:
        return {
            "seq": self.lifecycle.seq,
            "now": self.now,
            "open_pairs": [p.doc() for p in self.open_pairs.values()],
            "attempts": [attempt_snapshot(a) for a in self.attempts.values()],
            "basis": {name: ps.basis.snapshot() for name, ps in self.pairs.items()},
            "funding": [[v, s, str(r), n] for (v, s), (r, n) in self.funding.items()],
            "metrics": self.metrics.snapshot(),
        }

    def restore(self, snap: dict) -> None:
        """Open pairs and metrics come back as they were; an attempt that was in flight comes back
        with every non-final order UNKNOWN, so it is reconciled by client order id first."""
        self.lifecycle.seq = int(snap.get("seq", 0))
        self.now = int(snap.get("now", 0))
        self.book.restore(snap.get("open_pairs", []), [attempt_restore(d) for d in snap.get("attempts", [])])
        for name, b in snap.get("basis", {}).items():
            if name in self.pairs:
                self.pairs[name].basis = RollingBasis.restore(b, self.cfg.basis_window)
        self.funding.clear()  # in place: the scanner shares it
        self.funding.update({(v, s): (Decimal(r), int(n)) for v, s, r, n in snap.get("funding", [])})
        self.metrics.restore(snap.get("metrics", {}))

    def close(self) -> None:
        self.sender.close()
