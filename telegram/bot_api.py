"""Telegram Bot API sender: POST /bot<token>/sendMessage with requests, nothing else.

Handles what the Bot API answers: `ok:false` errors (logged with their description), HTTP 429
with `parameters.retry_after` (one bounded wait and one retry), timeouts and connection errors.
Messages over Telegram's 4096-character limit are split on line boundaries. The token is part of
the URL, so no URL or exception text is ever logged without redaction.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import requests

from execution import logs

API_BASE = "https://api.telegram.org"
MAX_MESSAGE_CHARS = 4096
MAX_RETRY_AFTER_S = 30.0


@dataclass
class SendResult:
    ok: bool
    sent_parts: int = 0
    errors: list[str] = field(default_factory=list)


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most `limit` characters, cut at line ends where possible."""
    parts, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:  # a single over-long line: hard cut
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return parts


class BotApi:
    def __init__(self, token: str, api_base: str = API_BASE, timeout_s: float = 10.0,
                 max_retry_after_s: float = MAX_RETRY_AFTER_S, sleep=time.sleep):
        self._token = token
        self.api_base = api_base.rstrip("/")
        self.timeout_s = timeout_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._session = requests.Session()
        self.log = logs.get()

    def _redact(self, text: str) -> str:
        return logs.redact(text, (self._token,))

    def send_message(self, chat_id: str, text: str, parse_mode: str | None = "HTML") -> SendResult:
        result = SendResult(ok=True)
        for part in split_message(text):
            ok, error = self._send_part(chat_id, part, parse_mode)
            if ok:
                result.sent_parts += 1
            else:
                result.ok = False
                result.errors.append(error)
                break
        return result

    def _send_part(self, chat_id: str, text: str, parse_mode: str | None) -> tuple[bool, str]:
        url = f"{self.api_base}/bot{self._token}/sendMessage"
        payload = {"chat_id": chat_id, "text": text, "disable_web_page_preview": True}
        if parse_mode:
            payload["parse_mode"] = parse_mode
        for attempt in (1, 2):
            try:
                resp = self._session.post(url, json=payload, timeout=self.timeout_s)
            except requests.RequestException as exc:
                return False, f"Telegram unreachable ({exc.__class__.__name__})"
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if resp.status_code == 200 and body.get("ok") is True:
                return True, ""
            description = self._redact(str(body.get("description") or resp.reason or "no description"))
            if resp.status_code == 429 and attempt == 1:
                retry_after = float((body.get("parameters") or {}).get("retry_after") or 1)
                if retry_after > self.max_retry_after_s:
                    return False, f"HTTP 429: retry_after {retry_after:g}s is over {self.max_retry_after_s:g}s"
                self.log.warning("[telegram] rate limited: waiting %.0fs before one retry", retry_after)
                self._sleep(retry_after)
                continue
            return False, f"HTTP {resp.status_code}: {description}"
        return False, "HTTP 429 twice"
