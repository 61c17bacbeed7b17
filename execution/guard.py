"""The seam a risk guard plugs into: it watches events, vets new risk, and acts at cycle end.

Guards are given to the engine as a list (`Engine(guards=[...])`), in the order they run. The
engine asks every guard to `vet` each order that adds risk (reduce-only orders are never
vetted: a guard must not stop a position from being closed) and refuses the order with the
first reason given, in one `[risk] refused <intent> by <guard>: <reason>` line. At the end of
every market instant, after NAV and drawdown are updated, `on_cycle_end` may trip breakers
(HOLD), raise alerts, send reduce-only orders or re-arm itself.

`status` is what the control document (`guards`), `ctl status`, the heartbeat, the dashboard and
the health state show: None (nothing to show) or a dict with `active` (True while the guard
holds or refuses something: the fund is then "degraded", `execution/health.py`) and the figures
that explain it. `holds_new_risk` is the reason, while active, when the guard refuses *every*
new risk (the arbitrage loop, which sends its own legs, asks it before each entry).
`vet_hedge_leg` is why one leg of a hedged pair's entry (the arbitrage loop's) must not open: the
per-symbol rules that hold for a hedge (denylist, minimum notional), from the same place as `vet`.
Operator commands a guard answers come from `commands` (names known to `execution/control_log.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

from execution import logs
from execution.feeds.events import Event
from execution.models import Intent
from execution.portfolio import Performance
from execution.strategy import CommandHandler, StrategyContext


class GuardContext(StrategyContext, Protocol):
    perf: Performance


class Guard(Protocol):
    name: str

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        """Every market event, before the strategies see it (no I/O)."""

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        """Why this new-risk order must not go, or None."""

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None: ...

    def holds_new_risk(self) -> str:
        """While it refuses every new risk: why ("" otherwise)."""

    def vet_hedge_leg(self, venue: str, symbol: str, notional_usdt: Decimal) -> str | None:
        """Why this leg of a hedged pair's entry must not open, or None. No side rule (a hedged
        pair is flat in price and prices funding into its edge); nothing counted (previews ask too)."""

    def status(self) -> dict | None:
        """{"active": bool, ...figures} or None when there is nothing to show."""

    def commands(self) -> Mapping[str, CommandHandler]: ...

    def snapshot(self) -> dict: ...

    def restore(self, snap: dict) -> None: ...


class BaseGuard:
    name = "base"
    # the event types `observe` acts on (None: every event); the engine calls it for those only,
    # so a guard that watches funding costs nothing per candle
    observes: tuple[type, ...] | None = None

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        return None

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        return None

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        return None

    def holds_new_risk(self) -> str:
        return ""

    def vet_hedge_leg(self, venue: str, symbol: str, notional_usdt: Decimal) -> str | None:
        return None

    def status(self) -> dict | None:
        return None

    def commands(self) -> Mapping[str, CommandHandler]:
        return {}

    def snapshot(self) -> dict:
        return {}

    def restore(self, snap: dict) -> None:
        return None


def watches(guard: Guard, kind: type) -> bool:
    """Whether `guard.observe` wants events of this type: not when it is BaseGuard's no-op, else
    those of its `observes` (every type when it does not say)."""
    if getattr(type(guard), "observe", None) is BaseGuard.observe:
        return False
    kinds = getattr(guard, "observes", None)
    return kinds is None or issubclass(kind, kinds)


class ObserverTable(dict[type, tuple[Guard, ...]]):
    """Event type -> the guards whose `observe` wants it, worked out on the first event of each type."""

    def __init__(self, guards: Iterable[Guard]):
        super().__init__()
        self.guards = tuple(guards)

    def __missing__(self, kind: type) -> tuple[Guard, ...]:
        watching = self[kind] = tuple(g for g in self.guards if watches(g, kind))
        return watching


def hedge_leg_vetoes(guards: Iterable[Guard], legs: Iterable[tuple[str, str, Decimal]]) -> list[tuple[str, str]]:
    """(guard name, why) for each (venue, symbol, notional) leg of a hedged pair's entry a guard refuses."""
    legs = list(legs)
    return [(g.name, why) for g in guards for v, s, n in legs if (why := g.vet_hedge_leg(v, s, n))]


def report(
    ctx: StrategyContext, guard: str, action: str, ts: int, text: str, *, alert: bool = True, **fields: Any
) -> None:
    """A guard acted: one `[risk] GUARD <name> <ACTION>: text` line (WARNING when alerted, INFO for
    routine actions), one incident record (the audit trail, id derived from what happened so a
    resumed run never writes it twice) and, for what an operator must hear about, one ops alert
    (journal + Telegram)."""
    log = logs.get()
    (log.warning if alert else log.info)("[risk] GUARD %s %s: %s", guard, action, text)
    record_id = f"guard:{guard}:{action}:{ts}" + "".join(f":{fields[k]}" for k in ("venue", "symbol") if k in fields)
    ctx.journal(
        "incidents",
        {"id": record_id, "ts": ts, "kind": "guard", "guard": guard, "action": action, "text": text, **fields},
    )
    if alert:
        ctx.alert(f"alert:{record_id}", ts, "guard", f"GUARD {guard} {action}: {text}", guard=guard, action=action)
