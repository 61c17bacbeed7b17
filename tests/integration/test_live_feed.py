"""The live feed against loopback websocket and REST servers in the venues' formats: backfill,
streaming, a 90-second (simulated) drop with one stale line, one recovery line and the candle gap
backfilled, OKX's subscribe protocol and funding settlement, and dead-man switch re-arming."""

from __future__ import annotations

import threading
import time

import pytest

from execution.feeds.events import BookUpdate, CandleClosed, FeedIssue, FundingSettled, MarkUpdate, Tick
from execution.feeds.live import LiveConfig, LiveFeed
from tests.support.fake_streams import BAR_MS, FakeBinanceStream, FakeHistory, FakeOkxStream


class FakeClock:
    def __init__(self, now: int):
        self.now = now
        self.lock = threading.Lock()

    def __call__(self) -> int:
        with self.lock:
            return self.now

    def advance(self, ms: int) -> None:
        with self.lock:
            self.now += ms


T = (int(time.time() * 1000) // BAR_MS) * BAR_MS  # a 15-minute boundary near now
# Every feed below reads a FakeClock set from T, never the wall clock: T is computed when the module
# is imported, and a feed on the real clock would see a 15-minute boundary crossed before its test
# runs on a slow machine (one bar fewer backfilled, and the test waits for it until it times out).


def drain(it, until, timeout=20.0, keep_ticks=False):
    """Events from the feed until `until(events)` is true; raises after `timeout`."""
    out = []
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        ev = next(it)
        if isinstance(ev, Tick) and not keep_ticks:
            if until(out):
                return out
            continue
        out.append(ev)
        if until(out):
            return out
    raise AssertionError(f"not reached in time; got {[type(e).__name__ for e in out][-20:]}")


def candles(evs, symbol):
    return [e for e in evs if isinstance(e, CandleClosed) and e.symbol == symbol]


def issues(evs, kind):
    return [e for e in evs if isinstance(e, FeedIssue) and e.kind == kind]


@pytest.fixture
def binance():
    with FakeBinanceStream() as ws, FakeHistory() as hist:
        for i in range(250, 0, -1):
            hist.add("BTCUSDT", T - i * BAR_MS, 60_000 + i)
        yield ws, hist


def test_backfill_then_stream_then_a_90s_drop_with_gap_backfill(binance):
    ws, hist = binance
    clock = FakeClock(T + 10_000)
    hist.server_time = clock  # the venue agrees with our clock
    cfg = LiveConfig(
        {"binance_um": ["BTCUSDT"]},
        binance_rest=hist.url,
        binance_ws=ws.url,
        stale_after_ms=30_000,
        backfill_bars=220,
        tick_ms=100,
        backoff_min_s=0.2,
        backoff_max_s=0.5,
    )
    feed = LiveFeed(cfg, wall_ms=clock)
    it = feed.events()
    try:
        evs = drain(it, lambda e: len(candles(e, "BTCUSDT")) >= 220)
        got = candles(evs, "BTCUSDT")
        assert [c.open_time for c in got] == [T - i * BAR_MS for i in range(220, 0, -1)]  # in order, closed only
        assert got[-1].ts == T and got[-1].close == 60_001.0
        ws.wait_clients(1)  # registered for pushes (a fixed sleep here lost the pushes on a loaded machine)
        ws.book("BTCUSDT", 60_000.5, 60_001.0, T + 11_000)
        ws.mark("BTCUSDT", 60_000.7, 0.0001, T + 8 * 3600_000, T + 11_000)
        ws.kline("BTCUSDT", T, 1, 2, 0.5, 1.5, closed=False, ts=T + 12_000)  # still open: not a candle
        ws.kline("BTCUSDT", T, 1, 2, 0.5, 1.5, closed=True, ts=T + BAR_MS)
        evs = drain(it, lambda e: len(candles(e, "BTCUSDT")) >= 1)
        book = [e for e in evs if isinstance(e, BookUpdate)][0]
        assert (book.bid, book.ask, book.bid_qty, book.ask_qty) == (60_000.5, 60_001.0, 3.5, 2.1)
        mark = [e for e in evs if isinstance(e, MarkUpdate)][0]
        assert (mark.mark, mark.funding_rate) == (60_000.7, 0.0001)
        assert [c.open_time for c in candles(evs, "BTCUSDT")] == [T]

        # frames that must not become data nor cost the connection: a 1m kline, JSON that is not an object
        connections = ws.connections
        ws.kline("BTCUSDT", T + BAR_MS - 60_000, 1, 2, 0.5, 1.5, closed=True, ts=T + BAR_MS, interval="1m")
        ws.raw("[]")
        ws.raw('"hello"')
        ws.book("BTCUSDT", 60_002.0, 60_002.5, T + BAR_MS + 1)
        evs = drain(it, lambda e: any(isinstance(x, BookUpdate) for x in e))
        assert candles(evs, "BTCUSDT") == []  # the 1m frame is not a 15m candle
        assert [i.kind for i in evs if isinstance(i, FeedIssue)] == ["ignored", "parse_error", "parse_error"]
        assert feed.issue_counts["ignored"] == 1 and feed.issue_counts["parse_error"] == 2
        assert ws.connections == connections  # the connection was kept

        # the stream goes silent and drops; 90 s pass; three bars close meanwhile
        ws.refuse(True)
        clock.advance(90_000)  # the clock now reads T + 100 s
        evs = drain(it, lambda e: len(issues(e, "stale")) >= 1)
        assert "no data for" in issues(evs, "stale")[0].detail
        for i in (1, 2, 3, 4):
            hist.add("BTCUSDT", T + i * BAR_MS, 61_000 + i)
        clock.advance(4 * BAR_MS)  # T + 60 min + 100 s: bars opened at T+15m, T+30m, T+45m have closed
        ws.refuse(False)
        evs = drain(it, lambda e: len(candles(e, "BTCUSDT")) >= 3, timeout=30)
        gap = candles(evs, "BTCUSDT")
        assert [c.open_time for c in gap] == [T + i * BAR_MS for i in (1, 2, 3)]  # the gap, not the open bar
        ws.wait_clients(1)  # the reconnected stream (the gap is backfilled before it connects)
        ws.book("BTCUSDT", 61_003.0, 61_003.5, clock())
        evs += drain(it, lambda e: len(issues(e, "recovered")) >= 1)
        assert len(issues(evs, "stale")) == 0  # no second stale line while it was down
        assert len(issues(evs, "recovered")) == 1
        assert ws.connections >= 2
    finally:
        feed.close()


def test_okx_subscribe_protocol_candles_and_funding_settlement():
    clock = FakeClock(T + 10_000)
    with FakeOkxStream() as okx, FakeHistory(server_time=clock) as hist:
        for i in range(30, 0, -1):
            hist.add("BTC-USDT-SWAP", T - i * BAR_MS, 60_000 + i)
        cfg = LiveConfig(
            {"okx_perp": ["BTC-USDT-SWAP"]},
            okx_rest=hist.url,
            okx_ws_public=okx.url,
            okx_ws_business=okx.url,
            backfill_bars=20,
            tick_ms=100,
            ping_s=0.3,
        )
        feed = LiveFeed(cfg, wall_ms=clock)
        it = feed.events()
        try:
            evs = drain(it, lambda e: len(candles(e, "BTC-USDT-SWAP")) >= 20)
            assert [c.open_time for c in candles(evs, "BTC-USDT-SWAP")] == [T - i * BAR_MS for i in range(20, 0, -1)]
            deadline = time.monotonic() + 10
            while okx.push("tickers", "BTC-USDT-SWAP", []) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)  # until the subscription is acknowledged
            while okx.push("candle15m", "BTC-USDT-SWAP", []) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            okx.ticker("BTC-USDT-SWAP", 60_010.1, 60_010.2, T + 1_000)
            f1, f2 = T + 3_600_000, T + 3_600_000 + 8 * 3600_000
            okx.funding("BTC-USDT-SWAP", 0.00012, f1, T + 1_000)
            okx.funding("BTC-USDT-SWAP", 0.00007, f2, f1 + 1_000)  # the window at f1 has settled
            okx.candle("BTC-USDT-SWAP", T, 1, 2, 0.5, 1.5, closed=False)
            okx.candle("BTC-USDT-SWAP", T, 1, 2, 0.5, 1.7, closed=True)
            evs = drain(it, lambda e: any(isinstance(x, FundingSettled) for x in e) and candles(e, "BTC-USDT-SWAP"))
            tick = [e for e in evs if isinstance(e, BookUpdate)][0]
            assert (tick.venue, tick.bid, tick.ask) == ("okx_perp", 60_010.1, 60_010.2)
            assert (tick.bid_qty, tick.ask_qty) == pytest.approx((0.12, 0.09))  # 12 and 9 contracts of 0.01 BTC
            settled = [e for e in evs if isinstance(e, FundingSettled)]
            assert [(s.ts, s.rate) for s in settled] == [(f1, 0.00012)]
            assert [c.close for c in candles(evs, "BTC-USDT-SWAP")] == [1.7]
            time.sleep(0.8)  # keep-alive: the client pings, the server pongs, nothing breaks
            okx.raw("[1, 2, 3]")  # valid JSON, not an object: counted on each connection, which stays
            drain(it, lambda e: len(issues(e, "parse_error")) == 2)
            okx.ticker("BTC-USDT-SWAP", 60_011.0, 60_011.1, T + 2_000)
            evs = drain(it, lambda e: any(isinstance(x, BookUpdate) for x in e))
            assert okx.connections == 2  # public + business, no reconnect needed
            assert feed.issue_counts["parse_error"] == 2
            assert feed.ct_vals["BTC-USDT-SWAP"] == 0.01  # from the venue's instruments answer
        finally:
            feed.close()


def test_clock_skew_is_reported(binance):
    ws, hist = binance
    clock = FakeClock(T + 10_000)
    hist.server_time = lambda: clock() + 5_000  # the venue is 5 s ahead of us
    cfg = LiveConfig(
        {"binance_um": ["BTCUSDT"]},
        binance_rest=hist.url,
        binance_ws=ws.url,
        backfill_bars=5,
        tick_ms=100,
        max_clock_skew_ms=1_000,
    )
    feed = LiveFeed(cfg, wall_ms=clock)
    try:
        evs = drain(feed.events(), lambda e: len(issues(e, "clock_skew")) >= 1)
        # measured on the feed's own clock, so exact: no round-trip asymmetry or rounding in it
        assert issues(evs, "clock_skew")[0].detail == "offset +5000 ms > 1000 ms"
    finally:
        feed.close()


def test_a_feed_that_never_connects_goes_stale():
    """No websocket answers and no message ever arrives: every symbol is stale once
    `stale_after_ms` has passed since start, once each, saying it never received anything."""
    clock = FakeClock(T + 10_000)
    with FakeHistory(server_time=clock) as hist, FakeBinanceStream() as ws:
        ws.refuse(True)
        cfg = LiveConfig(
            {"binance_um": ["BTCUSDT", "ETHUSDT"]},
            binance_rest=hist.url,
            binance_ws=ws.url,
            stale_after_ms=30_000,
            backfill_bars=5,
            tick_ms=100,
            backoff_min_s=0.2,
            backoff_max_s=0.5,
        )
        feed = LiveFeed(cfg, wall_ms=clock)
        it = feed.events()
        try:
            evs = drain(it, lambda e: ws.refused >= 1, keep_ticks=True)
            assert issues(evs, "stale") == []  # not before the bound
            clock.advance(30_001)
            evs = drain(it, lambda e: len(issues(e, "stale")) >= 2)
            stale = issues(evs, "stale")
            assert sorted(i.symbol for i in stale) == ["BTCUSDT", "ETHUSDT"]
            assert stale[0].detail == "no data for 30.0s since start (never received)"
            clock.advance(60_000)
            evs = drain(it, lambda e: sum(isinstance(x, Tick) for x in e) >= 15, keep_ticks=True)
            assert issues(evs, "stale") == []  # one line per symbol, not one per check
        finally:
            feed.close()
