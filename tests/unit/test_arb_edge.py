"""Edge maths, checked against examples computed by hand (numbers chosen so each step is exact)."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.arb.basis import RollingBasis
from execution.arb.edge import (
    EdgeParams,
    LegMarket,
    QuickCosts,
    best_edge,
    common_qty,
    compute_edge,
    depth_within,
    quick_net_bps,
    vwap,
)
from execution.arb.symbols import pair_of, split_pair, venue_symbol
from execution.models import BookTop, FeeSchedule, SymbolFilters

NOW = 1_000_000


def filters(venue, step="0.1", min_qty="0.1", min_notional="5", tick="0.01", max_qty="1000"):
    return SymbolFilters(
        venue=venue,
        symbol="X",
        tick_size=D(tick),
        step_size=D(step),
        min_qty=D(min_qty),
        max_qty=D(max_qty),
        min_notional=D(min_notional),
    )


def leg(venue, bid, ask, taker, slip, rate="0", nxt=0, f=None, bid_qty="0", ask_qty="0", **kw):
    return LegMarket(
        venue=venue,
        symbol="X",
        book=BookTop(venue, "X", D(bid), D(bid_qty), D(ask), D(ask_qty), NOW),
        fees=FeeSchedule(D("0.0002"), D(taker)),
        filters=f or filters(venue),
        slippage_bps=D(slip),
        funding_rate=D(rate),
        next_funding_ms=nxt,
        **kw,
    )


PARAMS = EdgeParams(
    target_notional_usdt=D(1050),
    cap_headroom_usdt=D(100_000),
    max_leg_slippage_bps=D(5),
    include_next_window=True,
    expected_holding_ms=8 * 3_600_000,
)


def example():
    # long venue L: mid 99.80 (99.79/99.81); short venue S: mid 100.20 (100.19/100.21); ref = 100
    long = leg("L", "99.79", "99.81", "0.0005", "1", rate="-0.0002", nxt=NOW + 3_600_000, f=filters("L", step="0.1"))
    short = leg("S", "100.19", "100.21", "0.0004", "2", rate="0.0001", nxt=NOW + 3_600_000, f=filters("S", step="1"))
    return long, short


def test_hand_computed_net_edge():
    long, short = example()
    e = compute_edge("X-USDT", long, short, D(10), PARAMS, NOW)
    assert e.ref_price == D(100)
    assert e.gross_edge_bps == D(38)  # (100.19 - 99.81) / 100 * 1e4
    assert e.basis_bps == D(40)  # (100.20 - 99.80) / 100 * 1e4
    assert e.entry_fees_bps == D(9)  # (0.0005 + 0.0004) * 1e4
    assert e.entry_slippage_bps == D(3)  # 1 + 2
    assert e.close_cost_bps == D(14)  # exit half spreads 1 + 1, exit fees 9, exit slippage 3
    assert e.funding_bps == D(3)  # short receives +1 bp, long receives 2 bp (negative rate)
    assert e.net_edge_bps == D(5)  # 38 - 10 (usual basis) - 9 - 3 - 14 + 3
    # 1050 USDT / 100 = 10.5 -> L step 0.1 keeps 10.5, S step 1 -> 10, L again 10
    assert (e.size, e.size_limited_by) == (D(10), "target")
    assert e.notional_usdt == D(1000)
    assert e.expected_pnl_usdt == D("0.5")  # 5 bps of 1000 USDT
    assert e.direction == "long_L/short_S"


def test_funding_only_counted_inside_the_holding_horizon():
    long, short = example()
    later = EdgeParams(
        D(1050), D(100_000), D(5), include_next_window=True, expected_holding_ms=1_800_000
    )  # 30 min: the settlement in 1 h is not crossed
    e = compute_edge("X-USDT", long, short, D(10), later, NOW)
    assert (e.funding_bps, e.funding_included, e.net_edge_bps) == (D(0), (), D(2))
    off = EdgeParams(D(1050), D(100_000), D(5), include_next_window=False)
    assert compute_edge("X-USDT", long, short, D(10), off, NOW).net_edge_bps == D(2)


def test_usual_basis_is_not_an_edge():
    """A spread that equals its rolling mean earns nothing but costs: both directions negative."""
    long, short = example()
    e1, e2 = best_edge("X-USDT", long, short, D(40), EdgeParams(D(1050), D(1e5), D(5), False), NOW)
    assert e1.net_edge_bps < 0 and e2.net_edge_bps < 0
    # with no usual basis, the same books are a real edge long L / short S
    best, other = best_edge("X-USDT", long, short, D(0), EdgeParams(D(1050), D(1e5), D(5), False), NOW)
    assert best.long_venue == "L" and best.net_edge_bps == D(38) - 9 - 3 - 14
    # the reverse direction expects the negated mean back: -42 gross (buy S ask, sell L bid)
    assert other.long_venue == "S" and other.gross_edge_bps == D(-42)


def test_size_limited_by_book_caps_and_filters():
    long, short = example()
    thin = leg("S", "100.19", "100.21", "0.0004", "2", f=filters("S", step="1"), bid_qty="7")
    e = compute_edge("X-USDT", long, thin, D(0), PARAMS, NOW)
    assert (e.size, e.size_limited_by) == (D(7), "book:S")
    capped = EdgeParams(D(1050), D(450), D(5))
    e = compute_edge("X-USDT", long, short, D(0), capped, NOW)
    assert (e.size, e.size_limited_by) == (D(4), "caps")  # 4.5 -> step 1 on S
    tiny = EdgeParams(D(50), D(1e5), D(5))
    e = compute_edge("X-USDT", long, short, D(0), tiny, NOW)
    assert (e.size, e.size_limited_by) == (D(0), "rounds_to_zero:target")  # 0.5 -> S step 1 -> 0
    strict = leg("S", "100.19", "100.21", "0.0004", "2", f=filters("S", step="1", min_notional="2000"))
    e = compute_edge("X-USDT", long, strict, D(0), PARAMS, NOW)
    assert (e.size, e.size_limited_by) == (D(0), "min_notional:S")


def test_depth_vwap_and_slippage_limit():
    asks = [(D("99.81"), D(4)), (D("99.83"), D(10)), (D("99.90"), D(50))]
    assert vwap(asks, D(10)) == D("99.822")  # (4*99.81 + 6*99.83) / 10
    assert vwap(asks, D(100)) is None
    # 5 bps above 99.81 is 99.859905: the 99.90 level is beyond it
    assert depth_within(asks, D(5), buying=True) == D(14)
    bids = [(D("100.19"), D(3)), (D("100.10"), D(100))]
    assert depth_within(bids, D(5), buying=False) == D(3)  # 100.10 < 100.139905
    long = leg("L", "99.79", "99.81", "0.0005", "1", f=filters("L", step="0.1"), asks=asks)
    short = leg("S", "100.19", "100.21", "0.0004", "2", f=filters("S", step="1"), bids=[(D("100.19"), D(20))])
    e = compute_edge("X-USDT", long, short, D(0), PARAMS, NOW)
    assert e.size == D(10) and e.long_price == D("99.822")
    assert e.gross_edge_bps == D("36.8")  # (100.19 - 99.822) / 100 * 1e4


def test_common_qty_is_legal_on_both_venues():
    a, b = filters("A", step="0.003", min_qty="0"), filters("B", step="0.002", min_qty="0")
    q = common_qty(D(1), a, b)
    assert q == D("0.996")  # the largest multiple of 0.006 <= 1
    assert q % D("0.003") == 0 and q % D("0.002") == 0
    assert common_qty(D("0.0159"), filters("bin", step="0.001"), filters("okx", step="0.01")) == D("0.01")


def test_quick_screen_matches_exact_top_of_book_edge():
    long, short = example()
    exact = compute_edge("X-USDT", long, short, D(10), EdgeParams(D(1050), D(1e5), D(5), False), NOW)
    quick = quick_net_bps(99.79, 99.81, 100.19, 100.21, 10.0, QuickCosts(fees_bps=18.0, slippage_bps=6.0))
    assert quick == pytest.approx(float(exact.net_edge_bps), abs=1e-9)


def test_rolling_basis_mean_window_and_buckets():
    rb = RollingBasis(3)
    for i, v in enumerate([1.0, 2.0, 3.0]):
        rb.update(v, i)
    assert rb.mean == pytest.approx(2.0)
    rb.update(10.0, 3)  # evicts 1.0
    assert rb.samples == 3 and rb.mean == pytest.approx(5.0)
    rb.update(4.0, 3)  # same bucket: replaces 10.0
    assert rb.samples == 3 and rb.mean == pytest.approx(3.0)
    many = RollingBasis(96)
    for i in range(10_000):
        many.update(0.1 * (i % 7), i)
    assert many.mean == pytest.approx(sum(0.1 * (i % 7) for i in range(10_000 - 96, 10_000)) / 96, abs=1e-12)
    restored = RollingBasis.restore(many.snapshot(), 96)
    assert restored.mean == pytest.approx(many.mean) and restored.samples == 96


def test_symbol_mapping_in_one_place():
    assert venue_symbol("BTC-USDT", "binance_um") == "BTCUSDT"
    assert venue_symbol("BTC-USDT", "okx_perp") == "BTC-USDT-SWAP"
    assert pair_of("okx_perp", "BTC-USDT-SWAP") == pair_of("binance_um", "BTCUSDT") == "BTC-USDT"
    assert pair_of("okx_perp", "BTC-USDT") is None
    with pytest.raises(ValueError, match="BASE-QUOTE"):
        split_pair("BTCUSDT")
