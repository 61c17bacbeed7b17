"""A loopback HTTP server that behaves like the Telegram Bot API's sendMessage for tests."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from tests.support.http_server import LoopbackServer

ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "s", "code", "pre", "a", "blockquote"}


class _Entities(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.error = ""
        self.stack: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.error = f"Bad Request: can't parse entities: Unsupported start tag \"{tag}\""
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.error = f"Bad Request: can't parse entities: Unexpected end tag \"{tag}\""


class FakeTelegram:
    def __init__(self, token: str, mode: str = "ok"):
        self.token = token
        self.mode = mode  # ok | 429-once | 429-long | 401 | 500
        self.messages: list[dict] = []
        self.calls = 0
        self._throttled = False
        self.server = LoopbackServer({("POST", f"/bot{token}/sendMessage"): self._send})
        # any other token answers 401 like Telegram (no such bot)
        self.server.routes[("POST", "/botWRONG/sendMessage")] = lambda q, b, h: (
            401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {})

    def _send(self, query, body, headers):
        self.calls += 1
        data = json.loads(body or b"{}")
        if self.mode == "401":
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        if self.mode == "500":
            return 500, {"ok": False, "error_code": 500, "description": "Internal Server Error"}, {}
        if self.mode.startswith("429") and (self.mode == "429-long" or not self._throttled):
            self._throttled = True
            retry = 600 if self.mode == "429-long" else 1
            return 429, {"ok": False, "error_code": 429, "description": f"Too Many Requests: retry after {retry}",
                         "parameters": {"retry_after": retry}}, {}
        if not data.get("chat_id"):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat_id is empty"}, {}
        text = data.get("text") or ""
        if not text:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}, {}
        if len(text) > 4096:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long"}, {}
        if data.get("parse_mode") == "HTML":
            p = _Entities()
            p.feed(text)
            p.close()
            if p.error or p.stack or re.search(r"&(?!(lt|gt|amp|quot);)", text):
                return 400, {"ok": False, "error_code": 400,
                             "description": p.error or "Bad Request: can't parse entities"}, {}
        self.messages.append(data)
        return 200, {"ok": True, "result": {"message_id": len(self.messages), "chat": {"id": data["chat_id"]},
                                            "text": text}}, {}

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self):
        self.server.__enter__()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)
