"""Maintenance margin from a venue's own tiers: Binance leverage brackets, OKX position tiers.

A position's maintenance margin grows with its size in steps the venue publishes:

    Binance  GET /fapi/v1/leverageBracket (signed)   brackets by notional (USDT):
             maintenance = notional x maintMarginRatio - cum   (cum: the bracket's deduction)
    OKX      GET /api/v5/public/position-tiers        tiers by position size (contracts; kept here
             in base units = contracts x ctVal):  maintenance = notional x mmr

Both are one `MarginSchedule` in the unified model: tiers bounded either by notional or by
base-unit quantity (`basis`), each with its rate, its deduction (0 on OKX) and its maximum
leverage. Pure: the venue adapters and the config loader build schedules, the margin-stress
breaker (`execution/breakers.py`) asks `maintenance` of each open position.

An instrument nobody published tiers for gets `derived_schedule`: one conservative tier (2.5 %,
about ten times Binance's first BTC bracket), logged by whoever uses it, as derived filters are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

NOTIONAL = "notional"
QTY = "qty"
DERIVED_MAINT_RATE = Decimal("0.025")
DERIVED_MAX_LEVERAGE = 20


@dataclass(frozen=True, slots=True)
class MarginTier:
    floor: Decimal  # where the tier starts (USDT notional or base qty, per the schedule's basis)
    cap: Decimal  # where it ends; 0 = no upper bound
    maint_rate: Decimal
    max_leverage: int
    cum: Decimal = Decimal(0)  # Binance's maintenance amount (deduction); 0 on OKX


@dataclass(frozen=True, slots=True)
class MarginSchedule:
    venue: str
    symbol: str
    basis: str  # NOTIONAL (Binance) | QTY (OKX, base units)
    tiers: tuple[MarginTier, ...]
    source: str = "venue"  # venue | config | derived
    float_tiers: tuple[tuple[float, float, float], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # (cap, rate, cum) as floats once, for `maintenance_f` at every market instant
        object.__setattr__(
            self, "float_tiers", tuple((float(t.cap), float(t.maint_rate), float(t.cum)) for t in self.tiers)
        )

    def tier_for(self, qty: Decimal, notional: Decimal) -> MarginTier:
        """The tier a position of this size falls in (beyond the last cap: the last tier)."""
        size = notional if self.basis == NOTIONAL else qty
        for tier in self.tiers:
            if tier.cap == 0 or size <= tier.cap:
                return tier
        return self.tiers[-1]

    def maintenance_f(self, qty: float, price: float) -> float:
        """`maintenance` in floats, for the breaker that checks it at every market instant."""
        notional = abs(qty) * price
        if notional <= 0:
            return 0.0
        size = notional if self.basis == NOTIONAL else abs(qty)
        tiers = self.float_tiers
        _, rate, cum = next((t for t in tiers if t[0] == 0.0 or size <= t[0]), tiers[-1])
        return max(notional * rate - cum, 0.0)

    def maintenance(self, qty: Decimal, price: Decimal) -> Decimal:
        """Maintenance margin (USDT) of one position of `qty` base units at `price`."""
        notional = abs(qty) * price
        if notional <= 0:
            return Decimal(0)
        tier = self.tier_for(abs(qty), notional)
        return max(notional * tier.maint_rate - tier.cum, Decimal(0))

    def to_doc(self) -> dict:
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "basis": self.basis,
            "source": self.source,
            "tiers": [
                {
                    "floor": str(t.floor),
                    "cap": str(t.cap),
                    "maint_rate": str(t.maint_rate),
                    "max_leverage": t.max_leverage,
                    "cum": str(t.cum),
                }
                for t in self.tiers
            ],
        }


def schedule(venue: str, symbol: str, basis: str, tiers: Iterable[MarginTier], source: str) -> MarginSchedule:
    """Tiers sorted by floor, checked: a rate in [0, 1), caps above floors, no overlap."""
    ordered = tuple(sorted(tiers, key=lambda t: t.floor))
    if basis not in (NOTIONAL, QTY):
        raise ValueError(f"{venue} {symbol}: margin tier basis {basis!r}: expected {NOTIONAL} or {QTY}")
    if not ordered:
        raise ValueError(f"{venue} {symbol}: no margin tiers")
    for i, t in enumerate(ordered):
        if not (Decimal(0) <= t.maint_rate < 1):
            raise ValueError(
                f"{venue} {symbol}: tier {i + 1} maintenance rate {t.maint_rate}: expected a rate in [0, 1)"
            )
        if t.cap and t.cap <= t.floor:
            raise ValueError(f"{venue} {symbol}: tier {i + 1} cap {t.cap} is not above its floor {t.floor}")
        if i and t.floor < ordered[i - 1].cap:
            raise ValueError(f"{venue} {symbol}: tier {i + 1} starts at {t.floor}, inside the previous tier")
        if i < len(ordered) - 1 and t.cap == 0:
            raise ValueError(f"{venue} {symbol}: tier {i + 1} has no cap but is not the last tier")
    return MarginSchedule(venue, symbol, basis, ordered, source)


def with_deductions(tiers: Sequence[MarginTier]) -> list[MarginTier]:
    """Binance-style deductions for tiers given without them (config): each tier's `cum` makes
    maintenance continuous at its floor, cum_k = cum_(k-1) + floor_k x (rate_k - rate_(k-1))."""
    out: list[MarginTier] = []
    cum = Decimal(0)
    for i, t in enumerate(sorted(tiers, key=lambda t: t.floor)):
        if i:
            cum += t.floor * (t.maint_rate - out[-1].maint_rate)
        out.append(MarginTier(t.floor, t.cap, t.maint_rate, t.max_leverage, cum))
    return out


def derived_schedule(venue: str, symbol: str) -> MarginSchedule:
    return MarginSchedule(
        venue,
        symbol,
        NOTIONAL,
        (MarginTier(Decimal(0), Decimal(0), DERIVED_MAINT_RATE, DERIVED_MAX_LEVERAGE),),
        "derived",
    )
