"""Hostile venue answers through every parser of the Binance USD-M and OKX v5 adapters.

Each case starts from a valid answer (the docs-shaped payloads of the parser tests, the shapes the
loopback fakes serve) and `tests.support.hostile_payloads.mutations` changes one place at a time
(every leaf and every container) to what a broken or hostile venue can send. For every mutant:

- a REST parser returns a value or raises `MalformedAnswer`: a VenueError (what the router,
  the reconcilers and the guards catch) that is also a ValueError (what `RestVenue.fees` and
  `margin_tiers` fall back on), its message naming the field in at most a few hundred characters;
- an error-body parser (`parse_error`) always returns its typed error (it runs inside `_call`);
- an adapter call (the parser plus what the adapter reads itself: row ids, times, leverage, the
  OKX envelope) returns or raises a VenueError: the core catches nothing else;
- a stream parser returns events or raises ValueError (the feed counts it as a parse error and
  keeps the connection; anything else escapes its `except` and drops the connection); a private
  stream's update that does not read is counted and the stream stays up;
- whatever is returned carries only finite numbers, timestamps within year 0..9999, text fields
  that are text of bounded length, and prices / sizes of the sign the venue documents.

Deterministic: a fixed list of hostile values, in a fixed order; no random seed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

import pytest

from execution import clock
from execution.exchanges import binance_algo as ba
from execution.exchanges import binance_history as bh
from execution.exchanges import binance_parsers as b
from execution.exchanges import okx_algo as oa
from execution.exchanges import okx_history as oh
from execution.exchanges import okx_parsers as o
from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.errors import MalformedAnswer, VenueError
from execution.exchanges.history import AccountEvent, VenueTrade
from execution.exchanges.okx_perp import OkxPerp
from execution.feeds.account_stream import BinanceUserStream, OkxPrivateStream
from execution.feeds.events import BookUpdate, CandleClosed, FeedIssue, MarkUpdate
from execution.feeds.stream_parsers import parse_binance, parse_okx
from execution.margin import MarginSchedule
from execution.models import BookTop, FeeSchedule, FundingInfo, Listing, Order, Position, SymbolFilters
from execution.triggers import TriggerOrder
from tests.support.hostile_payloads import LONG_TEXT, mutations, numbers, sketch, texts
from tests.unit import test_binance_parsers as bt
from tests.unit import test_history_parsers as ht
from tests.unit import test_margin as mt
from tests.unit import test_okx_parsers as ot
from tests.unit import test_stream_parsers as st

MAX_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
MAX_MESSAGE = 400  # an error's text: the field, the problem and a short sketch of the value
MAX_TEXT = 600  # a parsed id, symbol or note (a note joins a few bounded fields)


# -- valid answers, as the venues' docs and the loopback fakes show them ---------------------------
BRACKETS = [  # GET /fapi/v1/leverageBracket: numbers as JSON numbers, as the venue sends them
    {
        "symbol": "BTCUSDT",
        "notionalCoef": 1.5,
        "brackets": [
            {
                "bracket": 1,
                "initialLeverage": 125,
                "notionalCap": 50000,
                "notionalFloor": 0,
                "maintMarginRatio": 0.004,
                "cum": 0.0,
            },
            {
                "bracket": 2,
                "initialLeverage": 100,
                "notionalCap": 500000,
                "notionalFloor": 50000,
                "maintMarginRatio": 0.005,
                "cum": 50.0,
            },
        ],
    }
]
PREMIUM_INDEX = {
    "symbol": "BTCUSDT",
    "markPrice": "11793.63104562",
    "indexPrice": "11781.80495970",
    "estimatedSettlePrice": "11781.16138815",
    "lastFundingRate": "0.00038246",
    "interestRate": "0.00010000",
    "nextFundingTime": 1597392000000,
    "time": 1597370495002,
}
BOOK_TICKER = {
    "lastUpdateId": 1027024,
    "symbol": "BTCUSDT",
    "bidPrice": "4.00000000",
    "bidQty": "431.00000000",
    "askPrice": "4.00000200",
    "askQty": "9.00000000",
    "time": 1589437530011,
}
POSITION_RISK = [
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
        "symbol": "ETHUSDT",
        "positionSide": "BOTH",
        "positionAmt": "-0.5",
        "entryPrice": "3000",
        "markPrice": "2900",
        "updateTime": 5,
    },
]
ORDER_RESULT = {  # POST /fapi/v1/order, newOrderRespType=RESULT
    "clientOrderId": "hf0123456789abcdef0123456789",
    "cumQty": "0.010",
    "cumQuote": "601.23000",
    "executedQty": "0.010",
    "orderId": 22542179,
    "avgPrice": "60123.00000",
    "origQty": "0.010",
    "price": "60100",
    "reduceOnly": False,
    "side": "SELL",
    "positionSide": "LONG",
    "status": "FILLED",
    "stopPrice": "0",
    "closePosition": False,
    "symbol": "BTCUSDT",
    "timeInForce": "GTC",
    "type": "LIMIT",
    "origType": "LIMIT",
    "updateTime": 1566818724722,
    "workingType": "CONTRACT_PRICE",
}
ORDER_TRADE_UPDATE_O = {  # the "o" of a user-data-stream ORDER_TRADE_UPDATE
    "s": "BTCUSDT",
    "c": "hfrest1",
    "S": "BUY",
    "o": "LIMIT",
    "f": "GTC",
    "q": "0.010",
    "p": "59000.0",
    "ap": "59000.0",
    "sp": "0",
    "x": "TRADE",
    "X": "FILLED",
    "i": 8886774,
    "l": "0.010",
    "z": "0.010",
    "L": "59000.0",
    "N": "USDT",
    "n": "0.118",
    "T": 1700000000099,
    "t": 101,
    "m": True,
    "R": False,
    "wt": "CONTRACT_PRICE",
    "ot": "LIMIT",
    "ps": "LONG",
    "cp": False,
    "rp": "0",
}
BALANCE_ROWS = [
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
    }
]
ALGO_ORDER = {  # GET /fapi/v1/algoOrder, a fired stop (the fake's shape)
    "algoId": 2146760,
    "clientAlgoId": "hfstop1",
    "algoType": "CONDITIONAL",
    "orderType": "STOP_MARKET",
    "symbol": "BTCUSDT",
    "side": "SELL",
    "positionSide": "LONG",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "algoStatus": "TRIGGERED",
    "actualOrderId": "8886775",
    "actualPrice": "0.00000",
    "triggerPrice": "58000",
    "price": "0.000",
    "workingType": "MARK_PRICE",
    "reduceOnly": False,
    "createTime": 1700000000000,
    "updateTime": 1700000000500,
}
ALGO_UPDATE_O = {  # the "o" of a user-data-stream ALGO_UPDATE
    "caid": "hfstop1",
    "aid": 2146760,
    "at": "CONDITIONAL",
    "o": "STOP_MARKET",
    "s": "BTCUSDT",
    "S": "SELL",
    "ps": "LONG",
    "f": "GTC",
    "q": "0.010",
    "X": "FINISHED",
    "ai": "8886775",
    "ap": "57990.1",
    "aq": "0.010",
    "tp": "58000",
    "wt": "MARK_PRICE",
    "R": False,
    "tt": 1700000000400,
    "rm": "",
}

OKX_INSTRUMENTS = {"code": "0", "msg": "", "data": [ot.ETH_SWAP]}
OKX_TIERS = mt.TIERS  # GET /api/v5/public/position-tiers (docs example), as tests/unit/test_margin.py reads it
OKX_FEES = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "category": "1",
            "instType": "SWAP",
            "level": "Lv1",
            "maker": "",
            "makerU": "-0.0002",
            "taker": "",
            "takerU": "-0.0005",
            "ts": "1608623351857",
        }
    ],
}
OKX_FUNDING = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "fundingRate": "0.0000792386885340",
            "fundingTime": "1703088000000",
            "instId": "BTC-USDT-SWAP",
            "instType": "SWAP",
            "nextFundingTime": "1703116800000",
            "ts": "1703070685309",
        }
    ],
}
OKX_MARK = {
    "code": "0",
    "msg": "",
    "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6", "ts": "1597026383085"}],
}
OKX_TICKER = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "instType": "SWAP",
            "instId": "BTC-USDT-SWAP",
            "last": "9999.99",
            "askPx": "9999.99",
            "askSz": "11",
            "bidPx": "8888.88",
            "bidSz": "5",
            "ts": "1597026383085",
        }
    ],
}
OKX_POSITIONS = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "instId": "BTC-USDT-SWAP",
            "instType": "SWAP",
            "mgnMode": "isolated",
            "posSide": "long",
            "pos": "3",
            "avgPx": "60000",
            "markPx": "60100.5",
            "lever": "2",
            "cTime": "1619507758793",
            "uTime": "1619507761462",
            "upl": "3.01",
        },
        {
            "instId": "BTC-USDT-SWAP",
            "instType": "SWAP",
            "mgnMode": "cross",
            "posSide": "net",
            "pos": "-12",
            "avgPx": "3000.5",
            "markPx": "2990",
            "lever": "5",
            "cTime": "1",
        },
    ],
}
OKX_BALANCE = {
    "code": "0",
    "msg": "",
    "data": [{"totalEq": "10052.25", "uTime": "1705474164160", "details": [ot.BALANCE_DETAILS_ROW]}],
}
OKX_ALGO = {  # GET /api/v5/trade/order-algo row of a fired oco (the fake's shape)
    "instType": "SWAP",
    "instId": "BTC-USDT-SWAP",
    "ordId": "",
    "ordIdList": ["680800019749904385"],
    "algoId": "681096944655273984",
    "sz": "30",
    "ordType": "oco",
    "side": "sell",
    "posSide": "long",
    "tdMode": "isolated",
    "state": "effective",
    "lever": "20",
    "tpTriggerPx": "65000",
    "tpTriggerPxType": "mark",
    "tpOrdPx": "-1",
    "slTriggerPx": "58000",
    "slTriggerPxType": "mark",
    "slOrdPx": "-1",
    "actualSide": "sl",
    "failCode": "",
    "algoClOrdId": "hfprot1",
    "cTime": "1708587373361",
    "uTime": "1708587373999",
}

BINANCE_ERROR = {"code": -2019, "msg": "Margin is insufficient."}
OKX_BATCH_ERROR = {
    "code": "1",
    "msg": "",
    "data": [{"clOrdId": "", "ordId": "", "sCode": "51008", "sMsg": "Order failed. Insufficient margin", "tag": ""}],
}

BINANCE_KLINE_CLOSED = {"stream": "btcusdt@kline_15m", "data": {**st.KLINE, "k": {**st.KLINE["k"], "x": True}}}
OKX_MARK_FRAME = {
    "arg": {"channel": "mark-price", "instId": "BTC-USDT-SWAP"},
    "data": [{"instType": "SWAP", "instId": "BTC-USDT-SWAP", "markPx": "42310.6", "ts": "1597026383085"}],
}
OKX_FUNDING_FRAME = {
    "arg": {"channel": "funding-rate", "instId": "BTC-USDT-SWAP"},
    "data": [
        {
            "fundingRate": "0.0001515",
            "fundingTime": "1622822400000",
            "instId": "BTC-USDT-SWAP",
            "instType": "SWAP",
            "nextFundingTime": "1622851200000",
            "ts": "1622822400000",
        }
    ],
}
OKX_CANDLE_FRAME = {
    "arg": {"channel": "candle15m", "instId": "BTC-USDT-SWAP"},
    "data": [["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061", "5.3", "1"]],
}
CT_VALS = {"BTC-USDT-SWAP": 0.01, "ETH-USDT-SWAP": 0.1}


# -- what a parsed value may hold ------------------------------------------------------------------
def _sign_problems(result: Any) -> Iterator[str]:
    """Prices and sizes of the sign the venue documents (per type of parsed value)."""
    if isinstance(result, (list, tuple)) and not hasattr(result, "_fields"):
        for item in result:
            yield from _sign_problems(item)
        return
    if isinstance(result, dict):
        for key, item in result.items():
            if not isinstance(key, str) or len(key) > MAX_TEXT:
                yield f"a key of the result is {sketch(key)}, not a symbol"
            yield from _sign_problems(item)
        return
    r = result
    rules: list[tuple[str, bool]] = []
    if isinstance(r, SymbolFilters):
        rules = [
            ("tick_size > 0", r.tick_size > 0),
            ("step_size > 0", r.step_size > 0),
            ("min_qty >= 0", r.min_qty >= 0),
            ("max_qty >= 0", r.max_qty >= 0),
            ("min_notional >= 0", r.min_notional >= 0),
            ("contract_value > 0", r.contract_value > 0),
            ("market_step_size > 0", r.market_step_size is None or r.market_step_size > 0),
            ("market_max_qty > 0", r.market_max_qty is None or r.market_max_qty > 0),
            ("min_price >= 0", r.min_price >= 0),
            ("max_price >= 0", r.max_price >= 0),
        ]
    elif isinstance(r, MarginSchedule):
        for t in r.tiers:
            rules += [
                ("tier floor >= 0", t.floor >= 0),
                ("tier cap >= 0", t.cap >= 0),
                ("tier rate in [0, 1)", 0 <= t.maint_rate < 1),
                ("tier max_leverage >= 1", t.max_leverage >= 1),
                ("tier cum >= 0", t.cum >= 0),
            ]
    elif isinstance(r, BookTop):
        rules = [("bid > 0", r.bid > 0), ("ask > 0", r.ask > 0), ("bid_qty >= 0", r.bid_qty >= 0)]
        rules.append(("ask_qty >= 0", r.ask_qty >= 0))
    elif isinstance(r, FundingInfo):
        rules = [("mark_price >= 0", r.mark_price >= 0)]
    elif isinstance(r, Position):
        rules = [("qty > 0", r.qty > 0), ("entry_price >= 0", r.entry_price >= 0)]
        rules += [("mark_price >= 0", r.mark_price >= 0), ("leverage >= 1", r.leverage >= 1)]
    elif isinstance(r, Order):
        rules = [("quantity >= 0", r.quantity >= 0), ("filled_qty >= 0", r.filled_qty >= 0)]
        rules += [("avg_price >= 0", r.avg_price >= 0), ("price > 0", r.price is None or r.price > 0)]
    elif isinstance(r, TriggerOrder):
        rules = [
            ("quantity >= 0", r.quantity >= 0),
            ("stop_price > 0", r.stop_price is None or r.stop_price > 0),
            ("take_price > 0", r.take_price is None or r.take_price > 0),
            ("filled_qty >= 0", r.filled_qty >= 0),
            ("avg_price >= 0", r.avg_price >= 0),
        ]
    elif isinstance(r, VenueTrade):
        rules = [("qty > 0", r.qty > 0), ("price > 0", r.price > 0)]
    elif isinstance(r, AccountEvent):
        rules = [("mark_price >= 0", r.mark_price >= 0)]
    elif isinstance(r, (BookUpdate, CandleClosed, MarkUpdate, FeedIssue)):
        rules = [("symbol is text", isinstance(r.symbol, str))]
    for rule, ok in rules:
        if not ok:
            yield f"{type(r).__name__}: {rule} broken"


def value_problems(result: Any) -> list[str]:
    """Why a parsed value must not leave a parser (empty: it may)."""
    problems = []
    for name, x in numbers(result):
        if isinstance(x, D):
            if not x.is_finite() or not math.isfinite(float(x)):
                problems.append(f"{name} = {x!s:.40} is not finite")
        elif isinstance(x, float):
            if not math.isfinite(x):
                problems.append(f"{name} = {x} is not finite")
        elif name.endswith(("ts", "_ms", "open_time")) and not 0 <= x <= MAX_MS:
            problems.append(f"{name} = {x if x.bit_length() < 64 else 'huge'} is not a time of year 0..9999")
        elif name.endswith("leverage") and not 1 <= x <= 10_000:
            problems.append(f"{name} = {x if x.bit_length() < 64 else 'huge'} is not a leverage")
    if not problems:  # a NaN Decimal cannot even be compared
        problems += _sign_problems(result)
    for name, text in texts(result):
        if not isinstance(text, str):
            problems.append(f"{name} is a {type(text).__name__}, not text")
        elif len(text) > MAX_TEXT:
            problems.append(f"{name} is {len(text)} characters long")
    return problems


def message_problems(exc: BaseException) -> list[str]:
    text = str(exc)
    problems = []
    if len(text) > MAX_MESSAGE:
        problems.append(f"message of {len(text)} characters")
    if LONG_TEXT[:201] in text:
        problems.append("message echoes more than 200 characters of the payload")
    return problems


# -- the cases --------------------------------------------------------------------------------------
REST, ERROR_BODY, STREAM = "rest", "error body", "stream"
ADAPTER, ENVELOPE, PRIVATE_STREAM = "adapter", "envelope", "private stream"


@dataclass(frozen=True)
class Case:
    name: str
    payload: Any
    parse: Callable[[Any], Any]
    contract: str = REST
    extra: tuple[Any, ...] = field(default=())


CASES = [
    # Binance USD-M REST
    Case("binance exchangeInfo", {"timezone": "UTC", "symbols": [bt.SYMBOL_INFO]}, b.parse_exchange_info),
    Case("binance leverageBracket", BRACKETS, b.parse_leverage_brackets),
    Case("binance leverageBracket (one symbol)", BRACKETS[0], b.parse_leverage_brackets),
    Case(
        "binance commissionRate",
        {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0004"},
        b.parse_fees,
    ),
    Case("binance premiumIndex", PREMIUM_INDEX, b.parse_funding),
    Case("binance fundingRate history", bt.FUNDING_HISTORY, b.parse_funding_history),
    Case("binance bookTicker", BOOK_TICKER, b.parse_book_top),
    Case("binance positionRisk", POSITION_RISK, b.parse_positions),
    Case("binance order", ORDER_RESULT, b.parse_order),
    Case("binance openOrders row", [ORDER_RESULT], b.parse_order),
    Case("binance ORDER_TRADE_UPDATE", ORDER_TRADE_UPDATE_O, b.parse_stream_order),
    Case("binance balance", BALANCE_ROWS, b.parse_balance),
    Case("binance algoOrder", ALGO_ORDER, ba.parse_algo),
    Case("binance ALGO_UPDATE", ALGO_UPDATE_O, lambda p: ba.parse_algo_update(p, 1700000000600)),
    Case("binance income (funding)", ht.FUNDING, bh.parse_income),
    Case("binance income (transfer)", ht.TRANSFER, bh.parse_income),
    Case("binance userTrades", ht.USER_TRADE, bh.parse_user_trade),
    Case("binance error body", BINANCE_ERROR, lambda p: b.parse_error(400, p), ERROR_BODY),
    Case(
        "binance 429 body",
        {"code": -1003, "msg": "banned until 1700000060000"},
        lambda p: b.parse_error(418, p),
        ERROR_BODY,
    ),
    # OKX v5 REST
    Case("okx instruments", OKX_INSTRUMENTS, o.parse_instruments),
    Case("okx position-tiers", OKX_TIERS, lambda p: o.parse_position_tiers(p, "BTC-USDT-SWAP", D("0.01"))),
    Case("okx trade-fee", OKX_FEES, o.parse_fees),
    Case("okx funding-rate", OKX_FUNDING, lambda p: o.parse_funding(p, OKX_MARK)),
    Case("okx mark-price", OKX_MARK, lambda p: o.parse_funding(OKX_FUNDING, p)),
    Case("okx ticker", OKX_TICKER, lambda p: o.parse_book_top(p, D("0.01"))),
    Case("okx positions", OKX_POSITIONS, lambda p: o.parse_positions(p, {"BTC-USDT-SWAP": D("0.01")})),
    Case("okx order", ot.ORDER_ROW, lambda p: o.parse_order(p, D("0.01"))),
    Case("okx order fee", ot.ORDER_ROW, o.parse_order_fee),
    Case("okx balance", OKX_BALANCE, o.parse_balance),
    Case("okx balance details row", ot.BALANCE_DETAILS_ROW, o.parse_balance),
    Case("okx order-algo", OKX_ALGO, lambda p: oa.parse_algo(p, D("0.01"))),
    Case("okx bill (funding)", ht.FUNDING_BILL, lambda p: oh.parse_bill(p, D("0.01"))),
    Case("okx bill (transfer)", ht.TRANSFER_BILL, oh.parse_bill),
    Case("okx fill", ht.FILL, lambda p: oh.parse_fill(p, D("0.01"))),
    Case("okx batch error", OKX_BATCH_ERROR, lambda p: o.parse_error(200, p), ERROR_BODY),
    Case("okx order ack", ot.ORDER_ACK_ROW, lambda p: o.parse_error(200, p), ERROR_BODY),
    # public websocket frames
    Case("binance bookTicker frame", st.BOOK, lambda p: parse_binance(p, 1), STREAM),
    Case("binance markPrice frame", st.MARK, lambda p: parse_binance(p, 1), STREAM),
    Case("binance kline frame", BINANCE_KLINE_CLOSED, lambda p: parse_binance(p, 1), STREAM),
    Case("okx tickers frame", st.OKX_TICKER, lambda p: parse_okx(p, 1, CT_VALS), STREAM),
    Case("okx books5 frame", st.OKX_BOOKS5, lambda p: parse_okx(p, 1, CT_VALS), STREAM),
    Case("okx mark-price frame", OKX_MARK_FRAME, lambda p: parse_okx(p, 1, CT_VALS), STREAM),
    Case("okx funding-rate frame", OKX_FUNDING_FRAME, lambda p: parse_okx(p, 1, CT_VALS), STREAM),
    Case("okx candle frame", OKX_CANDLE_FRAME, lambda p: parse_okx(p, 1, CT_VALS), STREAM),
]


# -- the adapters around the parsers: their `_call` answers the mutant ------------------------------
FEES = FeeSchedule(D("0.0002"), D("0.0005"))
OKX_BTC = SymbolFilters(
    "okx_perp", "BTC-USDT-SWAP", D("0.1"), D("0.0001"), D("0.0001"), D(1000), D(0), contract_value=D("0.01")
)
SYMBOL_CONFIG = [{"symbol": "BTCUSDT", "marginType": "CROSSED", "isAutoAddMargin": "false", "leverage": 21}]
WEEK_MS = 7 * 86_400_000


def _binance(answers: dict[str, Any]) -> BinanceUM:
    venue = BinanceUM("", "", "http://127.0.0.1:9/fapi", config_fees=FEES, sleep=lambda s: None)
    venue._clock_synced = True
    venue._call = lambda endpoint, fn, *a, **k: answers[endpoint]  # type: ignore[method-assign]
    return venue


def _okx(answers: dict[str, Any]) -> OkxPerp:
    venue = OkxPerp("", "", "", demo=True, domain="http://127.0.0.1:9", config_fees=FEES, sleep=lambda s: None)
    venue._clock_synced = True
    venue._filters, venue._filters_ms = Listing({OKX_BTC.symbol: OKX_BTC}), clock.wall_ms()

    def call(endpoint: str, fn: Any, *args: Any, **kwargs: Any) -> Any:  # the answer's `data`, in its envelope
        envelope = {"code": "0", "msg": "", "data": answers[endpoint]}
        return venue._invoke(lambda: envelope, (), {})

    venue._call = call  # type: ignore[method-assign]
    venue.venue_now_ms = lambda: 1_708_587_400_000  # type: ignore[method-assign]
    return venue


class Answering:
    """An adapter (built on first use) whose endpoint `endpoint` answers the mutant, the others
    their valid answers; `call(venue, payload)` is the adapter call under test."""

    def __init__(self, build: Callable[[dict[str, Any]], Any], answers: dict[str, Any], endpoint: str, call: Any):
        self.build, self.answers, self.endpoint, self.call = build, dict(answers), endpoint, call
        self.venue: Any = None

    def __call__(self, payload: Any) -> Any:
        if self.venue is None:
            self.venue = self.build(self.answers)
        self.answers[self.endpoint] = payload
        self.venue._fees.clear()  # every call reads afresh
        self.venue._tiers.clear()
        self.venue._tiers_failed.clear()
        return self.call(self.venue, payload)

    def close(self) -> None:
        if self.venue is not None:
            self.venue.close()
            self.venue = None


def _binance_case(name: str, endpoint: str, payload: Any, call: Callable[[Any, Any], Any]) -> Case:
    answers = {"symbolConfig": SYMBOL_CONFIG, endpoint: payload}
    return Case(f"BinanceUM.{name}", payload, Answering(_binance, answers, endpoint, call), ADAPTER)


def _okx_case(name: str, endpoint: str, payload: Any, call: Callable[[Any, Any], Any]) -> Case:
    answers = {"public/funding-rate": OKX_FUNDING["data"], "public/mark-price": OKX_MARK["data"], endpoint: payload}
    return Case(f"OkxPerp.{name}", payload, Answering(_okx, answers, endpoint, call), ADAPTER)


ADAPTER_CASES = [
    _binance_case("server_time_ms", "time", {"serverTime": 1700000000000}, lambda v, p: v.server_time_ms()),
    _binance_case("refresh_filters", "exchangeInfo", {"symbols": [bt.SYMBOL_INFO]}, lambda v, p: v.refresh_filters()),
    _binance_case("margin_tiers", "leverageBracket", BRACKETS, lambda v, p: v.margin_tiers("BTCUSDT")),
    _binance_case(
        "fees",
        "commissionRate",
        {"symbol": "BTCUSDT", "makerCommissionRate": "0.0002", "takerCommissionRate": "0.0004"},
        lambda v, p: v.fees("BTCUSDT"),
    ),
    _binance_case("is_dual_side", "positionSide/dual:get", {"dualSidePosition": True}, lambda v, p: v.is_dual_side()),
    _binance_case("leverage", "symbolConfig", SYMBOL_CONFIG, lambda v, p: v.leverage("BTCUSDT")),
    _binance_case("margin_type", "symbolConfig", SYMBOL_CONFIG, lambda v, p: v.margin_type("BTCUSDT")),
    _binance_case(
        "set_leverage", "leverage", {"leverage": 20, "symbol": "BTCUSDT"}, lambda v, p: v.set_leverage("BTCUSDT", 20)
    ),
    _binance_case("open_orders", "openOrders", [ORDER_RESULT], lambda v, p: v.open_orders("BTCUSDT")),
    _binance_case("positions", "positionRisk", POSITION_RISK, lambda v, p: v.positions()),
    _binance_case("balance", "balance", BALANCE_ROWS, lambda v, p: v.balance()),
    _binance_case("open_triggers", "openAlgoOrders", [ALGO_ORDER], lambda v, p: v.open_triggers("BTCUSDT")),
    _binance_case(
        "account_events",
        "income",
        [ht.TRANSFER, ht.FUNDING],
        lambda v, p: v.account_events(1570600000000, 1570700000000),
    ),
    _binance_case(
        "trades", "userTrades", [ht.USER_TRADE], lambda v, p: v.trades(1569500000000, 1569520000000, ["BTCUSDT"])
    ),
    _binance_case("client_order_id_of", "order:get", ORDER_RESULT, lambda v, p: v.client_order_id_of("BTCUSDT", "1")),
    _binance_case("on_stream_order", "-", ORDER_TRADE_UPDATE_O, lambda v, p: v.on_stream_order(p)),
    _binance_case("on_stream_algo", "-", ALGO_UPDATE_O, lambda v, p: v.on_stream_algo(p, 1700000000600)),
    _okx_case("server_time_ms", "public/time", [{"ts": "1700000000000"}], lambda v, p: v.server_time_ms()),
    _okx_case("refresh_filters", "public/instruments", [ot.ETH_SWAP], lambda v, p: v.refresh_filters()),
    _okx_case("margin_tiers", "public/position-tiers", OKX_TIERS["data"], lambda v, p: v.margin_tiers(OKX_BTC.symbol)),
    _okx_case("fees", "account/trade-fee", OKX_FEES["data"], lambda v, p: v.fees(OKX_BTC.symbol)),
    _okx_case("funding", "public/funding-rate", OKX_FUNDING["data"], lambda v, p: v.funding(OKX_BTC.symbol)),
    _okx_case("funding (mark)", "public/mark-price", OKX_MARK["data"], lambda v, p: v.funding(OKX_BTC.symbol)),
    _okx_case("book_top", "market/ticker", OKX_TICKER["data"], lambda v, p: v.book_top(OKX_BTC.symbol)),
    _okx_case("is_dual_side", "account/config", [{"posMode": "long_short_mode"}], lambda v, p: v.is_dual_side()),
    _okx_case(
        "leverage",
        "account/leverage-info",
        [{"instId": OKX_BTC.symbol, "lever": "20", "mgnMode": "isolated", "posSide": "long"}],
        lambda v, p: v.leverage(OKX_BTC.symbol),
    ),
    _okx_case("open_orders", "trade/orders-pending", [ot.ORDER_ROW], lambda v, p: v.open_orders()),
    _okx_case("positions", "account/positions", OKX_POSITIONS["data"], lambda v, p: v.positions()),
    _okx_case("balance", "account/balance", OKX_BALANCE["data"], lambda v, p: v.balance()),
    _okx_case("get_trigger", "trade/order-algo:get", [OKX_ALGO], lambda v, p: v.get_trigger(OKX_BTC.symbol, "x")),
    _okx_case(
        "account_events",
        "account/bills-archive",
        [ht.FUNDING_BILL, ht.TRANSFER_BILL],
        lambda v, p: v.account_events(1695000000000, 1695100000000),
    ),
    _okx_case("trades", "trade/fills", [ht.FILL], lambda v, p: v.trades(1708500000000, 1708587400000)),
    _okx_case("client_order_id_of", "trade/order:get", [ot.ORDER_ROW], lambda v, p: v.client_order_id_of("x", "1")),
    _okx_case("on_stream_order", "-", ot.ORDER_ROW, lambda v, p: v.on_stream_order(p)),
    Case(
        "OkxPerp._invoke (the envelope)",
        OKX_FEES,
        Answering(_okx, {}, "-", lambda v, p: v._invoke(lambda: p, (), {})),
        ENVELOPE,
    ),
]


# -- the private streams: one hostile event into the stream's dispatch -------------------------------
class Streaming:
    """A private stream (never connected) whose `handle` takes the mutant, over a real adapter."""

    def __init__(self, kind: str):
        self.kind = kind
        self.venue: Any = None
        self.stream: Any = None

    def __call__(self, payload: Any) -> Any:
        if self.stream is None:
            if self.kind == "binance":
                self.venue = _binance({})
                self.stream = BinanceUserStream(self.venue, "", "http://127.0.0.1:9", "ws://127.0.0.1:9")
            else:
                self.venue = _okx({})
                self.stream = OkxPrivateStream(self.venue, "", "", "", "ws://127.0.0.1:9")
        if isinstance(payload, dict):  # `frame` hands on JSON objects only (and counts the rest)
            self.stream.handle(payload)
        return None

    def close(self) -> None:
        if self.venue is not None:
            self.venue.close()
            self.venue = self.stream = None


PRIVATE_STREAM_CASES = [
    Case(
        "binance user stream ORDER_TRADE_UPDATE",
        {"e": "ORDER_TRADE_UPDATE", "E": 1700000000100, "T": 1700000000099, "o": ORDER_TRADE_UPDATE_O},
        Streaming("binance"),
        PRIVATE_STREAM,
    ),
    Case(
        "binance user stream ALGO_UPDATE",
        {"e": "ALGO_UPDATE", "E": 1700000000600, "o": ALGO_UPDATE_O},
        Streaming("binance"),
        PRIVATE_STREAM,
    ),
    Case(
        "okx private orders",
        {"arg": {"channel": "orders", "instType": "SWAP"}, "data": [ot.ORDER_ROW]},
        Streaming("okx"),
        PRIVATE_STREAM,
    ),
]
ALL_CASES = CASES + ADAPTER_CASES + PRIVATE_STREAM_CASES


def _faults(case: Case, payload: Any) -> list[str]:
    """What is wrong with how `case.parse` treated `payload` (empty: held)."""
    try:
        result = case.parse(payload)
    except VenueError as exc:
        if case.contract == ERROR_BODY:
            return [f"raised {type(exc).__name__}: {exc!s:.160}"]
        if case.contract in (REST, STREAM, PRIVATE_STREAM) and isinstance(exc, MalformedAnswer) != (
            case.contract == REST
        ):
            return [f"{type(exc).__name__} escaped: {exc!s:.160}"]
        return message_problems(exc)
    except ValueError as exc:
        if case.contract == STREAM:
            return message_problems(exc)
        return [f"ValueError that is not a VenueError: {exc!s:.160}"]
    except Exception as exc:  # noqa: BLE001 - every other type is the fault this test looks for
        return [f"{type(exc).__name__}: {exc!s:.160}"]
    if case.contract == ERROR_BODY:
        if result is not None and not isinstance(result, VenueError):
            return [f"returned {type(result).__name__}, not a VenueError"]
        return message_problems(result) if result is not None else []
    if case.contract == ENVELOPE:  # the rows go to the parsers: a list is all it must be
        return [] if isinstance(result, list) else [f"returned {type(result).__name__}, not the data rows"]
    return value_problems(result)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_every_hostile_mutation_is_parsed_or_refused_as_the_caller_expects(case: Case):
    failures: dict[tuple[str, str], str] = {}
    count = 0
    try:
        assert not _faults(case, case.payload), "the valid answer itself must parse"
        if case.contract in (REST, ADAPTER, ENVELOPE):
            assert case.parse(case.payload) not in (None, [], {}), "the valid answer must give something"
        for mutant in mutations(case.payload):
            count += 1
            for fault in _faults(case, mutant.payload):
                failures.setdefault((mutant.where or "<answer>", fault.split(":")[0]), f"{mutant.what} -> {fault}")
    finally:
        close = getattr(case.parse, "close", None)
        if close is not None:
            close()
    report = "\n".join(f"  {where}: {detail}" for (where, _), detail in sorted(failures.items())[:40])
    assert not failures, f"{case.name}: {len(failures)} faults out of {count} mutations:\n{report}"


def test_the_sweep_reaches_every_place_of_every_answer():
    counts = {case.name: sum(1 for _ in mutations(case.payload)) for case in ALL_CASES}
    print(f"{sum(counts.values())} hostile mutants through {len(counts)} cases")
    assert min(counts.values()) > 50 and sum(counts.values()) > 50_000


# -- what the refusals say ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "parse,payload,field",
    [
        (lambda p: o.parse_order(p, D("0.01")), {**ot.ORDER_ROW, "side": "HOLD"}, "order.side"),
        (lambda p: oh.parse_fill(p, D("0.01")), {**ht.FILL, "side": "Buy"}, "fill.side"),
        (lambda p: oa.parse_algo(p, D("0.01")), {**OKX_ALGO, "posSide": "both"}, "order-algo.posSide"),
        (lambda p: o.parse_order(p, D("0.01")), {**ot.ORDER_ROW, "posSide": ["long"]}, "order.posSide"),
        (b.parse_positions, [{**POSITION_RISK[0], "positionAmt": "NaN"}], "positionRisk.positionAmt"),
        (b.parse_positions, [{**POSITION_RISK[0], "positionSide": "HEDGE"}], "positionRisk.positionSide"),
        (b.parse_stream_order, {**ORDER_TRADE_UPDATE_O, "S": "HOLD"}, "ORDER_TRADE_UPDATE.o.S"),
        (b.parse_stream_order, {**ORDER_TRADE_UPDATE_O, "q": "Infinity"}, "ORDER_TRADE_UPDATE.o.q"),
        (lambda p: ba.parse_algo_update(p, 0), {**ALGO_UPDATE_O, "tp": "1e400"}, "ALGO_UPDATE.o.tp"),
        (lambda p: o.parse_book_top(p, D("0.01")), {**OKX_TICKER["data"][0], "bidPx": "-0"}, "ticker.bidPx"),
        (b.parse_book_top, {**BOOK_TICKER, "time": 253402300800000}, "bookTicker.time"),
        (bh.parse_income, {**ht.FUNDING, "time": -1}, "income.time"),
        (bh.parse_user_trade, {**ht.USER_TRADE, "qty": "0"}, "userTrades.qty"),
        (oh.parse_bill, {**ht.TRANSFER_BILL, "balChg": 10**5000}, "bill.balChg"),
        (b.parse_fees, {"makerCommissionRate": "0.0002", "takerCommissionRate": None}, "takerCommissionRate"),
        (o.parse_fees, {"code": "0", "msg": "", "data": []}, "trade-fee.data"),
        (o.parse_fees, {"code": "0", "msg": "", "data": {"makerU": "-0.0002"}}, "trade-fee.data"),
        (
            b.parse_leverage_brackets,
            [{**BRACKETS[0], "brackets": [{**BRACKETS[0]["brackets"][0], "initialLeverage": 10**5000}]}],
            "leverageBracket BTCUSDT brackets[0].initialLeverage",
        ),
        (
            b.parse_exchange_info,
            {"symbols": [{**bt.SYMBOL_INFO, "symbol": LONG_TEXT}]},
            "exchangeInfo symbol.symbol",
        ),
    ],
)
def test_a_refusal_names_the_field_and_shows_little_of_the_value(parse, payload, field):
    with pytest.raises(MalformedAnswer) as refused:
        parse(payload)
    text = str(refused.value)
    assert field in text and len(text) < 300 and "ZZZZ" * 20 not in text, text


def test_a_private_stream_counts_an_update_that_does_not_read_and_stays_up():
    binance = Streaming("binance")
    okx = Streaming("okx")
    try:
        binance({"e": "ORDER_TRADE_UPDATE", "E": 1, "o": {**ORDER_TRADE_UPDATE_O, "q": "NaN"}})
        binance({"e": "ALGO_UPDATE", "E": "yesterday", "o": ALGO_UPDATE_O})
        binance({"e": "ORDER_TRADE_UPDATE", "E": 1, "o": ORDER_TRADE_UPDATE_O})
        assert (binance.stream.parse_errors, binance.stream.updates) == (2, 1)
        assert binance.stream.handle({"e": "listenKeyExpired"}) is False
        okx({"arg": {"channel": "orders"}, "data": [{**ot.ORDER_ROW, "side": "HOLD"}, ot.ORDER_ROW]})
        okx({"arg": {"channel": "orders"}, "data": "not a list"})
        okx({"event": "subscribe", "arg": {"channel": "orders", "instType": "SWAP"}})
        assert (okx.stream.parse_errors, okx.stream.updates) == (2, 1)
    finally:
        binance.close()
        okx.close()
