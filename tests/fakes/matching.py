"""The account and matching engine behind both fake venues, in the venue's own units.

Deliberately independent of the product's code (no `execution.filters`, no `Ledger`): a fake
that shared the adapter's rules could not catch the adapter breaking them. Sizes are venue
units (Binance: base asset; OKX: contracts) and `ct_val` turns them into base for notional.

The book is a list of levels per side that orders walk; levels are not consumed, so a test
sets the depth it needs. MARKET and IOC orders take what the levels within their limit offer
(IOC/MARKET remainder expires: partial fills), GTC limits that cross take then rest, resting
orders fill as maker when `set_book` moves the market through them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

D = Decimal


@dataclass
class Instrument:
    symbol: str
    tick: Decimal
    step: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal = D(0)
    ct_val: Decimal = D(1)
    price_precision: int = 2
    qty_precision: int = 3
    min_price: Decimal = D("0.01")
    max_price: Decimal = D("1000000")


@dataclass
class FakeOrder:
    oid: int
    cid: str
    symbol: str
    side: str  # BUY | SELL
    pside: str  # LONG | SHORT | BOTH
    otype: str  # MARKET | LIMIT
    tif: str  # GTC | IOC | FOK | GTX
    qty: Decimal
    price: Decimal | None
    reduce_only: bool
    created: int
    status: str = "NEW"  # NEW PARTIALLY_FILLED FILLED CANCELED EXPIRED
    filled: Decimal = D(0)
    notional: Decimal = D(0)
    fee: Decimal = D(0)
    updated: int = 0
    last_fill_px: Decimal = D(0)
    last_fill_qty: Decimal = D(0)

    @property
    def avg(self) -> Decimal:
        return self.notional / self.filled if self.filled else D(0)

    @property
    def open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Trade:
    """One execution, as the venue's trade history lists it (sizes in venue units)."""

    trade_id: int
    order: FakeOrder
    qty: Decimal
    price: Decimal
    fee: Decimal  # paid
    maker: bool
    realized: Decimal  # gross P&L of the closed part
    ts: int


@dataclass
class Pos:
    qty: Decimal = D(0)  # venue units, >= 0
    entry: Decimal = D(0)
    opened: int = 0


@dataclass
class Account:
    wallet: Decimal
    maker_fee: Decimal = D("0.0002")
    taker_fee: Decimal = D("0.0005")
    dual_side: bool = True
    default_leverage: int = 20
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    positions: dict[tuple[str, str], Pos] = field(default_factory=dict)
    orders: dict[int, FakeOrder] = field(default_factory=dict)


class Reject(Exception):
    """A venue-neutral rejection; each fake maps `kind` to its own code and text."""

    def __init__(self, kind: str, detail: str = ""):
        super().__init__(kind)
        self.kind = kind
        self.detail = detail


class Engine:
    def __init__(self, instruments: list[Instrument], account: Account):
        self.instruments = {i.symbol: i for i in instruments}
        self.acct = account
        self.bids: dict[str, list[tuple[Decimal, Decimal]]] = {}
        self.asks: dict[str, list[tuple[Decimal, Decimal]]] = {}
        self.mark: dict[str, Decimal] = {}
        self.funding_rate: dict[str, Decimal] = {}
        self._ids = itertools.count(8_389_765_000_000_001)
        self._trade_ids = itertools.count(698_759)
        self.trades: list[Trade] = []

    # -- market ----------------------------------------------------------------------------------
    def set_book(self, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]], now: int = 0) -> None:
        self.bids[symbol] = sorted(((D(p), D(q)) for p, q in bids), reverse=True)
        self.asks[symbol] = sorted((D(p), D(q)) for p, q in asks)
        self.mark[symbol] = (self.bids[symbol][0][0] + self.asks[symbol][0][0]) / 2
        for o in [o for o in self.acct.orders.values() if o.open and o.symbol == symbol and o.otype == "LIMIT"]:
            self._take(o, now, maker=True)

    # -- account ---------------------------------------------------------------------------------
    def pos(self, symbol: str, pside: str) -> Pos:
        return self.acct.positions.setdefault((symbol, pside), Pos())

    def upl(self) -> Decimal:
        total = D(0)
        for (sym, pside), p in self.acct.positions.items():
            if p.qty and sym in self.mark:
                sign = 1 if self._is_long(sym, pside) else -1
                total += (self.mark[sym] - p.entry) * p.qty * self.instruments[sym].ct_val * sign
        return total

    def _is_long(self, symbol: str, pside: str) -> bool:
        return pside == "LONG"

    def used_margin(self) -> Decimal:
        used = D(0)
        for (sym, _), p in self.acct.positions.items():
            if p.qty:
                used += p.qty * self.instruments[sym].ct_val * p.entry / self.lev(sym)
        for o in self.acct.orders.values():
            if o.open and not self.is_closing(o):
                px = o.price or self.mark.get(o.symbol, D(0))
                used += (o.qty - o.filled) * self.instruments[o.symbol].ct_val * px / self.lev(o.symbol)
        return used

    def available(self) -> Decimal:
        return self.acct.wallet + self.upl() - self.used_margin()

    def lev(self, symbol: str) -> int:
        return self.acct.leverage.get(symbol, self.acct.default_leverage)

    def is_closing(self, o: FakeOrder) -> bool:
        if o.pside == "BOTH":
            return o.reduce_only
        return (o.pside == "LONG") == (o.side == "SELL")

    def close_target(self, o: FakeOrder) -> str:
        """The position an order closes: in one-way mode the side opposite to the order."""
        if o.pside != "BOTH":
            return o.pside
        return "LONG" if o.side == "SELL" else "SHORT"

    def pending_close(self, symbol: str, pside: str) -> Decimal:
        return sum(
            (
                o.qty - o.filled
                for o in self.acct.orders.values()
                if o.open and o.symbol == symbol and self.is_closing(o) and self.close_target(o) == pside
            ),
            D(0),
        )

    def has_exposure(self) -> bool:
        return any(p.qty for p in self.acct.positions.values()) or any(o.open for o in self.acct.orders.values())

    # -- orders ----------------------------------------------------------------------------------
    def check(self, o: FakeOrder) -> None:
        """Margin and reduce rules (filters are each fake's, with its own codes)."""
        if self.is_closing(o):
            held = self.pos(o.symbol, self.close_target(o)).qty
            if held == 0:
                raise Reject("no_position")
            if o.qty + self.pending_close(o.symbol, self.close_target(o)) > held:
                raise Reject("over_close")
        else:
            px = o.price or self._walk_price(o)
            need = o.qty * self.instruments[o.symbol].ct_val * px / self.lev(o.symbol)
            if need > self.available():
                raise Reject("margin", f"need {need:.4f} available {self.available():.4f}")

    def _walk_price(self, o: FakeOrder) -> Decimal:
        levels = self.asks[o.symbol] if o.side == "BUY" else self.bids[o.symbol]
        return levels[0][0] if levels else self.mark.get(o.symbol, D(0))

    def crosses(self, o: FakeOrder) -> bool:
        levels = self.asks.get(o.symbol) if o.side == "BUY" else self.bids.get(o.symbol)
        if not levels or o.price is None:
            return o.otype == "MARKET"
        best = levels[0][0]
        return o.price >= best if o.side == "BUY" else o.price <= best

    def submit(self, o: FakeOrder, now: int) -> FakeOrder:
        o.oid = next(self._ids)
        o.updated = now
        self.acct.orders[o.oid] = o
        if o.otype == "MARKET" or o.tif in ("IOC", "FOK"):
            self._take(o, now, maker=False)
            if o.open:
                o.status = "EXPIRED"
        elif self.crosses(o):
            self._take(o, now, maker=False)
        return o

    def _take(self, o: FakeOrder, now: int, maker: bool) -> None:
        levels = self.asks.get(o.symbol, []) if o.side == "BUY" else self.bids.get(o.symbol, [])
        for px, avail in levels:
            if o.price is not None and (px > o.price if o.side == "BUY" else px < o.price):
                break
            left = o.qty - o.filled
            if left <= 0:
                break
            qty = min(left, avail)
            fill_px = o.price if maker and o.price is not None else px
            self._fill(o, qty, fill_px, now, maker)
            if maker:
                break  # a resting order trades once per market move, at its own price

    def _fill(self, o: FakeOrder, qty: Decimal, px: Decimal, now: int, maker: bool) -> None:
        inst = self.instruments[o.symbol]
        o.filled += qty
        o.notional += qty * px
        fee = qty * inst.ct_val * px * (self.acct.maker_fee if maker else self.acct.taker_fee)
        o.fee += fee
        o.updated = now
        o.last_fill_px, o.last_fill_qty = px, qty
        o.status = "FILLED" if o.filled >= o.qty else "PARTIALLY_FILLED"
        self.acct.wallet -= fee
        realized = D(0)
        if self.is_closing(o):
            target = self.close_target(o)
            p = self.pos(o.symbol, target)
            sign = 1 if target == "LONG" else -1
            realized = (px - p.entry) * qty * inst.ct_val * sign
            self.acct.wallet += realized
            p.qty -= qty
            if p.qty == 0:
                p.entry = D(0)
        self.trades.append(Trade(next(self._trade_ids), o, qty, px, fee, maker, realized, now))
        if not self.is_closing(o):
            target = o.pside if o.pside != "BOTH" else ("LONG" if o.side == "BUY" else "SHORT")
            p = self.pos(o.symbol, target)
            p.entry = (p.entry * p.qty + px * qty) / (p.qty + qty)
            p.qty += qty
            p.opened = p.opened or now

    def cancel(self, o: FakeOrder, now: int) -> None:
        o.status = "CANCELED"
        o.updated = now

    def open_orders(self, symbol: str | None = None) -> list[FakeOrder]:
        return [o for o in self.acct.orders.values() if o.open and symbol in (None, o.symbol)]

    def by_cid(self, symbol: str, cid: str) -> FakeOrder | None:
        found = [o for o in self.acct.orders.values() if o.cid == cid and o.symbol == symbol]
        return found[-1] if found else None

    # -- test helpers ----------------------------------------------------------------------------
    def give_position(self, symbol: str, pside: str, qty: str, entry: str) -> None:
        p = self.pos(symbol, pside)
        p.qty, p.entry, p.opened = D(qty), D(entry), 1
