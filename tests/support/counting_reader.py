"""A state reader that delegates to a real one and counts what a bucketed document store would bill.

Firestore charges one read per document returned. With the layout in execution/state/layout.py a
snapshot is one read per current-value document present, `recent(c, n)` one per record returned,
`named` one, and `nav_history` one per history document it read (at most three, see
layout.history_plan; LocalReader reports it as `history_reads`).
"""

from __future__ import annotations

from collections import Counter

from execution.state.layout import day_of


class CountingReader:
    def __init__(self, inner):
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.documents = 0
        self.history_days = 0

    @property
    def source(self) -> str:
        return getattr(self.inner, "source", "")

    def reset(self) -> None:
        self.calls.clear()
        self.documents = self.history_days = 0

    def snapshot(self):
        snap = self.inner.snapshot()
        self.calls["snapshot"] += 1
        self.documents += len(snap.docs)
        return snap

    def recent(self, collection: str, n: int) -> list[dict]:
        out = self.inner.recent(collection, n)
        self.calls[f"recent:{collection}"] += 1
        self.documents += len(out)
        return out

    def recent_trades(self, n: int = 5) -> list[dict]:
        out = self.inner.recent_trades(n)
        self.calls["recent_trades"] += 1
        self.documents += len(out)
        return out

    def nav_history(self, start_ms: int, end_ms: int):
        out = self.inner.nav_history(start_ms, end_ms)
        docs = getattr(self.inner, "history_reads", len({day_of(int(t)) for t, _, _ in out}))
        self.calls["nav_history"] += 1
        self.history_days += docs
        self.documents += docs
        return out

    def nav_points(self, start_ms: int, end_ms: int):
        out = self.inner.nav_points(start_ms, end_ms)
        docs = getattr(self.inner, "history_reads", len({day_of(int(p[0])) for p in out}))
        self.calls["nav_points"] += 1
        self.history_days += docs
        self.documents += docs
        return out

    def named(self, name: str) -> dict:
        self.calls[f"named:{name}"] += 1
        self.documents += 1
        return self.inner.named(name)
