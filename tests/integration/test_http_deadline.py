"""A venue that answers one byte at a time, or answers far too much, cannot hold the executor:
both real REST adapters (python-binance over requests, python-okx over httpx) give up within
VENUE_TIMEOUT_S of sending, as a typed venue error, against a loopback server that dribbles."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import requests

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.errors import VenueError
from execution.exchanges.http_deadline import mount_deadline
from execution.exchanges.httpx_deadline import DeadlineTransport
from execution.exchanges.okx_perp import OkxPerp

BODY = b'{"serverTime": 1767225600000, "code": "0", "data": [{"ts": "1767225600000"}]}'


class _Handler(BaseHTTPRequestHandler):
    mode = "ok"  # ok | dribble | huge | gzip

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def do_GET(self) -> None:
        mode = type(self).mode
        body = gzip.compress(BODY) if mode == "gzip" else BODY
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if mode == "gzip":
            self.send_header("Content-Encoding", "gzip")
        size = 50 << 20 if mode == "huge" else len(body)
        self.send_header("Content-Length", str(size))
        self.end_headers()
        try:
            if mode == "dribble":
                for i in range(len(body)):
                    self.wfile.write(body[i : i + 1])
                    self.wfile.flush()
                    time.sleep(0.25)  # well inside any per-read timeout, forever in all
            elif mode == "huge":
                chunk = b" " * (1 << 20)
                for _ in range(50):
                    self.wfile.write(chunk)
            else:
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextmanager
def server(mode: str) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"mode": mode})
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}"
    finally:
        srv.shutdown()
        srv.server_close()


def _requests_session(total_s: float, max_bytes: int = 1 << 20) -> requests.Session:
    s = requests.Session()
    mount_deadline(s, total_s, max_bytes)
    return s


def _httpx_client(total_s: float, max_bytes: int = 1 << 20) -> httpx.Client:
    return httpx.Client(transport=DeadlineTransport(total_s, max_bytes), timeout=5.0)


@pytest.mark.parametrize("mode", ["ok", "gzip"])
def test_an_answer_in_time_is_read_as_before(mode):
    with server(mode) as url:
        assert _requests_session(2.0).get(url + "/x", timeout=5).content == BODY
        with _httpx_client(2.0) as client:
            assert client.get(url + "/x").content == BODY


def test_a_dribbled_answer_is_a_timeout_at_the_deadline_not_per_read():
    with server("dribble") as url:
        t0 = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout, match="not complete within"):
            _requests_session(1.0).get(url + "/x", timeout=1.0)  # each byte comes well inside 1 s
        assert time.monotonic() - t0 < 3.0  # the whole body would take ~19 s
        t0 = time.monotonic()
        with _httpx_client(1.0) as client, pytest.raises(httpx.ReadTimeout, match="not complete within"):
            client.get(url + "/x")
        assert time.monotonic() - t0 < 3.0


def test_an_answer_beyond_the_size_cap_is_refused_not_held_in_memory():
    with server("huge") as url:
        with pytest.raises(requests.exceptions.ContentDecodingError, match="larger than"):
            _requests_session(10.0, max_bytes=1 << 20).get(url + "/x", timeout=5)
        with _httpx_client(10.0, max_bytes=1 << 20) as client, pytest.raises(httpx.ReadError, match="larger than"):
            client.get(url + "/x")


def test_both_adapters_give_up_on_a_dribbling_venue_within_their_timeout():
    with server("dribble") as url:
        venues = [
            BinanceUM("k" * 64, "s" * 64, url, timeout_s=1.0, sleep=lambda s: None),
            OkxPerp("k" * 36, "s" * 32, "p" * 10, domain=url, demo=True, timeout_s=1.0, sleep=lambda s: None),
        ]
        for venue in venues:
            t0 = time.monotonic()
            with pytest.raises(VenueError):
                venue.server_time_ms()
            assert time.monotonic() - t0 < 4.0, type(venue).__name__  # not the ~19 s the body takes
            venue.close()


def test_a_call_with_a_longer_timeout_of_its_own_gets_it_for_the_whole_answer():
    with server("dribble") as url:  # ~19 s for the whole body
        t0 = time.monotonic()
        with pytest.raises(requests.exceptions.ReadTimeout):
            _requests_session(1.0).get(url + "/x", timeout=(5, 2.5))  # Telegram's long poll passes its own
        assert 2.0 < time.monotonic() - t0 < 4.5  # the call's 2.5 s, not the session's 1 s


def test_the_telegram_bot_api_gives_up_on_a_dribbling_server_within_its_timeout():
    from telegram.bot_api import BotApi

    with server("dribble") as url:
        bot = BotApi("123456:" + "A" * 35, api_base=url, timeout_s=1.0, sleep=lambda s: None)
        t0 = time.monotonic()
        result = bot.send_message("42", "hello", parse_mode=None)
        assert not result.ok and "unreachable" in result.errors[0]
        assert time.monotonic() - t0 < 4.0
        bot.close()
