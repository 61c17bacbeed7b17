"""Closed trades as round trips: a position on one (venue, symbol, side) from flat back to flat, with
its price P&L, fees and the funding paid or received while it was open; and the trade statistics
built on them (win rate, profit factor, per-symbol results). Pure: fill and funding records in,
Decimal money out. Part of the performance API (execution.performance re-exports it)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

ZERO = Decimal(0)


class PerformanceInputError(ValueError):
    """An input record or series the figures cannot be computed from; the message names it."""


@dataclass(frozen=True)
class RoundTrip:
    """One position from flat back to flat on one (venue, symbol, side): a closed trade."""

    venue: str
    symbol: str
    position_side: str  # LONG | SHORT
    opened_ts: int
    closed_ts: int
    qty: Decimal  # largest size held
    entry_price: Decimal  # average of the opening fills
    exit_price: Decimal  # average of the closing fills
    realized: Decimal  # price P&L booked by the closing fills
    fees: Decimal
    funding: Decimal  # received (+) / paid (-) while open
    exit_reason: str
    slippage: Decimal | None = None  # cost against the fills' reference prices; None: no fill records one

    @property
    def net(self) -> Decimal:
        return self.realized - self.fees + self.funding

    @property
    def return_pct(self) -> float | None:
        """Net P&L against the entry notional, in percent."""
        notional = self.entry_price * self.qty
        return float(self.net / notional * 100) if notional else None


def round_trips(fills: Iterable[Mapping], funding: Iterable[Mapping] = ()) -> list[RoundTrip]:
    """Closed round trips from fill records in journal order (hedge mode: LONG and SHORT books apart).
    A position still open at the end is not a round trip yet."""
    books: dict[tuple[str, str, str], dict] = {}
    done: list[RoundTrip] = []
    rows = sorted(enumerate(fills), key=lambda x: (need_int(x[1], "ts", "fill", x[0]), to_int(x[1].get("seq")) or 0))
    for i, f in rows:
        if f.get("kind", "fill") != "fill":
            continue
        key = (str(f.get("venue", "")), str(f.get("symbol", "")), str(f.get("position_side", "")).upper())
        qty, price = need_dec(f, "qty", "fill", i), need_dec(f, "price", "fill", i)
        opening = (str(f.get("side", "")).upper() == "BUY") == (key[2] == "LONG")
        b = books.setdefault(key, _empty_book())
        if not b["open"]:
            if not opening:
                continue  # closes a position opened before these records start: not a whole round trip
            b.update(opened=int(f["ts"]), reason="")
        b["fees"] += need_dec(f, "fee_usdt", "fill", i)
        b["realized"] += dec(f.get("realized_pnl_usdt")) or ZERO
        ref = dec(f.get("ref_price"))
        if ref is not None:  # paid against the price the order was decided on (+ = cost)
            sign = 1 if str(f.get("side", "")).upper() == "BUY" else -1
            b["slippage"] = (b.get("slippage") or ZERO) + sign * (price - ref) * qty
        if opening:
            b["open"] += qty
            b["in_qty"] += qty
            b["in_cost"] += qty * price
            b["peak"] = max(b["peak"], b["open"])
            continue
        b["open"] -= qty
        b["out_qty"] += qty
        b["out_cost"] += qty * price
        b["reason"] = str(f.get("reason") or "")
        if b["open"] <= 0:
            done.append(_close(key, b, int(f["ts"])))
            books[key] = _empty_book()
    return _with_funding(done, funding)


def _empty_book() -> dict:
    z = ZERO
    return {"open": z, "peak": z, "in_qty": z, "in_cost": z, "out_qty": z, "out_cost": z, "fees": z, "realized": z}


def _close(key: tuple[str, str, str], b: dict, ts: int) -> RoundTrip:
    return RoundTrip(
        venue=key[0],
        symbol=key[1],
        position_side=key[2],
        opened_ts=int(b.get("opened", ts)),
        closed_ts=ts,
        qty=b["peak"],
        entry_price=b["in_cost"] / b["in_qty"] if b["in_qty"] else ZERO,
        exit_price=b["out_cost"] / b["out_qty"] if b["out_qty"] else ZERO,
        realized=b["realized"],
        fees=b["fees"],
        funding=ZERO,
        exit_reason=b.get("reason", ""),
        slippage=b.get("slippage"),
    )


def _with_funding(trips: list[RoundTrip], funding: Iterable[Mapping]) -> list[RoundTrip]:
    """Each funding payment goes to the round trip that held that (venue, symbol, side) at its time."""
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for n, t in enumerate(trips):
        by_key.setdefault((t.venue, t.symbol, t.position_side), []).append(n)
    extra = [ZERO] * len(trips)
    for i, p in enumerate(funding):
        key = (str(p.get("venue", "")), str(p.get("symbol", "")), str(p.get("position_side", "")).upper())
        ts = need_int(p, "ts", "funding record", i)
        for n in by_key.get(key, ()):
            if trips[n].opened_ts <= ts <= trips[n].closed_ts:
                extra[n] += need_dec(p, "amount_usdt", "funding record", i)
                break
    return [t if not e else RoundTrip(**{**t.__dict__, "funding": e}) for t, e in zip(trips, extra, strict=True)]


@dataclass(frozen=True)
class SymbolResult:
    symbol: str
    trades: int
    wins: int
    net: Decimal


@dataclass(frozen=True)
class TradeStats:
    trades: int
    wins: int
    win_rate: float | None  # fraction of round trips with net P&L > 0
    profit_factor: float | None  # gross net-winnings / gross net-losses; None without a loss
    net: Decimal
    per_symbol: list[SymbolResult]  # best first
    expectancy: Decimal | None = None  # mean net P&L per round trip
    avg_win: Decimal | None = None  # mean net P&L of the winners
    avg_loss: Decimal | None = None  # mean net P&L of the losers (negative)
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    slippage: Decimal | None = None  # None: no fill records a reference price


def trade_stats(trips: Iterable[RoundTrip]) -> TradeStats:
    trips = list(trips)
    wins = [t for t in trips if t.net > 0]
    won = sum((t.net for t in wins), ZERO)
    lost = -sum((t.net for t in trips if t.net < 0), ZERO)
    per: dict[str, list[RoundTrip]] = {}
    for t in trips:
        per.setdefault(t.symbol, []).append(t)
    symbols = [
        SymbolResult(s, len(ts), sum(1 for t in ts if t.net > 0), sum((t.net for t in ts), ZERO))
        for s, ts in per.items()
    ]
    losses = [t.net for t in trips if t.net < 0]
    slips = [t.slippage for t in trips if t.slippage is not None]
    return TradeStats(
        trades=len(trips),
        wins=len(wins),
        win_rate=len(wins) / len(trips) if trips else None,
        profit_factor=float(won / lost) if lost > 0 else None,
        net=sum((t.net for t in trips), ZERO),
        per_symbol=sorted(symbols, key=lambda s: (-s.net, s.symbol)),
        expectancy=sum((t.net for t in trips), ZERO) / len(trips) if trips else None,
        avg_win=won / len(wins) if wins else None,
        avg_loss=sum(losses, ZERO) / len(losses) if losses else None,
        fees=sum((t.fees for t in trips), ZERO),
        funding=sum((t.funding for t in trips), ZERO),
        slippage=sum(slips, ZERO) if slips else None,
    )


# ---------------------------------------------------------------------------------------------
def dec(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def to_int(value: object) -> int | None:
    d = dec(value)
    return int(d) if d is not None else None


def need_dec(r: Mapping, key: str, what: str, i: int) -> Decimal:
    d = dec(r.get(key))
    if d is None:
        raise PerformanceInputError(f"{what} #{i} ({r.get('id', 'no id')}): field {key!r} is {r.get(key)!r}")
    return d


def need_int(r: Mapping, key: str, what: str, i: int) -> int:
    return int(need_dec(r, key, what, i))
