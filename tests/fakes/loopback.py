"""A real HTTP server on 127.0.0.1 (port 0) in a thread, with faults a test can inject.

A fake venue subclasses `LoopbackVenue` and implements `route(request) -> Reply`. Faults are
injected per method + path and fire `times` times:
    before/after  the venue's processing ("after" = the order was accepted, then the fault)
    hang          answer only after `hang_s` (the client times out)
    drop          close the connection without answering (a disconnect)
    status        answer `status` with `body` (e.g. a 503 page) instead of the real answer;
                  a callable `body` is given the request (an error page that echoes its headers)
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import urlsplit


@dataclass
class Request:
    method: str
    raw_path: str  # path with the query string, exactly as sent
    path: str
    query: str
    body: bytes
    headers: dict[str, str]

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)


@dataclass
class Reply:
    status: int
    body: Any  # dict/list -> JSON, str -> text
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Fault:
    method: str
    path: str
    when: str  # before | after
    action: str  # hang | drop | status
    times: int = 1
    status: int = 503
    body: Any = ""
    hang_s: float = 2.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave together: no 40 ms delayed-ACK stalls
    wbufsize = 1 << 16
    server: _Server

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        req = Request(
            self.command, self.path, parts.path, parts.query, body, {k.lower(): v for k, v in self.headers.items()}
        )
        venue = self.server.venue
        venue._receive(req)
        fault = venue._take_fault(req.method, req.path, "before")
        if fault is None:
            reply = venue._handle(req)
            fault = venue._take_fault(req.method, req.path, "after")
        else:
            reply = None
        if fault is not None:
            if fault.action == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.action == "hang":
                venue._stopping.wait(fault.hang_s)
                self.close_connection = True
                return
            reply = Reply(fault.status, fault.body(req) if callable(fault.body) else fault.body)
        assert reply is not None
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        if isinstance(reply.body, (dict, list)):
            data, ctype = json.dumps(reply.body).encode(), "application/json"
        else:
            data, ctype = str(reply.body).encode(), "text/html"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_DELETE = do_PUT = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    venue: LoopbackVenue


class LoopbackVenue:
    """Start with `start()` (or as a context manager); `url` is the base URL; `stop()` cleans up."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._faults: list[Fault] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request the venue processed
        self.received: list[Request] = []  # every request that arrived, faulted or not

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> Self:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.venue = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- faults ----------------------------------------------------------------------------------
    def inject(
        self,
        method: str,
        path: str,
        when: str = "before",
        action: str = "status",
        times: int = 1,
        status: int = 503,
        body: Any = "",
        hang_s: float = 2.0,
    ) -> None:
        if when not in ("before", "after") or action not in ("hang", "drop", "status"):
            raise ValueError(f"bad fault when={when} action={action}")
        with self._lock:
            self._faults.append(Fault(method.upper(), path, when, action, times, status, body, hang_s))

    def _receive(self, req: Request) -> None:
        with self._lock:
            self.received.append(req)

    def arrived(self, method: str, path: str) -> int:
        with self._lock:
            return sum(1 for r in self.received if r.method == method and r.path == path)

    def _take_fault(self, method: str, path: str, when: str) -> Fault | None:
        with self._lock:
            for f in self._faults:
                if f.method == method and f.path == path and f.when == when and f.times > 0:
                    f.times -= 1
                    return f
        return None

    def _handle(self, req: Request) -> Reply:
        with self._lock:
            self.requests.append((req.method, req.path))
            return self.route(req)

    def count(self, method: str, path: str) -> int:
        with self._lock:
            return sum(1 for m, p in self.requests if m == method and p == path)

    def route(self, req: Request) -> Reply:  # pragma: no cover - subclasses
        raise NotImplementedError
