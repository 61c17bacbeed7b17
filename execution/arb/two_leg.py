"""Two-leg execution: the runner that drives an attempt (execution/arb/attempt.py) through its
I/O. Every call goes through the `Venue` interface; time comes from the caller (event time).

- LEGS: both legs are handed to the venue clients (execution/arb/leg_sender.py), concurrently by
  default (leg B on a worker thread while leg A goes from the calling thread), or A then B
  (`sequential`: B is sent once A is accepted; never if A was refused).
- An order whose outcome is unknown (timeout, 5xx, disconnect after sending) is reconciled by
  client order id (`venue.get_order`) before anything else is sent for the attempt; an id the
  venue still does not know after `not_found_limit` queries is taken as never placed.
- When every leg is final, the fills go into the pair book. Equal legs: HEDGED. Otherwise the
  rescue round (`rescue.start_round`) closes the difference at once with market orders on the
  leg's own position side: RESCUE, then HEDGED once the book is balanced again.
- A working leg still open `leg_timeout_ms` after it was sent is cancelled (checked at cycle
  end, so a fill arriving in the same market instant is seen first).
- Maker leg (`prefer_maker`): the entry leg on the maker venue goes first, alone, as a post-only
  limit at its own side of the book (Binance GTX, OKX post_only); the other leg waits (PLANNED).
  Once the maker order is final (filled, refused for crossing, or cancelled `maker_timeout_ms`
  after it was sent) the other leg goes as a market order with a market "taker fallback" for
  whatever the maker order did not fill: the pair is never left waiting on an unhedged leg
  longer than the timeout, and a rescue covers a fallback that fills short.

The runner never sends an order for a leg that has one in flight or unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from execution.arb.attempt import Attempt, LegOrder, LegState, Phase, is_maker, taker_fallback
from execution.arb.leg_sender import LegSender
from execution.arb.rescue import start_round
from execution.exchanges.base import Venue
from execution.exchanges.errors import OrderNotFound, UnknownOutcome, VenueError, describe
from execution.models import Order, OrderStatus, SymbolFilters

ZERO = Decimal(0)


class TwoLegRunner:
    """Drives attempts: sends, reconciles, cancels on timeout, rescues. The only I/O it does is
    through the `Venue` interface; time comes from the caller (event time)."""

    def __init__(
        self,
        venues: dict[str, Venue],
        sender: LegSender,
        *,
        leg_timeout_ms: int,
        not_found_limit: int,
        partial_fill_policy: str,
        filters: Callable[[str, str], SymbolFilters],
        sequential: bool = False,
        on_order: Callable[[LegOrder, int], None] | None = None,
        log=None,
        maker_timeout_ms: int = 2_000,
    ):
        self.venues = venues
        self.sender = sender
        self.leg_timeout_ms = leg_timeout_ms
        self.not_found_limit = not_found_limit
        self.policy = partial_fill_policy
        self.filters = filters
        self.sequential = sequential
        self.on_order = on_order or (lambda leg, ts: None)
        self.log = log
        self.maker_timeout_ms = maker_timeout_ms

    # -- sending ---------------------------------------------------------------------------------
    def start(self, a: Attempt, now: int) -> None:
        """PREFLIGHT -> LEGS: hand the legs to the venue clients."""
        a.to(Phase.LEGS, now)
        maker = bool(a.legs) and is_maker(a.legs[0])
        batch = a.legs[:1] if self.sequential or maker else a.legs
        self._send(a, batch, now)
        if maker:
            self._after_maker(a, now)
        elif self.sequential:
            self._send_next_sequential(a, now)
        self._stamp_sent(a)
        if not a.unknown:
            self._settle(a, now, cycle_end=False)

    def _send(self, a: Attempt, legs: list[LegOrder], now: int) -> None:
        jobs = [(self.venues[leg.request.venue], leg.request) for leg in legs]
        for leg, (result, sent_ns, answered_ns) in zip(legs, self.sender.send(jobs), strict=False):
            leg.sent_ns, leg.sent_ts, leg.answered_ns = sent_ns or self.sender.perf_ns(), now, answered_ns
            self._classify_send(a, leg, result)
        for leg in legs:  # bookkeeping and log lines after the orders are out, not before
            self.on_order(leg, now)

    def _classify_send(self, a: Attempt, leg: LegOrder, result: Order | BaseException) -> None:
        r = leg.request
        venue = self.venues.get(r.venue)
        leg.endpoint = getattr(result, "endpoint", "") or (venue.order_endpoint if venue is not None else "") or r.venue
        leg.http_status = int(getattr(result, "http_status", 0) or 0)
        if isinstance(result, Order):
            leg.error_code = result.reject_code
            self._adopt(leg, result)
            if leg.state is LegState.FINAL and leg.filled < r.quantity:
                a.note(
                    f"{leg.name} {r.venue} {r.symbol} {result.status.value} filled {leg.filled}/{r.quantity}"
                    f"{' code=' + result.reject_code if result.reject_code else ''} {result.reject_reason}".rstrip(),
                    "WARN" if leg.filled > 0 else "ERROR",
                )
            return
        leg.error_code = result.code if isinstance(result, VenueError) else type(result).__name__
        if isinstance(result, UnknownOutcome) or not isinstance(result, VenueError):
            leg.state, leg.status = LegState.UNKNOWN, OrderStatus.UNKNOWN.value
            leg.error = describe(result)
            a.note(
                f"{leg.name} {r.venue} {r.symbol} outcome unknown ({leg.error}); reconciling by "
                f"client order id {r.client_order_id}",
                "WARN",
            )
            return
        leg.state, leg.status, leg.error = LegState.FINAL, "REFUSED", describe(result)
        a.note(f"{leg.name} {r.venue} {r.symbol} refused: {leg.error}", "ERROR")

    def _send_next_sequential(self, a: Attempt, now: int) -> None:
        for i, leg in enumerate(a.legs):
            if leg.state is not LegState.PLANNED:
                continue
            prev = a.legs[:i]
            if any(p.state is LegState.UNKNOWN for p in prev):
                return  # reconcile first
            if all(p.accepted for p in prev):
                self._send(a, [leg], now)
            else:
                leg.state, leg.status = LegState.FINAL, "NOT_SENT"
                a.note(f"{leg.name} not sent: leg {prev[-1].name} was not accepted")
            return

    def _after_maker(self, a: Attempt, now: int) -> None:
        """The maker leg is final (or times out and is cancelled): send the other leg, with a
        market fallback for what the maker order did not fill."""
        mk = a.legs[0]
        waiting = [leg for leg in a.legs[1:] if leg.state is LegState.PLANNED]
        if not waiting:
            return
        if mk.state is LegState.WORKING and now - mk.sent_ts >= self.maker_timeout_ms:
            r = mk.request
            try:
                self._adopt(mk, self.venues[r.venue].cancel_order(r.symbol, r.client_order_id))
            except OrderNotFound:
                self._refresh(a, [mk], now)  # final already: read what it did
            except VenueError as exc:
                mk.error = f"cancel failed: {describe(exc)}"
                return
            a.note(f"{mk.name} not filled within {self.maker_timeout_ms} ms: cancelled, filled {mk.filled}")
        if mk.state is not LegState.FINAL:
            return
        fb = taker_fallback(a, mk)
        if fb is not None:
            r = mk.request
            a.note(f"{mk.name} {mk.status} filled {mk.filled}/{r.quantity}: taker fallback for {fb.request.quantity}")
        fallback = [fb] if fb is not None else []
        a.legs.extend(fallback)
        self._send(a, fallback + waiting, now)
        self._stamp_sent(a)

    def _stamp_sent(self, a: Attempt) -> None:
        if not a.legs_sent_ns and a.legs and all(leg.sent_ns for leg in a.legs):
            a.legs_sent_ns = max(leg.sent_ns for leg in a.legs) - a.t0_ns

    # -- reconciling -----------------------------------------------------------------------------
    def _adopt(self, leg: LegOrder, order: Order) -> LegState:
        """Take the venue's view of the order; returns the leg's new state."""
        leg.filled, leg.avg_price, leg.status = order.filled_qty, order.avg_price, order.status.value
        if order.status is OrderStatus.UNKNOWN:
            leg.state = LegState.UNKNOWN
        elif order.status.is_final:
            leg.state = LegState.FINAL
        else:
            leg.state = LegState.WORKING
        if order.reject_reason and not leg.error:
            leg.error = f"{order.reject_code} {order.reject_reason}".strip()
        return leg.state

    def _refresh(self, a: Attempt, legs: list[LegOrder], now: int) -> None:
        for leg in legs:
            if leg.state not in (LegState.WORKING, LegState.UNKNOWN):
                continue
            r = leg.request
            try:
                order = self.venues[r.venue].get_order(r.symbol, r.client_order_id)
            except Exception as exc:  # noqa: BLE001 - unreachable venue: stay as we are, ask again later
                leg.error = f"get_order failed: {describe(exc)}"
                continue
            if order is None:
                leg.not_found += 1
                if leg.not_found >= self.not_found_limit:
                    was = leg.state
                    leg.state, leg.status, leg.filled = LegState.FINAL, "LOST", ZERO
                    a.note(
                        f"{leg.name} {r.venue} {r.symbol} cid={r.client_order_id} not found "
                        f"{leg.not_found}x after {was.value}: taken as never placed",
                        "ERROR",
                    )
                else:
                    leg.state = LegState.UNKNOWN
                continue
            was_unknown = leg.state is LegState.UNKNOWN
            state = self._adopt(leg, order)
            if was_unknown and state is not LegState.UNKNOWN:
                a.note(
                    f"{leg.name} reconciled: {r.venue} knows cid={r.client_order_id} as {order.status.value} "
                    f"filled {order.filled_qty}"
                )
            if state is LegState.FINAL and leg.filled < r.quantity and leg.status != OrderStatus.CANCELED.value:
                a.note(
                    f"{leg.name} {r.venue} {r.symbol} {leg.status} filled {leg.filled}/{r.quantity}",
                    "WARN" if leg.filled > 0 else "ERROR",
                )

    def _cancel_stale(self, a: Attempt, legs: list[LegOrder], now: int) -> None:
        for leg in legs:
            if leg.state is not LegState.WORKING or now - leg.sent_ts < self.leg_timeout_ms:
                continue
            r = leg.request
            leg.cancel_tries += 1
            try:
                order = self.venues[r.venue].cancel_order(r.symbol, r.client_order_id)
                self._adopt(leg, order)
                a.note(f"{leg.name} cancelled after {now - leg.sent_ts} ms: filled {leg.filled}/{r.quantity}", "WARN")
            except OrderNotFound:
                self._refresh(a, [leg], now)  # final already: read what it did
            except VenueError as exc:
                leg.error = f"cancel failed: {describe(exc)}"

    # -- the step --------------------------------------------------------------------------------
    def step(self, a: Attempt, now: int, cycle_end: bool = False) -> None:
        if a.phase not in (Phase.LEGS, Phase.RESCUE):
            return
        self._refresh(a, a.legs + a.rescues, now)
        if a.unknown:
            if cycle_end:
                self._unresolved(a, now, a.unknown)
            return  # nothing else goes out until every unknown outcome is reconciled
        if a.phase is Phase.LEGS and a.legs and is_maker(a.legs[0]):
            self._after_maker(a, now)
            if a.unknown:
                return
        elif a.phase is Phase.LEGS and self.sequential and any(leg.state is LegState.PLANNED for leg in a.legs):
            self._send_next_sequential(a, now)
            self._stamp_sent(a)
            if a.unknown:
                return
        if cycle_end:
            self._cancel_stale(a, a.legs + a.rescues, now)
            stuck = [
                leg
                for leg in a.legs + a.rescues
                if leg.state is LegState.WORKING and leg.cancel_tries and "cancel failed" in leg.error
            ]
            if stuck:
                self._unresolved(a, now, stuck)
        self._settle(a, now, cycle_end)

    def _unresolved(self, a: Attempt, now: int, legs: list[LegOrder]) -> None:
        """An order whose state the venue cannot tell us past the leg timeout: alert once (HOLD)."""
        if a.unresolved_since or now - a.started_ts < self.leg_timeout_ms:
            return
        a.unresolved_since = now
        detail = ", ".join(
            f"{leg.name} {leg.request.venue} cid={leg.request.client_order_id} {leg.state.value} ({leg.error})"
            for leg in legs
        )
        a.note(
            f"unresolved after {now - a.started_ts} ms: {detail}; nothing more is sent until the venue answers", "ERROR"
        )
        a.alerts.append(("arb_unresolved", f"{a.attempt_id}: {detail}"))

    def _settle(self, a: Attempt, now: int, cycle_end: bool) -> None:
        """Once every order of the attempt is final: book the fills, then HEDGED or rescue."""
        if any(leg.state is not LegState.FINAL for leg in a.legs + a.rescues):
            return
        self._apply(a, now)
        pair = a.pair
        if a.phase is Phase.LEGS:
            if pair.hedged:
                if pair.flat and a.kind == "entry":
                    a.to(Phase.DONE, now)  # nothing filled on either leg: no exposure
                else:
                    a.to(Phase.HEDGED, now)
                    a.to(Phase.DONE, now)
                return
            a.to(Phase.RESCUE, now)
            self._rescue(a, now)  # hedge out the unmatched part at once
            return
        if pair.hedged:
            a.to(Phase.HEDGED, now)
            a.to(Phase.DONE, now)
            return
        if cycle_end:  # the last round left the pair unbalanced: try again, at most once per cycle
            self._rescue(a, now)

    def _apply(self, a: Attempt, now: int) -> None:
        for leg in a.legs + a.rescues:
            if leg.applied:
                continue
            leg.applied = True
            if leg.filled <= 0:
                continue
            book_leg = a.pair.long if leg.role == "long" else a.pair.short
            if leg.request.side is book_leg.position_side.opening_side:
                book_leg.open(leg.filled, leg.avg_price)
            else:
                book_leg.close(leg.filled, leg.avg_price)
            rate = a.fees.get(leg.name, a.fees.get(leg.role, ZERO))  # a maker leg has its own rate
            book_leg.fees_usdt += leg.filled * leg.avg_price * rate

    def _rescue(self, a: Attempt, now: int) -> None:
        pair = a.pair
        filters = {
            "long": self.filters(pair.long.venue, pair.long.symbol),
            "short": self.filters(pair.short.venue, pair.short.symbol),
        }
        new = start_round(a, filters, self.policy, now)
        if not new:
            return  # nothing to close: the round left the attempt HEDGED and DONE
        self._send(a, new, now)
        if not a.unknown:
            self._settle(a, now, cycle_end=False)
