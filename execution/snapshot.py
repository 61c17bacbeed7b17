"""The executor's restart snapshot (`synced_state.json`): what a resumed run needs to carry on.

Written with every publication; on start the composition root reads it back and builds every
component from it, so the engine is constructed already restored. Records journaled after the
snapshot are found by id and not written again. Version 1 (before strategies were components)
is read too: its screener fields sat at the top level and the arbitrage book under `arbitrage`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from execution.control import ControlState
from execution.guard import Guard
from execution.journal import Journal
from execution.ledger import Ledger
from execution.portfolio import Performance
from execution.router import OrderRouter
from execution.simulation import MarketSimulator
from execution.strategy import Strategy

VERSION = 2
V1_SCREENER_KEYS = ("trades", "cooldown", "bad_data", "leaderboard", "signals_tail")


class SnapshotSource(Protocol):
    ledger: Ledger
    perf: Performance
    control: ControlState
    router: OrderRouter
    journals: Journal
    strategies: Sequence[Strategy]
    guards: Sequence[Guard]
    simulators: Mapping[str, MarketSimulator]
    run_label: str
    cycle_ts: int
    bars: int
    fills: int
    trade_seq: int
    last_nav_point_ts: int

    @property
    def control_offset(self) -> int: ...


def take(e: SnapshotSource, now: int) -> dict[str, Any]:
    return {
        "version": VERSION,
        "run": e.run_label,
        "market_ts": e.cycle_ts,
        "seq": e.journals.seq,
        "ledger": e.ledger.snapshot(),
        "perf": e.perf.snapshot(),
        "control": e.control.to_doc(),
        "in_flight": [f.to_doc() for f in e.router.in_flight.values()],
        "counters": {
            "bars": e.bars,
            "fills": e.fills,
            "trade_seq": e.trade_seq,
            "orders_sent": e.router.orders_sent,
            "orders_rejected": e.router.orders_rejected,
        },
        "last_nav_point_ts": e.last_nav_point_ts,
        "paper_venues": {name: sim.snapshot() for name, sim in e.simulators.items()},
        "strategies": {s.name: s.snapshot() for s in e.strategies},
        "guards": {g.name: g.snapshot() for g in e.guards},
        "control_offset": e.control_offset,
        "updated_at_ms": now,
    }


def upgrade(snap: dict[str, Any]) -> dict[str, Any]:
    """A snapshot in the current layout, whatever version wrote it."""
    if snap.get("version", 1) >= VERSION:
        return snap
    out = {k: v for k, v in snap.items() if k not in V1_SCREENER_KEYS and k != "arbitrage"}
    out["strategies"] = {"screener": {k: snap[k] for k in V1_SCREENER_KEYS if k in snap}}
    if snap.get("arbitrage"):
        out["strategies"]["arbitrage"] = snap["arbitrage"]
    out["version"] = VERSION
    return out
