"""A whole-answer deadline and a size cap for the venues' REST answers.

requests and httpx time out per read: a venue (or anything between us and it) that sends one
byte every few seconds never trips VENUE_TIMEOUT_S, and holds the executor's loop on one call for
as long as it likes; an answer of a gigabyte is read whole into memory. Both client libraries
(python-binance on a requests Session, python-okx on an httpx Client) take a transport, so the
body is read here, in chunks, against a deadline counted from when the request was sent and a
byte limit; past either the call fails as the library's own timeout or read error, which the
adapters already classify (a read: the venue is unavailable; an order: outcome unknown, looked
up by client id).

The httpx side (python-okx) is in `httpx_deadline`, so that what only needs requests (the
Telegram client, the feeds) does not import httpx.

Not covered: a server that dribbles the status line and headers themselves (the libraries read
those before handing the answer over); each read there is still bounded by the per-read timeout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter

MAX_ANSWER_BYTES = 32 << 20  # the largest documented answer (exchangeInfo, instruments) is a few MB
CHUNK_BYTES = 64 << 10


class AnswerTooSlow(Exception):
    """The whole answer did not arrive within the deadline."""


class AnswerTooLarge(Exception):
    """The answer is larger than MAX_ANSWER_BYTES."""


def read_within(chunks: Iterator[bytes], deadline: float, max_bytes: int) -> bytes:
    """The chunks joined; AnswerTooSlow past `deadline` (time.monotonic), AnswerTooLarge beyond `max_bytes`."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise AnswerTooLarge(f"answer larger than {max_bytes} bytes")
        if time.monotonic() > deadline:
            raise AnswerTooSlow("answer not complete within the venue timeout")
        parts.append(chunk)
    return b"".join(parts)


def _arrived(raw: Any) -> Iterator[bytes]:
    """What has arrived so far, decoded, chunk by chunk (urllib3's `read1`: `stream()` and `read(n)`
    wait until n bytes are in, so a dribbling server would never reach the deadline check)."""
    while chunk := raw.read1(CHUNK_BYTES, decode_content=True):
        yield chunk


class DeadlineAdapter(HTTPAdapter):
    """requests: the body of every answer read within `total_s` (or the call's own longer read
    timeout) of sending, at most `max_bytes`."""

    def __init__(self, total_s: float, max_bytes: int = MAX_ANSWER_BYTES):
        super().__init__()
        self.total_s = total_s
        self.max_bytes = max_bytes

    def send(self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        deadline = time.monotonic() + max(self.total_s, _read_timeout(kwargs.get("timeout")))
        response = super().send(request, stream=True, **kwargs)
        if stream:
            return response
        try:
            body = read_within(_arrived(response.raw), deadline, self.max_bytes)
        except AnswerTooSlow as exc:
            response.close()
            raise requests.exceptions.ReadTimeout(str(exc), request=request, response=response) from None
        except AnswerTooLarge as exc:
            response.close()
            raise requests.exceptions.ContentDecodingError(str(exc), request=request, response=response) from None
        response._content = body  # what Response.content would have read itself
        response._content_consumed = True
        return response


def _read_timeout(timeout: Any) -> float:
    """A call's own read timeout (a number, or the read part of (connect, read)), 0 when none: a
    call that waits longer by design (Telegram's long poll) gets that long for its whole answer."""
    if isinstance(timeout, tuple) and len(timeout) == 2:
        timeout = timeout[1]
    return float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else 0.0


def mount_deadline(session: requests.Session, total_s: float, max_bytes: int = MAX_ANSWER_BYTES) -> None:
    adapter = DeadlineAdapter(total_s, max_bytes)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
