"""Offset between our clock and a venue's, from several samples (as hummingbot does for -1021).

A sample is (local send time, venue server time, local receive time). The venue stamped its
time somewhere inside the round trip, so the best estimate comes from the samples with the
shortest round trips: offset = server - (send + recv) / 2. Pure: the caller does the I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from statistics import median


class ClockOffset:
    def __init__(self, max_samples: int = 8, best_of: int = 3):
        self._samples: deque[tuple[float, float]] = deque(maxlen=max_samples)  # (rtt, offset)
        self.best_of = best_of

    def add_sample(self, local_send_ms: float, server_ms: float, local_recv_ms: float) -> None:
        rtt = max(0.0, local_recv_ms - local_send_ms)
        self._samples.append((rtt, server_ms - (local_send_ms + local_recv_ms) / 2.0))

    @property
    def ready(self) -> bool:
        return bool(self._samples)

    @property
    def offset_ms(self) -> float:
        """venue time - local time; 0 before the first sample."""
        if not self._samples:
            return 0.0
        best = sorted(self._samples)[: self.best_of]
        return median(o for _, o in best)

    @property
    def rtt_ms(self) -> float:
        return min((r for r, _ in self._samples), default=0.0)

    def venue_time(self, local_ms: float) -> int:
        return int(local_ms + self.offset_ms)

    def resync(self, sample: Callable[[], tuple[float, float, float]], n: int = 5) -> float:
        """Take `n` fresh samples (dropping old ones) and return the new offset."""
        self._samples.clear()
        for _ in range(n):
            self.add_sample(*sample())
        return self.offset_ms
