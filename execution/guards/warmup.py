"""Warm-up: no entries for WARMUP_SEC after the executor starts (data, books and the venues'
state settle first; the runbook's entry block after start). Exits always go.

Measured in market time, like every other rule. On a live feed it counts from `anchor_ms`, the
wall clock at start, so every (re)start warms up again and candles backfilled over REST never
count as warm-up time. On recorded and generated markets it is the first WARMUP_SEC of the data
(from the first market instant; a resumed run carries the warm-up on from its snapshot), so a
resumed replay does exactly what an uninterrupted one does. While warming up the guard is `routine`: it
refuses entries but does not make the fund "degraded".
"""

from __future__ import annotations

from execution.guard import BaseGuard, GuardContext, report
from execution.guards import utc
from execution.models import Intent


class WarmupGuard(BaseGuard):
    name = "warmup"

    def __init__(self, warmup_sec: float, *, anchor_ms: int | None = None):
        self.warmup_ms = int(warmup_sec * 1000)
        self.live = anchor_ms is not None
        self.until: int | None = None if anchor_ms is None else anchor_ms + self.warmup_ms
        self.latest = 0
        self.done = self.warmup_ms == 0

    def warming_at(self, ts: int) -> bool:
        return not self.done and (self.until is None or ts < self.until)

    @property
    def warming(self) -> bool:
        return self.warming_at(self.latest)

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        if self.done:
            return
        self.latest = ts
        if self.until is None:  # the first market instant of the data (of this process, live: anchored at start)
            self.until = ts + self.warmup_ms
        if ts >= self.until:
            self.done = True
            report(
                ctx, self.name, "OFF", ts, f"warm-up of {self.warmup_ms // 1000} s over: entries allowed", alert=False
            )

    def holds_new_risk(self) -> str:
        if not self.warming:
            return ""
        until = f"until {utc(self.until)}" if self.until is not None else "until market data arrives"
        return f"warm-up: no entries for WARMUP_SEC {self.warmup_ms // 1000} after start ({until})"

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        return self.holds_new_risk() if self.warming_at(intent.ts) else None

    def status(self) -> dict | None:
        if not self.warming:
            return None
        return {"active": True, "routine": True, "reason": self.holds_new_risk(), "until_ms": self.until}

    def snapshot(self) -> dict:
        return {"until": self.until, "done": self.done}

    def restore(self, snap: dict) -> None:
        """A resumed replay carries on with the same warm-up (over or not); a live restart warms up anew."""
        if not self.live and snap:
            self.until = snap.get("until")
            self.done = bool(snap.get("done", self.done))
