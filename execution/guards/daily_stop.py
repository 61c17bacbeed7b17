"""Daily stop: the daily loss limit stops new risk for the rest of the day, then re-arms itself.

Reaching `KILL_DAILY_LOSS_PCT` (loss since the NAV at the start of the day, midnight in
`DAY_BOUNDARY_TZ`) refuses every new risk (screener and arbitrage entries; exits and protective
closes still go) until the next day in that zone begins; then it re-arms by itself. Both are
journaled (`guard` incidents), logged and alerted. Unlike the drawdown breaker it never sets
HOLD, so no two-man resume is needed: the day boundary is the resume.
"""

from __future__ import annotations

from execution.guard import BaseGuard, GuardContext, report
from execution.guards import utc
from execution.models import Intent
from execution.risk import daily_loss_pct


class DailyStop(BaseGuard):
    name = "daily_stop"

    def __init__(self, limit_pct: float, tz: str):
        self.limit_pct = limit_pct
        self.tz = tz
        self.stopped_day = ""  # the day (in tz) the stop fired; "" while armed
        self.stopped_loss = 0.0
        self.rearms_at = 0
        self.day = ""
        self._stop_nav = 0.0
        self._stop_from = 0.0  # the day-start NAV `_stop_nav` was computed from
        self._nav = self._day_start = 0.0  # floats, like the performance figures they come from

    @property
    def loss_pct(self) -> float:
        return daily_loss_pct(self._nav, self._day_start)

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        perf = ctx.perf
        if perf.day != self.day or perf.day_start_nav != self._stop_from:
            # a new day (or a capital flow moved the day's start): the NAV at which the stop fires
            self.day, self._stop_from = perf.day, perf.day_start_nav
            self._stop_nav = perf.day_start_nav * (1 - self.limit_pct / 100)
        if self.stopped_day and perf.day != self.stopped_day:
            report(
                ctx,
                self.name,
                "REARM",
                ts,
                f"new day {perf.day} in {self.tz}: new risk allowed again (stopped on {self.stopped_day} at a "
                f"{self.stopped_loss:.2f}% daily loss)",
                day=perf.day,
                stopped_day=self.stopped_day,
            )
            self.stopped_day = ""
        self._nav, self._day_start = perf.last_nav, perf.day_start_nav  # this cycle's NAV, just booked
        if not self.stopped_day and perf.last_nav <= self._stop_nav and self.loss_pct >= self.limit_pct:
            self.stopped_day, self.stopped_loss, self.rearms_at = perf.day, self.loss_pct, perf.next_day_ms
            report(
                ctx,
                self.name,
                "STOP",
                ts,
                f"daily loss {self.loss_pct:.2f}% (NAV {perf.last_nav:.2f} from {perf.day_start_nav:.2f} at the "
                f"start of {perf.day}) at/above KILL_DAILY_LOSS_PCT {self.limit_pct:g}: no new risk until "
                f"{utc(self.rearms_at)} (midnight {self.tz}), then re-armed by itself",
                day=perf.day,
                loss_pct=round(self.loss_pct, 4),
                rearms_at_ms=self.rearms_at,
            )

    def holds_new_risk(self) -> str:
        if not self.stopped_day:
            return ""
        return (
            f"daily stop: {self.stopped_loss:.2f}% loss on {self.stopped_day} (KILL_DAILY_LOSS_PCT "
            f"{self.limit_pct:g}); re-arms at {utc(self.rearms_at)}"
        )

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        return self.holds_new_risk() or None

    def status(self) -> dict | None:
        out: dict = {
            "active": bool(self.stopped_day),
            "day": self.day,
            "daily_loss_pct": round(self.loss_pct, 4),
            "limit_pct": self.limit_pct,
            "tz": self.tz,
        }
        if self.stopped_day:
            out.update(reason=self.holds_new_risk(), stopped_day=self.stopped_day, rearms_at_ms=self.rearms_at)
        return out

    def snapshot(self) -> dict:
        return {"stopped_day": self.stopped_day, "stopped_loss": self.stopped_loss, "rearms_at": self.rearms_at}

    def restore(self, snap: dict) -> None:
        self.stopped_day = str(snap.get("stopped_day", ""))
        self.stopped_loss = float(snap.get("stopped_loss", 0.0))
        self.rearms_at = int(snap.get("rearms_at", 0))
