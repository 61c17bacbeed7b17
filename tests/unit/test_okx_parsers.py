"""OKX v5 parsers fed payloads shaped as the official docs show them, and the real instruments
sample in ../shared/data (checked against config/venue_filters.json, derived from it)."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from execution.exchanges import okx_parsers as o
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    FilterFailure,
    InsufficientMargin,
    MalformedAnswer,
    OrderNotFound,
    PositionSideMismatch,
    RateLimited,
    ReduceOnlyRejected,
    UnknownOutcome,
    VenueUnavailable,
)
from execution.models import OrderStatus, OrderType, PositionSide, Side
from tests.conftest import shared_path

ETH_SWAP = {
    "alias": "",
    "baseCcy": "",
    "category": "1",
    "ctMult": "1",
    "ctType": "linear",
    "ctVal": "0.1",
    "ctValCcy": "ETH",
    "expTime": "",
    "instFamily": "ETH-USDT",
    "instId": "ETH-USDT-SWAP",
    "instType": "SWAP",
    "lever": "100",
    "listTime": "1611916828000",
    "lotSz": "0.01",
    "maxIcebergSz": "100000000",
    "maxLmtAmt": "20000000",
    "maxLmtSz": "100000000",
    "maxMktAmt": "",
    "maxMktSz": "10000",
    "maxStopSz": "10000",
    "maxTriggerSz": "100000000",
    "maxTwapSz": "100000000",
    "minSz": "0.01",
    "optType": "",
    "quoteCcy": "",
    "settleCcy": "USDT",
    "state": "live",
    "stk": "",
    "tickSz": "0.01",
    "uly": "ETH-USDT",
    "ruleType": "normal",
}


def test_filters_are_in_base_units():
    f = o.parse_filters(ETH_SWAP)
    assert (f.symbol, f.contract_value, f.tick_size) == ("ETH-USDT-SWAP", D("0.1"), D("0.01"))
    assert (f.step_size, f.min_qty) == (D("0.001"), D("0.001"))  # 0.01 contract x 0.1 ETH
    assert (f.max_qty, f.market_max_qty, f.min_notional) == (D("10000000"), D("1000"), D(0))


def test_envelope_is_accepted():
    assert o.parse_filters({"code": "0", "msg": "", "data": [ETH_SWAP]}) == o.parse_filters(ETH_SWAP)


def test_inverse_contracts_are_refused_and_skipped():
    inverse = dict(ETH_SWAP, instId="ETH-USD-SWAP", ctType="inverse", ctVal="10", ctValCcy="USD", settleCcy="ETH")
    with pytest.raises(ValueError, match="inverse"):
        o.parse_filters(inverse)
    assert list(o.parse_instruments({"code": "0", "msg": "", "data": [ETH_SWAP, inverse]})) == ["ETH-USDT-SWAP"]


def test_instruments_sample_parses_every_linear_swap():
    """A real (2022) answer: every linear swap parses, inverse ones are skipped. Its lot sizes are
    old (1 contract); the shipped file holds the venue's current rules."""
    path = shared_path("api_samples", "okx_perp", "api_v5_public_instruments_SWAP_20220513.json")
    payload = json.loads(path.read_text())
    parsed = o.parse_instruments(payload)
    linear = [i for i in payload["data"] if i["ctType"] == "linear"]
    assert len(parsed) == len(linear) and all(k.endswith("-USDT-SWAP") for k in parsed)
    btc = parsed["BTC-USDT-SWAP"]
    assert (btc.contract_value, btc.step_size) == (D("0.01"), D("0.01"))  # 1-contract lots then


def test_contracts_conversion_is_exact_and_refuses_partial_lots():
    c = o.Contracts(D("0.01"), D(1))
    assert c.to_base("25") == D("0.25") and c.from_base(D("0.25")) == D(25)
    with pytest.raises(ValueError, match="lotSz"):
        c.from_base(D("0.255"))
    with pytest.raises(ValueError):
        o.Contracts(D(0))


ORDER_ROW = {  # GET /api/v5/trade/order (docs shape) for a filled hedge-mode SWAP market close
    "accFillSz": "30",
    "algoClOrdId": "",
    "algoId": "",
    "attachAlgoClOrdId": "",
    "attachAlgoOrds": [],
    "avgPx": "60123.4",
    "cTime": "1708587373361",
    "cancelSource": "",
    "cancelSourceReason": "",
    "category": "normal",
    "ccy": "",
    "clOrdId": "hf0123456789abcdef0123456789",
    "fee": "-9.01851",
    "feeCcy": "USDT",
    "fillPx": "60123.4",
    "fillSz": "30",
    "fillTime": "1708587373361",
    "instId": "BTC-USDT-SWAP",
    "instType": "SWAP",
    "isTpLimit": "false",
    "lever": "3",
    "linkedAlgoOrd": {"algoId": ""},
    "ordId": "680800019749904384",
    "ordType": "market",
    "pnl": "12.3",
    "posSide": "short",
    "px": "",
    "pxType": "",
    "pxUsd": "",
    "pxVol": "",
    "quickMgnType": "",
    "rebate": "0",
    "rebateCcy": "USDT",
    "reduceOnly": "false",
    "side": "buy",
    "slOrdPx": "",
    "slTriggerPx": "",
    "slTriggerPxType": "",
    "source": "",
    "state": "filled",
    "stpId": "",
    "stpMode": "cancel_maker",
    "sz": "30",
    "tag": "",
    "tdMode": "isolated",
    "tgtCcy": "",
    "tpOrdPx": "",
    "tpTriggerPx": "",
    "tpTriggerPxType": "",
    "tradeId": "12345",
    "uTime": "1708587373362",
}


def test_order_sizes_are_converted_with_ct_val():
    order = o.parse_order({"code": "0", "msg": "", "data": [ORDER_ROW]}, D("0.01"))
    assert (order.symbol, order.client_order_id, order.venue_order_id) == (
        "BTC-USDT-SWAP",
        "hf0123456789abcdef0123456789",
        "680800019749904384",
    )
    assert (order.status, order.side, order.position_side, order.order_type) == (
        OrderStatus.FILLED,
        Side.BUY,
        PositionSide.SHORT,
        OrderType.MARKET,
    )
    assert (order.quantity, order.filled_qty, order.avg_price, order.price) == (D("0.3"), D("0.3"), D("60123.4"), None)
    assert order.update_ms == 1708587373362
    assert o.parse_order_fee(ORDER_ROW) == D("9.01851")
    assert o.parse_order_fee(dict(ORDER_ROW, feeCcy="BTC")) is None


@pytest.mark.parametrize(
    "state,expected",
    [
        ("live", OrderStatus.NEW),
        ("partially_filled", OrderStatus.PARTIALLY_FILLED),
        ("canceled", OrderStatus.CANCELED),
        ("mmp_canceled", OrderStatus.CANCELED),
    ],
)
def test_order_states(state, expected):
    row = dict(ORDER_ROW, state=state, ordType="post_only", px="60000.1", accFillSz="0", avgPx="")
    order = o.parse_order(row, D("0.01"))
    assert order.status is expected and order.order_type is OrderType.LIMIT and order.price == D("60000.1")


def test_net_mode_order_and_position_sides():
    close_long = dict(ORDER_ROW, posSide="net", side="sell", reduceOnly="true")
    assert o.parse_order(close_long, D("0.01")).position_side is PositionSide.LONG
    pos = {
        "instId": "ETH-USDT-SWAP",
        "instType": "SWAP",
        "mgnMode": "cross",
        "posSide": "net",
        "pos": "-12",
        "avgPx": "3000.5",
        "markPx": "2990",
        "lever": "5",
        "cTime": "1",
        "uTime": "2",
    }
    p = o.parse_position(pos, D("0.1"))
    assert (p.position_side, p.qty, p.entry_price, p.leverage) == (PositionSide.SHORT, D("1.2"), D("3000.5"), 5)


def test_position_docs_example():
    row = {  # GET /api/v5/account/positions (docs example; FUTURES ETH-USD, ctVal 10 USD: units are the caller's)
        "adl": "1",
        "availPos": "1",
        "avgPx": "2566.31",
        "cTime": "1619507758793",
        "ccy": "ETH",
        "deltaBS": "",
        "deltaPA": "",
        "gammaBS": "",
        "gammaPA": "",
        "imr": "",
        "instId": "ETH-USD-210430",
        "instType": "FUTURES",
        "interest": "0",
        "idxPx": "2566.13",
        "last": "2566.22",
        "usdPx": "",
        "bePx": "2353.949",
        "lever": "10",
        "liab": "",
        "liabCcy": "",
        "liqPx": "2352.8496681818233",
        "markPx": "2353.849",
        "margin": "0.0003896645377994",
        "mgnMode": "isolated",
        "mgnRatio": "11.731726509588816",
        "mmr": "0.0000311811092368",
        "notionalUsd": "2276.2546609009605",
        "optVal": "",
        "pTime": "1619507761462",
        "pendingCloseOrdLiabVal": "0.1",
        "pos": "1",
        "baseBorrowed": "",
        "baseInterest": "",
        "quoteBorrowed": "",
        "quoteInterest": "",
        "posCcy": "",
        "posId": "307173036051017730",
        "posSide": "long",
        "spotInUseAmt": "",
        "spotInUseCcy": "",
        "thetaBS": "",
        "thetaPA": "",
        "tradeId": "109844",
        "bizRefId": "",
        "bizRefType": "",
        "uTime": "1619507761462",
        "upl": "-0.0000009932766034",
        "uplLastPx": "-0.0000009932766034",
        "uplRatio": "-0.0025490556801078",
        "uplRatioLastPx": "-0.0025490556801078",
        "vegaBS": "",
        "vegaPA": "",
        "realizedPnl": "0.001",
        "pnl": "0.0011",
        "fee": "-0.0001",
        "fundingFee": "0",
        "liqPenalty": "0",
        "closeOrderAlgo": [],
    }
    p = o.parse_position({"code": "0", "msg": "", "data": [row]}, D("0.01"))
    assert (p.symbol, p.position_side, p.qty, p.entry_price, p.mark_price, p.leverage) == (
        "ETH-USD-210430",
        PositionSide.LONG,
        D("0.01"),
        D("2566.31"),
        D("2353.849"),
        10,
    )
    assert o.parse_position(dict(row, pos="0"), D(1)) is None


def test_funding_ticker_balance_fees():
    funding = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "formulaType": "noRate",
                "fundingRate": "0.0000792386885340",
                "fundingTime": "1703088000000",
                "impactValue": "",
                "instId": "BTC-USDT-SWAP",
                "instType": "SWAP",
                "interestRate": "",
                "maxFundingRate": "0.00375",
                "method": "current_period",
                "minFundingRate": "-0.00375",
                "nextFundingRate": "",
                "nextFundingTime": "1703116800000",
                "premium": "0.0001",
                "settFundingRate": "0.0000908769725132",
                "settState": "settled",
                "ts": "1703070685309",
            }
        ],
    }
    mark = {
        "code": "0",
        "msg": "",
        "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6", "ts": "1597026383085"}],
    }
    f = o.parse_funding(funding, mark)
    assert (f.symbol, f.mark_price, f.funding_rate, f.next_funding_time_ms) == (
        "BTC-USDT-SWAP",
        D("42310.6"),
        D("0.0000792386885340"),
        1703088000000,
    )
    ticker = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instType": "SWAP",
                "instId": "BTC-USDT-SWAP",
                "last": "9999.99",
                "lastSz": "1",
                "askPx": "9999.99",
                "askSz": "11",
                "bidPx": "8888.88",
                "bidSz": "5",
                "open24h": "9000",
                "high24h": "10000",
                "low24h": "8888.88",
                "volCcy24h": "2222",
                "vol24h": "2222",
                "sodUtc0": "2222",
                "sodUtc8": "2222",
                "ts": "1597026383085",
            }
        ],
    }
    t = o.parse_book_top(ticker, D("0.01"))
    assert (t.bid, t.bid_qty, t.ask, t.ask_qty, t.ts) == (
        D("8888.88"),
        D("0.05"),
        D("9999.99"),
        D("0.11"),
        1597026383085,
    )
    balance = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "adjEq": "55415.624719833286",
                "borrowFroz": "0",
                "imr": "0",
                "isoEq": "0",
                "mgnRatio": "",
                "mmr": "0",
                "notionalUsd": "0",
                "ordFroz": "0",
                "totalEq": "55837.43556134779",
                "uTime": "1705474164160",
                "upl": "0",
                "details": [
                    {
                        "availBal": "4734.371190691436",
                        "availEq": "4734.371190691435",
                        "cashBal": "4750.426970691436",
                        "ccy": "USDT",
                        "eq": "4750.426970691436",
                        "frozenBal": "16.0557800000008",
                        "upl": "-12.5",
                        "uTime": "1705449605015",
                    },
                    {"availBal": "1", "availEq": "1", "cashBal": "1", "ccy": "BTC", "eq": "1", "upl": "0"},
                ],
            }
        ],
    }
    bal = o.parse_balance(balance)
    assert (bal.asset, bal.wallet_balance, bal.available_balance, bal.unrealized_pnl) == (
        "USDT",
        D("4750.426970691436"),
        D("4734.371190691435"),
        D("-12.5"),
    )
    fees = o.parse_fees(
        {
            "code": "0",
            "msg": "",
            "data": [
                {
                    "category": "1",
                    "delivery": "",
                    "exercise": "",
                    "instType": "SWAP",
                    "level": "Lv1",
                    "maker": "",
                    "makerU": "-0.0002",
                    "makerUSDC": "-0.0002",
                    "taker": "",
                    "takerU": "-0.0005",
                    "takerUSDC": "-0.0005",
                    "ruleType": "normal",
                    "ts": "1608623351857",
                    "fiat": [],
                }
            ],
        }
    )
    assert (fees.maker_rate, fees.taker_rate) == (D("0.0002"), D("0.0005"))


def test_success_is_not_an_error_and_every_scode_is_checked():
    ok = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "clOrdId": "oktswap6",
                "ordId": "312269865356374016",
                "tag": "",
                "ts": "1695190491421",
                "sCode": "0",
                "sMsg": "",
            }
        ],
        "inTime": "1695190491421339",
        "outTime": "1695190491423240",
    }
    assert o.parse_error(200, ok) is None
    failed = {
        "code": "1",
        "msg": "",
        "data": [
            {
                "clOrdId": "",
                "ordId": "",
                "sCode": "51008",
                "sMsg": "Order failed. Insufficient USDT margin in account",
                "tag": "",
            }
        ],
    }
    err = o.parse_error(200, failed)
    assert isinstance(err, InsufficientMargin) and err.code == "51008"
    partial = {
        "code": "2",
        "msg": "Bulk operation partially succeeded.",
        "data": [
            {"clOrdId": "a", "ordId": "1", "sCode": "0", "sMsg": ""},
            {"clOrdId": "b", "ordId": "2", "sCode": "51400", "sMsg": "Cancellation failed"},
        ],
    }
    assert isinstance(o.parse_error(200, partial), OrderNotFound)
    hidden = {
        "code": "0",
        "msg": "",
        "data": [{"sCode": "51121", "sMsg": "Order quantity must be a multiple of the lot size."}],
    }
    assert isinstance(o.parse_error(200, hidden), FilterFailure)


@pytest.mark.parametrize(
    "code,msg,cls",
    [
        ("50011", "Rate limit reached.", RateLimited),
        ("50061", "Sub-account rate limit exceeded", RateLimited),
        ("50102", "Timestamp request expired", ClockSkew),
        ("50113", "Invalid Sign", AuthError),
        ("50111", "Invalid OK-ACCESS-KEY", AuthError),
        ("50101", "APIKey does not match current environment.", AuthError),
        ("51020", "Your order should meet or exceed the minimum order amount.", FilterFailure),
        ("51121", "Order quantity must be a multiple of the lot size.", FilterFailure),
        ("51008", "Order failed. Insufficient USDT margin in account", InsufficientMargin),
        ("51169", "Order failed because you don't have any positions in this direction", ReduceOnlyRejected),
        ("51603", "Order does not exist", OrderNotFound),
        ("50004", "API endpoint request timeout", UnknownOutcome),
        ("50001", "Service temporarily unavailable. Try again later", VenueUnavailable),
        ("51000", "Parameter posSide error", PositionSideMismatch),
        ("51000", "Parameter px error", FilterFailure),
        ("51000", "Parameter instId error", BadRequest),
        ("59000", "Settings failed.", BadRequest),
    ],
)
def test_error_codes(code, msg, cls):
    err = o.parse_error(200, {"code": code, "msg": msg, "data": []})
    assert type(err) is cls and err.code == code and err.venue == "okx_perp"


def test_http_level_errors():
    err = o.parse_error(429, '{"msg":"Too Many Requests","code":"50011"}', {"Retry-After": "2"})
    assert isinstance(err, RateLimited) and err.retry_after_s == 2
    assert isinstance(o.parse_error(429, ""), RateLimited)
    assert isinstance(o.parse_error(502, "<html>bad gateway</html>"), UnknownOutcome)
    assert isinstance(o.parse_error(503, ""), VenueUnavailable)
    assert isinstance(o.parse_error(401, ""), AuthError)


def test_plural_and_body_only_forms():
    rows = {
        "code": "0",
        "msg": "",
        "data": [
            {"instId": "BTC-USDT-SWAP", "posSide": "long", "pos": "3", "avgPx": "60000", "lever": "2"},
            {"instId": "ETH-USDT-SWAP", "posSide": "short", "pos": "0", "avgPx": "", "lever": "2"},
        ],
    }
    (p,) = o.parse_positions(rows, {"BTC-USDT-SWAP": D("0.01"), "ETH-USDT-SWAP": D("0.1")})
    assert (p.symbol, p.qty) == ("BTC-USDT-SWAP", D("0.03"))
    with pytest.raises(ValueError, match="ctVal"):
        o.parse_positions(rows, {})
    assert isinstance(o.parse_error({"code": "50011", "msg": "Rate limit reached.", "data": []}), RateLimited)
    assert o.parse_error({"code": "0", "msg": "", "data": []}) is None


# -- REST shapes the live path met (issue 13, item 5), each as the OKX v5 docs show it -------------
ORDER_ACK_ROW = {  # one `data` row of POST /api/v5/trade/order, handed on without its envelope
    "clOrdId": "oktswap6",
    "ordId": "312269865356374016",
    "tag": "",
    "ts": "1695190491421",
    "sCode": "0",
    "sMsg": "",
}


def test_a_bare_order_row_with_scode_0_is_a_success():
    assert o.parse_error(ORDER_ACK_ROW) is None
    assert o.parse_error(200, json.dumps(ORDER_ACK_ROW)) is None
    failed = {**ORDER_ACK_ROW, "sCode": "51008", "sMsg": "Order failed. Insufficient USDT margin in account"}
    err = o.parse_error(failed)
    assert isinstance(err, InsufficientMargin) and err.code == "51008"


BALANCE_DETAILS_ROW = {  # one `details` row of GET /api/v5/account/balance
    "availBal": "8213.24",
    "availEq": "8213.24",
    "cashBal": "10042.25",
    "ccy": "USDT",
    "disEq": "10050.1",
    "eq": "10052.25",
    "eqUsd": "10050.1",
    "frozenBal": "1829.01",
    "isoEq": "0",
    "ordFrozen": "0",
    "uTime": "1705474164160",
    "upl": "10.0",
}


def test_a_balance_details_row_without_envelope_reads_its_usdt():
    bal = o.parse_balance(BALANCE_DETAILS_ROW)
    assert (bal.asset, bal.wallet_balance, bal.available_balance, bal.unrealized_pnl) == (
        "USDT",
        D("10042.25"),
        D("8213.24"),
        D("10.0"),
    )
    account = {"totalEq": "10052.25", "details": [BALANCE_DETAILS_ROW], "uTime": "1705474164160"}
    assert o.parse_balance(account) == bal == o.parse_balance({"code": "0", "msg": "", "data": [account]})
    assert o.parse_balance({**BALANCE_DETAILS_ROW, "ccy": "BTC"}).wallet_balance == 0  # another currency


def test_one_unreadable_instrument_is_left_out_of_the_listing_not_every_instrument():
    odd = {**ETH_SWAP, "instId": "ODD-USDT-SWAP", "tickSz": "NaN"}
    listing = o.parse_instruments({"code": "0", "msg": "", "data": [odd, ETH_SWAP]})
    assert list(listing) == [ETH_SWAP["instId"]] and list(listing.skipped) == ["ODD-USDT-SWAP"]
    with pytest.raises(MalformedAnswer, match="no instrument reads"):
        o.parse_instruments({"code": "0", "msg": "", "data": [odd]})
