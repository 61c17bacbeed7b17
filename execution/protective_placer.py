"""Protective orders on the venue, placed, replaced and cancelled for one leg at a time (the
venue I/O of execution/protection.py, which decides when: on the owner's fills and in the stop
validator). Replacing places the new version first, then cancels the old one. A protective
order the venue refuses `PLACE_TRIES` times in a row is handed to `on_unplaceable` (the position
is then closed); one the venue did not answer is left for the next validator run."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from execution import ids
from execution.exchanges.base import Venue
from execution.exchanges.errors import (
    ClockSkew,
    RateLimited,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
)
from execution.logs import EventLog
from execution.protective_orders import LegProtection, PositionKey
from execution.stop_validator import Leg, needed
from execution.strategy import StrategyContext
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, WorkingType

PURPOSE = {"stop": "stop_loss", "take": "take_profit", "oco": "protective_close"}
PLACE_TRIES = 2  # a protective order refused this many times in a row: the position is closed
CLAIMS_KEPT = 1000


class ProtectivePlacer:
    """Places and cancels protective orders, keeping `legs` (what each leg has on its venue) and
    `claimed` (the purpose of every client id placed) current; both dicts are the caller's,
    shared and updated in place."""

    def __init__(
        self,
        venues: Mapping[str, Venue],
        legs: dict[PositionKey, LegProtection],
        claimed: dict[str, str],
        *,
        enabled: bool,
        working: WorkingType,
        on_unplaceable: Callable[[LegProtection, TriggerRequest, VenueError | None, int, StrategyContext], None],
        log: EventLog,
    ):
        self.venues = venues
        self.legs = legs
        self.claimed = claimed
        self.enabled = enabled
        self.working = working
        self.on_unplaceable = on_unplaceable
        self.log = log
        self._noted: set[str] = set()

    def replace(self, g: LegProtection, leg: Leg, ts: int, ctx: StrategyContext, why: str) -> bool:
        """Place the leg's orders (a new version), then cancel the old ones. False when one could
        not be placed: refused twice, the position is then closed and an incident raised; not
        reachable, the next validator run tries again. What was placed stays: half a protection is
        better than none, and the validator completes it."""
        v = self.venue(g.venue)
        if v is None:
            return False
        old = g.open_ids()
        g.version = g.placements  # every placement has its own client ids
        g.placements += 1
        g.qty, g.stop, g.take = leg.qty, leg.stop, leg.take
        placed: list[TriggerOrder] = []
        for kind, stop, take in needed(leg, v.native_oco):
            req = TriggerRequest(
                venue=g.venue,
                symbol=g.symbol,
                position_side=g.position_side,
                quantity=leg.qty,
                client_id=ids.client_order_id(f"{g.intent_id}:protect", kind, g.version),
                intent_id=f"{g.intent_id}:protect",
                stop_price=stop,
                take_price=take,
                working=self.working,
            )
            order = self.place(v, req, g, ts, ctx, why)
            if order is None:
                return False
            placed.append(order)
        for cid in old:
            self.cancel(v, g.symbol, cid, f"replaced ({why})", ts)
        return True

    def place(
        self, v: Venue, req: TriggerRequest, g: LegProtection, ts: int, ctx: StrategyContext, why: str
    ) -> TriggerOrder | None:
        self.claimed[req.client_id] = PURPOSE[req.kind]
        if len(self.claimed) > 2 * CLAIMS_KEPT:
            for cid in list(self.claimed)[:CLAIMS_KEPT]:
                del self.claimed[cid]
        last: VenueError | None = None
        for _ in range(PLACE_TRIES):
            try:
                order = v.place_trigger(req)
            except SafeModeRefused:
                self.note(f"safe:{v.name}", f"[risk] PROTECT {v.name}: SAFE_MODE, protective orders not sent")
                return None
            except (VenueUnavailable, RateLimited, ClockSkew, UnknownOutcome) as exc:
                self.log.error(  # not a refusal: the venue did not answer; the next validator run repairs
                    "[executor] [ORDER_ERR] code=%s PROTECT %s %s cid=%s not placed now (%s): %s",
                    exc.code,
                    req.venue,
                    req.symbol,
                    req.client_id,
                    type(exc).__name__,
                    exc.message,
                )
                return None
            except VenueError as exc:
                last = exc
                self.log.error(
                    "[executor] [ORDER_ERR] code=%s PROTECT %s %s positionSide=%s %s cid=%s: %s",
                    exc.code,
                    req.venue,
                    req.symbol,
                    req.position_side.value,
                    req.kind,
                    req.client_id,
                    exc.message,
                )
                continue
            g.orders[order.client_id] = order
            g.refused = 0
            self.log.info(
                "[executor] PROTECT placed %s %s %s positionSide=%s qty=%s stop=%s take=%s trigger=%s cid=%s (%s)",
                req.venue,
                req.symbol,
                req.side.value,
                req.position_side.value,
                req.quantity,
                req.stop_price,
                req.take_price,
                req.working.value,
                req.client_id,
                why,
            )
            return order
        g.refused += 1
        self.on_unplaceable(g, req, last, ts, ctx)
        return None

    def cancel_all(self, g: LegProtection, why: str, ts: int) -> None:
        v = self.venue(g.venue)
        if v is None:
            return
        for cid in g.open_ids():
            self.cancel(v, g.symbol, cid, why, ts)

    def cancel(self, v: Venue, symbol: str, cid: str, why: str, ts: int) -> None:
        try:
            done = v.cancel_trigger(symbol, cid)
        except VenueError as exc:
            self.log.error(
                "[executor] [ORDER_ERR] code=%s cancel PROTECT %s cid=%s: %s", exc.code, symbol, cid, exc.message
            )
            return
        for g in self.legs.values():
            if cid in g.orders:
                if done is not None:
                    g.orders[cid] = done
                elif g.orders[cid].status.is_open:
                    g.orders[cid].status = TriggerStatus.CANCELED
        self.log.info("[executor] PROTECT cancelled %s %s cid=%s (%s)", v.name, symbol, cid, why)

    def venue(self, name: str) -> Venue | None:
        v = self.venues.get(name)
        if v is None or not self.enabled:
            return None
        if not v.supports_triggers:
            self.note(f"none:{name}", f"[risk] PROTECT {name}: no trigger orders there; the executor's SL/TP only")
            return None
        return v

    def note(self, key: str, line: str) -> None:
        if key not in self._noted:
            self._noted.add(key)
            self.log.warning(line)
