"""The per-symbol guards on an arbitrage entry's legs: the loop sends its own legs, so the guards
that vet the router's orders one symbol at a time (denylist, minimum notional) are asked here,
before each entry, through `vet` (built in `execution/assembly.py` from the engine's guards:
`execution.guard.hedge_leg_vetoes`, the guards' own rules). Each refusal is a named preflight
reason `<guard>: <why>`. Exits and rescues never come here (risk reduction always goes).

The funding guard's side rule is not asked: a hedged pair pays on one leg what it receives on
the other, and the edge already prices the next funding window (docs/RISK_AND_GUARDS.md).

A refusal is decided on every qualifying book update; `decided` writes one `[arb] GUARD` line
when the set of guards refusing a pair's entries changes, not one per update."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from execution.arb.edge import Edge
from execution.logs import EventLog

Leg = tuple[str, str, Decimal]  # venue, symbol, notional (USDT)
LegVet = Callable[[Sequence[Leg]], list[tuple[str, str]]]  # -> (guard name, why) per refusal


def legs_of(edge: Edge) -> list[Leg]:
    """Both legs of the entry at their expected prices."""
    return [
        (edge.long_venue, edge.long_symbol, edge.size * edge.long_price),
        (edge.short_venue, edge.short_symbol, edge.size * edge.short_price),
    ]


class LegGuards:
    def __init__(self, vet: LegVet | None, log: EventLog):
        self.vet = vet
        self.log = log
        self.names: set[str] = set()  # every guard name that has refused a leg (to tell its reasons apart)
        self.refusing: dict[str, tuple[str, ...]] = {}  # pair -> guards refusing its entries, as last logged

    def reasons(self, edge: Edge) -> list[str]:
        """`<guard>: <why>` for each leg a guard refuses (pure: previews ask too)."""
        if self.vet is None:
            return []
        vetoes = self.vet(legs_of(edge))
        self.names.update(name for name, _ in vetoes)
        return [f"{name}: {why}" for name, why in vetoes]

    def decided(self, pair: str, reasons: list[str]) -> None:
        """An entry decision on `pair` with its preflight reasons: one line when the guards that
        refuse it change (refusing, or no longer refusing)."""
        mine = [r for r in reasons if r.split(":", 1)[0] in self.names]
        now = tuple(sorted({r.split(":", 1)[0] for r in mine}))
        was = self.refusing.get(pair, ())
        if now == was:
            return
        self.refusing[pair] = now
        if now:
            self.log.info("[arb] GUARD %s entries refused: %s", pair, "; ".join(mine))
        else:
            self.log.info("[arb] GUARD %s entries no longer refused by %s", pair, ", ".join(was))
