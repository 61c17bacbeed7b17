"""The one wall-clock source. The trading core never calls it: it takes time from events.

Edges (live feeds, the state sink's coalescing, heartbeats, the CLI) ask here, so tests can
swap the clock in one place.
"""

from __future__ import annotations

import time


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def monotonic_ms() -> float:
    return time.monotonic() * 1000.0


def utc_iso(ms: int) -> str:
    """Epoch ms as an ISO-8601 UTC timestamp to the second (what files record for people)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
