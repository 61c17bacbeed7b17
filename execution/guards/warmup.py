"""Warm-up: no entries for WARMUP_SEC after the executor starts (data, books and the venues'
state settle first; the runbook's entry block after start). Exits always go.

Measured in market time, like every other rule: from `anchor_ms` when given (a live feed: the
wall clock at start, so candles backfilled over REST never count as warm-up time), else from the
first event after the resume point (a replay or the generated market: the first bar this run
trades on). Every start warms up again; nothing is kept in the snapshot. While warming up the
guard is `routine`: it refuses entries but does not make the fund "degraded".
"""

from __future__ import annotations

from execution.feeds.events import Event
from execution.guard import BaseGuard, GuardContext, report
from execution.guards import utc
from execution.models import Intent


class WarmupGuard(BaseGuard):
    name = "warmup"

    def __init__(self, warmup_sec: float, *, after_ts: int = 0, anchor_ms: int | None = None):
        self.warmup_ms = int(warmup_sec * 1000)
        self.after_ts = after_ts
        self.until: int | None = None if anchor_ms is None else anchor_ms + self.warmup_ms
        self.latest = 0
        self.done = self.warmup_ms == 0

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        if ev.ts > self.latest:
            self.latest = ev.ts
        if self.until is None and ev.ts > self.after_ts:
            self.until = ev.ts + self.warmup_ms

    @property
    def warming(self) -> bool:
        return not self.done and (self.until is None or self.latest < self.until)

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        if not self.done and self.until is not None and ts >= self.until:
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
        return self.holds_new_risk() or None

    def status(self) -> dict | None:
        if not self.warming:
            return None
        return {"active": True, "routine": True, "reason": self.holds_new_risk(), "until_ms": self.until}
