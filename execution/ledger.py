"""Hedge-mode account accounting: positions per (venue, symbol, position side), wallet, NAV.

Pure and in `Decimal`. The same class keeps the paper venue's account and the executor's own
books, so "what the venue says" and "what we think" are computed by one piece of code and can
be reconciled line by line.

Identity kept exactly (to the 1e-8 quantum every booked amount is rounded to):
    wallet = initial + sum(realized_pnl) - sum(fees) + sum(funding) + sum(venue capital flows)
    NAV    = wallet + sum(unrealized_pnl at the last mark) + off-venue cash
Capital flows (deposits +, withdrawals -) move the wallet (transfers into or out of a venue's
futures wallet) or the off-venue cash (money the fund holds elsewhere), never realised P&L.

`nav_float` is the same NAV as a float for the once-per-instant figures (peak, drawdown, the
breakers): the wallet's float is kept from the last booking, so it costs one float per open
position instead of a Decimal sum. Positions and totals change only through this class.
"""

from __future__ import annotations

import dataclasses
from decimal import ROUND_HALF_EVEN, Decimal

from execution.models import Fill, FundingPayment, Position, PositionSide, Side

USDT_QUANTUM = Decimal("0.00000001")
ZERO = Decimal(0)

PositionKey = tuple[str, str, PositionSide]
# module constants for the per-bar paths: looking an Enum member up on its class costs ~100 ns in 3.11
_LONG, _SHORT = PositionSide.LONG, PositionSide.SHORT


def quantize_usdt(value: Decimal) -> Decimal:
    return value.quantize(USDT_QUANTUM, rounding=ROUND_HALF_EVEN)


class OverClose(ValueError):
    """A close larger than the position it closes (the venue answers -2022)."""


class Ledger:
    def __init__(self, initial_wallet: Decimal):
        self.initial_wallet = initial_wallet
        self.realized_total = ZERO
        self.fees_total = ZERO
        self.funding_total = ZERO
        self.flows_total = ZERO  # capital moved into (+) or out of (-) the venues' futures wallets
        self.off_venue_cash = ZERO  # capital the fund holds off the venues (operator-entered flows)
        self.flow_count = 0
        self.positions: dict[PositionKey, Position] = {}
        self.marks: dict[tuple[str, str], Decimal] = {}
        self._wallet_f: float | None = None  # float(wallet + off-venue cash), dropped at every booking

    # -- derived values ----------------------------------------------------------------------
    @property
    def wallet(self) -> Decimal:
        return self.initial_wallet + self.realized_total - self.fees_total + self.funding_total + self.flows_total

    def unrealized(self) -> Decimal:
        return sum((p.unrealized_pnl for p in self.positions.values()), ZERO)

    def nav(self) -> Decimal:
        return self.wallet + self.unrealized() + self.off_venue_cash

    @property
    def net_contributed(self) -> Decimal:
        """Capital put in minus capital taken out: the starting capital plus every flow."""
        return self.initial_wallet + self.flows_total + self.off_venue_cash

    def nav_float(self) -> float:
        """NAV as a float (to ~1e-12 USDT): for figures computed at every market instant."""
        nav = self._wallet_f
        if nav is None:
            nav = self._wallet_f = float(self.wallet + self.off_venue_cash)
        for p in self.positions.values():
            if p.qty and p.mark_price:
                upnl = float((p.mark_price - p.entry_price) * p.qty)
                nav += upnl if p.position_side is _LONG else -upnl
        return nav

    def position(self, venue: str, symbol: str, side: PositionSide) -> Position | None:
        return self.positions.get((venue, symbol, side))

    def position_qty(self, venue: str, symbol: str, side: PositionSide) -> Decimal:
        pos = self.positions.get((venue, symbol, side))
        return pos.qty if pos else ZERO

    def gross_notional(self, venue: str | None = None) -> Decimal:
        return sum((p.notional for p in self.positions.values() if venue in (None, p.venue)), ZERO)

    def net_notional(self, venue: str | None = None) -> Decimal:
        return sum(
            (p.notional * p.position_side.sign for p in self.positions.values() if venue in (None, p.venue)), ZERO
        )

    # -- events ------------------------------------------------------------------------------
    def mark(self, venue: str, symbol: str, price: Decimal) -> None:
        self.marks[(venue, symbol)] = price
        positions = self.positions
        if positions:
            pos = positions.get((venue, symbol, _LONG))
            if pos is not None:
                pos.mark_price = price
            pos = positions.get((venue, symbol, _SHORT))
            if pos is not None:
                pos.mark_price = price

    def check_close(self, venue: str, symbol: str, side: PositionSide, qty: Decimal) -> None:
        held = self.position_qty(venue, symbol, side)
        if qty > held:
            raise OverClose(f"close {qty} > {side.value} position {held} on {venue}:{symbol}")

    def apply_fill(self, fill: Fill, leverage: int = 1) -> Fill:
        """Book a fill; returns it with `realized_pnl_usdt` computed from the average entry."""
        key = (fill.venue, fill.symbol, fill.position_side)
        pos = self.positions.get(key)
        fee = quantize_usdt(fill.fee_usdt)
        self.fees_total += fee
        realized = ZERO
        if fill.side is fill.position_side.opening_side:
            if pos is None:
                pos = Position(
                    venue=fill.venue,
                    symbol=fill.symbol,
                    position_side=fill.position_side,
                    qty=fill.qty,
                    entry_price=fill.price,
                    mark_price=self.marks.get((fill.venue, fill.symbol), fill.price),
                    leverage=leverage,
                    opened_ts=fill.ts,
                )
                self.positions[key] = pos
            else:
                new_qty = pos.qty + fill.qty
                pos.entry_price = (pos.entry_price * pos.qty + fill.price * fill.qty) / new_qty
                pos.qty = new_qty
        else:
            self.check_close(fill.venue, fill.symbol, fill.position_side, fill.qty)
            assert pos is not None
            realized = quantize_usdt((fill.price - pos.entry_price) * fill.qty * fill.position_side.sign)
            pos.qty -= fill.qty
            if pos.qty == 0:
                del self.positions[key]
        self.realized_total += realized
        self._wallet_f = None
        return dataclasses.replace(fill, fee_usdt=fee, realized_pnl_usdt=realized)

    def apply_funding(
        self, venue: str, symbol: str, ts: int, rate: Decimal, mark_price: Decimal
    ) -> list[FundingPayment]:
        """Longs pay shorts when the rate is positive: amount = -sign * qty * mark * rate."""
        payments = []
        for side in (PositionSide.LONG, PositionSide.SHORT):
            pos = self.positions.get((venue, symbol, side))
            if pos is None or pos.qty == 0:
                continue
            amount = quantize_usdt(-side.sign * pos.qty * mark_price * rate)
            self.funding_total += amount
            self._wallet_f = None
            payments.append(
                FundingPayment(
                    ts=ts,
                    venue=venue,
                    symbol=symbol,
                    position_side=side,
                    qty=pos.qty,
                    mark_price=mark_price,
                    rate=rate,
                    amount_usdt=amount,
                )
            )
        return payments

    def apply_funding_payment(self, payment: FundingPayment) -> None:
        """Book a payment computed elsewhere (by the venue)."""
        self.apply_funding_amount(payment.amount_usdt)

    def apply_funding_amount(self, amount: Decimal) -> Decimal:
        """Book funding the venue paid (+) or charged (-); returns the amount as booked."""
        booked = quantize_usdt(amount)
        self.funding_total += booked
        self._wallet_f = None
        return booked

    def apply_capital_flow(self, amount: Decimal, off_venue: bool) -> Decimal:
        """A deposit (+) or withdrawal (-): NAV moves by it, realised P&L does not."""
        booked = quantize_usdt(amount)
        if off_venue:
            self.off_venue_cash += booked
        else:
            self.flows_total += booked
        self.flow_count += 1
        self._wallet_f = None
        return booked

    # -- persistence -------------------------------------------------------------------------
    def snapshot(self) -> dict:
        """Exact (Decimals as strings) so a restart resumes to the last 1e-8."""
        return {
            "initial_wallet": str(self.initial_wallet),
            "realized_total": str(self.realized_total),
            "fees_total": str(self.fees_total),
            "funding_total": str(self.funding_total),
            "flows_total": str(self.flows_total),
            "off_venue_cash": str(self.off_venue_cash),
            "flow_count": self.flow_count,
            "positions": [
                {k: (str(v) if isinstance(v, Decimal) else v) for k, v in position_record(p).items()}
                for p in self.positions.values()
            ],
        }

    @classmethod
    def restore(cls, snap: dict) -> Ledger:
        led = cls(Decimal(str(snap["initial_wallet"])))
        led.realized_total = Decimal(str(snap["realized_total"]))
        led.fees_total = Decimal(str(snap["fees_total"]))
        led.funding_total = Decimal(str(snap["funding_total"]))
        led.flows_total = Decimal(str(snap.get("flows_total", "0")))
        led.off_venue_cash = Decimal(str(snap.get("off_venue_cash", "0")))
        led.flow_count = int(snap.get("flow_count", 0))
        for rec in snap.get("positions", []):
            pos = Position(
                venue=rec["venue"],
                symbol=rec["symbol"],
                position_side=PositionSide(rec["position_side"]),
                qty=Decimal(str(rec["qty"])),
                entry_price=Decimal(str(rec["entry_price"])),
                mark_price=Decimal(str(rec.get("mark_price") or rec["entry_price"])),
                leverage=int(rec.get("leverage", 1)),
                opened_ts=int(rec.get("opened_ts", 0)),
            )
            led.positions[(pos.venue, pos.symbol, pos.position_side)] = pos
            led.marks[(pos.venue, pos.symbol)] = pos.mark_price
        return led


def position_record(p: Position) -> dict:
    return {
        "venue": p.venue,
        "symbol": p.symbol,
        "position_side": p.position_side.value,
        "qty": p.qty,
        "entry_price": p.entry_price,
        "mark_price": p.mark_price,
        "unrealized_pnl": p.unrealized_pnl,
        "notional": p.notional,
        "leverage": p.leverage,
        "opened_ts": p.opened_ts,
    }


def side_for(position_side: PositionSide, closing: bool) -> Side:
    return position_side.closing_side if closing else position_side.opening_side
