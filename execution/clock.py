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
