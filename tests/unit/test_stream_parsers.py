"""Stream payloads shaped as in the venues' documentation, through the pure parsers."""

import pytest

from execution.feeds.events import BookUpdate, CandleClosed, FeedIssue, MarkUpdate
from execution.feeds.live import Staleness
from execution.feeds.stream_parsers import parse_binance, parse_okx

BOOK = {
    "stream": "btcusdt@bookTicker",
    "data": {
        "e": "bookTicker",
        "u": 400900217,
        "E": 1568014460893,
        "T": 1568014460891,
        "s": "BTCUSDT",
        "b": "25.35190000",
        "B": "31.21000000",
        "a": "25.36520000",
        "A": "40.66000000",
    },
}
MARK = {
    "stream": "btcusdt@markPrice@1s",
    "data": {
        "e": "markPriceUpdate",
        "E": 1562305380000,
        "s": "BTCUSDT",
        "p": "11794.15000000",
        "i": "11784.62659091",
        "P": "11784.25641265",
        "r": "0.00038167",
        "T": 1562306400000,
    },
}
KLINE = {
    "e": "kline",
    "E": 1638747660000,
    "s": "BTCUSDT",
    "k": {
        "t": 1638747600000,
        "T": 1638748499999,
        "s": "BTCUSDT",
        "i": "15m",
        "f": 100,
        "L": 200,
        "o": "0.0010",
        "c": "0.0020",
        "h": "0.0025",
        "l": "0.0015",
        "v": "1000",
        "n": 100,
        "x": False,
        "q": "1.0000",
        "V": "500",
        "Q": "0.500",
        "B": "123456",
    },
}


def test_binance_book_mark_and_only_closed_klines():
    [b] = parse_binance(BOOK, 1)
    assert isinstance(b, BookUpdate) and (b.ts, b.bid, b.ask, b.bid_qty, b.recv_ts) == (
        1568014460893,
        25.3519,
        25.3652,
        31.21,
        1,
    )
    [m] = parse_binance(MARK, 1)
    assert isinstance(m, MarkUpdate) and (m.mark, m.funding_rate, m.next_funding_ms) == (
        11794.15,
        0.00038167,
        1562306400000,
    )
    assert parse_binance(KLINE, 1) == []
    closed = {**KLINE, "k": {**KLINE["k"], "x": True}}
    [c] = parse_binance(closed, 1)
    assert isinstance(c, CandleClosed) and (c.open_time, c.ts, c.close, c.high) == (
        1638747600000,
        1638748500000,
        0.002,
        0.0025,
    )
    with pytest.raises(ValueError, match="'b'"):
        parse_binance({"data": {**BOOK["data"], "b": "x"}}, 1)


def test_okx_channels_and_errors():
    tick = {
        "arg": {"channel": "tickers", "instId": "BTC-USDT-SWAP"},
        "data": [
            {
                "instType": "SWAP",
                "instId": "BTC-USDT-SWAP",
                "last": "9999.99",
                "lastSz": "0.1",
                "askPx": "9999.99",
                "askSz": "11",
                "bidPx": "8888.88",
                "bidSz": "5",
                "ts": "1597026383085",
            }
        ],
    }
    [b] = parse_okx(tick, 1, {"BTC-USDT-SWAP": 0.01})
    assert (b.venue, b.bid, b.ask, b.ts) == ("okx_perp", 8888.88, 9999.99, 1597026383085)
    assert (b.bid_qty, b.ask_qty) == pytest.approx((0.05, 0.11))  # 5 and 11 contracts of 0.01 BTC
    fr = {
        "arg": {"channel": "funding-rate", "instId": "BTC-USD-SWAP"},
        "data": [
            {
                "fundingRate": "0.0001515",
                "fundingTime": "1622822400000",
                "instId": "BTC-USD-SWAP",
                "instType": "SWAP",
                "method": "next_period",
                "nextFundingRate": "0.00029",
                "nextFundingTime": "1622851200000",
                "ts": "1622822400000",
            }
        ],
    }
    [f] = parse_okx(fr, 1)
    assert (f.funding_rate, f.next_funding_ms, f.mark) == (0.0001515, 1622822400000, None)
    candle = {
        "arg": {"channel": "candle15m", "instId": "BTC-USDT-SWAP"},
        "data": [["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5858061", "5.3", "0"]],
    }
    assert parse_okx(candle, 1) == []  # candles carry no book sizes: no ctVal needed
    candle["data"][0][8] = "1"
    [c] = parse_okx(candle, 1)
    assert (c.open, c.close, c.volume) == (8533.02, 8548.26, 45247.0)
    assert parse_okx({"event": "subscribe", "arg": {"channel": "tickers"}, "connId": "x"}, 1) == []
    with pytest.raises(ValueError, match="60012"):
        parse_okx({"event": "error", "code": "60012", "msg": "Invalid request"}, 1)


def test_staleness_reports_once_and_recovers_once():
    s = Staleness(1000)
    assert not s.seen(("v", "A"), 0)
    assert s.newly_stale(500) == []
    assert s.newly_stale(1500) == [("v", "A", 1500)]
    assert s.newly_stale(9000) == []  # one stale line, not one per check
    assert s.seen(("v", "A"), 9100) is True and s.seen(("v", "A"), 9200) is False


def test_staleness_counts_symbols_that_never_produced_data():
    s = Staleness(1000)
    s.expect([("v", "A"), ("v", "B")], 100)
    assert s.newly_stale(1100) == []
    assert s.newly_stale(1101) == [("v", "A", 1001), ("v", "B", 1001)]
    assert s.never_seen == {("v", "A"), ("v", "B")}
    assert s.seen(("v", "A"), 1200) is True and s.never_seen == {("v", "B")}
    s.expect([("v", "A")], 5000)  # already known: its clock is not reset
    assert s.last[("v", "A")] == 1200


# -- the live-path faults of issue 13, each on the venue's documented shape -----------------------
OKX_TICKER = {  # tickers channel (OKX v5 docs): sizes of a SWAP are contracts
    "arg": {"channel": "tickers", "instId": "ETH-USDT-SWAP"},
    "data": [
        {
            "instType": "SWAP",
            "instId": "ETH-USDT-SWAP",
            "last": "3000.01",
            "lastSz": "1",
            "askPx": "3000.02",
            "askSz": "25",
            "bidPx": "3000.01",
            "bidSz": "50",
            "open24h": "2950",
            "high24h": "3050",
            "low24h": "2900",
            "sodUtc0": "2960",
            "sodUtc8": "2970",
            "volCcy24h": "2222",
            "vol24h": "22220",
            "ts": "1790358564077",
        }
    ],
}
OKX_BOOKS5 = {  # books5 channel (OKX v5 docs): [price, size in contracts, deprecated, order count]
    "arg": {"channel": "books5", "instId": "BTC-USDT-SWAP"},
    "data": [
        {
            "asks": [["60000.2", "30", "0", "3"], ["60000.3", "7", "0", "1"]],
            "bids": [["60000.1", "120", "0", "9"], ["60000.0", "4", "0", "2"]],
            "instId": "BTC-USDT-SWAP",
            "ts": "1790358564090",
            "seqId": 123456,
        }
    ],
}


def test_okx_ticker_sizes_are_contracts_converted_with_ct_val():
    [b] = parse_okx(OKX_TICKER, 7, {"ETH-USDT-SWAP": 0.1})
    assert (b.bid, b.ask) == (3000.01, 3000.02)
    assert (b.bid_qty, b.ask_qty) == pytest.approx((5.0, 2.5))  # 50 and 25 contracts of 0.1 ETH, not 50 ETH


def test_okx_book_channels_give_the_top_in_base_units():
    [b] = parse_okx(OKX_BOOKS5, 7, {"BTC-USDT-SWAP": 0.01})
    assert (b.symbol, b.bid, b.ask, b.ts, b.recv_ts) == ("BTC-USDT-SWAP", 60000.1, 60000.2, 1790358564090, 7)
    assert (b.bid_qty, b.ask_qty) == pytest.approx((1.2, 0.3))  # 120 and 30 contracts of 0.01 BTC
    bbo = {**OKX_BOOKS5, "arg": {"channel": "bbo-tbt", "instId": "BTC-USDT-SWAP"}}
    assert parse_okx(bbo, 7, {"BTC-USDT-SWAP": 0.01}) == [b]


def test_okx_book_sizes_without_a_ct_val_are_a_parse_error_not_base_units():
    with pytest.raises(ValueError, match="no ctVal for ETH-USDT-SWAP"):
        parse_okx(OKX_TICKER, 7)
    with pytest.raises(ValueError, match="no ctVal for BTC-USDT-SWAP"):
        parse_okx(OKX_BOOKS5, 7, {"ETH-USDT-SWAP": 0.1})


def test_a_binance_kline_of_another_interval_is_ignored_not_a_15m_candle():
    one_minute = {  # <symbol>@kline_1m (Binance docs shape), closed
        "stream": "btcusdt@kline_1m",
        "data": {**KLINE, "k": {**KLINE["k"], "i": "1m", "T": 1638747659999, "x": True}},
    }
    [issue] = parse_binance(one_minute, 5)
    assert isinstance(issue, FeedIssue) and issue.kind == "ignored" and issue.symbol == "BTCUSDT"
    assert "'1m'" in issue.detail and not issue.reset


def test_an_okx_candle_of_another_bar_is_ignored():
    candle = {
        "arg": {"channel": "candle1m", "instId": "BTC-USDT-SWAP"},
        "data": [["1597026383085", "8533.02", "8553.74", "8527.17", "8548.26", "45247", "529.5", "5.3", "1"]],
    }
    [issue] = parse_okx(candle, 5)
    assert isinstance(issue, FeedIssue) and issue.kind == "ignored" and "candle1m" in issue.detail


@pytest.mark.parametrize("frame", [[], [BOOK], "pong", 42, None, True])
def test_valid_json_that_is_not_an_object_is_a_parse_error(frame):
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_binance(frame, 1)
    with pytest.raises(ValueError, match="not a JSON object"):
        parse_okx(frame, 1)


def test_okx_rows_that_are_not_objects_are_a_parse_error():
    with pytest.raises(ValueError, match="not an object"):
        parse_okx({"arg": {"channel": "tickers", "instId": "BTC-USDT-SWAP"}, "data": [["1", "2"]]}, 1)
    with pytest.raises(ValueError, match="arg object"):
        parse_okx({"arg": ["tickers"], "data": []}, 1)
