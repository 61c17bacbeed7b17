"""Binance USD-M parsers fed payloads shaped as the official REST docs show them, and the real
exchangeInfo sample in ../shared/data (checked against config/venue_filters.json, which was
derived from it)."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from execution.exchanges import binance_parsers as b
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
from execution.exchanges.wire import fmt
from execution.models import OrderStatus, OrderType, PositionSide, Side
from tests.conftest import shared_path

SYMBOL_INFO = {  # GET /fapi/v1/exchangeInfo, one entry of "symbols" (docs example)
    "symbol": "BLZUSDT",
    "pair": "BLZUSDT",
    "contractType": "PERPETUAL",
    "deliveryDate": 4133404800000,
    "onboardDate": 1598252400000,
    "status": "TRADING",
    "maintMarginPercent": "2.5000",
    "requiredMarginPercent": "5.0000",
    "baseAsset": "BLZ",
    "quoteAsset": "USDT",
    "marginAsset": "USDT",
    "pricePrecision": 5,
    "quantityPrecision": 0,
    "baseAssetPrecision": 8,
    "quotePrecision": 8,
    "underlyingType": "COIN",
    "underlyingSubType": ["STORAGE"],
    "settlePlan": 0,
    "triggerProtect": "0.15",
    "filters": [
        {"filterType": "PRICE_FILTER", "maxPrice": "300", "minPrice": "0.0001", "tickSize": "0.0001"},
        {"filterType": "LOT_SIZE", "maxQty": "10000000", "minQty": "1", "stepSize": "1"},
        {"filterType": "MARKET_LOT_SIZE", "maxQty": "590119", "minQty": "1", "stepSize": "1"},
        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
        {"filterType": "MIN_NOTIONAL", "notional": "5.0"},
        {"filterType": "PERCENT_PRICE", "multiplierUp": "1.1500", "multiplierDown": "0.8500", "multiplierDecimal": 4},
    ],
    "OrderType": [
        "LIMIT",
        "MARKET",
        "STOP",
        "STOP_MARKET",
        "TAKE_PROFIT",
        "TAKE_PROFIT_MARKET",
        "TRAILING_STOP_MARKET",
    ],
    "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    "liquidationFee": "0.010000",
    "marketTakeBound": "0.30",
}


def test_filters_from_docs_example():
    f = b.parse_filters(SYMBOL_INFO)
    assert (f.symbol, f.tick_size, f.step_size, f.min_qty, f.max_qty) == (
        "BLZUSDT",
        D("0.0001"),
        D(1),
        D(1),
        D(10000000),
    )
    assert (f.market_step_size, f.market_max_qty, f.min_notional) == (D(1), D(590119), D(5))
    assert (f.min_price, f.max_price, f.contract_value, f.venue) == (D("0.0001"), D(300), D(1), "binance_um")


def test_filters_without_lot_size_are_refused():
    bad = dict(SYMBOL_INFO, filters=[x for x in SYMBOL_INFO["filters"] if x["filterType"] != "LOT_SIZE"])
    with pytest.raises(ValueError, match="BLZUSDT"):
        b.parse_filters(bad)


def test_exchange_info_sample_parses_every_symbol():
    """A real (2021) answer: every symbol parses. Its values are old; the shipped file holds the
    venue's current rules (tests/integration/test_venue_filters.py)."""
    path = shared_path("api_samples", "binance_um", "fapi_v1_exchangeInfo_20210722.json")
    parsed = b.parse_exchange_info(json.loads(path.read_text()))
    assert len(parsed) == 122
    assert all(f.tick_size > 0 and f.step_size > 0 and f.source == "venue" for f in parsed.values())
    assert parsed["BTCUSDT"].tick_size == D("0.01") and parsed["BTCUSDT"].min_notional == D(5)  # then


def test_order_from_new_order_response():
    # POST /fapi/v1/order with newOrderRespType=RESULT (docs shape), a filled hedge-mode close
    payload = {
        "clientOrderId": "hf0123456789abcdef0123456789",
        "cumQty": "0.010",
        "cumQuote": "601.23000",
        "executedQty": "0.010",
        "orderId": 22542179,
        "avgPrice": "60123.00000",
        "origQty": "0.010",
        "price": "0",
        "reduceOnly": True,
        "side": "SELL",
        "positionSide": "LONG",
        "status": "FILLED",
        "stopPrice": "0",
        "closePosition": False,
        "symbol": "BTCUSDT",
        "timeInForce": "GTC",
        "type": "MARKET",
        "origType": "MARKET",
        "updateTime": 1566818724722,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    }
    o = b.parse_order(payload)
    assert (o.symbol, o.client_order_id, o.venue_order_id) == ("BTCUSDT", "hf0123456789abcdef0123456789", "22542179")
    assert (o.status, o.side, o.position_side, o.order_type) == (
        OrderStatus.FILLED,
        Side.SELL,
        PositionSide.LONG,
        OrderType.MARKET,
    )
    assert (o.quantity, o.filled_qty, o.avg_price, o.price, o.update_ms) == (
        D("0.010"),
        D("0.010"),
        D("60123"),
        None,
        1566818724722,
    )


def test_order_from_query_order_docs_example():
    payload = {  # GET /fapi/v1/order (docs example)
        "avgPrice": "0.00000",
        "clientOrderId": "abc",
        "cumQuote": "0",
        "executedQty": "0",
        "orderId": 1917641,
        "origQty": "0.40",
        "origType": "TRAILING_STOP_MARKET",
        "price": "0",
        "reduceOnly": False,
        "side": "BUY",
        "positionSide": "SHORT",
        "status": "NEW",
        "stopPrice": "9300",
        "closePosition": False,
        "symbol": "BTCUSDT",
        "time": 1579276756075,
        "timeInForce": "GTC",
        "type": "TRAILING_STOP_MARKET",
        "activatePrice": "9020",
        "priceRate": "0.3",
        "updateTime": 1579276756075,
        "workingType": "CONTRACT_PRICE",
        "priceProtect": False,
        "priceMatch": "NONE",
        "selfTradePreventionMode": "NONE",
        "goodTillDate": 0,
    }
    o = b.parse_order(payload)
    assert (o.status, o.side, o.position_side, o.order_type) == (
        OrderStatus.NEW,
        Side.BUY,
        PositionSide.SHORT,
        OrderType.MARKET,
    )
    assert (o.quantity, o.filled_qty, o.client_order_id) == (D("0.40"), D(0), "abc")


@pytest.mark.parametrize(
    "status,expected",
    [
        ("PARTIALLY_FILLED", OrderStatus.PARTIALLY_FILLED),
        ("CANCELED", OrderStatus.CANCELED),
        ("EXPIRED", OrderStatus.EXPIRED),
        ("EXPIRED_IN_MATCH", OrderStatus.EXPIRED),
        ("REJECTED", OrderStatus.REJECTED),
    ],
)
def test_order_status_mapping(status, expected):
    payload = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "positionSide": "LONG",
        "type": "LIMIT",
        "status": status,
        "origQty": "1.000",
        "executedQty": "0.400",
        "avgPrice": "3000.10",
        "price": "3000.50",
        "clientOrderId": "x",
        "orderId": 5,
        "updateTime": 1,
    }
    o = b.parse_order(payload)
    assert o.status is expected and o.price == D("3000.50") and o.filled_qty == D("0.4")


def test_one_way_order_sides():
    base = {
        "symbol": "ETHUSDT",
        "positionSide": "BOTH",
        "type": "MARKET",
        "status": "FILLED",
        "origQty": "1",
        "executedQty": "1",
        "avgPrice": "1",
        "price": "0",
        "clientOrderId": "x",
        "orderId": 1,
    }
    assert b.parse_order(dict(base, side="SELL", reduceOnly=True)).position_side is PositionSide.LONG
    assert b.parse_order(dict(base, side="BUY", reduceOnly=True)).position_side is PositionSide.SHORT
    assert b.parse_order(dict(base, side="SELL", reduceOnly=False)).position_side is PositionSide.SHORT


def test_positions_v2_hedge_docs_example():
    rows = [  # GET /fapi/v2/positionRisk in hedge mode (docs example)
        {
            "symbol": "BTCUSDT",
            "positionAmt": "0.001",
            "entryPrice": "22185.2",
            "breakEvenPrice": "0.0",
            "markPrice": "21123.05052574",
            "unRealizedProfit": "-1.06214947",
            "liquidationPrice": "19731.45529116",
            "leverage": "4",
            "maxNotionalValue": "100000000",
            "marginType": "cross",
            "isolatedMargin": "0.00000000",
            "isAutoAddMargin": "false",
            "positionSide": "LONG",
            "notional": "21.12305052",
            "isolatedWallet": "0",
            "updateTime": 1655217461579,
        },
        {
            "symbol": "BTCUSDT",
            "positionAmt": "0.000",
            "entryPrice": "0.0",
            "breakEvenPrice": "0.0",
            "markPrice": "21123.05052574",
            "unRealizedProfit": "0.00000000",
            "liquidationPrice": "0",
            "leverage": "4",
            "maxNotionalValue": "100000000",
            "marginType": "cross",
            "isolatedMargin": "0.00000000",
            "isAutoAddMargin": "false",
            "positionSide": "SHORT",
            "notional": "0",
            "isolatedWallet": "0",
            "updateTime": 0,
        },
    ]
    long_pos, flat = (b.parse_position(r) for r in rows)
    assert flat is None
    assert (long_pos.symbol, long_pos.position_side, long_pos.qty, long_pos.entry_price) == (
        "BTCUSDT",
        PositionSide.LONG,
        D("0.001"),
        D("22185.2"),
    )
    assert (long_pos.mark_price, long_pos.leverage, long_pos.opened_ts) == (D("21123.05052574"), 4, 1655217461579)


def test_positions_v3_hedge_short_is_negative_amount():
    row = {  # GET /fapi/v3/positionRisk (docs shape): no leverage field, SHORT amounts are negative
        "symbol": "COMPUSDT",
        "positionSide": "SHORT",
        "positionAmt": "-1.000",
        "entryPrice": "70.92841",
        "breakEvenPrice": "70.900038636",
        "markPrice": "49.72023376",
        "unRealizedProfit": "21.20817624",
        "liquidationPrice": "2260.56757210",
        "isolatedMargin": "0",
        "notional": "-49.72023376",
        "marginAsset": "USDT",
        "isolatedWallet": "0",
        "initialMargin": "2.48601168",
        "maintMargin": "0.49720233",
        "positionInitialMargin": "2.48601168",
        "openOrderInitialMargin": "0",
        "adl": 2,
        "bidNotional": "0",
        "askNotional": "0",
        "updateTime": 1708943511656,
    }
    p = b.parse_position(row)
    assert (p.position_side, p.qty, p.entry_price, p.leverage) == (PositionSide.SHORT, D(1), D("70.92841"), 1)
    assert p.unrealized_pnl == (D("49.72023376") - D("70.92841")) * -1


def test_one_way_position_takes_side_from_sign():
    row = {
        "symbol": "ETHUSDT",
        "positionSide": "BOTH",
        "positionAmt": "-0.5",
        "entryPrice": "3000",
        "markPrice": "2900",
        "updateTime": 5,
    }
    p = b.parse_position(row)
    assert (p.position_side, p.qty) == (PositionSide.SHORT, D("0.5"))


def test_funding_book_balance_fees():
    f = b.parse_funding(
        {  # GET /fapi/v1/premiumIndex (docs example)
            "symbol": "BTCUSDT",
            "markPrice": "11793.63104562",
            "indexPrice": "11781.80495970",
            "estimatedSettlePrice": "11781.16138815",
            "lastFundingRate": "0.00038246",
            "interestRate": "0.00010000",
            "nextFundingTime": 1597392000000,
            "time": 1597370495002,
        }
    )
    assert (f.symbol, f.mark_price, f.funding_rate, f.next_funding_time_ms) == (
        "BTCUSDT",
        D("11793.63104562"),
        D("0.00038246"),
        1597392000000,
    )
    t = b.parse_book_top(
        {
            "lastUpdateId": 1027024,
            "symbol": "BTCUSDT",
            "bidPrice": "4.00000000",
            "bidQty": "431.00000000",
            "askPrice": "4.00000200",
            "askQty": "9.00000000",
            "time": 1589437530011,
        }
    )
    assert (t.bid, t.bid_qty, t.ask, t.ask_qty, t.ts) == (D(4), D(431), D("4.000002"), D(9), 1589437530011)
    bal = b.parse_balance(
        [  # GET /fapi/v3/balance (docs example)
            {
                "accountAlias": "SgsR",
                "asset": "BNB",
                "balance": "1.0",
                "crossWalletBalance": "1.0",
                "crossUnPnl": "0",
                "availableBalance": "1.0",
                "maxWithdrawAmount": "1.0",
                "marginAvailable": True,
                "updateTime": 1,
            },
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": "122607.35137903",
                "crossWalletBalance": "23.72469206",
                "crossUnPnl": "0.00000000",
                "availableBalance": "23.72469206",
                "maxWithdrawAmount": "23.72469206",
                "marginAvailable": True,
                "updateTime": 1617939110373,
            },
        ]
    )
    assert (bal.asset, bal.wallet_balance, bal.available_balance) == ("USDT", D("122607.35137903"), D("23.72469206"))
    fees = b.parse_fees({"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0004"})
    assert (fees.maker_rate, fees.taker_rate) == (D("0.0002"), D("0.0004"))


@pytest.mark.parametrize(
    "code,cls",
    [
        (-1013, FilterFailure),
        (-1111, FilterFailure),
        (-4164, FilterFailure),
        (-4061, PositionSideMismatch),
        (-1106, ReduceOnlyRejected),
        (-2022, ReduceOnlyRejected),
        (-2019, InsufficientMargin),
        (-2015, AuthError),
        (-1022, AuthError),
        (-2014, AuthError),
        (-1021, ClockSkew),
        (-2013, OrderNotFound),
        (-2011, OrderNotFound),
        (-1007, UnknownOutcome),
        (-1008, VenueUnavailable),
        (-1121, BadRequest),
        (-4116, BadRequest),
    ],
)
def test_error_codes(code, cls):
    err = b.parse_error(400, json.dumps({"code": code, "msg": "some text"}))
    assert type(err) is cls and err.code == str(code) and err.venue == "binance_um"


def test_rate_limit_errors_carry_the_wait():
    err = b.parse_error(
        429,
        '{"code":-1003,"msg":"Too many requests; current limit of IP(1.2.3.4) is 2400 requests per minute."}',
        {"Retry-After": "7"},
    )
    assert isinstance(err, RateLimited) and err.retry_after_s == 7 and err.code == "-1003"
    ban = b.parse_error(
        418,
        '{"code":-1003,"msg":"Way too many requests; IP(1.2.3.4) banned until 1700000060000. '
        'Please use the websocket for live updates to avoid bans."}',
        {},
        now_ms=1_700_000_000_000,
    )
    assert isinstance(ban, RateLimited) and ban.retry_after_s == 60
    bare = b.parse_error(429, "", {"retry-after": "3"})
    assert isinstance(bare, RateLimited) and bare.code == "HTTP 429" and bare.retry_after_s == 3


def test_5xx_distinguishes_unknown_from_refused():
    assert isinstance(
        b.parse_error(503, "Unknown error, please check your request or try again later."), UnknownOutcome
    )
    assert isinstance(b.parse_error(503, "Service Unavailable."), VenueUnavailable)
    assert isinstance(
        b.parse_error(503, "Internal error; unable to process your request. Please try again."), VenueUnavailable
    )
    assert isinstance(b.parse_error(502, "<html>Bad Gateway</html>"), UnknownOutcome)
    assert isinstance(b.parse_error(401, ""), AuthError)


def test_fmt_never_uses_exponents():
    assert fmt(D("1E+1")) == "10" and fmt(D("0.00100")) == "0.001" and fmt(D("60000.10")) == "60000.1"


def test_plural_and_body_only_forms():
    rows = [
        {"symbol": "BTCUSDT", "positionSide": "LONG", "positionAmt": "0.5", "entryPrice": "1", "markPrice": "1"},
        {"symbol": "BTCUSDT", "positionSide": "SHORT", "positionAmt": "0", "entryPrice": "0", "markPrice": "1"},
    ]
    assert [p.position_side for p in b.parse_positions(rows)] == [PositionSide.LONG]
    assert b.parse_position(rows[:1]).qty == D("0.5")
    assert isinstance(b.parse_error({"code": -2019, "msg": "Margin is insufficient."}), InsufficientMargin)


# -- GET /fapi/v1/fundingRate rows (issue 13, item 5): markPrice absent on old rows, "" on some -----
FUNDING_HISTORY = [  # docs example: no markPrice at all
    {"symbol": "BTCUSDT", "fundingRate": "-0.03750000", "fundingTime": 1570608000000},
    {"symbol": "BTCUSDT", "fundingRate": "0.00010000", "fundingTime": 1570636800000},
]


def test_funding_history_rows_parse_with_or_without_a_mark_price():
    older, newer = b.parse_funding_history(list(reversed(FUNDING_HISTORY)))
    assert (older.symbol, older.funding_rate, older.funding_time_ms, older.mark_price) == (
        "BTCUSDT",
        D("-0.0375"),
        1570608000000,
        D(0),
    )
    assert newer.funding_time_ms == 1570636800000 and newer.next_funding_time_ms == 0
    empty_mark = {"symbol": "BTCUSDT", "fundingTime": 1568102400000, "fundingRate": "0.00010000", "markPrice": ""}
    assert b.parse_funding(empty_mark).mark_price == 0
    current = {  # today's rows carry the mark price
        "symbol": "BTCUSDT",
        "fundingTime": 1791273600001,
        "fundingRate": "-0.00001592",
        "markPrice": "85514.00007496",
    }
    f = b.parse_funding(current)
    assert (f.mark_price, f.funding_rate, f.funding_time_ms) == (D("85514.00007496"), D("-0.00001592"), 1791273600001)


def test_one_unreadable_symbol_is_left_out_of_the_listing_not_every_symbol():
    odd = {**SYMBOL_INFO, "symbol": "ODDUSDT", "filters": [{"filterType": "PRICE_FILTER", "tickSize": "0"}]}
    listing = b.parse_exchange_info({"symbols": [odd, SYMBOL_INFO]})
    assert list(listing) == ["BLZUSDT"] and list(listing.skipped) == ["ODDUSDT"]
    assert "ODDUSDT" in listing.skipped["ODDUSDT"]  # says which field of which symbol
    with pytest.raises(MalformedAnswer, match="no symbol reads"):
        b.parse_exchange_info({"symbols": [odd]})
