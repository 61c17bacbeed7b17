"""What the REST venue adapters (Binance USD-M, OKX) do the same way, written once.

Filters cached with a lifetime (and refreshed at most once a minute for an instrument listed
since), fee rates from the venue with the configured rates as the fallback, fills booked from
order snapshots by the fill tracker, and the rule after an unknown outcome: ask the venue by
client order id, never send again. Subclasses supply the venue-specific calls.
"""

from __future__ import annotations

from execution import clock
from execution.exchanges.base import Venue
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    RateLimited,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
)
from execution.models import FeeSchedule, Fill, Order, OrderRequest, SymbolFilters

FILTERS_RETRY_UNKNOWN_MS = 60_000


class RestVenue(Venue):
    """Subclasses set: name, log, config_fees, reconcile_delays_s, _sleep, _tracker, _filters,
    _filters_ms, _filters_ttl_ms, _fees; and implement refresh_filters, _fetch_fees,
    _unknown_symbol and get_order."""

    def _fetch_fees(self, symbol: str) -> FeeSchedule:
        raise NotImplementedError

    def _unknown_symbol(self, symbol: str) -> VenueError:
        raise NotImplementedError

    def refresh_filters(self) -> dict[str, SymbolFilters]:
        raise NotImplementedError

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
            raise self._unknown_symbol(symbol) from None

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

    def _reconcile(self, request: OrderRequest, cause: UnknownOutcome) -> Order:
        """After an unknown outcome: ask the venue by client order id; never resend."""
        cid = request.client_order_id
        self.log.error(
            "[executor] ORDER_ERR code=%s %s %s cid=%s outcome unknown (%s); querying by client order id",
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
            except (VenueUnavailable, UnknownOutcome, RateLimited):
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

    def drain_fills(self) -> list[Fill]:
        return self._tracker.drain()
