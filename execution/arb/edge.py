"""Edge maths (pure): two books + fees + funding + slippage + the cost of closing later -> Edge.

A pair position is long on venue L (bought at L's ask) and short on venue S (sold at S's
bid). Per unit of base asset, what it earns when closed is

    (short entry - long entry) - (short exit - long exit)

The first term is the executable entry spread (`gross_edge_bps`). At exit the long is sold at
L's bid and the short bought back at S's ask; the mids are expected to have returned to the
*usual* basis (the rolling mean), not to zero. So

    net = gross - basis_mean - exit half spreads - fees (4 legs) - slippage (4 legs) + funding

all in bps of the reference price (the average of both mids). Funding counts only the next
settlement of a venue, and only if it falls inside the expected holding time: the short leg
receives a positive rate, the long leg pays it.

Tradable size: the attempt's target notional, the caps headroom, the book (top size, or the
depth within `max_leg_slippage_bps` when levels are given), both venues' max quantity, then
rounded down to a quantity legal on *both* venues (`filters.round_qty`, the one rounding
place) and checked against both venues' min quantity and min notional.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from execution.filters import round_qty
from execution.models import BPS_PER_UNIT, BookTop, FeeSchedule, OrderType, SymbolFilters

ZERO = Decimal(0)
TWO = Decimal(2)

Level = tuple[Decimal, Decimal]  # (price, qty)


@dataclass(frozen=True, slots=True)
class LegMarket:
    """What the edge needs to know about one venue's side of the pair."""

    venue: str
    symbol: str
    book: BookTop
    fees: FeeSchedule
    filters: SymbolFilters
    slippage_bps: Decimal  # expected beyond the book price, on every market order
    funding_rate: Decimal = ZERO  # predicted rate of the next settlement
    next_funding_ms: int = 0  # 0 = unknown: then funding is not counted
    asks: Sequence[Level] = ()  # depth, best first; empty = top of book only
    bids: Sequence[Level] = ()


@dataclass(frozen=True, slots=True)
class EdgeParams:
    target_notional_usdt: Decimal
    cap_headroom_usdt: Decimal  # the most notional per leg the caps still allow
    max_leg_slippage_bps: Decimal
    include_next_window: bool = True
    expected_holding_ms: int = 8 * 3_600_000


@dataclass(frozen=True, slots=True)
class Edge:
    pair: str
    long_venue: str
    long_symbol: str
    short_venue: str
    short_symbol: str
    ts: int
    ref_price: Decimal
    long_price: Decimal  # expected entry price of the long (ask or depth VWAP)
    short_price: Decimal
    gross_edge_bps: Decimal
    basis_bps: Decimal  # current (mid short - mid long), bps
    basis_mean_bps: Decimal
    entry_fees_bps: Decimal
    entry_slippage_bps: Decimal
    close_cost_bps: Decimal  # exit half spreads + exit fees + exit slippage
    funding_bps: Decimal
    funding_included: tuple[str, ...]
    net_edge_bps: Decimal
    size: Decimal
    size_limited_by: str
    notional_usdt: Decimal
    expected_pnl_usdt: Decimal

    @property
    def direction(self) -> str:
        return f"long_{self.long_venue}/short_{self.short_venue}"

    def to_doc(self) -> dict:
        return {
            "pair": self.pair,
            "direction": self.direction,
            "long_venue": self.long_venue,
            "long_symbol": self.long_symbol,
            "short_venue": self.short_venue,
            "short_symbol": self.short_symbol,
            "ts": self.ts,
            "ref_price": self.ref_price,
            "long_price": self.long_price,
            "short_price": self.short_price,
            "gross_edge_bps": _r(self.gross_edge_bps),
            "basis_bps": _r(self.basis_bps),
            "basis_mean_bps": _r(self.basis_mean_bps),
            "entry_fees_bps": _r(self.entry_fees_bps),
            "entry_slippage_bps": _r(self.entry_slippage_bps),
            "close_cost_bps": _r(self.close_cost_bps),
            "funding_bps": _r(self.funding_bps),
            "funding_included": list(self.funding_included),
            "net_edge_bps": _r(self.net_edge_bps),
            "size": self.size,
            "size_limited_by": self.size_limited_by,
            "notional_usdt": self.notional_usdt.quantize(Decimal("0.01")),
            "expected_pnl_usdt": self.expected_pnl_usdt.quantize(Decimal("0.0001")),
        }


def _r(x: Decimal) -> float:
    return round(float(x), 4)


def common_qty(qty: Decimal, a: SymbolFilters, b: SymbolFilters) -> Decimal:
    """The largest quantity <= qty that is a legal market-order step on both venues."""
    q = qty
    for _ in range(64):
        nxt = round_qty(round_qty(q, a, OrderType.MARKET), b, OrderType.MARKET)
        if nxt == q:
            return q
        q = nxt
    return ZERO


def vwap(levels: Sequence[Level], qty: Decimal) -> Decimal | None:
    """Average price of taking `qty` from `levels`; None if the depth is too thin."""
    left, cost = qty, ZERO
    for price, size in levels:
        take = size if size < left else left
        cost += take * price
        left -= take
        if left <= 0:
            return cost / qty
    return None


def depth_within(levels: Sequence[Level], max_bps: Decimal, buying: bool) -> Decimal:
    """Quantity available within `max_bps` of the best level."""
    if not levels:
        return ZERO
    best = levels[0][0]
    limit = best * (1 + max_bps / BPS_PER_UNIT) if buying else best * (1 - max_bps / BPS_PER_UNIT)
    total = ZERO
    for price, size in levels:
        if (price > limit) if buying else (price < limit):
            break
        total += size
    return total


def _max_qty(f: SymbolFilters) -> Decimal:
    return f.market_max_qty or f.max_qty


def compute_edge(  # noqa: C901 - one pass of exact edge maths; splitting it would recompute shared terms
    pair: str, long: LegMarket, short: LegMarket, basis_mean_bps: Decimal, params: EdgeParams, now_ms: int
) -> Edge:
    lb, sb = long.book, short.book
    mid_l, mid_s = (lb.bid + lb.ask) / TWO, (sb.bid + sb.ask) / TWO
    ref = (mid_l + mid_s) / TWO

    # -- size --------------------------------------------------------------------------------
    limits: list[tuple[Decimal, str]] = [
        (params.target_notional_usdt / ref, "target"),
        (max(params.cap_headroom_usdt, ZERO) / ref, "caps"),
    ]
    if long.asks:
        limits.append((depth_within(long.asks, params.max_leg_slippage_bps, True), f"depth:{long.venue}"))
    elif lb.ask_qty > 0:
        limits.append((lb.ask_qty, f"book:{long.venue}"))
    if short.bids:
        limits.append((depth_within(short.bids, params.max_leg_slippage_bps, False), f"depth:{short.venue}"))
    elif sb.bid_qty > 0:
        limits.append((sb.bid_qty, f"book:{short.venue}"))
    if _max_qty(long.filters):
        limits.append((_max_qty(long.filters), f"max_qty:{long.venue}"))
    if _max_qty(short.filters):
        limits.append((_max_qty(short.filters), f"max_qty:{short.venue}"))
    raw, limited_by = min(limits, key=lambda x: x[0])
    size = common_qty(raw, long.filters, short.filters)
    long_px, short_px = lb.ask, sb.bid
    if size > 0 and long.asks:
        long_px = vwap(long.asks, size) or lb.ask
    if size > 0 and short.bids:
        short_px = vwap(short.bids, size) or sb.bid
    for leg, px in ((long, long_px), (short, short_px)):
        if size <= 0:
            break
        if size < leg.filters.min_qty:
            size, limited_by = ZERO, f"min_qty:{leg.venue}"
        elif size * px < leg.filters.min_notional:
            size, limited_by = ZERO, f"min_notional:{leg.venue}"
    if size <= 0 and not limited_by.startswith("min_"):
        limited_by = f"rounds_to_zero:{limited_by}"

    # -- bps -----------------------------------------------------------------------------------
    gross = (short_px - long_px) / ref * BPS_PER_UNIT
    basis = (mid_s - mid_l) / ref * BPS_PER_UNIT
    entry_fees = (long.fees.taker_rate + short.fees.taker_rate) * BPS_PER_UNIT
    exit_fees = entry_fees
    slippage = long.slippage_bps + short.slippage_bps
    exit_spreads = ((mid_l - lb.bid) + (sb.ask - mid_s)) / ref * BPS_PER_UNIT
    close_cost = exit_spreads + exit_fees + slippage
    funding = ZERO
    included: list[str] = []
    if params.include_next_window:
        horizon = now_ms + params.expected_holding_ms
        if short.next_funding_ms and now_ms <= short.next_funding_ms <= horizon:
            funding += short.funding_rate * BPS_PER_UNIT
            included.append(short.venue)
        if long.next_funding_ms and now_ms <= long.next_funding_ms <= horizon:
            funding -= long.funding_rate * BPS_PER_UNIT
            included.append(long.venue)
    net = gross - basis_mean_bps - entry_fees - slippage - close_cost + funding
    notional = size * ref
    return Edge(
        pair=pair,
        long_venue=long.venue,
        long_symbol=long.symbol,
        short_venue=short.venue,
        short_symbol=short.symbol,
        ts=max(lb.ts, sb.ts),
        ref_price=ref,
        long_price=long_px,
        short_price=short_px,
        gross_edge_bps=gross,
        basis_bps=basis,
        basis_mean_bps=basis_mean_bps,
        entry_fees_bps=entry_fees,
        entry_slippage_bps=slippage,
        close_cost_bps=close_cost,
        funding_bps=funding,
        funding_included=tuple(included),
        net_edge_bps=net,
        size=size,
        size_limited_by=limited_by,
        notional_usdt=notional,
        expected_pnl_usdt=net / BPS_PER_UNIT * notional,
    )


def best_edge(
    pair: str, a: LegMarket, b: LegMarket, basis_mean_ab_bps: Decimal, params: EdgeParams, now_ms: int
) -> tuple[Edge, Edge]:
    """Both directions, the better (higher net edge) first. `basis_mean_ab_bps` is the mean of
    (mid b - mid a): the long-a/short-b direction expects it back, the other its negation."""
    e1 = compute_edge(pair, a, b, basis_mean_ab_bps, params, now_ms)
    e2 = compute_edge(pair, b, a, -basis_mean_ab_bps, params, now_ms)
    return (e1, e2) if e1.net_edge_bps >= e2.net_edge_bps else (e2, e1)


@dataclass(frozen=True, slots=True)
class QuickCosts:
    """Float constants of one direction's cost stack, for the pre-screen."""

    fees_bps: float  # entry + exit, both legs
    slippage_bps: float  # entry + exit, both legs


def quick_net_bps(
    long_bid: float,
    long_ask: float,
    short_bid: float,
    short_ask: float,
    basis_mean_bps: float,
    costs: QuickCosts,
    funding_bps: float = 0.0,
) -> float:
    """Top-of-book net edge in float: the same formula as `compute_edge` without sizing.

    Used to skip the exact computation when no direction can come near `min_edge_bps`. With
    depth the exact edge can only be lower (a VWAP is never better than the top), so this is
    an upper bound and never hides an opportunity."""
    mid_l = (long_bid + long_ask) * 0.5
    mid_s = (short_bid + short_ask) * 0.5
    ref = (mid_l + mid_s) * 0.5
    gross = (short_bid - long_ask) / ref * 1e4
    exit_spreads = ((mid_l - long_bid) + (short_ask - mid_s)) / ref * 1e4
    return gross - basis_mean_bps - costs.fees_bps - costs.slippage_bps - exit_spreads + funding_bps
