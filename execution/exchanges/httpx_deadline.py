"""The whole-answer deadline and size cap of `http_deadline`, for httpx (python-okx's client):
a transport that reads the body against the deadline, and a base class that hands it to a
library's httpx.Client subclass."""

from __future__ import annotations

import time
from typing import Any

import httpx

from execution.exchanges.http_deadline import MAX_ANSWER_BYTES, AnswerTooLarge, AnswerTooSlow, read_within


class DeadlineTransport(httpx.HTTPTransport):
    """httpx: the body of every answer read within `total_s` of sending, at most `max_bytes`."""

    def __init__(self, total_s: float, max_bytes: int = MAX_ANSWER_BYTES, **kwargs: Any):
        super().__init__(**kwargs)
        self.total_s = total_s
        self.max_bytes = max_bytes

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.total_s
        response = super().handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)  # a sync transport's answer
        try:
            body = read_within(iter(response.stream), deadline, self.max_bytes)
        except AnswerTooSlow as exc:
            raise httpx.ReadTimeout(str(exc), request=request) from None
        except AnswerTooLarge as exc:
            raise httpx.ReadError(str(exc), request=request) from None
        finally:
            response.close()
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),  # still encoded: the client decodes it as before
            extensions=response.extensions,
            request=request,
        )


class DeadlineClient(httpx.Client):
    """Mixed in below a library's httpx.Client subclass (python-okx's OkxClient calls
    `super().__init__(base_url=..., http2=True, ...)`), it hands that constructor a DeadlineTransport;
    the owner sets `deadline_transport.total_s` to its timeout."""

    def __init__(self, **kwargs: Any):
        self.deadline_transport = DeadlineTransport(total_s=10.0, http2=bool(kwargs.pop("http2", False)))
        super().__init__(transport=self.deadline_transport, **kwargs)
