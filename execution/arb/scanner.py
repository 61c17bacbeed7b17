"""The edge scanner of the arbitrage loop: a float pre-screen of both directions on every book
update, and the exact (Decimal) edge only when it could clear `min_edge_bps`.

Pure but for the cached reference data it reads (`VenueReference`): no orders, no I/O on the
hot path. Every refusal leaves its reason on the pair (`PairState.reasons`), which the
`arbitrage` document shows.
"""

from __future__ import annotations

from decimal import Decimal

from execution.arb import preflight as pf
from execution.arb.config import ArbConfig
from execution.arb.edge import Edge, EdgeParams, LegMarket, QuickCosts, best_edge, compute_edge, quick_net_bps
from execution.arb.market_books import PairState, float_to_decimal
from execution.arb.reference import VenueReference
from execution.exchanges.errors import describe
from execution.models import BPS_PER_UNIT

ZERO = Decimal(0)
Funding = dict[tuple[str, str], tuple[Decimal, int]]  # (venue, symbol) -> (rate, next settlement ms)


class EdgeScanner:
    def __init__(self, cfg: ArbConfig, ref: VenueReference, funding: Funding):
        self.cfg = cfg
        self.ref = ref
        self.funding = funding  # shared with the loop, updated in place
        self._quick_costs: dict[str, QuickCosts] = {}

    def quick(self, ps: PairState, now: int) -> float | None:
        """Best net edge of both directions in float (top of book), or None without reference data."""
        costs = self._quick_costs.get(ps.cfg.pair)
        if costs is None:
            a, b = self.leg_market(ps, ps.venue_a), self.leg_market(ps, ps.venue_b)
            if a is None or b is None:
                return None
            fees = float((a.fees.taker_rate + b.fees.taker_rate) * 2 * BPS_PER_UNIT)
            slip = float((a.slippage_bps + b.slippage_bps) * 2)
            costs = self._quick_costs[ps.cfg.pair] = QuickCosts(fees, slip)
        _, a_bid, a_ask, _, _ = ps.books.raw[ps.venue_a]
        _, b_bid, b_ask, _, _ = ps.books.raw[ps.venue_b]
        mean = ps.basis.mean
        fund_ab, fund_ba = self.quick_funding(ps, now)
        q_ab = quick_net_bps(a_bid, a_ask, b_bid, b_ask, mean, costs, fund_ab)
        q_ba = quick_net_bps(b_bid, b_ask, a_bid, a_ask, -mean, costs, fund_ba)
        ps.quick_long_a = q_ab >= q_ba
        q = q_ab if ps.quick_long_a else q_ba
        ps.quick_net_bps = q
        return q

    def quick_funding(self, ps: PairState, now: int) -> tuple[float, float]:
        """Funding bps of the next window for long-a/short-b and the reverse, as the edge counts it."""
        if not self.cfg.funding.include_next_window or not self.funding:
            return 0.0, 0.0
        horizon = now + int(self.cfg.funding.expected_holding_minutes * 60_000)
        ra, na = self.funding.get((ps.venue_a, ps.cfg.symbols[ps.venue_a]), (ZERO, 0))
        rb, nb = self.funding.get((ps.venue_b, ps.cfg.symbols[ps.venue_b]), (ZERO, 0))
        fa = float(ra) * 1e4 if na and now <= na <= horizon else 0.0
        fb = float(rb) * 1e4 if nb and now <= nb <= horizon else 0.0
        return fb - fa, fa - fb

    @staticmethod
    def basis_ab(ps: PairState) -> float:
        """(mid b - mid a) / average mid, bps: a statistic, so float."""
        _, a_bid, a_ask, _, _ = ps.books.raw[ps.venue_a]
        _, b_bid, b_ask, _, _ = ps.books.raw[ps.venue_b]
        mid_a, mid_b = a_bid + a_ask, b_bid + b_ask
        return (mid_b - mid_a) / ((mid_a + mid_b) * 0.5) * 1e4

    def leg_market(self, ps: PairState, venue: str) -> LegMarket | None:
        symbol = ps.cfg.symbols[venue]
        try:
            filters = self.ref.filters(venue, symbol)
            fees = self.ref.fees(venue, symbol)
        except Exception as exc:  # noqa: BLE001 - a venue without the symbol: no edge, say why
            ps.reasons = [f"reference_data: {venue} {symbol}: {describe(exc)}"]
            return None
        rate, nxt = self.funding.get((venue, symbol), (ZERO, 0))
        return LegMarket(
            venue, symbol, ps.books[venue], fees, filters, self.cfg.expected_slippage_bps.get(venue, ZERO), rate, nxt
        )

    def evaluate(
        self,
        ps: PairState,
        now: int,
        exposure: pf.Exposure,
        size_notional: Decimal | None = None,
        keep_reasons: bool = False,
        only_best: bool = False,
    ) -> tuple[Edge, Edge | None] | None:
        """Both directions of the pair's edge at the current books, better first (no I/O but cached
        reference data). `only_best`: just the direction the pre-screen found better (hot path)."""
        a, b = self.leg_market(ps, ps.venue_a), self.leg_market(ps, ps.venue_b)
        if a is None or b is None:
            return None
        ex = exposure
        legs = [(ps.venue_a, ps.cfg.symbols[ps.venue_a]), (ps.venue_b, ps.cfg.symbols[ps.venue_b])]
        params = EdgeParams(
            target_notional_usdt=size_notional if size_notional is not None else ps.cfg.target_notional_usdt,
            cap_headroom_usdt=pf.cap_headroom(self.cfg, ps.cfg, ex, legs),
            max_leg_slippage_bps=self.cfg.max_leg_slippage_bps,
            include_next_window=self.cfg.funding.include_next_window,
            expected_holding_ms=int(self.cfg.funding.expected_holding_minutes * 60_000),
        )
        mean = float_to_decimal(ps.basis.mean)
        edges: tuple[Edge, Edge | None]
        if only_best:
            one = (
                compute_edge(ps.cfg.pair, a, b, mean, params, now)
                if ps.quick_long_a
                else compute_edge(ps.cfg.pair, b, a, -mean, params, now)
            )
            edges = (one, None)
        else:
            edges = best_edge(ps.cfg.pair, a, b, mean, params, now)
        if size_notional is None:
            ps.edges, ps.evaluated_ts = edges, now
            best = edges[0]
            if keep_reasons:
                return edges
            if best.net_edge_bps < self.cfg.min_edge_bps:
                ps.reasons = [f"edge_below_min: net {best.net_edge_bps:.2f} bps < min_edge_bps {self.cfg.min_edge_bps}"]
            elif not (self.cfg.enabled and self.cfg.auto):
                ps.reasons = ["manual: automatic mode is off (operator execute only)"]
        return edges
