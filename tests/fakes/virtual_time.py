"""A monotonic clock whose sleeps take no real time, for throttlers under test."""

from __future__ import annotations

import time


class VirtualClock:
    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def sleep(self, seconds: float) -> None:
        self.skipped += seconds
