"""Private (account) streams: order updates as they happen, into the venue adapters.

Binance USD-M user data stream: a listen key from POST /fapi/v1/listenKey (API key only), kept
alive with PUT every `keepalive_s` (Binance expires it after 60 minutes), websocket
`<ws>/ws/<listenKey>`; `ORDER_TRADE_UPDATE` events go to `BinanceUM.on_stream_order`,
`ALGO_UPDATE` (protective orders in the Algo Service) to `BinanceUM.on_stream_algo`,
`listenKeyExpired` gets a new key and reconnects.
OKX private channel: login (`op: login`, sign = base64(HMAC-SHA256(secret, ts + "GET" +
"/users/self/verify"))), then `orders` (instType SWAP); rows go to `OkxPerp.on_stream_order`.

Both feed the adapters' fill trackers, which book a fill once whether the stream or a REST
answer saw it first; REST stays the source of truth at reconciliation. A dropped stream is
reconnected with back-off and jitter; nothing here ever places or cancels an order.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

import requests

from execution import logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import MalformedAnswer, VenueError
from execution.exchanges.http_deadline import mount_deadline
from execution.exchanges.wire import Fields, sketch
from execution.settings import VenueAccess


@runtime_checkable
class StreamFed(Protocol):
    """A venue adapter that takes order updates from its private stream (BinanceUM, OkxPerp)."""

    def on_stream_order(self, row: Mapping[str, Any]) -> Any: ...


class _Stream(threading.Thread):
    def __init__(self, name: str, backoff_max_s: float = 30.0):
        super().__init__(name=name, daemon=True)
        self._stop_event = threading.Event()
        self.backoff_max_s = backoff_max_s
        self.log = logs.get()
        self.connects = 0
        self.updates = 0
        self.parse_errors = 0  # frames or updates that do not read: counted, the stream stays up
        self.on_connect: Callable[[str], None] | None = None  # told the venue's name on every (re)connect

    def connected(self, venue: str) -> None:
        self.connects += 1
        if self.on_connect is not None:
            self.on_connect(venue)

    def frame(self, raw: str | bytes) -> dict | None:
        """A frame as a JSON object; anything else is a counted parse error and the stream stays up."""
        try:
            msg = json.loads(raw)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than the parser goes
            msg = None
        if isinstance(msg, dict):
            return msg
        self.parse_errors += 1
        self.log.warning("[feed] %s account stream: frame is not a JSON object: %s", self.name, sketch(raw))
        return None

    def malformed(self, exc: Exception) -> None:
        """An update the adapter could not read or apply (MalformedAnswer, a ValueError of a trusted
        conversion, a VenueError such as an order on an instrument this fund does not trade, placed
        by hand on the same account): counted and logged, never applied; the stream stays up (REST
        reconciles what matters)."""
        self.parse_errors += 1
        self.log.warning(
            "[feed] %s account stream: update not applied: %s",
            self.name,
            logs.redact(f"{exc.__class__.__name__}: {exc}")[:300],
        )

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        backoff = 0.5
        while not self._stop_event.is_set():
            try:
                self.session()
                backoff = 0.5
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect with back-off
                if self._stop_event.is_set():
                    return
                wait = min(backoff, self.backoff_max_s) * (0.5 + random.random())
                self.log.warning(
                    "[feed] %s account stream down (%s); reconnecting in %.1fs",
                    self.name,
                    logs.redact(f"{exc.__class__.__name__}: {exc}")[:160],
                    wait,
                )
                self._stop_event.wait(wait)
                backoff = min(backoff * 2, self.backoff_max_s)

    def session(self) -> None:
        raise NotImplementedError


class BinanceUserStream(_Stream):
    def __init__(
        self,
        venue: StreamFed,
        api_key: str,
        rest_host: str,
        ws_base: str,
        keepalive_s: float = 1800.0,
        backoff_max_s: float = 30.0,
    ):
        super().__init__("binance-account", backoff_max_s)
        self.venue, self._key = venue, api_key
        self.rest_host, self.ws_base = rest_host.rstrip("/"), ws_base.rstrip("/")
        self.keepalive_s = keepalive_s
        self.http = requests.Session()
        mount_deadline(self.http, 10.0)  # as the listen-key calls' own timeout: the whole answer too

    def _listen_key(self, method: str) -> str:
        resp = self.http.request(
            method, f"{self.rest_host}/fapi/v1/listenKey", headers={"X-MBX-APIKEY": self._key}, timeout=10
        )
        if resp.status_code != 200:
            raise RuntimeError(f"listenKey {method}: HTTP {resp.status_code} {resp.text[:120]}")
        return resp.json().get("listenKey", "")

    def session(self) -> None:
        from websockets.sync.client import connect

        key = self._listen_key("POST")
        with connect(f"{self.ws_base}/ws/{key}", open_timeout=10, close_timeout=2, proxy=None) as ws:
            self.connected("binance_um")
            self.log.info(
                "[feed] binance account stream connected (listen key kept alive every %.0fs)", self.keepalive_s
            )
            last_keepalive = time.monotonic()
            while not self._stop_event.is_set():
                if time.monotonic() - last_keepalive >= self.keepalive_s:
                    self._listen_key("PUT")
                    last_keepalive = time.monotonic()
                try:
                    raw = ws.recv(timeout=1.0)
                except TimeoutError:
                    continue
                msg = self.frame(raw)
                if msg is not None and not self.handle(msg):
                    self.log.warning("[feed] binance listen key expired: new key, reconnecting")
                    return

    def handle(self, msg: dict) -> bool:
        """One event of the user data stream into the adapter; False when the listen key expired."""
        kind = msg.get("e")
        try:
            if kind == "ORDER_TRADE_UPDATE":
                self.venue.on_stream_order(msg.get("o"))  # type: ignore[arg-type]  # the parser checks it
                self.updates += 1
            elif kind == "ALGO_UPDATE" and hasattr(self.venue, "on_stream_algo"):
                event_ms = Fields(msg, "binance_um", "ALGO_UPDATE").ms("E", 0)
                self.venue.on_stream_algo(msg.get("o"), event_ms)  # protective (algo) orders
                self.updates += 1
        except (ValueError, VenueError) as exc:  # MalformedAnswer is both
            self.malformed(exc)
        return kind != "listenKeyExpired"


class OkxPrivateStream(_Stream):
    def __init__(
        self,
        venue: StreamFed,
        api_key: str,
        secret: str,
        passphrase: str,
        ws_url: str,
        demo: bool = False,
        backoff_max_s: float = 30.0,
    ):
        super().__init__("okx-account", backoff_max_s)
        self.venue = venue
        self._key, self._secret, self._passphrase = api_key, secret, passphrase
        self.ws_url, self.demo = ws_url, demo

    def _login_args(self) -> dict:
        ts = str(int(time.time()))
        sign = base64.b64encode(
            hmac.new(self._secret.encode(), f"{ts}GET/users/self/verify".encode(), hashlib.sha256).digest()
        ).decode()
        return {"apiKey": self._key, "passphrase": self._passphrase, "timestamp": ts, "sign": sign}

    def session(self) -> None:
        from websockets.sync.client import connect

        headers = {"x-simulated-trading": "1"} if self.demo else None
        with connect(self.ws_url, open_timeout=10, close_timeout=2, proxy=None, additional_headers=headers) as ws:
            ws.send(json.dumps({"op": "login", "args": [self._login_args()]}))
            answer = json.loads(ws.recv(timeout=10))
            if answer.get("event") != "login" or str(answer.get("code", "0")) != "0":
                raise RuntimeError(f"okx login refused: code={answer.get('code')} msg={answer.get('msg')}")
            ws.send(json.dumps({"op": "subscribe", "args": [{"channel": "orders", "instType": "SWAP"}]}))
            self.connected("okx_perp")
            self.log.info("[feed] okx account stream connected (orders)")
            last_ping = time.monotonic()
            while not self._stop_event.is_set():
                if time.monotonic() - last_ping > 20:
                    ws.send("ping")
                    last_ping = time.monotonic()
                try:
                    raw = ws.recv(timeout=1.0)
                except TimeoutError:
                    continue
                if raw == "pong":
                    continue
                msg = self.frame(raw)
                if msg is not None:
                    self.handle(msg)

    def handle(self, msg: dict) -> None:
        """One message of the private channel: each `orders` row into the adapter."""
        if msg.get("event") == "error":
            raise RuntimeError(f"okx private stream error code={sketch(msg.get('code'))} msg={sketch(msg.get('msg'))}")
        arg = msg.get("arg")
        if "event" in msg or not isinstance(arg, dict) or arg.get("channel") != "orders":
            return  # the subscription's ack, another channel
        rows = msg.get("data")
        if rows is None:
            return
        if not isinstance(rows, list):
            self.malformed(MalformedAnswer("okx_perp", "orders.data", f"expected a list, got {sketch(rows)}"))
            return
        for row in rows:
            try:
                self.venue.on_stream_order(row)
            except (ValueError, VenueError) as exc:  # MalformedAnswer is both; an instrument not ours
                self.malformed(exc)
                continue
            self.updates += 1


def start_account_streams(venues: dict[str, Venue], access: VenueAccess, profile: str) -> list[_Stream]:
    """Account streams for every real exchange venue with keys (not for paper or dry-run venues)."""
    from execution.feeds.live import BINANCE_WS
    from execution.feeds.rest_history import BINANCE_URL, binance_host

    keys, urls = access.credentials, access.endpoints
    streams: list[_Stream] = []
    binance = venues.get("binance_um")
    if binance is not None and binance.is_exchange and isinstance(binance, StreamFed):
        default_rest = "https://testnet.binancefuture.com" if profile == "testnet" else BINANCE_URL
        default_ws = "wss://stream.binancefuture.com" if profile == "testnet" else BINANCE_WS
        streams.append(
            BinanceUserStream(
                binance,
                keys.binance_api_key.get_secret_value(),
                binance_host(urls.binance_rest or default_rest),
                urls.binance_ws or default_ws,
            )
        )
    okx = venues.get("okx_perp")
    if okx is not None and okx.is_exchange and isinstance(okx, StreamFed):
        streams.append(
            OkxPrivateStream(
                okx,
                keys.okx_api_key.get_secret_value(),
                keys.okx_api_secret.get_secret_value(),
                keys.okx_passphrase.get_secret_value(),
                urls.okx_ws_private
                or (
                    "wss://wspap.okx.com:8443/ws/v5/private"
                    if profile == "testnet"
                    else "wss://ws.okx.com:8443/ws/v5/private"
                ),
                demo=profile == "testnet",
            )
        )
    for s in streams:
        s.start()
    return streams
