"""What the engine books from outside its loop, and the NAV it reports.

The venue reconciler (`execution/venue_reconciler.py`) books what the venues' history says the
journal lacks (a missed fill, funding, a transfer) and the operator's `capital-flow` command books
money moved off the venues; both go through these methods so the ledger, the performance
references and the journal move together. A collaborator the engine builds with its own ledger,
performance and journal (kept apart so the loop's file stays the loop).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from execution.capital_flows import CapitalFlow
from execution.ledger import Ledger
from execution.logs import EventLog
from execution.models import Fill
from execution.nav_source import NavSource
from execution.portfolio import Performance


class Bookings:
    def __init__(
        self,
        ledger: Ledger,
        perf: Performance,
        nav_source: NavSource,
        log: EventLog,
        journal: Callable[[str, dict], None],
        on_fill: Callable[[Fill, Mapping[str, Any] | None], None],
    ) -> None:
        self.ledger = ledger
        self.perf = perf
        self.nav_source = nav_source
        self.log = log
        self.journal = journal
        self._on_fill = on_fill

    def book_fill(self, fill: Fill, extra: Mapping[str, Any] | None = None) -> None:
        """Book a fill found outside the venues' drains (the venue reconciler: a trade the journal
        lacks). `extra` goes into the trade-log record (its id keyed by the venue's trade id, the
        venue's commission and asset)."""
        self._on_fill(fill, extra)

    def book_funding(self, record: dict, amount: Decimal) -> None:
        """Book funding the venue paid or charged (its income / bills history), journaled once."""
        record["amount_usdt"] = self.ledger.apply_funding_amount(amount)
        self.journal("funding", record)
        r = record
        self.log.info("[executor] FUNDING %s %s amount_usdt=%s id=%s", r["venue"], r["symbol"], amount, r.get("id"))

    def book_capital_flow(self, flow: CapitalFlow) -> None:
        """A deposit or withdrawal: NAV moves by it, P&L does not; journaled as a capital flow."""
        nav_before = self.nav()
        self.ledger.apply_capital_flow(flow.amount_usdt, flow.off_venue)
        self.perf.on_flow(flow.amount_usdt, nav_before)
        self.journal("capital_flows", flow.record())
        f = flow
        self.log.info(
            "[executor] CAPITAL_FLOW %s amount_usdt=%s id=%s %s", f.venue, f.amount_usdt, f.id, f.note or f.source
        )

    def nav(self) -> Decimal:
        """The NAV the fund reports (the ledger's on paper, the venues' on testnet/live)."""
        return self.nav_source.nav(self.ledger)
