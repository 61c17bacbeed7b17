"""Protective orders on the venue for every screener position, and the stop validator.

Stop-loss and take-profit used to live only in the executor (checked on 15-minute closes); if
it died, hung or lost its network an open position had no protection. Now each position the
owner strategy (the screener) opens gets its stop and take-profit resting on the venue right
after the entry fill (`sync`, called by the owner on every fill of the leg):

    entry fill            -> place: Binance two orders (STOP_MARKET, TAKE_PROFIT_MARKET in the Algo
                             Service), OKX one `oco` algo order, the paper venue two orders
    partial close / add   -> replace them with the new quantity (place first, then cancel)
    one fires             -> its fill is claimed here ("stop_loss" / "take_profit") and handed to
                             the owner; the owner's position is gone -> the other one is cancelled
                             (emulated OCO where the venue has none)
    the executor exits    -> both cancelled

The executor's own SL/TP check on closes stays as the second line of defence.

The stop validator (`validate`) runs once at start, before the owner sees any market event (this
component runs before it), and then every STOP_VALIDATOR_INTERVAL_S: every open leg must have
its protective orders on the venue (right side, position side, quantity, prices); missing or
wrong ones are replaced and counted (`stop_validator_missing_total`,
`stop_validator_repaired_total`) with one ops alert per incident; ours whose position is gone
are cancelled. A protective order the venue refuses twice closes the position (an incident).
Trigger orders nobody here placed are left alone. This module decides when; the venue I/O of
placing, replacing and cancelling is `ProtectivePlacer` (execution/protective_placer.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol

from execution import clock, logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.feeds.events import BookUpdate, CandleClosed
from execution.filters import round_price
from execution.metrics_hooks import MetricsHooks, NullMetrics
from execution.models import Fill, PositionSide
from execution.protective_orders import LegProtection
from execution.protective_placer import CLAIMS_KEPT, PLACE_TRIES, PURPOSE, ProtectivePlacer
from execution.stop_validator import Leg, problems
from execution.strategy import BaseStrategy, PositionKey, StrategyContext
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, WorkingType

if TYPE_CHECKING:
    from execution.trades import InFlight

NAME = "protection"


class ProtectedOwner(Protocol):
    """The strategy whose positions are protected (the screener)."""

    name: str

    def protected_legs(self) -> list[tuple[str, str, PositionSide, float, float, str]]:
        """(venue, symbol, position side, stop-loss, take-profit, entry intent id) of each trade."""

    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None: ...

    def close_position(
        self, venue: str, symbol: str, pside: PositionSide, reason: str, ts: int, ctx: StrategyContext
    ) -> None: ...


class Protection(BaseStrategy):
    """Runs before its owner in the engine's strategy list; see the module docstring."""

    name = NAME

    def __init__(
        self,
        venues: Mapping[str, Venue],
        *,
        enabled: bool = True,
        working: WorkingType = WorkingType.MARK,
        interval_s: float = 30.0,
        wall_ms: Callable[[], int] = clock.wall_ms,
        metrics: MetricsHooks | None = None,
    ):
        self.venues = venues
        self.metrics: MetricsHooks = metrics or NullMetrics()  # stop_validator_*_total on the executor's /metrics
        self.enabled = enabled
        self.working = working
        self.interval_ms = int(interval_s * 1000)
        self.wall_ms = wall_ms
        self.owner: ProtectedOwner | None = None
        self.legs: dict[PositionKey, LegProtection] = {}
        self.claimed: dict[str, str] = {}  # client id -> purpose, also after its leg is gone
        self.missing_total = 0
        self.repaired_total = 0
        self.orphans_cancelled_total = 0
        self.unplaceable_total = 0
        self.validations = 0
        self.last_validation_ms = 0
        self.started = False
        self.log = logs.get()
        self.placer = ProtectivePlacer(
            venues,
            self.legs,
            self.claimed,
            enabled=enabled,
            working=working,
            on_unplaceable=self._unplaceable,
            log=self.log,
        )

    def protect(self, owner: ProtectedOwner) -> None:
        self.owner = owner

    # ------------------------------------------------------------------------------------------
    # the owner's leg changed (entry fill, partial close, exit, trade dropped)
    def sync(
        self,
        venue: str,
        symbol: str,
        pside: PositionSide,
        qty: Decimal,
        levels: tuple[float, float] | None,
        intent_id: str,
        ts: int,
        ctx: StrategyContext,
    ) -> None:
        """Make the venue's protective orders match the leg: `qty` 0 or no levels cancels them."""
        key = (venue, symbol, pside)
        g = self.legs.get(key)
        if qty <= 0 or levels is None:
            if g is not None:
                self.placer.cancel_all(g, "position closed", ts)
                del self.legs[key]
            return
        v = self.placer.venue(venue)
        if v is None:
            return
        leg = self._leg(v, key, qty, levels, intent_id)
        if g is not None and g.intent_id != intent_id:
            self.placer.cancel_all(g, "a new trade on the same position", ts)
            g = None
        if g is None:
            g = self.legs[key] = LegProtection(venue, symbol, pside, intent_id)
        elif g.qty == leg.qty and g.stop == leg.stop and g.take == leg.take and g.open_ids():
            return
        self.placer.replace(g, leg, ts, ctx, "entry" if not g.placements else "quantity changed")

    # ------------------------------------------------------------------------------------------
    # engine hooks
    def on_candle(self, c: CandleClosed, ctx: StrategyContext, trading: bool) -> None:
        if not self.started:
            self.validate(c.ts, ctx)

    def on_book(self, b: BookUpdate, ctx: StrategyContext, trading: bool) -> None:
        if not self.started:
            self.validate(b.ts, ctx)

    def on_cycle_end(self, ts: int, ctx: StrategyContext, trading: bool) -> None:
        if not self.started or self.wall_ms() - self.last_validation_ms >= self.interval_ms:
            self.validate(ts, ctx)

    def claims(self, client_order_id: str) -> str | None:
        for g in self.legs.values():
            o = g.orders.get(client_order_id)
            if o is not None:
                return PURPOSE[o.fired or o.kind]
        return self.claimed.get(client_order_id)

    def reference_price(self, client_order_id: str) -> Decimal | None:
        """The level that fired a protective order (its fill's slippage is measured against it);
        None for an OCO whose fired side the venue has not said."""
        for g in self.legs.values():
            o = g.orders.get(client_order_id)
            if o is not None:
                kind = o.fired or o.kind
                return o.stop_price if kind == "stop" else o.take_price if kind == "take" else None
        return None

    def on_fill(self, fill: Fill, booked: Fill, flight: InFlight | None, ctx: StrategyContext) -> None:
        """A protective order fired and filled: the owner books what it means for its trade (it
        calls `sync` back, which cancels the other order once the position is gone)."""
        g = self.legs.get((fill.venue, fill.symbol, fill.position_side))
        if g is not None and fill.client_order_id in g.orders:
            cid = fill.client_order_id
            o = g.orders[cid]
            o.status = TriggerStatus.FINISHED if o.status.is_open else o.status
            g.booked[cid] = g.booked.get(cid, Decimal(0)) + fill.qty
            o.filled_qty = max(o.filled_qty, g.booked[cid])
        self.log.warning(
            "[risk] PROTECT fired %s %s %s positionSide=%s qty=%s price=%s cid=%s (%s)",
            fill.venue,
            fill.symbol,
            fill.side.value,
            fill.position_side.value,
            fill.qty,
            fill.price,
            fill.client_order_id,
            self.claims(fill.client_order_id) or "protective_close",
        )
        if self.owner is not None:
            self.owner.on_fill(fill, booked, None, ctx)

    def leverage_for(self, venue: str, symbol: str) -> int:
        return 1

    # ------------------------------------------------------------------------------------------
    # the stop validator
    def validate(self, ts: int, ctx: StrategyContext) -> None:
        missing, repaired = self.missing_total, self.repaired_total
        try:
            self._validate(ts, ctx)
        finally:  # what this pass found and repaired, for the executor's metrics
            self.metrics.on_stop_validation(self.missing_total - missing, self.repaired_total - repaired)

    def _validate(self, ts: int, ctx: StrategyContext) -> None:
        self.started = True
        self.last_validation_ms = self.wall_ms()
        self.validations += 1
        if not self.enabled or self.owner is None:
            return
        legs = self._owner_legs(ctx)
        names = {k[0] for k in legs} | {g.venue for g in self.legs.values()}
        for name in sorted(names):
            v = self.placer.venue(name)
            if v is None:
                continue
            try:
                open_now = {o.client_id: o for o in v.open_triggers()}
                held = {(p.symbol, p.position_side): p.qty for p in v.positions()}
            except VenueError as exc:
                self.log.error("[risk] STOP_VALIDATOR %s unreadable: code=%s %s", name, exc.code, exc.message)
                continue
            self._refresh(v, open_now)
            venue_legs = {k: leg for k, leg in legs.items() if k[0] == name}
            for leg in venue_legs.values():
                if held.get((leg.symbol, leg.position_side), Decimal(0)) > 0:
                    self._check(v, leg, open_now, ts, ctx)
            self._orphans(v, open_now, venue_legs, held, ts)

    def _orphans(
        self,
        v: Venue,
        open_now: dict[str, TriggerOrder],
        venue_legs: dict[PositionKey, Leg],
        held: dict[tuple[str, PositionSide], Decimal],
        ts: int,
    ) -> None:
        """Cancel our open protective orders whose position is gone (on the venue and in our
        books), and strays of ours a replacement left behind."""
        live = {k for k in venue_legs if held.get((k[1], k[2]), Decimal(0)) > 0}
        current = {cid for g in self.legs.values() for cid in g.orders}
        mine = [o for cid, o in open_now.items() if self.claims(cid)]
        for o in mine:
            key = (o.venue, o.symbol, o.position_side)
            if key in live and o.client_id in current:
                continue
            if key in venue_legs and key not in live and o.client_id in current:
                continue  # our books still hold it, the venue not: a fill on its way; the next run decides
            self.placer.cancel(v, o.symbol, o.client_id, "its position is gone", ts)
            self.orphans_cancelled_total += 1
        for key in [k for k, g in self.legs.items() if k[0] == v.name and k not in venue_legs]:
            if not self.legs[key].open_ids() and not self.legs[key].pending():
                del self.legs[key]

    def _check(self, v: Venue, leg: Leg, open_now: dict[str, TriggerOrder], ts: int, ctx: StrategyContext) -> None:
        g = self.legs.get(leg.key)
        if g is not None and (g.pending() or g.closing):
            return  # its fill is on the way (or the position is being closed): nothing to repair
        ours = [open_now[cid] for cid in (g.orders if g else {}) if cid in open_now]
        found = problems(leg, ours)
        if not found:
            return
        self.missing_total += 1
        version = g.version if g is not None else 0
        detail = f"{leg.venue} {leg.symbol} {leg.position_side.value} qty={leg.qty}: {', '.join(found)}"
        self.log.warning("[risk] STOP_VALIDATOR %s -> repairing", detail)
        ctx.alert(
            f"stop_validator:{leg.venue}:{leg.symbol}:{leg.position_side.value}:{leg.intent_id}:{version}",
            ts,
            "stop_validator",
            f"STOP VALIDATOR: {detail}; repairing",
            venue=leg.venue,
            symbol=leg.symbol,
        )
        if g is None or g.intent_id != leg.intent_id:
            g = self.legs[leg.key] = LegProtection(leg.venue, leg.symbol, leg.position_side, leg.intent_id)
        for cid in list(g.orders):
            if cid not in open_now and not g.orders[cid].status.is_open:
                del g.orders[cid]  # final on the venue: replaced below
        if self.placer.replace(g, leg, ts, ctx, "validator"):
            self.repaired_total += 1

    def _refresh(self, v: Venue, open_now: dict[str, TriggerOrder]) -> None:
        """Orders we placed that are no longer open: ask the venue what became of them."""
        for g in self.legs.values():
            if g.venue != v.name:
                continue
            for cid, o in list(g.orders.items()):
                if not o.status.is_open or cid in open_now:
                    continue
                try:
                    now = v.get_trigger(g.symbol, cid)
                except VenueError:
                    continue
                if now is None:
                    del g.orders[cid]
                else:
                    g.orders[cid] = now

    # ------------------------------------------------------------------------------------------
    # a protective order the venue refused twice (placing and cancelling: ProtectivePlacer)
    def _unplaceable(
        self, g: LegProtection, req: TriggerRequest, err: VenueError | None, ts: int, ctx: StrategyContext
    ) -> None:
        """Refused twice: a position that cannot be protected is closed, and that is an incident."""
        self.unplaceable_total += 1
        code = err.code if err else "-"
        detail = (
            f"{g.venue} {g.symbol} {g.position_side.value}: protective {req.kind} refused {PLACE_TRIES}x "
            f"(code={code} {err.message if err else ''}); closing the position"
        )
        self.log.error("[risk] STOP_UNPLACEABLE %s", detail)
        ctx.journal(
            "incidents",
            {
                "id": f"stop_unplaceable:{g.venue}:{g.symbol}:{g.position_side.value}:{g.intent_id}:{g.version}",
                "ts": ts,
                "kind": "stop_unplaceable",
                "venue": g.venue,
                "symbol": g.symbol,
                "position_side": g.position_side.value,
                "code": code,
                "detail": detail,
            },
        )
        ctx.alert(
            f"stop_unplaceable:{g.venue}:{g.symbol}:{g.position_side.value}:{g.intent_id}",
            ts,
            "stop_unplaceable",
            f"PROTECTIVE ORDER REFUSED: {detail}",
            venue=g.venue,
            symbol=g.symbol,
        )
        if not g.closing and self.owner is not None:
            g.closing = True
            self.owner.close_position(g.venue, g.symbol, g.position_side, "stop_unplaceable", ts, ctx)

    # ------------------------------------------------------------------------------------------
    def _leg(self, v: Venue, key: PositionKey, qty: Decimal, levels: tuple[float, float], intent_id: str) -> Leg:
        f = v.filters(key[1])
        side = key[2].closing_side
        stop, take = (round_price(Decimal(repr(x)), f, side) for x in levels)
        return Leg(key[0], key[1], key[2], qty, stop, take, intent_id)

    def _owner_legs(self, ctx: StrategyContext) -> dict[PositionKey, Leg]:
        out: dict[PositionKey, Leg] = {}
        if self.owner is None:
            return out
        for venue, symbol, pside, stop, take, intent_id in self.owner.protected_legs():
            v = self.placer.venue(venue)
            qty = ctx.held_by(self.owner.name, venue, symbol, pside)
            if v is not None and qty > 0:
                out[(venue, symbol, pside)] = self._leg(v, (venue, symbol, pside), qty, (stop, take), intent_id)
        return out

    # ------------------------------------------------------------------------------------------
    # state
    def status(self) -> dict:
        return {
            "active": self.enabled,
            "stop_validator_missing_total": self.missing_total,
            "stop_validator_repaired_total": self.repaired_total,
            "orphans_cancelled_total": self.orphans_cancelled_total,
            "unplaceable_total": self.unplaceable_total,
            "validations": self.validations,
            "protected_legs": sum(1 for g in self.legs.values() if g.open_ids()),
            "last_validation_ms": self.last_validation_ms,
        }

    def snapshot(self) -> dict:
        return {
            "legs": [g.to_doc() for g in self.legs.values()],
            "claimed": dict(list(self.claimed.items())[-CLAIMS_KEPT:]),
            "counters": {
                "missing": self.missing_total,
                "repaired": self.repaired_total,
                "orphans_cancelled": self.orphans_cancelled_total,
                "unplaceable": self.unplaceable_total,
            },
        }

    def restore(self, snap: dict) -> None:
        self.legs.clear()  # in place: the placer shares both
        self.legs.update({g.key: g for g in (LegProtection.from_doc(d) for d in snap.get("legs", []))})
        self.claimed.clear()
        self.claimed.update(dict(snap.get("claimed", {})))
        c = snap.get("counters", {})
        self.missing_total = int(c.get("missing", 0))
        self.repaired_total = int(c.get("repaired", 0))
        self.orphans_cancelled_total = int(c.get("orphans_cancelled", 0))
        self.unplaceable_total = int(c.get("unplaceable", 0))
        for g in self.legs.values():  # fills of orders an earlier process placed are reported again
            v = self.venues.get(g.venue)
            if v is not None:
                for cid in g.orders:
                    v.track_trigger(cid, f"{g.intent_id}:protect")
