"""The life of an arbitrage attempt around the runner: how an entry or an exit starts (its id,
fee rates, the ENTRY/EXIT line) and what every step leaves behind (breaker alerts, dry-run
fills journalled, a finished attempt settled into the pair book, the metrics, the recent list
and the incidents journal).

The loop decides when (scanner, preflight, exit rules, flatten); this class does the
bookkeeping, with its collaborators given explicitly: the pair book, the runner, the metrics,
the journal, the breaker trip and the deferred log. Its log lines are queued, never written
before a send (a BREAKER line excepted: written at once)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from decimal import Decimal

from execution.arb.attempt import Attempt, Phase, entry_attempt, exit_attempt
from execution.arb.book import OpenPair, PairLeg
from execution.arb.config import ArbConfig
from execution.arb.deferred_log import DeferredLog
from execution.arb.edge import BPS_PER_UNIT, Edge
from execution.arb.holdings import ArbBook
from execution.arb.metrics import ArbMetrics
from execution.arb.outcomes import INCIDENT_BREAKERS, breaker_incident_record, incident_record, realised_gross_bps
from execution.arb.two_leg import TwoLegRunner
from execution.exchanges.base import Venue
from execution.logs import EventLog
from execution.models import FeeSchedule, PositionSide

ZERO = Decimal(0)


class AttemptLifecycle:
    """Starts entries and exits on the runner and settles every attempt after each step."""

    def __init__(
        self,
        cfg: ArbConfig,
        book: ArbBook,
        runner: TwoLegRunner,
        metrics: ArbMetrics,
        *,
        fees: Callable[[str, str], FeeSchedule],
        marks: Callable[[], dict[tuple[str, str], Decimal]],
        clock: Callable[[], int],
        perf_ns: Callable[[], int],
        journal: Callable[[str, dict], None],
        trip: Callable[[str, str, int], object],
        recent: deque[dict],
        later: DeferredLog,
        log: EventLog,
        dry_run_venues: dict[str, Venue] | None = None,
    ):
        self.cfg = cfg
        self.book = book
        self.runner = runner
        self.metrics = metrics
        self.fees = fees
        self.marks = marks
        self.clock = clock  # the loop's event time
        self.perf_ns = perf_ns
        self.journal = journal
        self.trip = trip
        self.recent = recent
        self.later = later
        self.log = log
        self.dry_run_venues = dry_run_venues  # None unless dry run: their simulated fills are journalled
        self.dry_run = dry_run_venues is not None
        self.seq = 0  # in every attempt id; kept across restarts by the loop's snapshot

    # ------------------------------------------------------------------------------------------
    # starts
    def start_entry(
        self, pair_name: str, edge: Edge, now: int, t0: int, source: str, maker: tuple[str, Decimal] | None
    ) -> Attempt:
        """IDLE -> PREFLIGHT -> LEGS for an entry the loop's preflight accepted; `maker`: (venue,
        price) of a post-only first leg, or None (both legs market orders)."""
        self.seq += 1
        attempt_id = f"arb:{pair_name}:{now}:entry{self.seq}"
        pair = OpenPair(
            attempt_id,
            pair_name,
            PairLeg(edge.long_venue, edge.long_symbol, PositionSide.LONG),
            PairLeg(edge.short_venue, edge.short_symbol, PositionSide.SHORT),
            now,
            edge.size,
            expected_net_bps=edge.net_edge_bps,
            expected_gross_bps=edge.gross_edge_bps,
            entry_ref_price=edge.ref_price,
            meta={"source": source},
        )
        a = entry_attempt(attempt_id, pair, edge.size, now, t0, self.cfg.venues[0], maker)
        # The rates in force at the send, before it: a leg may fill inside the send (a market order
        # answered FILLED, the dry-run venue) and is booked then. Cached reads, the edge's own.
        a.fees = {
            "long": self.fees(edge.long_venue, edge.long_symbol).taker_rate,
            "short": self.fees(edge.short_venue, edge.short_symbol).taker_rate,
        }
        if maker is not None:  # its fee is the maker rate (the fallback and the other leg pay taker)
            mk = a.legs[0].request
            a.fees[a.legs[0].name] = self.fees(mk.venue, mk.symbol).maker_rate
        a.to(Phase.PREFLIGHT, now)
        self.book.attempts[attempt_id] = a
        self.runner.start(a, now)
        a.expected = edge.to_doc()  # bookkeeping after the legs are out
        self.metrics.sent(a.legs_sent_ns)
        self.later.add(
            logging.INFO,
            "[arb] ENTRY %s %s size=%s gross=%.2f net=%.2f bps expected_pnl=%.4f legs_sent_us=%.1f %s",
            attempt_id,
            edge.direction,
            edge.size,
            edge.gross_edge_bps,
            edge.net_edge_bps,
            edge.expected_pnl_usdt,
            a.legs_sent_ns / 1000,
            "DRY_RUN" if self.dry_run else "",
        )
        self.after_step(a)
        return a

    def start_exit(self, p: OpenPair, reason: str, now: int, t0: int | None = None) -> Attempt | None:
        """Both legs closed (reduce-only: allowed in HOLD, no entry gates); None while the pair has
        an attempt in flight."""
        if any(a.pair is p for a in self.book.attempts.values()):
            return None
        self.seq += 1
        attempt_id = f"arb:{p.pair}:{now}:exit{self.seq}"
        a = exit_attempt(attempt_id, p, reason, now, self.perf_ns() if t0 is None else t0, self.cfg.venues[0])
        a.fees = {
            "long": self.fees(p.long.venue, p.long.symbol).taker_rate,
            "short": self.fees(p.short.venue, p.short.symbol).taker_rate,
        }
        p.exit_reason = reason
        a.to(Phase.PREFLIGHT, now)
        self.book.attempts[attempt_id] = a
        self.runner.start(a, now)
        self.metrics.exits += 1
        self.later.add(
            logging.INFO,
            "[arb] EXIT %s pair=%s reason=%s long=%s short=%s",
            attempt_id,
            p.pair_id,
            reason,
            p.long.qty,
            p.short.qty,
        )
        self.after_step(a)
        return a

    # ------------------------------------------------------------------------------------------
    # after every step of an attempt
    def after_step(self, a: Attempt) -> None:
        self._drain_dry_run()
        for name, detail in a.alerts:
            self.alert(name, detail, a)
        a.alerts.clear()
        if not a.done:
            return
        self.book.attempts.pop(a.attempt_id, None)
        pair = a.pair
        if a.kind == "entry":
            rescued = a.rescue_round > 0
            legs = {leg.role: leg for leg in a.legs}
            realised = realised_gross_bps(a)
            if realised is not None:
                pair.realised_gross_bps = realised
            self.metrics.entry_done(
                pair.planned_qty,
                legs["long"].filled,
                legs["short"].filled,
                rescued,
                float(pair.expected_gross_bps),
                None if realised is None else float(realised),
            )
            if rescued:
                self.metrics.rescued(a.history[-1][1])
            if not pair.flat:
                self.book.open_pairs[pair.pair_id] = pair
        else:
            if pair.flat:
                self.book.open_pairs.pop(pair.pair_id, None)
                notional = pair.planned_qty * pair.entry_ref_price
                pnl = pair.realised_pnl_usdt()
                realised_net = pnl / notional * BPS_PER_UNIT if notional else ZERO
                self.metrics.pair_closed(float(pair.expected_net_bps), float(realised_net), pnl)
                self.later.add(
                    logging.INFO,
                    "[arb] CLOSED %s reason=%s pnl_usdt=%.4f realised_net_bps=%.2f "
                    "expected_net_bps=%.2f (funding not included)",
                    pair.pair_id,
                    pair.exit_reason,
                    pnl,
                    realised_net,
                    pair.expected_net_bps,
                )
            if a.rescue_round:
                self.metrics.rescued(a.history[-1][1])
        doc = a.doc()
        doc["final_delta_usd"] = str(pair.delta_usd(self.marks()).quantize(Decimal("0.01")))
        self.recent.append(doc)
        level = "ERROR" if a.severity == "ERROR" else ("WARN" if a.severity else "OK")
        self.later.add(
            logging.INFO,
            "[arb] DONE %s kind=%s %s long=%s short=%s delta_usd=%s rescue_rounds=%d",
            a.attempt_id,
            a.kind,
            level,
            pair.long.qty,
            pair.short.qty,
            doc["final_delta_usd"],
            a.rescue_round,
        )
        if a.severity:
            self._incident(a, doc)

    def _incident(self, a: Attempt, doc: dict) -> None:
        self.metrics.incidents += 1
        record = incident_record(a, doc, self.dry_run)
        self.journal("incidents", record)
        self.later.add(
            logging.ERROR if a.severity == "ERROR" else logging.WARNING,
            "[arb] INCIDENT %s %s %s: %s",
            a.severity,
            record["kind"],
            a.attempt_id,
            record["summary"],
        )

    def alert(self, name: str, detail: str, a: Attempt | None = None) -> None:
        """A breaker: logged at once, HOLD tripped; an attempt's also leaves an incident record."""
        self.log.error("[arb] BREAKER %s: %s", name, detail)
        self.trip(name, detail, self.clock())
        if a is not None and name in INCIDENT_BREAKERS:
            self.journal("incidents", breaker_incident_record(a, name, detail, self.clock(), self.dry_run))
            self.metrics.incidents += 1

    def _drain_dry_run(self) -> None:
        if self.dry_run_venues is None:
            return
        for v in self.dry_run_venues.values():
            for fill in v.drain_fills():
                rec = fill.record()
                rec["reason"] = self.book.purpose(fill.client_order_id) or "arb"
                rec["dry_run"] = True
                self.journal("trades", rec)
