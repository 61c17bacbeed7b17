"""The executor's restart snapshot (`synced_state.json`): what a resumed run needs to carry on.

Written with every publication; on start the composition root reads it back and builds every
component from it, so the engine is constructed already restored. Records journaled after the
snapshot are found by id and not written again. Version 1 (before strategies were components)
is read too: its screener fields sat at the top level and the arbitrage book under `arbitrage`.

Sealed: the snapshot carries an HMAC-SHA256 (`seal`) keyed by STATE_DIR/integrity.key, a random
key the executor creates on first start (mode 0600: readable by the executor's user only, not by
the operators who run the CLI as themselves). A snapshot edited by hand (say `"mode": "RUN"`
while stopped in HOLD), written by another key, or not sealed at all does not verify, and the
composition root then restarts in HOLD with an alert, never in RUN (`execution/app.py`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from execution.control import ControlState
from execution.control_log import ChainPosition
from execution.guard import Guard
from execution.journal import Journal
from execution.ledger import Ledger
from execution.portfolio import Performance
from execution.router import OrderRouter
from execution.simulation import MarketSimulator
from execution.state.atomic import dumps, write_text
from execution.strategy import Strategy

VERSION = 2
V1_SCREENER_KEYS = ("trades", "cooldown", "bad_data", "leaderboard", "signals_tail")
SEAL = "seal"
KEY_FILE = "integrity.key"


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
    def control_position(self) -> ChainPosition | None: ...


def take(e: SnapshotSource, now: int, key: bytes = b"") -> dict[str, Any]:
    """The snapshot, sealed with `key` when one is given."""
    position = e.control_position
    snap = {
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
        "control_offset": position.offset if position is not None else 0,
        "control_log": position.to_doc() if position is not None else None,
        "updated_at_ms": now,
    }
    return seal(snap, key) if key else snap


def _digest(snap: Mapping[str, Any], key: bytes) -> str:
    """HMAC over the snapshot as its file will read back (Decimals as floats, tuples as lists)."""
    body = {k: v for k, v in snap.items() if k != SEAL}
    canonical = dumps(json.loads(dumps(body)))
    return "hmac-sha256:" + hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def seal(snap: dict[str, Any], key: bytes) -> dict[str, Any]:
    snap[SEAL] = _digest(snap, key)
    return snap


def verify(snap: Mapping[str, Any], key: bytes) -> str | None:
    """None when the snapshot is sealed by `key`, else why not (for the HOLD reason)."""
    got = snap.get(SEAL)
    if not isinstance(got, str):
        return "the restart snapshot is not sealed"
    if not hmac.compare_digest(got.encode(), _digest(snap, key).encode()):
        return "the restart snapshot's seal does not match (edited, or written with another key)"
    return None


def load_key(state_dir: Path) -> tuple[bytes, str | None]:
    """The sealing key of this state directory, created (0600) when missing or unreadable;
    with the reason a new key had to be made (then no existing snapshot verifies)."""
    path = Path(state_dir) / KEY_FILE
    problem = None
    try:
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
        if len(key) >= 32:
            return key, None
        problem = f"{KEY_FILE} holds no valid key"
    except FileNotFoundError:
        problem = f"{KEY_FILE} was missing"
    except (OSError, ValueError, UnicodeDecodeError):
        problem = f"{KEY_FILE} is unreadable"
    key = secrets.token_bytes(32)
    write_text(path, key.hex() + "\n", mode=0o600)
    return key, problem


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
