"""The venues' records against the journal's, and the ledger against the venues' equity. Pure.

Trades are compared per order: the journal books fills from order snapshots (one record may cover
several venue trades), so what matters is how much of each venue order the journal holds. The
venue's trades of an order are taken in time order; the first ones the journal's quantity covers
are booked already, the rest (or the rest of a trade) are what the journal lacks. A journal fill
whose order the venue traded less of than the journal says is unknown to the venue.

Drift: the ledger's on-venue NAV (wallet + unrealised P&L at the venues' own marks) minus the
venues' equity (wallet + unrealised P&L of the positions they report). Marks are the venues' so
that a difference in marks is never mistaken for money.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from execution.exchanges.history import VenueTrade
from execution.ledger import Ledger
from execution.models import Position

ZERO = Decimal(0)


@dataclass(frozen=True)
class JournalFill:
    """What the trade log holds of one fill."""

    record_id: str
    venue: str
    symbol: str
    client_order_id: str
    venue_order_id: str
    qty: Decimal
    ts: int

    @classmethod
    def from_record(cls, rec: Mapping) -> JournalFill | None:
        """A real (not simulated) fill record of the trade log; None for anything else."""
        if rec.get("kind", "fill") != "fill" or rec.get("status") != "filled":
            return None
        try:
            return cls(
                str(rec["id"]),
                str(rec["venue"]),
                str(rec["symbol"]),
                str(rec.get("client_order_id") or ""),
                str(rec.get("venue_order_id") or ""),
                Decimal(str(rec["qty"])),
                int(rec["ts"]),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError):
            return None


@dataclass(frozen=True)
class Missing:
    """A venue trade (or the part of it, `qty`) the journal lacks."""

    trade: VenueTrade
    qty: Decimal
    client_order_id: str

    @property
    def fee(self) -> Decimal:
        """The venue's commission for the part booked now."""
        if self.qty == self.trade.qty or not self.trade.qty:
            return self.trade.fee
        return self.trade.fee * self.qty / self.trade.qty


@dataclass
class OrderTally:
    trades: list[VenueTrade] = field(default_factory=list)
    journal: list[JournalFill] = field(default_factory=list)


def _orders(
    trades: Iterable[VenueTrade], journal: Iterable[JournalFill], cid_of: Mapping[str, str]
) -> dict[str, OrderTally]:
    """Venue trades and journal fills grouped by venue order id (journal fills without one are
    matched through the client order id the venue reports, or `cid_of` order id -> cid)."""
    tallies: dict[str, OrderTally] = {}
    by_cid: dict[str, str] = {}
    for t in trades:
        tallies.setdefault(t.order_id, OrderTally()).trades.append(t)
        cid = t.client_order_id or cid_of.get(t.order_id, "")
        if cid:
            by_cid[cid] = t.order_id
    for j in journal:
        order = j.venue_order_id or by_cid.get(j.client_order_id, "") or f"cid:{j.client_order_id}"
        tallies.setdefault(order, OrderTally()).journal.append(j)
    return tallies


def missing_trades(
    trades: Sequence[VenueTrade], journal: Iterable[JournalFill], cid_of: Mapping[str, str] | None = None
) -> list[Missing]:
    """What the journal lacks of the venue's trades, oldest first."""
    cid_of = cid_of or {}
    out: list[Missing] = []
    for order_id, tally in _orders(trades, journal, cid_of).items():
        covered = sum((j.qty for j in tally.journal), ZERO)
        for t in sorted(tally.trades, key=lambda t: (t.ts, t.trade_id)):
            if covered >= t.qty:
                covered -= t.qty
                continue
            out.append(Missing(t, t.qty - covered, t.client_order_id or cid_of.get(order_id, "")))
            covered = ZERO
    return sorted(out, key=lambda m: (m.trade.ts, m.trade.trade_id))


def unknown_fills(
    trades: Sequence[VenueTrade], journal: Iterable[JournalFill], cid_of: Mapping[str, str] | None = None
) -> list[tuple[JournalFill, Decimal]]:
    """Journal fills the venue's trades do not account for, with the quantity unaccounted:
    per order, what the journal holds beyond what the venue traded."""
    out = []
    for tally in _orders(trades, journal, cid_of or {}).values():
        excess = sum((j.qty for j in tally.journal), ZERO) - sum((t.qty for t in tally.trades), ZERO)
        if excess > 0:
            last = max(tally.journal, key=lambda j: j.ts)
            out.append((last, excess))
    return sorted(out, key=lambda x: x[0].ts)


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reading:
    """One venue's account as it answered: USDT wallet, positions (with the venue's marks)."""

    venue: str
    wallet: Decimal
    positions: tuple[Position, ...]
    read_at_ms: int

    @property
    def unrealized(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions), ZERO)

    @property
    def equity(self) -> Decimal:
        return self.wallet + self.unrealized

    def doc(self) -> dict:
        return {
            "wallet": self.wallet,
            "unrealized_pnl": self.unrealized,
            "equity": self.equity,
            "positions": len(self.positions),
            "read_at_ms": self.read_at_ms,
        }


def ledger_on_venues(ledger: Ledger, readings: Iterable[Reading]) -> Decimal:
    """The ledger's NAV without the off-venue cash, its positions marked at the venues' marks."""
    marks = {(r.venue, p.symbol): p.mark_price for r in readings for p in r.positions if p.mark_price}
    upnl = ZERO
    for p in ledger.positions.values():
        mark = marks.get((p.venue, p.symbol)) or p.mark_price or p.entry_price
        upnl += (mark - p.entry_price) * p.qty * p.position_side.sign
    return ledger.wallet + upnl


def drift(ledger: Ledger, readings: Sequence[Reading]) -> Decimal:
    """Ledger minus venues: positive = the books think the fund holds more than the venues say."""
    return ledger_on_venues(ledger, readings) - sum((r.equity for r in readings), ZERO)


def beyond(drift_usdt: Decimal, equity: Decimal, tolerance_usdt: Decimal, tolerance_pct: Decimal) -> bool:
    """Out of tolerance: beyond both the absolute and the relative bound (the wider one applies)."""
    bound = max(tolerance_usdt, abs(equity) * tolerance_pct / 100)
    return abs(drift_usdt) > bound
