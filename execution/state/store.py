"""The state-sink interface the executor writes through (local JSON first; Firestore mirror later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from execution.state.outbox import Outbox


class StateSink(ABC):
    @abstractmethod
    def put(self, doc: str, value: dict) -> None:
        """Replace a current-value document (coalesced: written at most once per interval)."""

    @abstractmethod
    def put_file(self, name: str, value: dict) -> None:
        """Replace one of the named files (peak_state, synced_state, trade_log), coalesced."""

    @abstractmethod
    def append(self, collection: str, record: dict) -> None:
        """Append one record to a journal; on the local store it is in the file when this returns."""

    @abstractmethod
    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float, btc: float | None = None) -> None:
        """Add a point to the NAV history (bucketed by UTC day); `btc`: the benchmark's mark at
        that time (None: unknown), kept in a `btc` array parallel to `ts`."""

    @abstractmethod
    def flush(self, force: bool = False) -> None:
        """Write what is due (everything when forced)."""

    def close(self) -> None:
        self.flush(force=True)

    def outbox(self) -> Outbox | None:
        """The queue of writes waiting for a remote store (its depth is a metric); None without one."""
        return None


class DocumentTap(StateSink):
    """A sink that passes everything on to `inner` and keeps the current-value documents put
    through it, so the executor's metrics are set from exactly what it published."""

    def __init__(self, inner: StateSink):
        self.inner = inner
        self.docs: dict[str, dict] = {}

    def put(self, doc: str, value: dict) -> None:
        self.docs[doc] = value
        self.inner.put(doc, value)

    def put_file(self, name: str, value: dict) -> None:
        self.inner.put_file(name, value)

    def append(self, collection: str, record: dict) -> None:
        self.inner.append(collection, record)

    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float, btc: float | None = None) -> None:
        self.inner.nav_point(ts_ms, nav, drawdown_pct, btc)

    def flush(self, force: bool = False) -> None:
        self.inner.flush(force)

    def close(self) -> None:
        self.inner.close()

    def outbox(self) -> Outbox | None:
        return self.inner.outbox()
