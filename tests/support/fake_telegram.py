"""A loopback HTTP server that behaves like the Telegram Bot API's sendMessage, for tests.

What it checks as Telegram does: the token in `/bot<token>/<method>` (401 Unauthorized), the
method (404 Not Found), `chat_id` (400 chat not found), `parse_mode` (400 unsupported
parse_mode), HTML markup (400 can't parse entities: unknown tags, unbalanced tags, bare `&` or
`<`), and the length of the text after entity parsing, in UTF-16 code units (400 message is too
long). Failures can be scripted for the next calls (`fail_next`: 429 with
`parameters.retry_after`, 401, 500, ...) and the server can hang (`hang_s`) to make a client time
out. Every call is recorded in `calls`, every accepted message in `messages`.

getUpdates as Telegram serves it to a long-polling bot: `push_update` queues an update (ids
increase); a call returns the queued updates with id >= `offset` (waiting up to `timeout`
seconds for one), and forgets every update below the `offset` it was asked for (Telegram's
confirmation). `fail_updates_next` scripts errors (429 with retry_after, 500) for the next calls.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from collections import deque
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
PATH = re.compile(r"^/bot(?P<token>[^/]*)/(?P<method>[A-Za-z]+)$")
BAD_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]+|#x[0-9a-fA-F]+);)")


def _err(code: int, description: str, **parameters) -> tuple[int, dict]:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


class _HtmlCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.error = ""
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS and not self.error:
            self.error = f'Unsupported start tag "{tag}" at byte offset {self.getpos()[1]}'
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if (not self.stack or self.stack.pop() != tag) and not self.error:
            self.error = f"Unexpected end tag at byte offset {self.getpos()[1]}"

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text: str) -> tuple[str, str]:
    """(visible text, error or '') the way Telegram's HTML mode reads `text`."""
    bad = BAD_ENTITY.search(text)
    if bad:
        return "", f"Can't find end of the entity starting at byte offset {bad.start()}"
    if re.search(r"<(?![A-Za-z/])", text):
        return "", "Unexpected character '<'"
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.error:
        return "", check.error
    if check.stack:
        return "", f'Can\'t find end tag corresponding to start tag "{check.stack[-1]}"'
    return "".join(check.text), ""


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeTelegram:
    def __init__(self, token: str, chat_id: str = "42", hang_s: float = 0.0):
        self.token = token
        self.chat_id = chat_id
        self.hang_s = hang_s
        self.gate = threading.Event()  # cleared by hold(): calls wait until release()
        self.gate.set()
        self.calls: list[dict] = []
        self.messages: list[dict] = []
        self._scripted: deque[tuple[int, dict]] = deque()
        self._lock = threading.Lock()
        self.updates: list[dict] = []  # not yet confirmed
        self._next_update_id = 1000
        self._updates_cv = threading.Condition(self._lock)
        self._updates_scripted: deque[tuple[int, dict]] = deque()
        self.update_polls = 0
        outer = self

        class _H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = outer._handle(self.path, self.headers.get("Content-Type", ""), body)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    self.close_connection = True

            do_GET = do_POST

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _H)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    # -- scripting -----------------------------------------------------------------------------------
    def fail_next(self, code: int, description: str, times: int = 1, **parameters) -> None:
        """The next `times` valid sendMessage calls answer this error instead."""
        for _ in range(times):
            self._scripted.append(_err(code, description, **parameters))

    def rate_limit_next(self, retry_after: int, times: int = 1) -> None:
        self.fail_next(429, f"Too Many Requests: retry after {retry_after}", times, retry_after=retry_after)

    def push_update(self, update: dict | None = None, **message) -> int:
        """Queue an update (a raw dict, or a message built from chat_id, user_id, text, username)."""
        with self._updates_cv:
            uid = self._next_update_id
            self._next_update_id += 1
            if update is None:
                sender = {"id": message["user_id"], "is_bot": False, "first_name": "Op"}
                if message.get("username"):
                    sender["username"] = message["username"]
                update = {
                    "message": {
                        "message_id": uid,
                        "date": int(time.time()),
                        "chat": {"id": message["chat_id"], "type": "group"},
                        "from": sender,
                        "text": message["text"],
                    }
                }
            self.updates.append({"update_id": uid, **update})
            self._updates_cv.notify_all()
        return uid

    def fail_updates_next(self, code: int, description: str, times: int = 1, **parameters) -> None:
        for _ in range(times):
            self._updates_scripted.append(_err(code, description, **parameters))

    def _get_updates(self, data: dict) -> tuple[int, dict]:
        offset = data.get("offset")
        timeout = float(data.get("timeout") or 0)
        end = time.monotonic() + min(timeout, 50)
        with self._updates_cv:
            self.update_polls += 1
            if self._updates_scripted:
                return self._updates_scripted.popleft()
            if isinstance(offset, int):
                self.updates = [u for u in self.updates if u["update_id"] >= offset]  # confirmed: forgotten
            while not self.updates and time.monotonic() < end:
                self._updates_cv.wait(max(0.0, end - time.monotonic()))
            return 200, {"ok": True, "result": list(self.updates)}

    def hold(self) -> None:
        """Requests are received but not answered until `release()` (a Telegram that hangs)."""
        self.gate.clear()

    def release(self) -> None:
        self.gate.set()

    # -- the API -------------------------------------------------------------------------------------
    def _handle(self, path: str, content_type: str, body: bytes) -> tuple[int, dict]:
        m = PATH.match(path.split("?", 1)[0])
        if content_type.startswith("application/json"):
            try:
                data = json.loads(body or b"{}")
            except ValueError:
                data = None
        else:
            data = dict(parse_qsl(body.decode("utf-8", "replace")))
        with self._lock:
            self.calls.append({"path_ok": bool(m), "data": data, "at": time.monotonic()})
        if self.hang_s:
            time.sleep(self.hang_s)
        self.gate.wait(60)
        if not m or m["token"] != self.token:
            return _err(401, "Unauthorized")
        if m["method"] == "getUpdates":
            return self._get_updates(data if isinstance(data, dict) else {})
        if m["method"] != "sendMessage":
            return _err(404, "Not Found")
        if not isinstance(data, dict):
            return _err(400, "Bad Request: can't parse JSON")
        with self._lock:
            if self._scripted:
                return self._scripted.popleft()
        if str(data.get("chat_id") or "") == "":
            return _err(400, "Bad Request: chat_id is empty")
        if str(data["chat_id"]) != self.chat_id:
            return _err(400, "Bad Request: chat not found")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            return _err(400, "Bad Request: message text is empty")
        mode = data.get("parse_mode")
        if mode not in (None, "", "HTML", "MarkdownV2", "Markdown"):
            return _err(400, f'Bad Request: unsupported parse_mode "{mode}"')
        visible = text
        if mode == "HTML":
            visible, error = parse_html(text)
            if error:
                return _err(400, f"Bad Request: can't parse entities: {error}")
            if not visible.strip():
                return _err(400, "Bad Request: message text is empty")
        # MarkdownV2/Markdown are accepted unchecked: the project sends HTML or plain text only
        if utf16_len(visible) > 4096:
            return _err(400, "Bad Request: message is too long")
        with self._lock:
            message = {**data, "visible_text": visible, "message_id": len(self.messages) + 1}
            self.messages.append(message)
        return 200, {
            "ok": True,
            "result": {
                "message_id": message["message_id"],
                "date": int(time.time()),
                "chat": {"id": data["chat_id"], "type": "group"},
                "text": visible,
            },
        }

    def __enter__(self) -> FakeTelegram:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def visible(message_html: str) -> str:
    """The text a reader sees for an HTML message."""
    return html.unescape(re.sub(r"<[^<>]*>", "", message_html))
