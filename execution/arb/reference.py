"""Reference data of the pair symbols and the health of both venues, cached.

A live venue answers these over HTTP, so they are read at a bounded rate (`health_refresh_ms`
in event time) and never on the hot path after the first evaluation: filters, fee rates (the
configured ones win in `fee_mode: manual`), clock skew, position mode, margin type, leverage and
the next funding. Preflight reads `health` and `accounts`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from execution.arb import preflight as pf
from execution.arb.config import ArbConfig
from execution.arb.market_books import PairState
from execution.exchanges.base import Venue
from execution.exchanges.errors import describe
from execution.models import FeeSchedule, SymbolFilters


class VenueReference:
    def __init__(self, cfg: ArbConfig, venues: Mapping[str, Venue]):
        self.cfg = cfg
        self.venues = venues
        self.health: dict[str, pf.VenueHealth] = {v: pf.VenueHealth() for v in cfg.venues}
        self.accounts: dict[tuple[str, str], pf.AccountState] = {}
        self.filters_cache: dict[tuple[str, str], SymbolFilters] = {}
        self.fees_cache: dict[tuple[str, str], FeeSchedule] = {}
        self.last_refresh = 0
        self.refreshed = False

    def filters(self, venue: str, symbol: str) -> SymbolFilters:
        key = (venue, symbol)
        f = self.filters_cache.get(key)
        if f is None:
            f = self.filters_cache[key] = self.venues[venue].filters(symbol)
        return f

    def filters_or_none(self, venue: str, symbol: str) -> SymbolFilters | None:
        try:
            return self.filters(venue, symbol)
        except Exception:  # noqa: BLE001 - no filters yet (paper derives them on first data)
            return None

    def fees(self, venue: str, symbol: str) -> FeeSchedule:
        manual = self.cfg.fees_for(venue)
        if manual is not None:
            return manual
        key = (venue, symbol)
        f = self.fees_cache.get(key)
        if f is None:
            f = self.fees_cache[key] = self.venues[venue].fees(symbol)
        return f

    def due(self, now: int) -> bool:
        return not self.refreshed or now - self.last_refresh >= self.cfg.health_refresh_ms

    def refresh(
        self, now: int, pairs: Iterable[PairState], funding: dict[tuple[str, str], tuple[Decimal, int]]
    ) -> None:
        """Re-read clock skew, position mode, margin type, leverage, filters, fees and funding."""
        self.last_refresh = now
        self.refreshed = True
        for venue_name in self.cfg.venues:
            venue = self.venues[venue_name]
            h = self.health[venue_name]
            h.checked_ts = now
            try:
                h.skew_ms = float(venue.server_time_ms() - now)
                h.connected, h.error = True, ""
            except Exception as exc:  # noqa: BLE001 - any failure means: not usable now
                h.connected, h.error = False, describe(exc)
                continue
            try:
                dual = venue.is_dual_side()
            except Exception as exc:  # noqa: BLE001
                dual, err = None, describe(exc)
            else:
                err = ""
            for ps in pairs:
                symbol = ps.cfg.symbols[venue_name]
                acc = self.accounts.setdefault((venue_name, symbol), pf.AccountState())
                acc.checked_ts, acc.error, acc.dual_side = now, err, dual
                try:
                    acc.margin_type = venue.margin_type(symbol)
                    acc.leverage = venue.leverage(symbol)
                    self.filters_cache[(venue_name, symbol)] = venue.filters(symbol)
                    if self.cfg.fee_mode == "auto":
                        self.fees_cache[(venue_name, symbol)] = venue.fees(symbol)
                    fi = venue.funding(symbol)
                    if fi.next_funding_time_ms > 0:
                        funding[(venue_name, symbol)] = (fi.funding_rate, fi.next_funding_time_ms)
                except Exception as exc:  # noqa: BLE001
                    acc.error = describe(exc)
