"""The arbitrage book: open pairs and what each leg holds, in the unified model.

A pair is one long leg and one short leg of the same asset on two venues. Quantities are
what the venues actually filled (not what was asked), so the delta computed here is the
delta the fund really carries. Pure bookkeeping: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from execution.models import PositionSide

ZERO = Decimal(0)


@dataclass(slots=True)
class PairLeg:
    venue: str
    symbol: str
    position_side: PositionSide
    qty: Decimal = ZERO
    avg_price: Decimal = ZERO  # average entry price of what is held
    cost_closed: Decimal = ZERO  # signed PnL realised on closes (price terms, no fees)
    fees_usdt: Decimal = ZERO  # estimated from the fee schedule used by the edge

    def open(self, qty: Decimal, price: Decimal) -> None:
        if qty <= 0:
            return
        total = self.qty + qty
        self.avg_price = (self.avg_price * self.qty + price * qty) / total
        self.qty = total

    def close(self, qty: Decimal, price: Decimal) -> None:
        if qty <= 0:
            return
        qty = min(qty, self.qty)
        self.cost_closed += (price - self.avg_price) * qty * self.position_side.sign
        self.qty -= qty

    def doc(self) -> dict:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "position_side": self.position_side.value,
            "qty": str(self.qty),
            "avg_price": str(self.avg_price),
            "cost_closed": str(self.cost_closed),
            "fees_usdt": str(self.fees_usdt),
        }

    @classmethod
    def from_doc(cls, d: dict) -> PairLeg:
        return cls(
            d["venue"],
            d["symbol"],
            PositionSide(d["position_side"]),
            Decimal(d["qty"]),
            Decimal(d["avg_price"]),
            Decimal(d.get("cost_closed", "0")),
            Decimal(d.get("fees_usdt", "0")),
        )


@dataclass(slots=True)
class OpenPair:
    pair_id: str  # the entry attempt's id
    pair: str
    long: PairLeg
    short: PairLeg
    opened_ts: int
    planned_qty: Decimal
    expected_net_bps: Decimal = ZERO
    expected_gross_bps: Decimal = ZERO
    realised_gross_bps: Decimal | None = None
    entry_ref_price: Decimal = ZERO
    exit_reason: str = ""
    meta: dict = field(default_factory=dict)

    @property
    def legs(self) -> tuple[PairLeg, PairLeg]:
        return self.long, self.short

    @property
    def hedged(self) -> bool:
        return self.long.qty == self.short.qty

    @property
    def flat(self) -> bool:
        return self.long.qty == 0 and self.short.qty == 0

    def delta_usd(self, marks: dict[tuple[str, str], Decimal]) -> Decimal:
        ml = marks.get((self.long.venue, self.long.symbol), self.long.avg_price)
        ms = marks.get((self.short.venue, self.short.symbol), self.short.avg_price)
        return self.long.qty * ml - self.short.qty * ms

    def realised_pnl_usdt(self) -> Decimal:
        return self.long.cost_closed + self.short.cost_closed - self.long.fees_usdt - self.short.fees_usdt

    def doc(self, marks: dict[tuple[str, str], Decimal] | None = None) -> dict:
        d = {
            "pair_id": self.pair_id,
            "pair": self.pair,
            "long": self.long.doc(),
            "short": self.short.doc(),
            "opened_ts": self.opened_ts,
            "planned_qty": str(self.planned_qty),
            "expected_net_bps": str(self.expected_net_bps),
            "expected_gross_bps": str(self.expected_gross_bps),
            "realised_gross_bps": None if self.realised_gross_bps is None else str(self.realised_gross_bps),
            "entry_ref_price": str(self.entry_ref_price),
            "exit_reason": self.exit_reason,
            "hedged": self.hedged,
            "meta": self.meta,
        }
        if marks is not None:
            d["delta_usd"] = str(self.delta_usd(marks).quantize(Decimal("0.01")))
        return d

    @classmethod
    def from_doc(cls, d: dict) -> OpenPair:
        rg = d.get("realised_gross_bps")
        return cls(
            d["pair_id"],
            d["pair"],
            PairLeg.from_doc(d["long"]),
            PairLeg.from_doc(d["short"]),
            d["opened_ts"],
            Decimal(d["planned_qty"]),
            Decimal(d["expected_net_bps"]),
            Decimal(d["expected_gross_bps"]),
            None if rg is None else Decimal(rg),
            Decimal(d.get("entry_ref_price", "0")),
            d.get("exit_reason", ""),
            d.get("meta", {}),
        )
