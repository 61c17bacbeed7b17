"""One arbitrage attempt as a state machine, and the orders it is made of. Pure: no I/O, no clock
(the runner, execution/arb/two_leg.py, sends and reconciles; time comes from its caller).

    IDLE -> PREFLIGHT -> LEGS -> HEDGED -> DONE
                  |         \\-> RESCUE -> HEDGED -> DONE
                  \\-> DONE (refused)      (LEGS -> DONE when nothing filled on either leg)

The transitions are checked against `TRANSITIONS`. Every client order id is derived from the
attempt id, the leg and the round, so nothing is ever sent twice under the same or another id
by mistake. With a maker venue (`prefer_maker`) the entry leg there is a post-only limit at its
own side of the book and goes first; what it does not fill goes as a market "taker fallback".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum

from execution import ids
from execution.arb.book import OpenPair, PairLeg
from execution.models import OrderRequest, OrderStatus, OrderType, TimeInForce

ZERO = Decimal(0)


class Phase(str, Enum):
    IDLE = "IDLE"
    PREFLIGHT = "PREFLIGHT"
    LEGS = "LEGS"
    RESCUE = "RESCUE"
    HEDGED = "HEDGED"
    DONE = "DONE"


TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.IDLE: frozenset({Phase.PREFLIGHT}),
    Phase.PREFLIGHT: frozenset({Phase.LEGS, Phase.DONE}),
    Phase.LEGS: frozenset({Phase.HEDGED, Phase.RESCUE, Phase.DONE}),
    Phase.RESCUE: frozenset({Phase.HEDGED}),
    Phase.HEDGED: frozenset({Phase.DONE}),
    Phase.DONE: frozenset(),
}


class IllegalTransition(RuntimeError):
    pass


class LegState(str, Enum):
    PLANNED = "PLANNED"  # not sent yet (sequential leg B waits for A)
    WORKING = "WORKING"  # acknowledged, not final
    UNKNOWN = "UNKNOWN"  # outcome unknown: reconcile by client order id first
    FINAL = "FINAL"  # filled, cancelled, rejected, expired, never placed


@dataclass(slots=True)
class LegOrder:
    name: str  # long | short | rescue1:long ...
    role: str  # long | short: which pair leg it changes
    request: OrderRequest
    state: LegState = LegState.PLANNED
    status: str = ""  # the venue's order status, or REFUSED / LOST / NOT_SENT
    filled: Decimal = ZERO
    avg_price: Decimal = ZERO
    error: str = ""
    not_found: int = 0
    sent_ns: int = 0
    sent_ts: int = 0
    answered_ns: int = 0  # when place_order returned (0: no answer, e.g. timed out)
    cancel_tries: int = 0
    applied: bool = False  # its fills are in the pair book
    endpoint: str = ""  # where the placing request went and what HTTP status answered (0: none)
    http_status: int = 0
    error_code: str = ""  # the venue's code when it refused or lost the order

    @property
    def accepted(self) -> bool:
        """The venue took the order (it may still fill nothing)."""
        return (
            self.state in (LegState.WORKING, LegState.UNKNOWN)
            or self.filled > 0
            or self.status in (OrderStatus.FILLED.value, OrderStatus.PARTIALLY_FILLED.value, OrderStatus.NEW.value)
        )

    def doc(self) -> dict:
        r = self.request
        return {
            "name": self.name,
            "role": self.role,
            "venue": r.venue,
            "symbol": r.symbol,
            "side": r.side.value,
            "position_side": r.position_side.value,
            "qty": str(r.quantity),
            "type": r.order_type.value,
            "reduce_only": r.reduce_only,
            "client_order_id": r.client_order_id,
            "state": self.state.value,
            "status": self.status,
            "filled": str(self.filled),
            "avg_price": str(self.avg_price),
            "error": self.error,
            "sent_ts": self.sent_ts,
        }


@dataclass(slots=True)
class Attempt:
    attempt_id: str
    kind: str  # entry | exit
    pair: OpenPair
    started_ts: int
    t0_ns: int
    legs: list[LegOrder]
    reason: str = "entry"
    phase: Phase = Phase.IDLE
    rescues: list[LegOrder] = field(default_factory=list)
    rescue_round: int = 0
    rescue_plans: list[dict] = field(default_factory=list)
    severity: str = ""  # "" | WARN | ERROR
    events: list[str] = field(default_factory=list)
    history: list[tuple[str, int]] = field(default_factory=list)
    legs_sent_ns: int = 0  # decision -> both legs handed to the venue clients
    unresolved_since: int = 0
    expected: dict = field(default_factory=dict)
    fees: dict[str, Decimal] = field(default_factory=dict)  # fee rate per role, for the book
    alerts: list[tuple[str, str]] = field(default_factory=list)  # (breaker, detail) for the loop to act on

    def to(self, phase: Phase, ts: int) -> None:
        if phase not in TRANSITIONS[self.phase]:
            raise IllegalTransition(f"{self.attempt_id}: {self.phase.value} -> {phase.value}")
        self.phase = phase
        self.history.append((phase.value, ts))

    def note(self, text: str, severity: str = "") -> None:
        self.events.append(text)
        if severity == "ERROR" or (severity == "WARN" and self.severity != "ERROR"):
            self.severity = severity

    @property
    def unknown(self) -> list[LegOrder]:
        return [leg for leg in self.legs + self.rescues if leg.state is LegState.UNKNOWN]

    @property
    def done(self) -> bool:
        return self.phase is Phase.DONE

    def doc(self) -> dict:
        return {
            "attempt_id": self.attempt_id,
            "kind": self.kind,
            "pair": self.pair.pair,
            "reason": self.reason,
            "phase": self.phase.value,
            "severity": self.severity,
            "started_ts": self.started_ts,
            "legs": [leg.doc() for leg in self.legs],
            "rescues": [leg.doc() for leg in self.rescues],
            "rescue_plans": self.rescue_plans,
            "events": self.events[-20:],
            "history": self.history,
            "legs_sent_us": round(self.legs_sent_ns / 1000, 1) if self.legs_sent_ns else None,
            "expected": self.expected,
        }


# ---------------------------------------------------------------------------------------------
def entry_attempt(
    attempt_id: str,
    pair: OpenPair,
    qty: Decimal,
    ts: int,
    t0_ns: int,
    first_venue: str,
    maker: tuple[str, Decimal] | None = None,
) -> Attempt:
    """Both entry legs as market orders; with `maker` (venue, price) the leg on that venue is a
    post-only limit at `price` and goes first."""
    legs = []
    for leg in (pair.long, pair.short):
        role = "long" if leg is pair.long else "short"
        post_only = maker is not None and leg.venue == maker[0]
        legs.append(
            LegOrder(
                f"{role}:maker" if post_only else role,
                role,
                OrderRequest(
                    venue=leg.venue,
                    symbol=leg.symbol,
                    side=leg.position_side.opening_side,
                    position_side=leg.position_side,
                    order_type=OrderType.LIMIT if post_only else OrderType.MARKET,
                    quantity=qty,
                    client_order_id=ids.client_order_id(attempt_id, f"{role}:maker" if post_only else role),
                    intent_id=attempt_id,
                    price=maker[1] if post_only and maker else None,
                    time_in_force=TimeInForce.POST_ONLY if post_only else None,
                ),
            )
        )
    first = maker[0] if maker is not None else first_venue
    legs.sort(key=lambda x: x.request.venue != first)
    return Attempt(attempt_id, "entry", pair, ts, t0_ns, legs)


def is_maker(leg: LegOrder) -> bool:
    r = leg.request
    return r.order_type is OrderType.LIMIT and r.time_in_force is TimeInForce.POST_ONLY


def exit_attempt(attempt_id: str, pair: OpenPair, reason: str, ts: int, t0_ns: int, first_venue: str) -> Attempt:
    legs = []
    for role, leg in (("long", pair.long), ("short", pair.short)):
        if leg.qty > 0:
            legs.append(LegOrder(role, role, close_request(attempt_id, role, leg, leg.qty)))
    legs.sort(key=lambda x: x.request.venue != first_venue)
    return Attempt(attempt_id, "exit", pair, ts, t0_ns, legs, reason=reason)


def close_request(attempt_id: str, name: str, leg: PairLeg, qty: Decimal, round_: int = 0) -> OrderRequest:
    """Reduce-only market close on the leg's own position side (hedge mode)."""
    return OrderRequest(
        venue=leg.venue,
        symbol=leg.symbol,
        side=leg.position_side.closing_side,
        position_side=leg.position_side,
        order_type=OrderType.MARKET,
        quantity=qty,
        client_order_id=ids.client_order_id(attempt_id, name, round_),
        intent_id=attempt_id,
        reduce_only=True,
    )


def taker_fallback(a: Attempt, mk: LegOrder) -> LegOrder | None:
    """The market order for what the final maker leg `mk` did not fill (None: it filled in full)."""
    left = mk.request.quantity - mk.filled
    if left <= 0:
        return None
    name = mk.name.replace(":maker", ":taker")
    book_leg = a.pair.long if mk.role == "long" else a.pair.short
    r = mk.request
    return LegOrder(
        name,
        mk.role,
        OrderRequest(
            venue=r.venue,
            symbol=r.symbol,
            side=book_leg.position_side.opening_side,
            position_side=book_leg.position_side,
            order_type=OrderType.MARKET,
            quantity=left,
            client_order_id=ids.client_order_id(a.attempt_id, name),
            intent_id=a.attempt_id,
        ),
    )
