"""The rescue plan (pure): which closing orders bring a pair back to a hedged state.

After the legs of an attempt are final, the pair may hold more on one venue than on the
other (a leg rejected, partially filled, lost, or a close that failed). The plan closes the
difference at once, with market orders on the leg's own position side (reduce-only intent;
a Binance hedge-mode adapter sends positionSide and no reduceOnly flag):

- `reject_if_unhedged` keeps the hedged part: both legs go to the largest quantity legal on
  both venues that is <= the smaller leg;
- `flatten_all` (and every exit) closes both legs completely.

A quantity a venue cannot trade (below its minimum after rounding) is reported as residual,
never rounded up into a bigger position. `start_round` turns a plan into the attempt's next
rescue round (recorded, alerted, its closing orders); the runner sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execution.arb.attempt import Attempt, LegOrder, Phase, close_request
from execution.arb.book import OpenPair, PairLeg
from execution.arb.edge import common_qty
from execution.filters import round_qty
from execution.models import OrderType, SymbolFilters

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class RescueOrder:
    leg: str  # "long" | "short"
    venue: str
    symbol: str
    qty: Decimal

    def doc(self, pair: OpenPair) -> dict:
        leg = pair.long if self.leg == "long" else pair.short
        return {
            "leg": self.leg,
            "venue": self.venue,
            "symbol": self.symbol,
            "side": leg.position_side.closing_side.value,
            "position_side": leg.position_side.value,
            "qty": str(self.qty),
            "type": "MARKET",
            "reduce_only": True,
        }


@dataclass(frozen=True, slots=True)
class RescuePlan:
    target_qty: Decimal
    orders: tuple[RescueOrder, ...]
    residual: tuple[str, ...]  # legs whose excess no venue order can close

    @property
    def needed(self) -> bool:
        return bool(self.orders)


def _closable(leg: PairLeg, qty: Decimal, f: SymbolFilters) -> bool:
    return qty > 0 and round_qty(qty, f, OrderType.MARKET) == qty and qty >= f.min_qty


def plan_rescue(pair: OpenPair, filters: dict[str, SymbolFilters], policy: str, close_all: bool = False) -> RescuePlan:
    """`filters` by leg name ("long", "short")."""
    fl, fs = filters["long"], filters["short"]
    target = ZERO
    if not close_all and policy == "reject_if_unhedged":
        target = common_qty(min(pair.long.qty, pair.short.qty), fl, fs)
        if target < fl.min_qty or target < fs.min_qty:
            target = ZERO
    for _ in range(2):
        orders, residual = [], []
        for name, leg, f in (("long", pair.long, fl), ("short", pair.short, fs)):
            excess = leg.qty - target
            if excess <= 0:
                continue
            if _closable(leg, excess, f):
                orders.append(RescueOrder(name, leg.venue, leg.symbol, excess))
            else:
                residual.append(f"{name}:{leg.venue}:{leg.symbol}:{excess}")
        if not residual or target == ZERO:
            return RescuePlan(target, tuple(orders), tuple(residual))
        target = ZERO  # an excess too small to trade: close the whole pair instead
    return RescuePlan(target, tuple(orders), tuple(residual))


def start_round(a: Attempt, filters: dict[str, SymbolFilters], policy: str, now: int) -> list[LegOrder]:
    """The attempt's next rescue round: planned, recorded in `rescue_plans`, a second round or a
    residual raised as an alert, and its closing orders returned for the runner to send (none:
    the pair needs nothing more and the attempt goes HEDGED -> DONE). `filters` by leg name."""
    pair = a.pair
    plan: RescuePlan = plan_rescue(pair, filters, policy, close_all=a.kind == "exit")
    a.rescue_round += 1
    a.rescue_plans.append(
        {
            "round": a.rescue_round,
            "ts": now,
            "target_qty": str(plan.target_qty),
            "orders": [o.doc(pair) for o in plan.orders],
            "residual": list(plan.residual),
        }
    )
    if a.rescue_round > 1:
        a.note(
            f"rescue round {a.rescue_round - 1} left the pair unbalanced "
            f"(long {pair.long.qty}, short {pair.short.qty})",
            "ERROR",
        )
        if a.rescue_round == 2:
            a.alerts.append(("arb_rescue_failed", f"{a.attempt_id}: long {pair.long.qty} short {pair.short.qty}"))
    if plan.residual:
        a.note(f"rescue round {a.rescue_round}: residual no venue order can close: {list(plan.residual)}", "ERROR")
        a.alerts.append(("arb_residual", f"{a.attempt_id}: {list(plan.residual)}"))
    if not plan.needed:
        a.to(Phase.HEDGED, now)
        a.to(Phase.DONE, now)
        return []
    a.note(
        f"rescue round {a.rescue_round}: close {[(o.venue, o.symbol, str(o.qty)) for o in plan.orders]} "
        f"-> target {plan.target_qty} per leg",
        "WARN",
    )
    new = []
    for o in plan.orders:
        leg = pair.long if o.leg == "long" else pair.short
        name = f"rescue{a.rescue_round}:{o.leg}"
        new.append(LegOrder(name, o.leg, close_request(a.attempt_id, name, leg, o.qty, a.rescue_round)))
    a.rescues.extend(new)
    return new
