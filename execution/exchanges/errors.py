"""Typed venue errors: every adapter maps its venue's codes to these, so the core reacts to the
meaning (retry, resync clock, back off, reconcile) and never to a venue's numbers.

This is the one place a venue's answer becomes text that records keep (incidents, the control
and arbitrage documents, their Firestore copies, `ctl status`): the message is redacted here
(`execution.logs.redact`: every registered secret value, and anything written as a key, secret,
passphrase, signature or token assignment), so a venue that echoes the request headers in its
error body leaks nothing. `describe` does the same for any other exception turned into text.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TypeVar

from execution import logs

K = TypeVar("K", bound=Hashable)


class VenueError(Exception):
    """Base: `code` is the venue's own code as text (e.g. "-4164", "51008", "HTTP 429")."""

    retryable = False
    #: set by the adapter on order requests: the endpoint and the HTTP status it answered (0: none)
    endpoint: str = ""
    http_status: int = 0

    def __init__(self, venue: str, code: str | int, message: str):
        self.venue = venue
        self.code = logs.redact(str(code))[:64]
        self.message = logs.redact(str(message))
        super().__init__(f"{venue} code={self.code}: {self.message}")


class FilterFailure(VenueError):
    """Price/quantity/notional outside the instrument's filters (-1013, -1111, -4164, OKX 51020...)."""


class PositionSideMismatch(VenueError):
    """positionSide does not match the account's position mode (-4061)."""


class ReduceOnlyRejected(VenueError):
    """reduceOnly refused (-1106 in hedge mode; -2022 nothing to reduce; OKX 51169...)."""


class InsufficientMargin(VenueError):
    """-2019 / OKX 51008."""


class PositionLimitExceeded(VenueError):
    """The position would exceed what the leverage bracket / position tier allows (-2027, OKX 51004):
    a smaller order may go (the router cuts the size back)."""


class AuthError(VenueError):
    """Bad key, signature, IP or permission (-2014, -2015, -1022, OKX 50111-50113...)."""


class RateLimited(VenueError):
    """-1003, HTTP 429/418, OKX 50011: back off for `retry_after_s` before any new request.

    `venue_wait_s` is the wait the venue itself asked for (a Retry-After header, a ban's end),
    None when it said nothing: then the throttler's own growing back-off decides."""

    retryable = True

    def __init__(
        self,
        venue: str,
        code: str | int,
        message: str,
        retry_after_s: float = 1.0,
        venue_wait_s: float | None = None,
    ):
        super().__init__(venue, code, message)
        self.retry_after_s = retry_after_s
        self.venue_wait_s = venue_wait_s


class ClockSkew(VenueError):
    """-1021 / OKX 50102: the request timestamp is outside the venue's window."""

    retryable = True


class UnknownOutcome(VenueError):
    """Timeout, 5xx or disconnect after sending: the order may or may not exist. Reconcile by
    client order id before sending anything again."""


class OrderNotFound(VenueError):
    """-2011 / -2013 / OKX 51603."""


class VenueUnavailable(VenueError):
    """The venue refused before processing (maintenance, 503 before send): safe to retry later."""

    retryable = True


class SafeModeRefused(VenueError):
    """SAFE_MODE is on: no live order leaves the process."""


class BadRequest(VenueError):
    """Any other rejection: a bug or a venue rule we do not model; never retried."""


class MalformedAnswer(VenueError, ValueError):
    """The venue answered something its documentation does not allow (a field missing, null, not a
    finite number, of the wrong sign or type, an unknown enum value): nothing of it is used. A
    VenueError for the core (which reacts to those) and a ValueError for the callers that fall back
    on configured values (`RestVenue.fees`, `margin_tiers`). The message names the field and shows
    at most a short sketch of the value, never the payload."""

    def __init__(self, venue: str, where: str, problem: str):
        super().__init__(venue, "MALFORMED", f"{where}: {problem}"[:300])


def describe(exc: BaseException, limit: int = 300) -> str:
    """`ClassName: text` of any exception, redacted and bounded, for a record or a document."""
    return logs.redact(f"{type(exc).__name__}: {exc}")[:limit]


def code_table(groups: Mapping[type[VenueError], Iterable[K]]) -> dict[K, type[VenueError]]:
    """A venue's documented error codes, written grouped by meaning, as one lookup table.
    A code listed under two meanings is a mistake in the table: refused at import."""
    table: dict[K, type[VenueError]] = {}
    for cls, codes in groups.items():
        for code in codes:
            if code in table:
                raise ValueError(f"error code {code!r} listed as {table[code].__name__} and {cls.__name__}")
            table[code] = cls
    return table


def http_error(venue: str, status: int, text: str, *, refused: bool = False) -> VenueError:
    """An HTTP error answer that carries no venue code. A 5xx may have been acted on (UnknownOutcome)
    unless the venue says it refused before processing (`refused`: VenueUnavailable)."""
    code = f"HTTP {status}"
    if status >= 500:
        return VenueUnavailable(venue, code, text) if refused else UnknownOutcome(venue, code, text)
    if status in (401, 403):
        return AuthError(venue, code, text)
    return BadRequest(venue, code, text)
