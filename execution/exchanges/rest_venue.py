"""What the REST venue adapters (Binance USD-M, OKX) do the same way, written once.

The call loop: throttle -> invoke -> classify -> on a clock-skew answer resync the offset once
and retry -> on a rate limit back off (the venue's wait, else the throttler's own) -> an answer
lost after sending is an unknown outcome, a read that failed is only "unavailable". The order
rules: hedge mode names the position side and never sends reduce-only (only a known one-way
account sends reduce-only closes); after an unknown outcome the venue is asked by client order
id, never sent the order again; a duplicated client id reports the order that exists. Filters
cached with a lifetime, fee rates from the venue with the configured rates as the fallback,
fills booked once from order snapshots by the fill tracker.

An adapter supplies only what is its venue's: how to invoke its client library, how to read
its answers and errors, its symbols and sizes (the abstract hooks below, and the Venue calls
that are plain reads).
"""

from __future__ import annotations

import time
from abc import abstractmethod
from collections.abc import Callable
from decimal import Decimal
from typing import Any, NamedTuple

from execution import clock, logs
from execution.exchanges.base import Venue
from execution.exchanges.clock_sync import ClockOffset
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    MalformedAnswer,
    OrderNotFound,
    RateLimited,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
)
from execution.exchanges.fill_tracker import FillTracker
from execution.exchanges.throttle import Throttler
from execution.margin import MarginSchedule
from execution.models import (
    FeeSchedule,
    Fill,
    Listing,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
    SymbolFilters,
    TimeInForce,
)
from execution.triggers import TriggerOrder, TriggerRequest

FILTERS_RETRY_UNKNOWN_MS = 60_000
NO_FEES = FeeSchedule(Decimal(0), Decimal(0))


class Lost(NamedTuple):
    """A request that got no answer: did it time out, and may it have reached the venue?"""

    timed_out: bool
    may_have_arrived: bool


def is_post_only(request: OrderRequest) -> bool:
    return request.order_type is OrderType.LIMIT and request.time_in_force is TimeInForce.POST_ONLY


def can_rest(request: OrderRequest) -> bool:
    """A LIMIT order that is not IOC/FOK may rest on the book (and then fills as maker)."""
    return request.order_type is OrderType.LIMIT and request.time_in_force not in (TimeInForce.IOC, TimeInForce.FOK)


class RestVenue(Venue):
    """Template of a REST venue adapter; see the module docstring for what it does once."""

    is_exchange = True
    #: venue codes (as text) of "this client order id exists already": report the existing order
    DUPLICATE_ID_CODES: frozenset[str] = frozenset()
    #: venue codes of "post-only order would have crossed": the order is EXPIRED, not an error
    POST_ONLY_CROSSED_CODES: frozenset[str] = frozenset()

    def __init__(
        self,
        *,
        safe_mode: bool,
        config_fees: FeeSchedule | None,
        throttler: Throttler,
        reconcile_delays_s: tuple[float, ...],
        sleep: Callable[[float], None] | None,
        filters_ttl_ms: int,
        secrets: tuple[str, ...],
    ):
        self.safe_mode = safe_mode
        self.config_fees = config_fees
        self.throttle = throttler
        self.clock = ClockOffset()
        self._clock_synced = False
        self.reconcile_delays_s = reconcile_delays_s
        self._sleep = sleep or time.sleep
        self._secrets = tuple(s for s in secrets if s)
        logs.register_secrets(*self._secrets)  # every error text of this process is redacted of them
        self.log = logs.get()
        self._filters: Listing = Listing()
        self._filters_ms = 0
        self._filters_ttl_ms = filters_ttl_ms
        self._fees: dict[str, FeeSchedule] = {}
        self._tiers: dict[str, tuple[int, MarginSchedule]] = {}  # symbol -> (read at, tiers)
        self._tiers_failed: dict[str, int] = {}  # symbol -> when a read last failed
        self._dual_side: bool | None = None  # hedge (dual-side / long_short) mode; None until asked
        self._tracker = FillTracker(self.name)

    # -- venue-specific hooks ------------------------------------------------------------------
    @abstractmethod
    def _invoke(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Call the client library once: return what the call yields (the parts of the answer the
        adapter's callers read), or raise the typed VenueError an answer carries (python-okx hands
        error payloads back as data: `code` and every `sCode` checked here). Exceptions the library
        raises propagate unchanged: `_lost_request` and `_library_error` read them."""

    @abstractmethod
    def _lost_request(self, exc: Exception) -> Lost | None:
        """For a network failure of the library (timeout, disconnect): whether it timed out and
        whether the request may have reached the venue (False only when no connection was made).
        None when `exc` is not a network failure."""

    @abstractmethod
    def _library_error(self, exc: Exception) -> VenueError | None:
        """The typed error of an error answer the library raised as an exception (an HTTP error,
        a body that is not JSON). None when `exc` is not the library's: it then propagates."""

    @abstractmethod
    def _time_request(self) -> tuple[str, Callable[..., Any]]:
        """(throttler endpoint, client function) of the venue's unsigned server-time request."""

    @abstractmethod
    def _server_ms(self, result: Any) -> int:
        """The venue's epoch-ms time in the result of `_time_request`'s call."""

    @abstractmethod
    def _use_clock_offset(self, offset_ms: float) -> None:
        """Make the client library stamp signed requests with local time + `offset_ms`."""

    @abstractmethod
    def _fetch_filters(self) -> Listing:
        """Every tradable instrument's filters, in base units, from the venue."""

    def _fetch_margin_tiers(self, symbol: str) -> dict[str, MarginSchedule]:
        """The maintenance-margin tiers of `symbol` (and of any other instrument the same answer
        covers); {} for a venue that publishes none. May raise a VenueError or ValueError:
        `margin_tiers` then keeps what it had."""
        return {}

    @abstractmethod
    def _fetch_fees(self, symbol: str) -> FeeSchedule:
        """The account's maker/taker rates on `symbol` (positive = paid). May raise a VenueError
        or ValueError: `fees` then falls back to the configured rates."""

    @abstractmethod
    def _unknown_symbol(self, symbol: str) -> VenueError:
        """The error the venue would answer for an instrument it does not list."""

    @abstractmethod
    def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        """The venue's parameters for placing `request` (sizes, position side and reduce-only from
        `_position_fields`). Raises a VenueError for a request the venue cannot take, before
        anything is sent."""

    @abstractmethod
    def _safe_mode_refusal(self, request: OrderRequest, body: dict[str, Any]) -> SafeModeRefused:
        """SAFE_MODE is on: log the order that was not sent and return the refusal to raise. A
        venue with a test-order endpoint validates `body` there first (its errors propagate)."""

    @abstractmethod
    def _submit(self, body: dict[str, Any]) -> Any:
        """Send the order: one `_call(..., mutating=True)` of the venue's place-order request."""

    @abstractmethod
    def _placed(self, request: OrderRequest, answer: Any) -> Order:
        """The order after the venue accepted it, from `_submit`'s answer (querying the venue when
        the answer carries no state), passed through `_observe` so its fills are booked."""

    @abstractmethod
    def _fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        """The order by client order id, passed through `_observe`. Raises OrderNotFound (or returns
        None) when the venue does not know the id."""

    @abstractmethod
    def _arm_countdown(self, symbol: str, timeout_ms: int) -> None:
        """Arm (0: disarm) the venue's cancel-all-after timer; `timeout_ms` >= 0."""

    def venue_now_ms(self) -> int:
        """The venue's clock now (local time + the measured offset): history windows are in its time."""
        return self.clock.venue_time(clock.wall_ms())

    # -- the call loop -------------------------------------------------------------------------
    def _call(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        *args: Any,
        mutating: bool = False,
        signed: bool = True,
        **kwargs: Any,
    ) -> Any:
        """One venue request through the throttler; returns `_invoke`'s result or raises the typed
        error. `mutating`: the request may change something on the venue, so an answer lost after
        sending is an UnknownOutcome (a read is only VenueUnavailable). -1021/50102 resync the
        clock and retry once; a rate limit backs the throttler off before it is raised."""
        if signed and not self._clock_synced:
            self.sync_clock()
        for attempt in (0, 1):
            self.throttle.acquire(endpoint)
            try:
                result = self._invoke(fn, args, kwargs)
            except VenueError as err:
                error = err
            except Exception as exc:  # noqa: BLE001 - the adapter's hooks classify it; anything else re-raised
                error = self._failure(endpoint, exc, mutating)
            else:
                self.throttle.on_success()
                return result
            if isinstance(error, ClockSkew) and attempt == 0:
                offset = self.sync_clock()
                self.log.warning(
                    "[executor] CLOCK %s code=%s on %s: resynced offset %.0fms, retrying once",
                    self.name,
                    error.code,
                    endpoint,
                    offset,
                )
                continue
            raise self._settled(error, mutating) from None
        raise AssertionError("unreachable")

    def _failure(self, endpoint: str, exc: Exception, mutating: bool) -> VenueError:
        lost = self._lost_request(exc)
        if lost is not None:
            kind = "TIMEOUT" if lost.timed_out else "DISCONNECTED"
            detail = logs.redact(f"{endpoint}: {type(exc).__name__}", self._secrets)
            if mutating and lost.may_have_arrived:
                return UnknownOutcome(self.name, kind, f"{detail}; the venue may have acted")
            return VenueUnavailable(self.name, kind, detail)
        error = self._library_error(exc)
        if error is None:
            raise exc
        return error

    def _settled(self, error: VenueError, mutating: bool) -> VenueError:
        """The error as raised: a rate limit backs the throttler off first; an unknown outcome of
        a read is a refusal (a read changes nothing)."""
        if isinstance(error, RateLimited):
            waited = self.throttle.on_rate_limited(error.venue_wait_s)
            error.retry_after_s = max(error.retry_after_s, waited)
            self.log.warning(
                "[executor] RATE_LIMIT %s code=%s: backing off %.1fs", self.name, error.code, error.retry_after_s
            )
        elif isinstance(error, UnknownOutcome) and not mutating:
            return VenueUnavailable(self.name, error.code, error.message)
        return error

    def sync_clock(self, samples: int = 5) -> float:
        """Resync the offset to the venue's clock from `samples` round trips; returns it in ms.
        A sample's send time is taken after the throttler's wait, when the request leaves."""
        endpoint, fetch = self._time_request()

        def sample() -> tuple[float, float, float]:
            sent: list[float] = []

            def timed(*args: Any, **kwargs: Any) -> Any:
                sent.append(clock.wall_ms())
                return fetch(*args, **kwargs)

            server = self._server_ms(self._call(endpoint, timed, signed=False))
            return sent[-1], float(server), clock.wall_ms()

        offset = self.clock.resync(sample, n=samples)
        self._use_clock_offset(offset)
        self._clock_synced = True
        return offset

    def server_time_ms(self) -> int:
        endpoint, fetch = self._time_request()
        return self._server_ms(self._call(endpoint, fetch, signed=False))

    # -- reference data ------------------------------------------------------------------------
    def refresh_filters(self) -> Listing:
        listing = self._fetch_filters()
        if listing.skipped:
            first, why = next(iter(listing.skipped.items()))
            self.log.warning(
                "[executor] %s listing: %d instrument(s) did not read and are left out (first: %s: %s)",
                self.name,
                len(listing.skipped),
                first,
                why[:160],
            )
        self._filters = listing
        self._filters_ms = clock.wall_ms()
        return self._filters

    def filters(self, symbol: str) -> SymbolFilters:
        age = clock.wall_ms() - self._filters_ms
        if (
            not self._filters
            or age > self._filters_ttl_ms
            or (symbol not in self._filters and age > FILTERS_RETRY_UNKNOWN_MS)
        ):
            self.refresh_filters()  # also once a minute at most for an instrument listed since
        try:
            return self._filters[symbol]
        except KeyError:
            why = self._filters.skipped.get(symbol)
            if why is not None:  # listed, but its rules did not read: say so, not "unknown"
                raise MalformedAnswer(self.name, f"filters of {symbol}", why) from None
            raise self._unknown_symbol(symbol) from None

    def margin_tiers(self, symbol: str) -> MarginSchedule | None:
        """Read with the filters' lifetime (re-read after FILTERS_TTL); a failed read is retried
        at most once a minute and leaves the last tiers read (or None: the breaker then uses a
        conservative derived schedule and says so)."""
        now = clock.wall_ms()
        cached = self._tiers.get(symbol)
        if cached is not None and now - cached[0] <= self._filters_ttl_ms:
            return cached[1]
        if now - self._tiers_failed.get(symbol, -FILTERS_RETRY_UNKNOWN_MS) < FILTERS_RETRY_UNKNOWN_MS:
            return cached[1] if cached else None
        try:
            fetched = self._fetch_margin_tiers(symbol)
        except (VenueError, ValueError, KeyError, TypeError) as exc:
            self._tiers_failed[symbol] = now
            self.log.warning(
                "[executor] %s margin tiers of %s not read (%s: %s); %s",
                self.name,
                symbol,
                exc.__class__.__name__,
                str(exc)[:160],
                "keeping the last ones read" if cached else "none known yet",
            )
            return cached[1] if cached else None
        for sym, tiers in fetched.items():
            self._tiers[sym] = (now, tiers)
        cached = self._tiers.get(symbol)
        return cached[1] if cached else None

    def fees(self, symbol: str) -> FeeSchedule:
        cached = self._fees.get(symbol)
        if cached is not None:
            return cached
        try:
            fees = self._fetch_fees(symbol)
        except (AuthError, VenueUnavailable, RateLimited, BadRequest, ValueError) as exc:
            if self.config_fees is None:
                raise
            self.log.warning(
                "[executor] %s %s fee rates unavailable (%s); using config fees",
                self.name,
                symbol,
                getattr(exc, "code", exc),
            )
            return self.config_fees
        self._fees[symbol] = fees
        return fees

    # -- orders --------------------------------------------------------------------------------
    def _position_fields(self, request: OrderRequest) -> tuple[PositionSide | None, bool]:
        """How an order names its position: (position side to send, reduce-only). Hedge mode: the
        position side and never reduce-only (a close is SELL+LONG / BUY+SHORT; Binance rejects
        reduceOnly in hedge mode with -1106). Only when the account is known to be one-way
        (`is_dual_side()` answered False, e.g. for a panic close): no side, reduce-only on closes."""
        if self._dual_side is False:
            return None, request.is_closing or request.reduce_only
        return request.position_side, False

    def _http_status(self) -> int:
        """The HTTP status of the last answer the client library received (0: none)."""
        return 0

    def place_order(self, request: OrderRequest) -> Order:
        """The order as the venue answered it, stamped with the endpoint and the HTTP status of
        the placing request (an error raised carries them too) for the ORDER_REQ/ORDER_ERR lines."""
        body = self._order_body(request)
        if self.safe_mode:
            raise self._safe_mode_refusal(request, body)
        cid = request.client_order_id
        self._tracker.track(cid, request.intent_id, "maker" if is_post_only(request) else "taker")
        try:
            answer = self._submit(body)
        except VenueError as exc:
            lost = isinstance(exc, UnknownOutcome) and exc.code in ("TIMEOUT", "DISCONNECTED")
            exc.endpoint, exc.http_status = self.order_endpoint, 0 if lost else self._http_status()
            if isinstance(exc, UnknownOutcome):
                order = self._reconcile(request, exc)
            elif isinstance(exc, BadRequest):
                order = self._rejected(request, exc)
            else:
                raise
            order.endpoint, order.http_status = exc.endpoint, exc.http_status
            return order
        status = self._http_status()
        try:
            order = self._placed(request, answer)
        except MalformedAnswer as exc:  # accepted, but the answer does not read: ask by client order id
            order = self._reconcile(request, UnknownOutcome(self.name, exc.code, f"order accepted; {exc.message}"))
        order.endpoint, order.http_status = self.order_endpoint, status
        if not order.status.is_final and can_rest(request):
            self._tracker.set_liquidity(cid, "maker")  # what rests on the book now is maker
        return order

    def _rejected(self, request: OrderRequest, exc: BadRequest) -> Order:
        """A rejection that still has an order to report; any other is raised again."""
        if exc.code in self.POST_ONLY_CROSSED_CODES:  # would have matched: expired, like the paper venue
            return Order(
                self.name,
                request.symbol,
                request.client_order_id,
                OrderStatus.EXPIRED,
                request.side,
                request.position_side,
                request.order_type,
                request.quantity,
                price=request.price,
                reject_code=exc.code,
                reject_reason=exc.message,
            )
        if exc.code in self.DUPLICATE_ID_CODES:  # the order exists: report it instead
            found = self.get_order(request.symbol, request.client_order_id)
            if found is not None:
                return found
        raise exc

    def _reconcile(self, request: OrderRequest, cause: UnknownOutcome) -> Order:
        """After an unknown outcome: ask the venue by client order id; never resend."""
        cid = request.client_order_id
        self.log.error(
            "[executor] [ORDER_ERR] code=%s %s %s cid=%s outcome unknown (%s); querying by client order id",
            cause.code,
            self.name,
            request.symbol,
            cid,
            cause.message,
        )
        for delay in self.reconcile_delays_s:
            if delay:
                self._sleep(delay)
            try:
                order = self.get_order(request.symbol, cid)
            except (VenueUnavailable, UnknownOutcome, RateLimited, MalformedAnswer):
                continue
            if order is not None:
                self.log.info(
                    "[executor] RECONCILED %s %s cid=%s status=%s filled=%s",
                    self.name,
                    request.symbol,
                    cid,
                    order.status.value,
                    order.filled_qty,
                )
                return order
        raise UnknownOutcome(
            self.name,
            cause.code,
            f"{cause.message}; not found by client order id after {len(self.reconcile_delays_s)} "
            "queries: keep in flight and reconcile before any resend",
        )

    def _submit_trigger(self, request: TriggerRequest, send: Callable[[], Any]) -> tuple[Any, TriggerOrder | None]:
        """Send a protective order once, tracked first: (the venue's answer, None) when it was
        placed now; (None, the order) when the answer was lost and the venue knows the id, or the
        id was already placed (a retry after a lost answer)."""
        self._tracker.track(request.client_id, request.intent_id)
        try:
            return send(), None
        except UnknownOutcome as exc:
            return None, self._reconcile_trigger(request, exc)
        except BadRequest as exc:
            found = self.get_trigger(request.symbol, request.client_id) if exc.code in self.DUPLICATE_ID_CODES else None
            if found is None:
                raise
            return None, found

    def _reconcile_trigger(self, request: TriggerRequest, cause: UnknownOutcome) -> TriggerOrder:
        """A protective order whose placement answer was lost: ask the venue by its client id,
        never send it again."""
        for delay in self.reconcile_delays_s:
            if delay:
                self._sleep(delay)
            try:
                found = self.get_trigger(request.symbol, request.client_id)
            except (VenueUnavailable, UnknownOutcome, RateLimited, MalformedAnswer):
                continue
            if found is not None:
                return found
        raise UnknownOutcome(self.name, cause.code, f"{cause.message}; algo order {request.client_id} not found")

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        try:
            return self._fetch_order(symbol, client_order_id)
        except OrderNotFound:
            return None

    def _observe(self, order: Order, venue_fee_usdt: Decimal | None = None) -> Order:
        """Every order snapshot passes here: fills of orders this process placed are booked once.
        `venue_fee_usdt`: the cumulative fee the venue reports for the order, when it does."""
        if self._tracker.is_tracked(order.client_order_id):
            fees = self.fees(order.symbol) if order.filled_qty > 0 else NO_FEES
            self._tracker.observe(order, fees, venue_fee_usdt)
        return order

    def drain_fills(self) -> list[Fill]:
        return self._tracker.drain()

    def knows_order(self, venue_order_id: str) -> bool:
        """This process books that venue order's fills itself (see FillTracker.knows)."""
        return self._tracker.knows(venue_order_id)

    def arm_cancel_all_after(self, symbol: str, timeout_ms: int) -> bool:
        if timeout_ms < 0:
            raise ValueError(f"timeout_ms must be >= 0, got {timeout_ms}")
        self._arm_countdown(symbol, timeout_ms)
        return True
