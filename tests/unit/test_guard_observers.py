"""Which guards the engine shows an event to (execution.guard.ObserverTable)."""

from __future__ import annotations

from execution.feeds.events import CandleClosed, Event, FundingSettled, MarkUpdate
from execution.guard import BaseGuard, GuardContext, ObserverTable


class _Quiet(BaseGuard):
    name = "quiet"  # BaseGuard's no-op observe: shown nothing


class _Everything(BaseGuard):
    name = "everything"

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        return None


class _Funding(_Everything):
    name = "funding_only"
    observes = (FundingSettled, MarkUpdate)


def test_a_guard_sees_only_the_event_types_it_declares() -> None:
    quiet, everything, funding = _Quiet(), _Everything(), _Funding()
    table = ObserverTable([quiet, everything, funding])
    assert table[CandleClosed] == (everything,)
    assert table[FundingSettled] == (everything, funding)
    assert table[MarkUpdate] == (everything, funding)
    assert set(table) == {CandleClosed, FundingSettled, MarkUpdate}  # worked out once per type
