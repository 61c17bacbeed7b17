"""The order router: intent in, one order out to its venue, tracked until it is final.

Every order leaves here, so the order-rate breaker, HOLD (no new risk; reduce-only still goes),
the `[executor] INTENT|SEND_ORDER|ORDER_REQ|ORDER_ACK|ORDER_ERR` lines and the rule for an
unknown outcome (keep it in flight, ask the venue by client order id, never send again) are
written once. Fills are not booked here: the engine drains the venues.

An intent is carried out completely (execution/order_plan.py): above the venue's market max
quantity it goes as several children, a partially filled market order's remainder is sent again
(at most `remainder_retries` times, then reported), and an entry refused for margin or a
position limit is halved and sent again (at most `cutback_max` times, never below the minimum
quantity or notional) with an ops alert. Every order has its own client order id derived from
the intent (a single order keeps the plain one).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from decimal import Decimal
from time import perf_counter
from typing import Any

from execution import ids, logs
from execution.control import ControlState
from execution.exchanges.base import Venue
from execution.exchanges.errors import InsufficientMargin, PositionLimitExceeded, UnknownOutcome, VenueError
from execution.metrics_hooks import MetricsHooks, NullMetrics
from execution.models import Intent, Order, OrderRequest, OrderStatus, OrderType
from execution.order_plan import cut_back, remainder, split_quantity
from execution.risk import RateWindow
from execution.trades import InFlight

REJECTED_STATUSES = (OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.CANCELED)
Trip = Callable[[str, str, int], None]
Alert = Callable[..., None]  # (alert_id, ts, kind, text, **fields): Alerting.alert


class OrderRouter:
    def __init__(
        self,
        venues: Mapping[str, Venue],
        control_state: ControlState,
        trip: Trip,
        *,
        max_orders_per_min: int,
        max_cancels_per_min: int,
        in_flight: dict[str, InFlight] | None = None,
        orders_sent: int = 0,
        orders_rejected: int = 0,
        remainder_retries: int = 2,
        cutback_max: int = 3,
        alert: Alert | None = None,
        metrics: MetricsHooks | None = None,
    ):
        self.venues = venues
        self.control = control_state
        self.trip = trip
        self.max_orders_per_min = max_orders_per_min
        self.order_rate = RateWindow(max_orders_per_min)
        self.cancel_rate = RateWindow(max_cancels_per_min)
        self.in_flight: dict[str, InFlight] = in_flight if in_flight is not None else {}
        self.orders_sent = orders_sent
        self.orders_rejected = orders_rejected
        self.remainder_retries = remainder_retries
        self.cutback_max = cutback_max
        self.alert = alert
        self.metrics: MetricsHooks = metrics or NullMetrics()
        self.log = logs.get()

    # ------------------------------------------------------------------------------------------
    def working_on(self, venue: str, symbol: str) -> bool:
        """An order of ours on this symbol is not final yet (nothing new may be decided on it)."""
        return any(f.request.symbol == symbol and f.request.venue == venue for f in self.in_flight.values())

    def submit(
        self,
        intent: Intent,
        purpose: str,
        owner: str,
        leverage: int | None = None,
        vet: Callable[[Intent], str | None] | None = None,
    ) -> str | None:
        """Send an intent as MARKET order(s); the first client order id, or None if nothing was sent.
        `vet` (the guards) may refuse an order that adds risk; reduce-only orders always go."""
        venue = self.venues[intent.venue]
        self._log_intent(intent)
        if not intent.reduce_only:
            if self.control.holding:
                self.log.info("[risk] refused %s: HOLD (%s)", intent.intent_id, self.control.reason)
                return None
            refusal = vet(intent) if vet is not None else None
            if refusal:
                self.log.info("[risk] refused %s by guard %s", intent.intent_id, refusal)
                return None
        meta = dict(intent.meta)
        if leverage:
            meta["leverage"] = leverage
        children = split_quantity(intent.quantity, venue.filters(intent.symbol))
        if len(children) > 1:
            self.log.info(
                "[executor] SPLIT %s qty=%s into %d orders of at most %s (the venue's market max)",
                intent.intent_id,
                intent.quantity,
                len(children),
                max(children),
            )
        first = None
        for i, qty in enumerate(children):
            leg = "a" if len(children) == 1 else f"a{i + 1}"
            cid = self._send(venue, intent, qty, leg, purpose, owner, meta)
            first = first or cid
        return first

    def _send(
        self,
        venue: Venue,
        intent: Intent,
        qty: Decimal,
        leg: str,
        purpose: str,
        owner: str,
        meta: dict[str, Any],
        attempt: int = 0,
    ) -> str | None:
        """One order of an intent; a margin / position-limit refusal of an entry is cut back."""
        if not self.order_rate.allow(intent.ts):
            detail = f"order {intent.intent_id} would exceed MAX_ORDERS_PER_MIN {self.max_orders_per_min}"
            self.log.warning("[risk] refused %s", detail)
            self.trip("order_rate", detail, intent.ts)
            return None
        cid = ids.client_order_id(intent.intent_id, leg, attempt)
        req = OrderRequest(
            venue=intent.venue,
            symbol=intent.symbol,
            side=intent.side,
            position_side=intent.position_side,
            order_type=OrderType.MARKET,
            quantity=qty,
            client_order_id=cid,
            intent_id=intent.intent_id,
            reduce_only=intent.reduce_only,
        )
        self._log_send(req)
        self.orders_sent += 1
        metrics = self.metrics
        metrics.on_order_sent(req.venue)
        t0 = perf_counter()
        try:
            order = venue.place_order(req)
        except UnknownOutcome as exc:
            self.log.error(
                "[executor] [ORDER_ERR] %s %s code=%s %s %s cid=%s outcome unknown: %s",
                exc.endpoint or venue.order_endpoint or req.venue,
                exc.http_status or "-",
                exc.code,
                req.venue,
                req.symbol,
                cid,
                exc.message,
            )
            self.in_flight[cid] = InFlight(
                req, purpose, intent.ts, dict(meta), unknown=True, owner=owner, ref_price=intent.ref_price
            )
            return cid
        except VenueError as exc:
            metrics.on_order_answer(req.venue, perf_counter() - t0)
            metrics.on_order_rejected(req.venue, exc)
            self.orders_rejected += 1
            self.log.error(
                "[executor] [ORDER_ERR] %s %s code=%s %s %s %s positionSide=%s qty=%s cid=%s: %s",
                exc.endpoint or venue.order_endpoint or req.venue,
                exc.http_status or "-",
                exc.code,
                req.venue,
                req.symbol,
                req.side.value,
                req.position_side.value,
                req.quantity,
                cid,
                exc.message,
            )
            if isinstance(exc, (InsufficientMargin, PositionLimitExceeded)) and not intent.reduce_only:
                return self._cut_back(venue, intent, qty, leg, purpose, owner, meta, attempt, exc)
            return None
        metrics.on_order_answer(req.venue, perf_counter() - t0)
        self._log_answer(req, order, venue.order_endpoint or req.venue)
        self.log.info(
            "[executor] ORDER_ACK %s %s cid=%s status=%s orderId=%s",
            req.venue,
            req.symbol,
            cid,
            order.status.value,
            order.venue_order_id,
        )
        if order.status in REJECTED_STATUSES and order.filled_qty <= 0:
            metrics.on_order_rejected(req.venue, order.status.value)
            self.orders_rejected += 1
            self.log.error(
                "[executor] [ORDER_ERR] %s %s code=%s %s %s cid=%s status=%s: %s",
                order.endpoint or venue.order_endpoint or req.venue,
                order.http_status or "-",
                order.reject_code or "-",
                req.venue,
                req.symbol,
                cid,
                order.status.value,
                order.reject_reason,
            )
            return None
        self.in_flight[cid] = InFlight(req, purpose, intent.ts, dict(meta), owner=owner, ref_price=intent.ref_price)
        return cid

    def _cut_back(
        self,
        venue: Venue,
        intent: Intent,
        qty: Decimal,
        leg: str,
        purpose: str,
        owner: str,
        meta: dict[str, Any],
        attempt: int,
        exc: VenueError,
    ) -> str | None:
        """The runbook's venue auto size-cutback: half the size, at most `cutback_max` times."""
        if attempt >= self.cutback_max:
            return None
        smaller = cut_back(qty, venue.filters(intent.symbol), intent.ref_price)
        text = (
            f"SIZE CUT-BACK {intent.venue} {intent.symbol} {intent.intent_id}: code={exc.code} {exc.message}; "
            f"{qty} -> {smaller if smaller else 'nothing smaller allowed (min qty / notional)'}"
        )
        self.log.warning("[risk] %s", text)
        if self.alert is not None:
            self.alert(f"cutback:{intent.intent_id}:{leg}:{attempt}", intent.ts, "size_cutback", text)
        if not smaller:
            return None
        return self._send(venue, intent, smaller, leg, purpose, owner, meta, attempt + 1)

    def settle(self, cid: str) -> InFlight | None:
        """After a fill of `cid`: drop it from the in-flight set once the venue says it is final;
        what a final market order left unfilled is sent again (`remainder_retries`), then reported."""
        flight = self.in_flight.get(cid)
        if flight is not None:
            order = self.venues[flight.request.venue].get_order(flight.request.symbol, cid)
            if order is None or order.status.is_final:
                del self.in_flight[cid]
                if order is not None:
                    self._remainder(flight, order)
        return flight

    def _remainder(self, flight: InFlight, order: Order) -> None:
        req = flight.request
        venue = self.venues[req.venue]
        left = remainder(req.quantity, order.filled_qty, venue.filters(req.symbol))
        if order.filled_qty <= 0 or left <= 0 or req.order_type is not OrderType.MARKET:
            return
        tries = int(flight.meta.get("remainder_try", 0))
        intent = Intent(
            intent_id=req.intent_id,
            ts=flight.sent_ts,
            venue=req.venue,
            symbol=req.symbol,
            side=req.side,
            position_side=req.position_side,
            reason=flight.purpose,
            quantity=left,
            ref_price=order.avg_price,
            reduce_only=req.reduce_only,
        )
        held = self.control.holding and not req.reduce_only
        if tries >= self.remainder_retries or held:
            text = (
                f"REMAINDER UNFILLED {req.venue} {req.symbol} {req.side.value} positionSide={req.position_side.value} "
                f"{left} of {req.quantity} (cid={req.client_order_id}) after {tries} retr{'y' if tries == 1 else 'ies'}"
                f"{' (HOLD: no new risk)' if held else ''}"
            )
            self.log.error("[executor] [ORDER_ERR] code=REMAINDER %s", text)
            if self.alert is not None:
                self.alert(f"remainder:{req.client_order_id}", flight.sent_ts, "remainder_unfilled", text)
            return
        self.log.warning(
            "[executor] REMAINDER %s %s cid=%s status=%s filled=%s/%s: sending %s again (%d/%d)",
            req.venue,
            req.symbol,
            req.client_order_id,
            order.status.value,
            order.filled_qty,
            req.quantity,
            left,
            tries + 1,
            self.remainder_retries,
        )
        meta = dict(flight.meta, remainder_try=tries + 1)
        self._send(venue, intent, left, f"{req.client_order_id}:r{tries + 1}", flight.purpose, flight.owner, meta)

    def cancel_entries(self, ts: int) -> None:
        """Cancel every resting order that would add risk (kill / flatten), within the cancel rate."""
        for cid, flight in list(self.in_flight.items()):
            if flight.request.reduce_only:
                continue
            venue = self.venues[flight.request.venue]
            if not self.cancel_rate.allow(ts):
                self.trip("cancel_rate", f"cancel of {cid} would exceed MAX_CANCELS_PER_MIN", ts)
                break
            try:
                venue.cancel_order(flight.request.symbol, cid)
                del self.in_flight[cid]
            except VenueError as exc:
                self.log.error("[executor] [ORDER_ERR] code=%s cancel %s: %s", exc.code, cid, exc.message)

    def closing(self) -> bool:
        return any(f.request.reduce_only for f in self.in_flight.values())

    # ------------------------------------------------------------------------------------------
    # unknown outcomes
    def unknown_venues(self) -> list[str]:
        return sorted({f.request.venue for f in self.in_flight.values() if f.unknown})

    def resolve_unknown(self, venue_name: str) -> None:
        """Ask the venue about every order of ours on it whose outcome is unknown."""
        venue = self.venues[venue_name]
        for cid, flight in list(self.in_flight.items()):
            if flight.unknown and flight.request.venue == venue_name:
                self._resolve(venue, cid, flight)

    def _resolve(self, venue: Venue, cid: str, flight: InFlight) -> None:
        try:
            order = venue.get_order(flight.request.symbol, cid)
        except VenueError as exc:
            self.log.error("[executor] [ORDER_ERR] code=%s query %s: %s", exc.code, cid, exc.message)
            return
        if order is None:
            self.log.warning("[state] RECONCILE %s never reached %s: safe to decide again", cid, venue.name)
            del self.in_flight[cid]
            return
        flight.unknown = False
        self.log.info(
            "[state] RECONCILE %s found on %s: status=%s filled=%s",
            cid,
            venue.name,
            order.status.value,
            order.filled_qty,
        )
        if order.status.is_final and order.filled_qty == 0:
            del self.in_flight[cid]

    # ------------------------------------------------------------------------------------------
    def _log_intent(self, intent: Intent) -> None:
        self.log.info(
            "[executor] INTENT %s",
            json.dumps(
                {
                    "intent_id": intent.intent_id,
                    "venue": intent.venue,
                    "symbol": intent.symbol,
                    "side": intent.side.value,
                    "position_side": intent.position_side.value,
                    "reason": intent.reason,
                    "qty": str(intent.quantity),
                    "ref_price": str(intent.ref_price),
                    "reduce_only": intent.reduce_only,
                },
                separators=(",", ":"),
            ),
        )

    def _log_send(self, req: OrderRequest) -> None:
        self.log.info(
            "[executor] SEND_ORDER %s %s %s positionSide=%s qty=%s type=%s reduceOnly=%s cid=%s",
            req.venue,
            req.symbol,
            req.side.value,
            req.position_side.value,
            req.quantity,
            req.order_type.value,
            req.reduce_only,
            req.client_order_id,
        )

    def _log_answer(self, req: OrderRequest, order: Order, default_endpoint: str) -> None:
        """`ORDER_REQ <endpoint> <http status> {...}` once the venue answered, as the fund's runbook
        greps it (`ORDER_REQ /fapi/v1/order 200`); a simulator names itself and has no HTTP status."""
        self.log.info(
            "[executor] ORDER_REQ %s %s %s",
            order.endpoint or default_endpoint,
            order.http_status or "-",
            json.dumps(
                {
                    "venue": req.venue,
                    "symbol": req.symbol,
                    "side": req.side.value,
                    "positionSide": req.position_side.value,
                    "type": req.order_type.value,
                    "quantity": str(req.quantity),
                    "newClientOrderId": req.client_order_id,
                    "intent_id": req.intent_id,
                    "status": order.status.value,
                    "orderId": order.venue_order_id,
                    "executedQty": str(order.filled_qty),
                    "avgPrice": str(order.avg_price),
                },
                separators=(",", ":"),
            ),
        )
