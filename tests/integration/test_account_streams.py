"""Private account streams against loopback servers in the venues' formats: fills of resting orders
reach the adapters as they happen (no REST query), once; keep-alive, key expiry and login rules."""

from __future__ import annotations

import time
from decimal import Decimal as D

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.feeds.account_stream import BinanceUserStream, OkxPrivateStream
from execution.models import OrderRequest, OrderType, PositionSide, Side, TimeInForce
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.support.fake_streams import FakeBinanceUserStream, FakeOkxPrivateStream
from tests.support.waiting import wait_for


def resting(symbol: str, qty: str, price: str, cid: str) -> OrderRequest:
    return OrderRequest(
        "x",
        symbol,
        Side.BUY,
        PositionSide.LONG,
        OrderType.LIMIT,
        D(qty),
        cid,
        "intent-" + cid,
        price=D(price),
        time_in_force=TimeInForce.GTC,
    )


def test_binance_user_stream_books_a_resting_fill_once_and_keeps_its_key_alive():
    with FakeBinance() as fb, FakeBinanceUserStream() as uws:
        fb.set_book("BTCUSDT", [("60000.0", "1")], [("60000.1", "1")])
        venue = BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=False, timeout_s=2.0)
        venue.place_order(resting("BTCUSDT", "0.010", "59000.0", "hfrest1"))
        assert venue.drain_fills() == []
        stream = BinanceUserStream(venue, fb.api_key, fb.root, uws.url, keepalive_s=0.3, backoff_max_s=0.5)
        stream.start()
        try:
            wait_for(lambda: uws.keys() == [fb.listen_key])
            update = {
                "e": "ORDER_TRADE_UPDATE",
                "E": 1700000000100,
                "T": 1700000000099,
                "o": {
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
                    "b": "0",
                    "a": "0",
                    "m": True,
                    "R": False,
                    "wt": "CONTRACT_PRICE",
                    "ot": "LIMIT",
                    "ps": "LONG",
                    "cp": False,
                    "rp": "0",
                },
            }
            uws.raw("[]")  # valid JSON that is not an object: counted, the stream stays connected
            uws.event(update)
            [fill] = wait_for(lambda: venue.drain_fills())
            assert stream.parse_errors == 1 and stream.connects == 1
            assert (fill.client_order_id, fill.qty, fill.price, fill.position_side, fill.simulated) == (
                "hfrest1",
                D("0.010"),
                D("59000.0"),
                PositionSide.LONG,
                False,
            )
            assert fill.liquidity == "maker"
            uws.event(update)  # the same update again (or the REST answer) books nothing more
            time.sleep(0.3)
            assert venue.drain_fills() == []
            wait_for(lambda: fb.listen_key_calls.count("PUT") >= 2)  # kept alive
            uws.event({"e": "listenKeyExpired", "E": 1700000001000})
            wait_for(lambda: fb.listen_key_calls.count("POST") == 2 and stream.connects == 2)
        finally:
            stream.stop()
            venue.close()


def test_okx_private_stream_logs_in_and_converts_contracts():
    with FakeOkx(demo=False) as fo:
        fo.set_book("BTC-USDT-SWAP", [("60000.0", "100")], [("60000.1", "100")])
        with FakeOkxPrivateStream(fo.api_key, fo.api_secret, fo.passphrase) as pws:
            venue = OkxPerp(
                fo.api_key, fo.api_secret, fo.passphrase, demo=False, domain=fo.url, safe_mode=False, timeout_s=2.0
            )
            venue.place_order(resting("BTC-USDT-SWAP", "0.05", "59000.0", "hfokxrest1"))
            stream = OkxPrivateStream(venue, fo.api_key, fo.api_secret, fo.passphrase, pws.url, backoff_max_s=0.5)
            stream.start()
            try:
                wait_for(lambda: stream.connects == 1 and pws.orders([]) == 1)
                pws.raw('"not an object"')
                hand_placed = {  # an order on an instrument the fund does not trade, placed by hand
                    "instType": "SWAP", "instId": "DOGE-USDT-SWAP", "clOrdId": "", "ordId": "77", "side": "buy",
                    "posSide": "long", "ordType": "limit", "px": "0.1", "sz": "1", "state": "live",
                    "accFillSz": "0", "fillSz": "0", "tdMode": "cross", "uTime": "1700000000050",
                    "cTime": "1700000000000",
                }  # fmt: skip
                pws.orders([hand_placed])  # counted, not applied; the stream stays up
                pws.orders(
                    [
                        {
                            "instType": "SWAP",
                            "instId": "BTC-USDT-SWAP",
                            "clOrdId": "hfokxrest1",
                            "ordId": "312",
                            "side": "buy",
                            "posSide": "long",
                            "ordType": "limit",
                            "px": "59000",
                            "sz": "5",
                            "state": "filled",
                            "accFillSz": "5",
                            "fillSz": "5",
                            "fillPx": "59000",
                            "avgPx": "59000",
                            "fee": "-0.059",
                            "feeCcy": "USDT",
                            "tdMode": "isolated",
                            "uTime": "1700000000099",
                            "cTime": "1700000000000",
                            "tradeId": "9",
                        }
                    ]
                )
                [fill] = wait_for(lambda: venue.drain_fills())
                assert (fill.qty, fill.price, fill.fee_usdt) == (
                    D("0.05"),
                    D("59000"),
                    D("0.059"),
                )  # 5 contracts x 0.01
                assert stream.parse_errors == 2 and stream.connects == 1  # not an object; the DOGE order
            finally:
                stream.stop()
                venue.close()
        with FakeOkxPrivateStream(fo.api_key, "another-secret", fo.passphrase) as bad:
            stream = OkxPrivateStream(venue, fo.api_key, fo.api_secret, fo.passphrase, bad.url, backoff_max_s=0.2)
            stream.start()
            time.sleep(1.0)
            stream.stop()
            assert stream.connects == 0  # a refused login never subscribes
