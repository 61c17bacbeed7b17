"""Which NAV the fund reports: the seam between the ledger and the venues' own figures.

The engine asks its `NavSource` for the NAV it publishes, marks drawdown against and writes into
the NAV history. On paper (and under DRY_RUN_MODE, where the money is simulated) that is the
ledger's NAV; on testnet/live the venue reconciler (`execution/venue_truth.py`) supplies the
venues' equity, carried between readings by the ledger's own changes. `fields` are what the NAV
document shows beside it (venue equity, ledger NAV, drift, capital flows).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from execution.ledger import Ledger


class NavSource(Protocol):
    def nav(self, ledger: Ledger) -> Decimal:
        """The NAV investors see."""

    def nav_float(self, ledger: Ledger) -> float:
        """The same NAV as a float, for the once-per-instant figures (peak, drawdown, breakers)."""

    def fields(self, ledger: Ledger) -> dict[str, Any]:
        """Extra fields for the NAV document."""


def flow_fields(ledger: Ledger) -> dict[str, Any]:
    """Capital flows as the NAV document carries them (the dashboard re-reads the journal when
    `capital_flows` changes)."""
    return {
        "off_venue_cash": ledger.off_venue_cash,
        "capital_flows_total": ledger.flows_total + ledger.off_venue_cash,
        "net_contributed_capital": ledger.net_contributed,
        "capital_flows": ledger.flow_count,
    }


class LedgerNav:
    """The ledger is the NAV: paper, and the simulated money of a dry run."""

    def nav(self, ledger: Ledger) -> Decimal:
        return ledger.nav()

    def nav_float(self, ledger: Ledger) -> float:
        return ledger.nav_float()

    def fields(self, ledger: Ledger) -> dict[str, Any]:
        return {"nav_source": "ledger", "ledger_nav": ledger.nav(), **flow_fields(ledger)}
