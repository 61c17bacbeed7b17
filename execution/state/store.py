"""The state-sink interface the executor writes through (local JSON first; Firestore mirror later)."""

from __future__ import annotations

from abc import ABC, abstractmethod


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
    def nav_point(self, ts_ms: int, nav: float, drawdown_pct: float) -> None:
        """Add a point to the NAV history (bucketed by UTC day)."""

    @abstractmethod
    def flush(self, force: bool = False) -> None:
        """Write what is due (everything when forced)."""

    def close(self) -> None:
        self.flush(force=True)
