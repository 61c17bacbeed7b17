"""Telegram Bot API client: POST {api_base}/bot<token>/sendMessage (and getUpdates for the
operators' commands bot) with requests, nothing else.

What it handles, because the Bot API answers it:
- `ok:false` answers: the error is returned with Telegram's description (redacted), and a hint
  for the two an operator can fix (401: the token; 400 "chat not found": the chat id);
- HTTP 429 with `parameters.retry_after`: one wait, bounded by `max_retry_after_s`, then one
  retry; a longer wait is refused at once (a cron job must not sleep for minutes);
- 400 "can't parse entities" on an HTML message: the same text is sent once more as plain text
  (tags removed, entities decoded), so a formatting slip never costs the message;
- timeouts and connection errors: reported, never retried (a timed-out send may have arrived;
  sending again could post it twice);
- Telegram's 4096-character limit, counted as Telegram counts it (UTF-16 code units): a longer
  text is either split into several messages on line ends, or truncated to one message with a
  marker. Cuts never fall inside an HTML tag, an entity (`&amp;`) or a surrogate pair.

The token is part of the URL, so no URL, response or exception text is logged or returned
without `execution.logs.redact`; exceptions are reported by class name only.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from execution import logs
from execution.exchanges.http_deadline import mount_deadline

API_BASE = "https://api.telegram.org"
MAX_MESSAGE_CHARS = 4096
MAX_RETRY_AFTER_S = 30.0
DEFAULT_TIMEOUT_S = 10.0
TRUNCATION_MARK = "\n… (truncated)"
TOKEN_PATTERN = re.compile(r"[0-9]{3,}:[A-Za-z0-9_-]{20,}")
_TAG = re.compile(r"<[^<>]*>")


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def html_to_plain(text: str) -> str:
    """What an HTML message says, as plain text (the fallback when Telegram rejects the markup)."""
    return html.unescape(_TAG.sub("", text))


def _prefix_fitting(text: str, limit: int) -> int:
    """Largest index i with tg_len(text[:i]) <= limit whose cut is not inside an HTML tag or an
    entity (an index into a Python str never splits a surrogate pair)."""
    units, i = 0, 0
    for i, ch in enumerate(text):  # noqa: B007 - `i` is the cut point after the loop
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > limit:
            break
    else:
        return len(text)
    cut = i
    head = text[:cut]
    amp, semi = head.rfind("&"), head.rfind(";")
    if amp > semi and cut - amp <= 10:  # `&amp` | `;`: cut before the entity
        cut = amp
    lt, gt = head.rfind("<"), head.rfind(">")
    if lt > gt:  # inside `<b` ... `>`: cut before the tag
        cut = min(cut, lt)
    return cut if cut > 0 else i  # a line that is one giant tag: hard cut (the plain fallback copes)


def split_message(text: str, limit: int = MAX_MESSAGE_CHARS) -> list[str]:
    """Pieces of at most `limit` (UTF-16 units), cut at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while tg_len(line) > limit:  # a single over-long line: safe hard cut
            if current:
                parts.append(current)
                current = ""
            cut = _prefix_fitting(line, limit)
            parts.append(line[:cut])
            line = line[cut:]
        candidate = f"{current}\n{line}" if current else line
        if current and tg_len(candidate) > limit:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current or not parts:
        parts.append(current)
    return [p for p in parts if p] or [""]


def truncate_message(text: str, limit: int = MAX_MESSAGE_CHARS, mark: str = TRUNCATION_MARK) -> str:
    """`text` if it fits; else the whole lines that fit plus `mark` (one message, never more)."""
    if tg_len(text) <= limit:
        return text
    room = limit - tg_len(mark)
    kept: list[str] = []
    used = 0
    for line in text.split("\n"):
        extra = tg_len(line) + (1 if kept else 0)
        if used + extra > room:
            if not kept:  # the first line alone is too long: cut it safely
                kept.append(line[: _prefix_fitting(line, room)])
            break
        kept.append(line)
        used += extra
    return "\n".join(kept) + mark


@dataclass
class SendResult:
    ok: bool
    sent_parts: int = 0
    message_ids: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_code: int | None = None  # Telegram's error_code (or HTTP status) of the first failure
    plain_fallback: bool = False


class BotApi:
    """One bot. `sleep` is injectable so a test can record the 429 wait instead of sleeping it."""

    def __init__(
        self,
        token: str,
        api_base: str = API_BASE,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_retry_after_s: float = MAX_RETRY_AFTER_S,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self._token = token
        self.api_base = (api_base or API_BASE).rstrip("/")
        self.timeout_s = timeout_s
        self.max_retry_after_s = max_retry_after_s
        self._sleep = sleep
        self._session = requests.Session()
        mount_deadline(self._session, timeout_s)  # each call's timeout bounds its whole answer too
        self.log = logs.get()

    @staticmethod
    def token_looks_valid(token: str) -> bool:
        """`<bot id>:<secret>` as BotFather issues it; whitespace or quotes from a .env slip fail."""
        return bool(TOKEN_PATTERN.fullmatch(token or ""))

    def _redact(self, text: str) -> str:
        return logs.redact(text, (self._token,))

    def close(self) -> None:
        self._session.close()

    def send_message(
        self, chat_id: str, text: str, parse_mode: str | None = "HTML", overflow: str = "split"
    ) -> SendResult:
        """Send `text`; over the limit it is split into several messages (`overflow="split"`) or
        truncated to one (`"truncate"`). Stops at the first part that fails."""
        if overflow not in ("split", "truncate"):
            raise ValueError(f"overflow must be 'split' or 'truncate', not {overflow!r}")
        parts = split_message(text) if overflow == "split" else [truncate_message(text)]
        result = SendResult(ok=True)
        for part in parts:
            ok, error, code, message_id = self._send_part(chat_id, part, parse_mode)
            if ok is None:  # markup rejected: the same content as plain text, once
                self.log.warning("[telegram] %s: resending as plain text", error)
                result.plain_fallback = True
                ok, error, code, message_id = self._send_part(chat_id, html_to_plain(part), None)
            if ok:
                result.sent_parts += 1
                if message_id is not None:
                    result.message_ids.append(message_id)
                continue
            result.ok = False
            result.errors.append(error)
            result.error_code = code
            break
        return result

    def _send_part(
        self, chat_id: str, text: str, parse_mode: str | None
    ) -> tuple[bool | None, str, int | None, int | None]:
        """(ok, error, error_code, message_id); ok is None when Telegram could not parse the markup."""
        url = f"{self.api_base}/bot{self._token}/sendMessage"
        payload: dict[str, str | bool] = {"chat_id": chat_id, "text": text, "disable_web_page_preview": True}
        if parse_mode:
            payload["parse_mode"] = parse_mode
        for attempt in (1, 2):
            try:
                resp = self._session.post(url, json=payload, timeout=self.timeout_s)
            except requests.RequestException as exc:
                return False, f"Telegram unreachable ({exc.__class__.__name__})", None, None
            try:
                body = resp.json()
            except ValueError:
                body = {}
            if not isinstance(body, dict):
                body = {}
            if resp.status_code == 200 and body.get("ok") is True:
                raw_result = body.get("result")
                result: dict = raw_result if isinstance(raw_result, dict) else {}
                mid = result.get("message_id")
                return True, "", None, mid if isinstance(mid, int) else None
            raw_code = body.get("error_code")
            code: int = raw_code if isinstance(raw_code, int) else resp.status_code
            description = self._redact(str(body.get("description") or resp.reason or "no description"))[:300]
            if code == 429 and attempt == 1:
                retry_after = _retry_after(body)
                if retry_after > self.max_retry_after_s:
                    return (
                        False,
                        (
                            f"HTTP 429 rate limited: retry_after {retry_after:g}s is over the "
                            f"{self.max_retry_after_s:g}s this sender waits"
                        ),
                        code,
                        None,
                    )
                self.log.warning("[telegram] rate limited (429): waiting %gs before one retry", retry_after)
                self._sleep(retry_after)
                continue
            if code == 400 and parse_mode and "can't parse entities" in description.lower():
                return None, f"HTTP 400 {description}", code, None
            return False, f"HTTP {code} {description}{_hint(code, description)}", code, None
        return False, "HTTP 429 rate limited again after the wait", 429, None


@dataclass
class UpdatesResult:
    """What one getUpdates call brought: the raw updates, or why none (and how long to wait)."""

    updates: list = field(default_factory=list)
    error: str = ""
    retry_after_s: float = 0.0


def get_updates(bot: BotApi, offset: int | None, timeout_s: int) -> UpdatesResult:
    """One long poll: updates with id >= `offset` (Telegram forgets the ones below it), waiting
    up to `timeout_s` for one to arrive. Errors are returned, never raised; the token never
    appears in them."""
    url = f"{bot.api_base}/bot{bot._token}/getUpdates"
    payload: dict[str, int | list[str]] = {"timeout": timeout_s, "allowed_updates": ["message"]}
    if offset is not None:
        payload["offset"] = offset
    try:
        resp = bot._session.post(url, json=payload, timeout=timeout_s + bot.timeout_s)
    except requests.RequestException as exc:
        return UpdatesResult(error=f"Telegram unreachable ({exc.__class__.__name__})")
    try:
        body = resp.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return UpdatesResult(error=f"HTTP {resp.status_code}: the answer is not a JSON object")
    if resp.status_code == 200 and body.get("ok") is True:
        result = body.get("result")
        if not isinstance(result, list):
            return UpdatesResult(error="getUpdates answered ok without a result list")
        return UpdatesResult(updates=result)
    raw_code = body.get("error_code")
    code = raw_code if isinstance(raw_code, int) else resp.status_code
    description = bot._redact(str(body.get("description") or resp.reason or "no description"))[:300]
    wait = _retry_after(body) if code == 429 else 0.0
    return UpdatesResult(error=f"HTTP {code} {description}{_hint(code, description)}", retry_after_s=wait)


def _retry_after(body: dict) -> float:
    raw = body.get("parameters")
    params: dict = raw if isinstance(raw, dict) else {}
    try:
        value = float(params["retry_after"])
    except (KeyError, TypeError, ValueError):
        return 1.0  # 429 without a usable retry_after: a short, bounded wait
    return max(0.0, value)


def _hint(code: int, description: str) -> str:
    if code == 401:
        return " (check TELEGRAM_BOT_TOKEN)"
    if code in (400, 403) and "chat" in description.lower():
        return " (check TELEGRAM_CHAT_ID and that the bot is a member of the chat)"
    return ""
