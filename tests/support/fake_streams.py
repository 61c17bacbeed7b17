"""Loopback websocket servers that speak Binance USD-M's and OKX v5's public stream formats, and a
REST server with their kline / candle / time (and OKX instruments) endpoints, for live-feed tests.

Binance: combined stream at /stream?streams=a/b/c; messages {"stream": name, "data": payload}.
OKX: clients send {"op":"subscribe","args":[{channel, instId}]}, get {"event":"subscribe","arg":..,
"connId":..} back, then {"arg": {...}, "data": [...]}; a text "ping" is answered with "pong".
Tests push payloads, cut every connection (`drop`), or refuse new ones (`refuse`).
"""

from __future__ import annotations

import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import serve

from tests.support.http_server import LoopbackServer

BAR_MS = 900_000


class _WsServer:
    def __init__(self):
        self.clients: list = []
        self.lock = threading.Lock()
        self.refusing = False
        self.connections = 0
        self.refused = 0  # connection attempts turned away while refusing
        self.server = serve(self._handler, "127.0.0.1", 0)
        self.port = self.server.socket.getsockname()[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.drop()
        self.server.shutdown()

    def drop(self) -> None:
        """Server-initiated disconnect of every client."""
        with self.lock:
            clients, self.clients = self.clients, []
        for ws, _ in clients:
            try:
                ws.close(code=1001, reason="server going away")
            except Exception:  # noqa: BLE001
                pass

    def wait_clients(self, n: int = 1, timeout: float = 20.0) -> None:
        """Until `n` clients are registered to receive pushes (connected and accepted): a push
        before that reaches nobody. `connections` counts a client before it is registered."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.clients) >= n:
                    return
            time.sleep(0.01)
        raise AssertionError(f"{n} client(s) not connected within {timeout:.0f} s")

    def refuse(self, on: bool = True) -> None:
        self.refusing = on
        if on:
            self.drop()

    def _handler(self, ws):
        if self.refusing:
            self.refused += 1
            ws.close(code=1013, reason="try again later")
            return
        self.connections += 1
        state = self._accept(ws)
        with self.lock:
            self.clients.append((ws, state))
        try:
            for raw in ws:
                self._on_client_message(ws, state, raw)
        except ConnectionClosed:
            pass
        finally:
            with self.lock:
                self.clients = [c for c in self.clients if c[0] is not ws]

    def _accept(self, ws):
        return {}

    def _on_client_message(self, ws, state, raw):
        pass

    def raw(self, message: str) -> int:
        """Send `message` as it is to every client (e.g. valid JSON that is not an object)."""
        return self._send(lambda st: True, message)

    def _send(self, predicate, message: str) -> int:
        with self.lock:
            targets = [ws for ws, st in self.clients if predicate(st)]
        for ws in targets:
            try:
                ws.send(message)
            except ConnectionClosed:
                pass
        return len(targets)


class FakeBinanceStream(_WsServer):
    def _accept(self, ws):
        query = parse_qs(urlsplit(ws.request.path).query)
        return {"streams": set((query.get("streams") or [""])[0].split("/"))}

    def push(self, stream: str, data: dict) -> int:
        return self._send(lambda st: stream in st["streams"], json.dumps({"stream": stream, "data": data}))

    def book(self, symbol: str, bid: float, ask: float, ts: int) -> int:
        return self.push(
            f"{symbol.lower()}@bookTicker",
            {
                "e": "bookTicker",
                "u": ts,
                "s": symbol,
                "b": f"{bid}",
                "B": "3.5",
                "a": f"{ask}",
                "A": "2.1",
                "T": ts,
                "E": ts,
            },
        )

    def mark(self, symbol: str, mark: float, rate: float, next_funding: int, ts: int) -> int:
        return self.push(
            f"{symbol.lower()}@markPrice@1s",
            {
                "e": "markPriceUpdate",
                "E": ts,
                "s": symbol,
                "p": f"{mark}",
                "i": f"{mark}",
                "P": f"{mark}",
                "r": f"{rate}",
                "T": next_funding,
            },
        )

    def kline(self, symbol: str, open_time: int, o, h, low, c, closed: bool, ts: int, interval: str = "15m") -> int:
        """A kline frame; `interval` other than 15m is what a stream we did not ask for would send
        (it goes to the 15m subscribers all the same, as a misrouted frame would)."""
        return self._send(
            lambda st: f"{symbol.lower()}@kline_15m" in st["streams"],
            json.dumps(
                {
                    "stream": f"{symbol.lower()}@kline_{interval}",
                    "data": self._kline(symbol, open_time, o, h, low, c, closed, ts, interval),
                }
            ),
        )

    def _kline(self, symbol: str, open_time: int, o, h, low, c, closed: bool, ts: int, interval: str) -> dict:
        return {
            "e": "kline",
            "E": ts,
            "s": symbol,
            "k": {
                "t": open_time,
                "T": open_time + BAR_MS - 1,
                "s": symbol,
                "i": interval,
                "f": 1,
                "L": 2,
                "o": f"{o}",
                "c": f"{c}",
                "h": f"{h}",
                "l": f"{low}",
                "v": "12.5",
                "n": 10,
                "x": closed,
                "q": "1",
                "V": "1",
                "Q": "1",
                "B": "0",
            },
        }


class FakeOkxStream(_WsServer):
    def _accept(self, ws):
        return {"subs": set()}

    def _on_client_message(self, ws, state, raw):
        if raw == "ping":
            ws.send("pong")
            return
        msg = json.loads(raw)
        if msg.get("op") != "subscribe":
            ws.send(json.dumps({"event": "error", "code": "60012", "msg": f"Illegal request: {raw}"}))
            return
        for arg in msg.get("args", []):
            state["subs"].add((arg["channel"], arg["instId"]))
            ws.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "a4d3ae55"}))

    def push(self, channel: str, inst: str, rows: list) -> int:
        return self._send(
            lambda st: (channel, inst) in st["subs"],
            json.dumps({"arg": {"channel": channel, "instId": inst}, "data": rows}),
        )

    def ticker(self, inst: str, bid: float, ask: float, ts: int) -> int:
        return self.push(
            "tickers",
            inst,
            [
                {
                    "instType": "SWAP",
                    "instId": inst,
                    "last": f"{bid}",
                    "bidPx": f"{bid}",
                    "bidSz": "12",
                    "askPx": f"{ask}",
                    "askSz": "9",
                    "ts": str(ts),
                }
            ],
        )

    def books5(self, inst: str, bid: float, bid_sz: str, ask: float, ask_sz: str, ts: int) -> int:
        """books5 (sizes in contracts, levels [px, sz, "0", orders])."""
        row = {
            "asks": [[f"{ask}", ask_sz, "0", "3"]],
            "bids": [[f"{bid}", bid_sz, "0", "5"]],
            "instId": inst,
            "ts": str(ts),
        }
        return self.push("books5", inst, [row])

    def funding(self, inst: str, rate: float, funding_time: int, ts: int) -> int:
        return self.push(
            "funding-rate",
            inst,
            [
                {
                    "instType": "SWAP",
                    "instId": inst,
                    "fundingRate": f"{rate}",
                    "fundingTime": str(funding_time),
                    "nextFundingTime": str(funding_time + 8 * 3600_000),
                    "ts": str(ts),
                }
            ],
        )

    def candle(self, inst: str, open_time: int, o, h, low, c, closed: bool) -> int:
        return self.push(
            "candle15m",
            inst,
            [[str(open_time), f"{o}", f"{h}", f"{low}", f"{c}", "100", "1", "1", "1" if closed else "0"]],
        )


class FakeHistory:
    """REST: Binance /fapi/v1/klines and /fapi/v1/time, OKX /api/v5/market/history-candles and
    /api/v5/public/time, over a candle set the test controls."""

    def __init__(self, server_time=lambda: int(time.time() * 1000)):
        self.candles: dict[str, list[tuple]] = {}  # symbol -> [(open_time, o, h, l, c, v)]
        self.server_time = server_time
        self.kline_requests = 0
        self.refused: set[str] = set()  # symbols answered with -1121 Invalid symbol
        self.server = LoopbackServer(
            {
                ("GET", "/fapi/v1/klines"): self._klines,
                ("GET", "/fapi/v1/time"): self._btime,
                ("GET", "/api/v5/market/history-candles"): self._okx_candles,
                ("GET", "/api/v5/public/time"): self._otime,
                ("GET", "/api/v5/public/instruments"): self._okx_instruments,
            }
        )

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    def add(self, symbol: str, open_time: int, close: float) -> None:
        self.candles.setdefault(symbol, []).append((open_time, close, close * 1.001, close * 0.999, close, 10.0))

    def _klines(self, q, body, headers):
        self.kline_requests += 1
        if q["symbol"] in self.refused:  # as Binance answers a symbol it does not list
            return 400, {"code": -1121, "msg": "Invalid symbol."}, {}
        lo, hi, limit = int(q["startTime"]), int(q["endTime"]), int(q["limit"])
        rows = [
            [t, f"{o}", f"{h}", f"{low}", f"{c}", f"{v}", t + BAR_MS - 1, "0", 1, "0", "0", "0"]
            for t, o, h, low, c, v in self.candles.get(q["symbol"], [])
            if lo <= t <= hi
        ][:limit]
        return 200, rows, {}

    def _okx_candles(self, q, body, headers):
        after, limit = int(q["after"]), int(q["limit"])
        rows = [r for r in self.candles.get(q["instId"], []) if r[0] < after][-limit:]
        data = [
            [str(t), f"{o}", f"{h}", f"{low}", f"{c}", f"{v}", "1", "1", "1"] for t, o, h, low, c, v in reversed(rows)
        ]
        return 200, {"code": "0", "msg": "", "data": data}, {}

    def _okx_instruments(self, q, body, headers):
        from tests.fakes.fake_okx import default_instruments, instrument_row

        return 200, {"code": "0", "msg": "", "data": [instrument_row(i) for i in default_instruments()]}, {}

    def _btime(self, q, body, headers):
        return 200, {"serverTime": self.server_time()}, {}

    def _otime(self, q, body, headers):
        return 200, {"code": "0", "msg": "", "data": [{"ts": str(self.server_time())}]}, {}


class FakeBinanceUserStream(_WsServer):
    """wss://fstream.binance.com/ws/<listenKey>: account events for one listen key."""

    def _accept(self, ws):
        return {"key": urlsplit(ws.request.path).path.rsplit("/", 1)[-1]}

    def event(self, payload: dict) -> int:
        return self._send(lambda st: True, json.dumps(payload))

    def keys(self) -> list[str]:
        with self.lock:
            return [st["key"] for _, st in self.clients]


class FakeOkxPrivateStream(_WsServer):
    """wss://ws.okx.com:8443/ws/v5/private: login with the real signature rule, then `orders`."""

    def __init__(self, api_key: str, secret: str, passphrase: str):
        self.api_key, self.secret, self.passphrase = api_key, secret, passphrase
        super().__init__()

    def _accept(self, ws):
        return {"logged_in": False, "subs": set()}

    def _on_client_message(self, ws, state, raw):
        import base64
        import hashlib
        import hmac

        if raw == "ping":
            ws.send("pong")
            return
        msg = json.loads(raw)
        if msg.get("op") == "login":
            a = msg["args"][0]
            want = base64.b64encode(
                hmac.new(
                    self.secret.encode(), f"{a['timestamp']}GET/users/self/verify".encode(), hashlib.sha256
                ).digest()
            ).decode()
            if a.get("apiKey") != self.api_key or a.get("passphrase") != self.passphrase or a.get("sign") != want:
                ws.send(json.dumps({"event": "error", "code": "60009", "msg": "Login failed."}))
                return
            state["logged_in"] = True
            ws.send(json.dumps({"event": "login", "code": "0", "msg": "", "connId": "a4d3ae55"}))
        elif msg.get("op") == "subscribe":
            if not state["logged_in"]:
                ws.send(json.dumps({"event": "error", "code": "60011", "msg": "Please log in"}))
                return
            for arg in msg["args"]:
                state["subs"].add(arg["channel"])
                ws.send(json.dumps({"event": "subscribe", "arg": arg, "connId": "a4d3ae55"}))

    def orders(self, rows: list[dict]) -> int:
        return self._send(
            lambda st: "orders" in st["subs"],
            json.dumps({"arg": {"channel": "orders", "instType": "SWAP", "uid": "77"}, "data": rows}),
        )
