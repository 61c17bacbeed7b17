"""Rolling mean of the inter-venue basis, so that the usual basis is not mistaken for an edge.

The basis is (mid on venue B - mid on venue A) / reference price, in bps, sampled once per
update. O(1) per update: a running sum over a fixed window, re-summed exactly every `window`
updates so float error cannot accumulate over a long run.
"""

from __future__ import annotations

from collections import deque


class RollingBasis:
    __slots__ = ("window", "_values", "_sum", "_since_resum", "last_ts")

    def __init__(self, window: int):
        if window < 1:
            raise ValueError("window must be >= 1")
        self.window = window
        self._values: deque[float] = deque()
        self._sum = 0.0
        self._since_resum = 0
        self.last_ts = 0

    def update(self, basis_bps: float, ts: int = 0) -> None:
        """Add one sample; a sample with the same `ts` (the caller's sampling bucket) as the
        previous one replaces it, so a burst of book updates counts once."""
        if ts and ts == self.last_ts and self._values:
            self._sum -= self._values.pop()
        self.last_ts = ts
        self._values.append(basis_bps)
        self._sum += basis_bps
        if len(self._values) > self.window:
            self._sum -= self._values.popleft()
        self._since_resum += 1
        if self._since_resum >= self.window:
            self._sum = sum(self._values)
            self._since_resum = 0

    @property
    def samples(self) -> int:
        return len(self._values)

    @property
    def mean(self) -> float:
        return self._sum / len(self._values) if self._values else 0.0

    def snapshot(self) -> dict:
        return {"window": self.window, "values": list(self._values), "last_ts": self.last_ts}

    @classmethod
    def restore(cls, snap: dict, window: int) -> RollingBasis:
        rb = cls(window)
        for v in snap.get("values", [])[-window:]:
            rb.update(float(v))
        rb.last_ts = int(snap.get("last_ts", 0))
        return rb
