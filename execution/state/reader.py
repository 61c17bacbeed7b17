"""Read-side of the state: what the dashboard, the heartbeat and the operator CLI see.

`LocalReader` reads STATE_DIR. Every answer says where it came from and how old it is, so a
reader can show "local, 42 s ago" or warn that the executor has gone quiet.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from execution import clock
from execution.state.atomic import read_json, tail_lines
from execution.state.layout import COLLECTION_FILES, DOCS, history_plan


@dataclass
class Snapshot:
    source: str  # "local" | "firestore"
    docs: dict[str, dict] = field(default_factory=dict)
    updated_at_ms: int = 0  # newest executor write (wall clock)
    read_at_ms: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def age_ms(self) -> int | None:
        return self.read_at_ms - self.updated_at_ms if self.updated_at_ms else None

    def doc(self, name: str) -> dict:
        return self.docs.get(name) or {}

    @property
    def empty(self) -> bool:
        return not self.docs.get("nav")


class StateReader(Protocol):
    """What every reader answers (LocalReader, FirestoreReader, FallbackReader)."""

    def snapshot(self) -> Snapshot: ...
    def recent(self, collection: str, n: int) -> list[dict]: ...
    def recent_trades(self, n: int = 5) -> list[dict]: ...
    def nav_history(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]: ...
    def named(self, name: str) -> dict: ...


class LocalReader:
    source = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    def snapshot(self) -> Snapshot:
        snap = Snapshot(self.source, read_at_ms=clock.wall_ms())
        for name in DOCS:
            path = self.root / "state" / f"{name}.json"
            try:
                doc = read_json(path)
            except FileNotFoundError:
                continue
            except (OSError, ValueError) as exc:
                snap.problems.append(f"{path}: unreadable ({exc.__class__.__name__})")
                continue
            if isinstance(doc, dict):
                snap.docs[name] = doc
                snap.updated_at_ms = max(snap.updated_at_ms, int(doc.get("updated_at_ms") or 0))
        return snap

    def recent(self, collection: str, n: int) -> list[dict]:
        return tail_lines(self.root / COLLECTION_FILES[collection], n)

    def recent_trades(self, n: int = 5) -> list[dict]:
        return self.recent("trades", n)

    def nav_history(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float]]:
        """(ts, nav, drawdown_pct) with start_ms <= ts <= end_ms: every point for ranges up to two
        days, hourly points up to two months, daily points beyond (at most 3 documents read)."""
        return [p[:3] for p in self.nav_points(start_ms, end_ms)]

    def nav_points(self, start_ms: int, end_ms: int) -> list[tuple[int, float, float, float | None]]:
        """As nav_history, with the BTC mark recorded beside each point (None where the bucket has none)."""
        self.history_reads = 0
        out: list[tuple[int, float, float, float | None]] = []
        for path in history_plan(max(start_ms, 0), end_ms):
            try:
                b = read_json(self.root / f"{path}.json")
            except (OSError, ValueError):
                continue
            self.history_reads += 1
            out.extend(bucket_points(b, start_ms, end_ms))
        return out

    def named(self, name: str) -> dict:
        try:
            return read_json(self.root / f"{name}.json")
        except (OSError, ValueError):
            return {}


def bucket_points(b: dict, start_ms: int, end_ms: int) -> list[tuple[int, float, float, float | None]]:
    """A history bucket's (ts, nav, dd, btc) points in [start_ms, end_ms]; `btc` is the optional array
    of BTC marks parallel to `ts` (the benchmark), None where absent."""
    ts, nav, dd = b.get("ts", []), b.get("nav", []), b.get("dd", [])
    raw = b.get("btc")
    btc: list = raw if isinstance(raw, list) else []
    return [
        (t, n, d, btc[i] if i < len(btc) else None)
        for i, (t, n, d) in enumerate(zip(ts, nav, dd, strict=False))
        if start_ms <= t <= end_ms
    ]


def _seq(r: dict) -> int | None:
    v = r.get("seq")
    return v if isinstance(v, int) and not isinstance(v, bool) else None


def trades_as_of_positions(fills: list[dict], positions: dict) -> tuple[list[dict], bool]:
    """The fills the positions document includes, so a reader never shows a trade its holdings do
    not reflect yet (the executor writes the trade log first, the positions document after): those
    up to the document's `trade_seq`. Also whether the positions include fills not loaded yet (a
    remote store can deliver the document before the records). Without `trade_seq` (an executor
    older than it) every fill is shown."""
    limit = _seq({"seq": positions.get("trade_seq")})
    if limit is None:
        return fills, False
    shown = [r for r in fills if (s := _seq(r)) is None or s <= limit]
    last = max((s for r in shown if (s := _seq(r)) is not None), default=0)
    return shown, last < limit
