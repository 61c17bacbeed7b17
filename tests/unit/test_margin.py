"""Maintenance margin from the venues' tiers: Binance brackets by notional with their deduction,
OKX tiers by position size (contracts read in base units), checked schedules, derived fallback."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.exchanges import binance_parsers as b
from execution.exchanges import okx_parsers as o
from execution.margin import NOTIONAL, QTY, MarginTier, derived_schedule, schedule, with_deductions

# GET /fapi/v1/leverageBracket, the documented shape (numbers, not strings)
BRACKETS = [
    {
        "symbol": "ETHUSDT",
        "notionalCoef": 1.5,
        "brackets": [
            {
                "bracket": 1,
                "initialLeverage": 75,
                "notionalCap": 10000,
                "notionalFloor": 0,
                "maintMarginRatio": 0.0065,
                "cum": 0.0,
            },
            {
                "bracket": 2,
                "initialLeverage": 50,
                "notionalCap": 100000,
                "notionalFloor": 10000,
                "maintMarginRatio": 0.01,
                "cum": 35.0,
            },
        ],
    }
]

# GET /api/v5/public/position-tiers?instType=SWAP&tdMode=cross&instFamily=BTC-USDT (sizes in contracts)
TIERS = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "baseMaxLoan": "",
            "imr": "0.01",
            "instFamily": "BTC-USDT",
            "instId": "",
            "maxLever": "100",
            "maxSz": "5000",
            "minSz": "0",
            "mmr": "0.004",
            "optMgnFactor": "0",
            "quoteMaxLoan": "",
            "tier": "1",
            "uly": "BTC-USDT",
        },
        {
            "baseMaxLoan": "",
            "imr": "0.0133",
            "instFamily": "BTC-USDT",
            "instId": "",
            "maxLever": "75",
            "maxSz": "10000",
            "minSz": "5001",
            "mmr": "0.005",
            "optMgnFactor": "0",
            "quoteMaxLoan": "",
            "tier": "2",
            "uly": "BTC-USDT",
        },
    ],
}


def test_binance_brackets_are_notional_tiers_with_their_deduction():
    eth = b.parse_leverage_brackets(BRACKETS)["ETHUSDT"]
    assert eth.basis == NOTIONAL and eth.source == "venue" and [t.max_leverage for t in eth.tiers] == [75, 50]
    assert eth.maintenance(D("2"), D("3000")) == D("6000") * D("0.0065")  # 39 USDT, first bracket
    # second bracket: 20,000 x 1% - 35 = 165 (the deduction keeps maintenance continuous at the floor)
    assert eth.maintenance(D("10"), D("2000")) == D("165")
    at_floor = eth.maintenance(D("5"), D("2000"))  # exactly 10,000: still the first bracket
    assert at_floor == D("65") == D("10000") * D("0.01") - D("35")
    one_object = b.parse_leverage_brackets(BRACKETS[0])  # the answer when a symbol was asked for
    assert one_object["ETHUSDT"] == eth


def test_okx_tiers_are_position_sizes_converted_from_contracts():
    btc = o.parse_position_tiers(TIERS, "BTC-USDT-SWAP", D("0.01"))
    assert btc.basis == QTY and [(t.floor, t.cap) for t in btc.tiers] == [(D("0"), D("50")), (D("50.01"), D("100"))]
    assert btc.maintenance(D("10"), D("60000")) == D("600000") * D("0.004")  # 10 BTC = 1,000 contracts
    assert btc.maintenance(D("60"), D("60000")) == D("3600000") * D("0.005")  # 6,000 contracts: tier 2, no deduction
    with pytest.raises(ValueError, match="no position tiers"):
        o.parse_position_tiers(
            {"code": "0", "data": [dict(TIERS["data"][0], instFamily="ETH-USDT", uly="")]}, "BTC-USDT-SWAP", D("0.01")
        )


def test_beyond_the_last_cap_the_last_tier_applies_and_flat_is_zero():
    s = schedule("binance_um", "X", NOTIONAL, with_deductions([MarginTier(D(0), D(100), D("0.01"), 20)]), "config")
    assert s.tier_for(D(1), D(500)) is s.tiers[-1]
    assert s.maintenance(D(0), D(100)) == 0 and s.maintenance(D(1), D(0)) == 0


@pytest.mark.parametrize(
    "tiers,message",
    [
        ([], "no margin tiers"),
        ([MarginTier(D(0), D(10), D("1.5"), 1)], "maintenance rate"),
        ([MarginTier(D(10), D(5), D("0.01"), 1)], "is not above its floor"),
        ([MarginTier(D(0), D(10), D("0.01"), 1), MarginTier(D(5), D(20), D("0.02"), 1)], "inside the previous tier"),
        ([MarginTier(D(0), D(0), D("0.01"), 1), MarginTier(D(10), D(20), D("0.02"), 1)], "no cap but is not the last"),
    ],
)
def test_bad_tiers_are_refused_with_what_is_wrong(tiers, message):
    with pytest.raises(ValueError, match=message):
        schedule("binance_um", "X", NOTIONAL, tiers, "venue")


def test_config_deductions_match_binance_published_cum():
    """cum_k = cum_(k-1) + floor_k x (rate_k - rate_(k-1)): the rule behind Binance's own numbers."""
    tiers = with_deductions(
        [
            MarginTier(D(0), D(50_000), D("0.004"), 125),
            MarginTier(D(50_000), D(500_000), D("0.005"), 100),
            MarginTier(D(500_000), D(8_000_000), D("0.01"), 50),
        ]
    )
    assert [t.cum for t in tiers] == [D(0), D(50), D(2550)]


def test_derived_schedule_is_conservative_and_says_so():
    d = derived_schedule("binance_um", "NEWUSDT")
    assert d.source == "derived" and d.maintenance(D(10), D(100)) == D(1000) * D("0.025")
    btc = b.parse_leverage_brackets(BRACKETS)["ETHUSDT"]
    assert d.maintenance(D(1), D(1000)) > btc.maintenance(D(1), D(1000))  # never below a real first tier
