"""A tiny threaded HTTP server on loopback for tests: route (method, path) -> handler(query, body, headers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

Handler = Callable[[dict, bytes, dict], tuple[int, object, dict]]


class LoopbackServer:
    def __init__(self, routes: dict[tuple[str, str], Handler]):
        self.routes = routes
        self.requests: list[tuple[str, str, dict]] = []
        outer = self

        class _H(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((method, parts.path, query))
                handler = outer.routes.get((method, parts.path))
                status: int
                payload: object
                headers: dict
                if handler is None:
                    status, payload, headers = 404, {"code": -1, "msg": f"no route {method} {parts.path}"}, {}
                else:
                    status, payload, headers = handler(query, body, dict(self.headers))
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_DELETE(self):
                self._serve("DELETE")

            def do_PUT(self):
                self._serve("PUT")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
