"""The seam a risk guard plugs into: it watches events, vets new risk, and acts at cycle end.

Guards are given to the engine as a list (`Engine(guards=[...])`), in the order they run. The
engine asks every guard to `vet` each order that adds risk (reduce-only orders are never
vetted: a guard must not stop a position from being closed) and refuses the order with the
first reason given, in one `[risk] refused <intent> by <guard>: <reason>` line. At the end of
every market instant, after NAV and drawdown are updated, `on_cycle_end` may trip breakers
(HOLD), raise alerts or re-arm itself. `status` is what the control document, `ctl status`
and the health state show while the guard is active.
"""

from __future__ import annotations

from typing import Protocol

from execution.feeds.events import Event
from execution.models import Intent
from execution.portfolio import Performance
from execution.strategy import StrategyContext


class GuardContext(StrategyContext, Protocol):
    perf: Performance


class Guard(Protocol):
    name: str

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        """Every market event, before the strategies see it (no I/O)."""

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        """Why this new-risk order must not go, or None."""

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None: ...

    def status(self) -> dict | None:
        """While active: {"active": True, "reason": ...} and any figures; None when idle."""

    def snapshot(self) -> dict: ...

    def restore(self, snap: dict) -> None: ...


class BaseGuard:
    name = "base"

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        return None

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        return None

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        return None

    def status(self) -> dict | None:
        return None

    def snapshot(self) -> dict:
        return {}

    def restore(self, snap: dict) -> None:
        return None
