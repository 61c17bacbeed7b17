"""The account breakers that trip HOLD by themselves at the end of every market instant:
drawdown from the peak, daily loss, and the account checks (leverage, notional caps, margin
stress) while positions are open. The rules are pure (`execution/risk.py`); this guard applies
them to the engine's books."""

from __future__ import annotations

from execution.guard import BaseGuard, GuardContext
from execution.risk import account_trips, breaker_trips


class AccountBreakers(BaseGuard):
    name = "account_breakers"

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        limits = ctx.settings.risk
        ledger, perf = ctx.ledger, ctx.perf
        nav = ledger.nav_float()
        trips = breaker_trips(limits, nav=nav, peak_nav=perf.peak_nav, day_start_nav=perf.day_start_nav)
        if ledger.positions:
            trips += account_trips(limits, nav=nav, positions=ledger.positions.values())
        for name, detail in trips:
            ctx.trip(name, detail, ts)
