"""The venue reconciler: reads each venue's account and books what the journal lacks, once.

One pass per venue: the USDT wallet and the positions (a `Reading`), then the account history
since the last pass (funding, transfers: `account_events`) and, when due, the trade history
(`trades`). Every venue record is booked through the engine's booking port exactly once, keyed
by the venue's own id: funding into `funding_log.jsonl`, transfers as capital flows, trades the
journal lacks (after a restart or a private-stream gap) as fills with the venue's real
commission. Windows overlap the previous pass by `overlap_ms` so a record the venue indexed late
is still found; ids seen within the overlap are remembered (and kept in the restart snapshot).

On restart, records journaled after the snapshot (the ledger restored from the snapshot does not
hold them) are first re-applied from the journal files with their own ids, so neither they nor
the venue's copy of them is booked twice. This is the edge: it talks to the venues; the
comparisons are pure (`execution/venue_match.py`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from execution import logs
from execution.bookings import Bookings
from execution.capital_flows import CapitalFlow
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.exchanges.history import AccountEvent, AccountHistory, VenueTrade
from execution.journal import Journal
from execution.ledger import Ledger
from execution.models import Fill, PositionSide, Side
from execution.router import OrderRouter
from execution.state.atomic import read_lines
from execution.state.layout import COLLECTION_FILES
from execution.venue_match import JournalFill, Missing, Reading, missing_trades, unknown_fills

ZERO = Decimal(0)
TRADE_CHECK_BACKSTOP_MS = 3_600_000  # trades are compared at start, after a stream gap, and hourly


class BookingPort(Protocol):
    """What the reconciler may do to the engine (the engine implements it)."""

    ledger: Ledger
    router: OrderRouter
    journals: Journal
    cycle_ts: int

    bookings: Bookings

    def journal(self, collection: str, record: dict) -> None: ...

    def alert(self, alert_id: str, ts: int, kind: str, text: str, **fields: Any) -> None: ...


@dataclass
class VenueState:
    """What the reconciler remembers of one venue between passes (and across restarts)."""

    cursor_ms: int = 0  # history up to here is booked
    booked: dict[str, int] = field(default_factory=dict)  # venue record id -> its ts, within the overlap
    trades_checked_ms: int = 0
    floor_ms: int = 0  # nothing older is booked: the books opened from the wallet read then

    def doc(self) -> dict:
        return {
            "cursor_ms": self.cursor_ms,
            "booked": dict(self.booked),
            "trades_checked_ms": self.trades_checked_ms,
            "floor_ms": self.floor_ms,
        }

    @classmethod
    def from_doc(cls, d: Mapping) -> VenueState:
        return cls(
            int(d.get("cursor_ms", 0)),
            dict(d.get("booked") or {}),
            int(d.get("trades_checked_ms", 0)),
            int(d.get("floor_ms", 0)),
        )


class VenueReconciler:
    def __init__(
        self,
        venues: Mapping[str, Venue],
        symbols: Mapping[str, Iterable[str]],
        *,
        booking: bool = True,
        lag_ms: int = 2_000,
        overlap_ms: int = 600_000,
    ):
        """`venues`: the real adapters (under DRY_RUN the wrapped ones); `symbols`: what the
        executor trades per venue (Binance's trade list is per symbol); `booking` False only reads
        (a dry run: the venues' history is not the simulated books')."""
        self.venues = dict(venues)
        self.symbols = {v: set(s) for v, s in symbols.items()}
        self.booking = booking
        self.lag_ms = lag_ms
        self.overlap_ms = overlap_ms
        self.state: dict[str, VenueState] = {name: VenueState() for name in self.venues}
        self.journal_fills: dict[str, JournalFill] = {}  # record id -> fill, the recent trade log
        self.trade_check_due: set[str] = set()
        self.log = logs.get()
        self._logged_other: set[str] = set()

    # -- reading -------------------------------------------------------------------------------
    def read(self, name: str) -> Reading:
        venue = self.venues[name]
        history = venue if isinstance(venue, AccountHistory) else None
        at = history.venue_now_ms() if history is not None else 0
        balance, positions = venue.balance(), venue.positions()
        return Reading(name, balance.wallet_balance, tuple(positions), at)

    def opening_capital(self) -> tuple[Decimal, dict[str, Reading]]:
        """Σ the venues' USDT wallets at a first start (the books open from them), and the readings.
        History before now belongs to the opening balance: every cursor starts here."""
        readings = {name: self.read(name) for name in self.venues}
        for name, r in readings.items():
            self.state[name].cursor_ms = self.state[name].floor_ms = r.read_at_ms
        return sum((r.wallet for r in readings.values()), ZERO), readings

    def request_trade_check(self, venue: str) -> None:
        """A private stream (re)connected: fills may have happened while it was down."""
        self.trade_check_due.add(venue)

    # -- one pass ------------------------------------------------------------------------------
    def run(self, name: str, port: BookingPort, wall_now: int, trades: bool = True) -> Reading:
        """Read one venue and book what its history says since the last pass; the trade history
        too when due and `trades`. Raises VenueError when the venue cannot be read (nothing is
        half-booked: records are booked one by one, each once)."""
        reading = self.read(name)
        venue = self.venues[name]
        if not self.booking or not isinstance(venue, AccountHistory):
            return reading
        st = self.state[name]
        end = reading.read_at_ms  # what the wallet just read includes
        if not st.cursor_ms:  # a snapshot from before venue truth: nothing older is booked here
            st.cursor_ms = st.floor_ms = end
            self.log.info("[state] venue truth %s: history followed from %d on", name, end)
        start = max(st.cursor_ms - self.overlap_ms, st.floor_ms)
        for event in venue.account_events(start, end):
            self._book_event(event, port, st)
        due = name in self.trade_check_due or wall_now - st.trades_checked_ms >= TRADE_CHECK_BACKSTOP_MS
        if trades and due:
            self._check_trades(venue, name, port, (start, st.cursor_ms, end), reading)
            st.trades_checked_ms = wall_now
            self.trade_check_due.discard(name)
        st.cursor_ms = max(st.cursor_ms, end - self.lag_ms)
        floor = st.cursor_ms - 2 * self.overlap_ms
        st.booked = {k: ts for k, ts in st.booked.items() if ts >= floor}
        return reading

    def _book_event(self, event: AccountEvent, port: BookingPort, st: VenueState) -> None:
        key = f"{event.kind}:{event.venue_id}"
        if key in st.booked:
            return
        if event.kind == "other":
            if key not in self._logged_other and not event.detail.startswith(("REALIZED_PNL", "COMMISSION")):
                self._logged_other.add(key)
                self.log.warning(
                    "[state] venue truth %s: %s %s %s not booked (neither funding nor a transfer)",
                    event.venue,
                    event.detail,
                    event.amount,
                    event.asset,
                )
            return
        st.booked[key] = event.ts
        if event.asset != "USDT":
            self.log.warning(
                "[state] venue truth %s: %s %s %s is not USDT: outside NAV",
                event.venue,
                event.kind,
                event.amount,
                event.asset,
            )
            return
        if event.kind == "funding":
            port.bookings.book_funding(self._funding_record(event, port.ledger), event.amount)
        else:
            port.bookings.book_capital_flow(
                CapitalFlow(
                    id=f"{event.venue}:transfer:{event.venue_id}",
                    ts=port.cycle_ts or event.ts,
                    venue=event.venue,
                    amount_usdt=event.amount,
                    source=f"{event.venue} {event.detail}",
                    venue_ts=event.ts,
                )
            )

    @staticmethod
    def _funding_record(event: AccountEvent, ledger: Ledger) -> dict:
        held = [
            p for p in ledger.positions.values() if p.venue == event.venue and p.symbol == event.symbol and p.qty > 0
        ]
        one = held[0] if len(held) == 1 else None  # both sides open: the venue does not say which paid
        qty = event.qty or (one.qty if one is not None else None)
        mark = event.mark_price or None
        rate = None
        if one is not None and qty and mark:  # amount = -sign x qty x mark x rate (execution/ledger.py)
            rate = (-event.amount / (one.position_side.sign * qty * mark)).quantize(Decimal("1e-12"))
        return {
            "kind": "funding",
            "id": f"{event.venue}:funding:{event.venue_id}",
            "ts": event.ts,
            "venue": event.venue,
            "symbol": event.symbol,
            "position_side": one.position_side.value if one is not None else None,
            "qty": qty,
            "mark_price": mark,
            "rate": rate,
            "source": "venue",
            "venue_id": event.venue_id,
        }

    # -- trades --------------------------------------------------------------------------------
    def _check_trades(
        self, venue: AccountHistory, name: str, port: BookingPort, window: tuple[int, int, int], reading: Reading
    ) -> None:
        """Venue trades in [start, end] against the journal; journal fills since the previous
        reading (`since`, their orders' trades all inside the window) checked the other way."""
        start, since, end = window
        symbols = set(self.symbols.get(name, ()))
        symbols |= {p.symbol for p in port.ledger.positions.values() if p.venue == name}
        symbols |= {p.symbol for p in reading.positions}
        symbols |= {f.request.symbol for f in port.router.in_flight.values() if f.request.venue == name}
        trades = venue.trades(start, end, symbols)
        journal = [j for j in self.journal_fills.values() if j.venue == name]
        cid_of = self._client_ids(venue, trades, journal)
        for miss in missing_trades(trades, journal, cid_of):
            if venue.knows_order(miss.trade.order_id):
                continue  # an order this process tracks: its fills come through the adapter's drain
            self._book_trade(miss, port)
        inner = [j for j in journal if since <= j.ts <= end - self.lag_ms]
        for fill, qty in unknown_fills(trades, inner, cid_of):
            port.journal(
                "incidents",
                {
                    "id": f"venue_truth:unknown_fill:{fill.record_id}",
                    "ts": fill.ts,
                    "kind": "reconcile",
                    "difference": "journal_fill_unknown_to_venue",
                    "venue": name,
                    "symbol": fill.symbol,
                    "detail": f"journal fill {fill.record_id} ({qty} of cid {fill.client_order_id}) is not in the venue's trades",
                },
            )
            port.alert(
                f"venue_truth:unknown_fill:{fill.record_id}",
                fill.ts,
                "reconcile",
                f"{name}: the journal holds a fill the venue does not know ({fill.symbol} cid {fill.client_order_id}, {qty})",
            )
            self.log.error("[state] RECONCILE %s journal fill %s unknown to the venue (%s)", name, fill.record_id, qty)

    def _client_ids(
        self, venue: AccountHistory, trades: list[VenueTrade], journal: list[JournalFill]
    ) -> dict[str, str]:
        """Order id -> client order id for orders the journal cannot place by venue order id (Binance's
        trade list carries no client order id: one order query each, only for those)."""
        known = {j.venue_order_id for j in journal if j.venue_order_id}
        out: dict[str, str] = {}
        for t in trades:
            if t.client_order_id or t.order_id in known or t.order_id in out:
                continue
            try:
                out[t.order_id] = venue.client_order_id_of(t.symbol, t.order_id)
            except VenueError as exc:
                self.log.warning("[state] venue truth: order %s not looked up (code=%s)", t.order_id, exc.code)
                out[t.order_id] = ""
        return out

    def _book_trade(self, miss: Missing, port: BookingPort) -> None:
        t, st = miss.trade, self.state[miss.trade.venue]
        key = f"trade:{t.trade_id}"
        if key in st.booked:
            return
        st.booked[key] = t.ts
        flight = port.router.in_flight.get(miss.client_order_id)
        fee = miss.fee
        fill = Fill(
            ts=t.ts,
            venue=t.venue,
            symbol=t.symbol,
            side=t.side,
            position_side=t.position_side,
            qty=miss.qty,
            price=t.price,
            fee_usdt=fee if t.fee_asset == "USDT" else ZERO,
            realized_pnl_usdt=ZERO,
            client_order_id=miss.client_order_id,
            intent_id=flight.request.intent_id if flight is not None else "",
            liquidity="maker" if t.maker else "taker",
            simulated=False,
            venue_order_id=t.order_id,
        )
        self.log.warning(
            "[state] RECONCILE %s trade %s of order %s (cid %s) missing from the journal: booking %s %s %s @ %s fee %s %s",
            t.venue,
            t.trade_id,
            t.order_id,
            miss.client_order_id or "-",
            t.side.value,
            miss.qty,
            t.symbol,
            t.price,
            fee,
            t.fee_asset,
        )
        port.bookings.book_fill(
            fill,
            {
                "id": f"{t.venue}:trade:{t.trade_id}",
                "venue_trade_id": t.trade_id,
                "fee_asset": t.fee_asset,
                "fee_amount": fee,
                "venue_realized_pnl": t.realized_pnl,
                "source": "venue_history",
            },
        )

    # -- the journal ---------------------------------------------------------------------------
    def index(self, record: dict) -> None:
        """A trade-log record (the journal's watcher): what the journal holds, for the comparison."""
        fill = JournalFill.from_record(record)
        if fill is not None:
            self.journal_fills[fill.record_id] = fill
            oldest = min((s.cursor_ms for s in self.state.values()), default=0) - 4 * self.overlap_ms
            if len(self.journal_fills) > 10_000:
                self.journal_fills = {k: v for k, v in self.journal_fills.items() if v.ts >= oldest}

    def adopt(self, state_dir: Path, snap_seq: int, port: BookingPort) -> int:
        """Index the recent trade log, and re-apply to the ledger what was journaled after the
        snapshot (trades, funding, capital flows, with their own ids: the journal keeps one copy).
        Returns how many records were re-applied."""
        oldest = min((s.cursor_ms for s in self.state.values()), default=0) - 4 * self.overlap_ms
        tail: list[tuple[int, str, dict]] = []
        for collection in ("trades", "funding", "capital_flows"):
            for rec in read_lines(state_dir / COLLECTION_FILES[collection]):
                if collection == "trades" and int(rec.get("ts", 0)) >= oldest:
                    self.index(rec)
                if int(rec.get("seq", 0)) > snap_seq:
                    tail.append((int(rec["seq"]), collection, rec))
        for _, collection, rec in sorted(tail, key=lambda x: x[0]):
            self._reapply(collection, rec, port)
        if tail:
            self.log.info("[state] venue truth: %d record(s) journaled after the snapshot re-applied", len(tail))
        return len(tail)

    def _reapply(self, collection: str, rec: dict, port: BookingPort) -> None:
        self._remember(rec)
        if collection == "trades":
            fill = fill_from_record(rec)
            if fill is not None:
                port.bookings.book_fill(fill, {"id": rec["id"]})  # the journal has it: only the ledger takes it
        elif collection == "funding":
            port.bookings.book_funding(dict(rec), Decimal(str(rec["amount_usdt"])))
        else:
            port.bookings.book_capital_flow(CapitalFlow.from_record(rec))

    def _remember(self, rec: dict) -> None:
        """A venue record re-applied from the journal is booked: the venue's copy is not booked again."""
        rid = str(rec.get("id", ""))
        for name, st in self.state.items():
            for kind in ("funding", "transfer", "trade"):
                prefix = f"{name}:{kind}:"
                if rid.startswith(prefix):
                    st.booked[f"{kind}:{rid[len(prefix) :]}"] = int(rec.get("venue_ts") or rec.get("ts") or 0)

    # -- persistence ---------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {name: st.doc() for name, st in self.state.items()}

    def restore(self, snap: Mapping) -> None:
        for name, doc in snap.items():
            if name in self.state:
                self.state[name] = VenueState.from_doc(doc)


def fill_from_record(rec: Mapping) -> Fill | None:
    """A trade-log fill record back as a Fill (None for a record that is not a real fill)."""
    if rec.get("kind", "fill") != "fill" or rec.get("status") != "filled":
        return None
    return Fill(
        ts=int(rec["ts"]),
        venue=str(rec["venue"]),
        symbol=str(rec["symbol"]),
        side=Side(rec["side"]),
        position_side=PositionSide(rec["position_side"]),
        qty=Decimal(str(rec["qty"])),
        price=Decimal(str(rec["price"])),
        fee_usdt=Decimal(str(rec["fee_usdt"])),
        realized_pnl_usdt=ZERO,
        client_order_id=str(rec.get("client_order_id") or ""),
        intent_id=str(rec.get("intent_id") or ""),
        liquidity=str(rec.get("liquidity") or "taker"),
        simulated=False,
        venue_order_id=str(rec.get("venue_order_id") or ""),
    )
