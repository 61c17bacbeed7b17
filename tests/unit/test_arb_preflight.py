"""Preflight: each failed check is a named reason; a clean input passes. Plus the rescue planner
and the arbitrage config's error lines."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal as D

import pytest

from execution.arb import preflight as pf
from execution.arb.book import OpenPair, PairLeg
from execution.arb.config import parse
from execution.arb.edge import EdgeParams, LegMarket, compute_edge
from execution.arb.rescue import plan_rescue
from execution.models import BookTop, FeeSchedule, MarginType, PositionSide, SymbolFilters
from execution.settings import ConfigError
from tests.support.arb_harness import PROJECT_ROOT

NOW = 1_717_200_000_000
BIN, OKX = "binance_um", "okx_perp"


def _filters(venue, step):
    return SymbolFilters(
        venue=venue,
        symbol="s",
        tick_size=D("0.1"),
        step_size=D(step),
        min_qty=D(step),
        max_qty=D(1000),
        min_notional=D(5),
    )


def _edge(okx_bid="60300", size_target=D(1000)):
    long = LegMarket(
        BIN,
        "BTCUSDT",
        BookTop(BIN, "BTCUSDT", D(59997), D(0), D(60003), D(0), NOW),
        FeeSchedule(D("0.0002"), D("0.0005")),
        _filters(BIN, "0.001"),
        D(2),
    )
    short = LegMarket(
        OKX,
        "BTC-USDT-SWAP",
        BookTop(OKX, "BTC-USDT-SWAP", D(okx_bid), D(0), D(60310), D(0), NOW),
        FeeSchedule(D("0.0002"), D("0.0005")),
        _filters(OKX, "0.01"),
        D(2),
    )
    return compute_edge("BTC-USDT", long, short, D(0), EdgeParams(size_target, D(10_000), D(5)), NOW)


def clean(cfg, **changes):
    pair = cfg.pairs["BTC-USDT"]
    acc = {(v, s): pf.AccountState(True, MarginType.CROSS, pair.leverage, NOW) for v, s in pair.symbols.items()}
    x = pf.PreflightInput(
        edge=_edge(),
        pair=pair,
        now_ms=NOW,
        book_ts={BIN: NOW, OKX: NOW},
        health={BIN: pf.VenueHealth(True, 5.0, NOW), OKX: pf.VenueHealth(True, -3.0, NOW)},
        accounts=acc,
        next_funding_ms={BIN: NOW + 3_600_000, OKX: NOW + 3_600_000},
        exposure=pf.Exposure(),
        basis_samples=96,
    )
    return dataclasses.replace(x, **changes)


@pytest.fixture
def cfg():
    return parse("arbitrage.json", _raw())  # the repository's config: its caps and limits


def names(cfg, x):
    return pf.reason_names(pf.check(cfg, x))


def test_clean_input_passes(cfg):
    assert pf.check(cfg, clean(cfg)) == []


def test_each_failed_check_is_named(cfg):
    x = clean(cfg)
    acc = dict(x.accounts)
    cases = {
        "hold": dict(holding="breaker drawdown"),
        "busy": dict(busy="attempt in LEGS"),
        "disconnected": dict(health={BIN: pf.VenueHealth(False, None, NOW, "timeout"), OKX: x.health[OKX]}),
        "clock_skew": dict(health={BIN: pf.VenueHealth(True, 2500.0, NOW), OKX: x.health[OKX]}),
        "stale_book": dict(book_ts={BIN: NOW, OKX: NOW - 5_000}),
        "position_mode": dict(accounts={**acc, (OKX, "BTC-USDT-SWAP"): pf.AccountState(False, MarginType.CROSS, 2)}),
        "margin_type": dict(accounts={**acc, (BIN, "BTCUSDT"): pf.AccountState(True, MarginType.ISOLATED, 2)}),
        "leverage": dict(accounts={**acc, (BIN, "BTCUSDT"): pf.AccountState(True, MarginType.CROSS, 5)}),
        "basis_warmup": dict(basis_samples=3),
        "edge_below_min": dict(edge=_edge(okx_bid="60100")),
        "funding_window": dict(next_funding_ms={BIN: NOW + 120_000, OKX: NOW + 3_600_000}),
        "size": dict(edge=_edge(size_target=D(100))),
        "cap_symbol": dict(exposure=pf.Exposure(per_symbol={(OKX, "BTC-USDT-SWAP"): D(1900)})),
        "cap_venue": dict(exposure=pf.Exposure(per_venue={BIN: D(3700)})),
        "cap_total": dict(exposure=pf.Exposure(total=D(5500))),
        "delta": dict(exposure=pf.Exposure(delta_usd=D(-75))),
    }
    for name, change in cases.items():
        got = names(cfg, dataclasses.replace(x, **change))
        assert got == [name], (name, pf.check(cfg, dataclasses.replace(x, **change)))


def test_unverified_account_and_unmeasured_clock_are_reasons(cfg):
    x = clean(cfg, accounts={}, health={BIN: pf.VenueHealth(True, None, NOW), OKX: pf.VenueHealth(True, 0.0, NOW)})
    assert names(cfg, x) == ["clock_skew", "position_mode", "position_mode"]


def test_cap_headroom_limits_the_next_leg(cfg):
    pair = cfg.pairs["BTC-USDT"]
    legs = [(BIN, "BTCUSDT"), (OKX, "BTC-USDT-SWAP")]
    assert pf.cap_headroom(cfg, pair, pf.Exposure(), legs) == D(2000)  # pair max_notional 2000 < per_symbol 2500
    ex = pf.Exposure(per_symbol={(BIN, "BTCUSDT"): D(1500)}, per_venue={BIN: D(1500)}, total=D(5000))
    assert pf.cap_headroom(cfg, pair, ex, legs) == D(500)  # total 6000 - 5000 = 1000, split over two legs


# -- rescue plan ---------------------------------------------------------------------------------
def _pair(long_qty, short_qty):
    return OpenPair(
        "p",
        "BTC-USDT",
        PairLeg(BIN, "BTCUSDT", PositionSide.LONG, D(long_qty), D(60000)),
        PairLeg(OKX, "BTC-USDT-SWAP", PositionSide.SHORT, D(short_qty), D(60300)),
        NOW,
        D("0.09"),
    )


FILTERS = {"long": _filters(BIN, "0.001"), "short": _filters(OKX, "0.01")}


def test_rescue_keeps_the_hedged_part_or_flattens():
    plan = plan_rescue(_pair("0.09", "0.04"), FILTERS, "reject_if_unhedged")
    assert plan.target_qty == D("0.04") and [(o.leg, o.qty) for o in plan.orders] == [("long", D("0.05"))]
    plan = plan_rescue(_pair("0.09", "0.04"), FILTERS, "flatten_all")
    assert [(o.leg, o.qty) for o in plan.orders] == [("long", D("0.09")), ("short", D("0.04"))]
    plan = plan_rescue(_pair("0.045", "0.09"), FILTERS, "reject_if_unhedged")  # 0.045 -> 0.04 legal on both
    assert plan.target_qty == D("0.04")
    assert [(o.leg, o.qty) for o in plan.orders] == [("long", D("0.005")), ("short", D("0.05"))]
    assert not plan_rescue(_pair("0.05", "0.05"), FILTERS, "reject_if_unhedged").needed
    assert plan_rescue(_pair("0.05", "0.05"), FILTERS, "reject_if_unhedged", close_all=True).target_qty == 0


def test_rescue_reports_what_no_order_can_close():
    odd = {"long": _filters(BIN, "0.001"), "short": _filters(OKX, "0.01")}
    plan = plan_rescue(_pair("0.005", "0.01"), odd, "reject_if_unhedged")  # 0.005 < OKX min: flatten instead
    assert plan.target_qty == 0 and [(o.leg, o.qty) for o in plan.orders] == [
        ("long", D("0.005")),
        ("short", D("0.01")),
    ]
    plan = plan_rescue(_pair("0", "0.005"), odd, "flatten_all")  # below OKX's step: nothing legal
    assert not plan.orders and plan.residual == ("short:okx_perp:BTC-USDT-SWAP:0.005",)


# -- config ----------------------------------------------------------------------------------------
def _raw():
    return json.loads((PROJECT_ROOT / "config" / "arbitrage.json").read_text())


def test_repo_config_loads_with_conservative_defaults():
    cfg = parse("arbitrage.json", _raw())
    assert cfg.leg_mode == "concurrent" and cfg.partial_fill_policy == "reject_if_unhedged"
    assert not cfg.prefer_maker and cfg.fee_mode == "auto"
    assert cfg.pairs["BTC-USDT"].symbols == {BIN: "BTCUSDT", OKX: "BTC-USDT-SWAP"}
    minimal = {
        "pairs": [{"pair": "ETH-USDT", "target_notional_usdt": 500}],
        "min_edge_bps": 3,
        "max_latency_ms": 500,
        "max_leg_slippage_bps": 5,
        "cross_venue_delta_abs_max_usd": 25,
        "caps": {"per_symbol_usdt": 1, "per_venue_usdt": 1, "total_usdt": 1},
    }
    cfg = parse("m.json", minimal)
    assert (cfg.leg_mode, cfg.partial_fill_policy, cfg.prefer_maker) == ("concurrent", "reject_if_unhedged", False)


@pytest.mark.parametrize(
    "change, field, expected",
    [
        ({"leg_mode": "parallel"}, "leg_mode", "one of ['concurrent', 'sequential']"),
        ({"partial_fill_policy": "yolo"}, "partial_fill_policy", "one of"),
        ({"pairs": [{"pair": "BTCUSDT", "target_notional_usdt": 1}]}, "pairs[0].pair", "BASE-QUOTE"),
        ({"pairs": []}, "pairs", "a non-empty list"),
        ({"venues": ["binance_um", "binance_um"]}, "venues", "two different venues"),
        ({"caps": {"per_symbol_usdt": 1, "per_venue_usdt": 1}}, "caps.total_usdt", "a value"),
        ({"fees": {"mode": "manual"}}, "fees.manual", "a value"),
        ({"expected_slippage_bps": {"binance_um": 9, "okx_perp": 2}}, "expected_slippage_bps", "<= max_leg_slippage"),
        ({"min_edge_bps": "lots"}, "min_edge_bps", "a decimal number"),
        ({"surprise": 1}, "surprise", "no such field"),
        ({"prefer_maker": True, "maker_timeout_ms": 20_000}, "maker_timeout_ms", "<= leg_timeout_ms"),
        ({"maker_venue": "kraken"}, "maker_venue", "one of"),
    ],
)
def test_config_errors_name_the_field(change, field, expected):
    raw = _raw()
    raw.update(change)
    with pytest.raises(ConfigError) as err:
        parse("arbitrage.json", raw)
    assert f"field '{field}'" in str(err.value) and expected in str(err.value)
