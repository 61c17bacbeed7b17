"""Minimum notional: an entry worth less than MIN_NOTIONAL_BLOCK_USD is refused.

The venues' own minimum (5 USDT on Binance) only stops orders the venue would reject; this one
stops positions too small to be worth their fees and their stop (a sizer that shrank an entry to
a sliver, a cap almost used up), the screener's and each leg of an arbitrage pair's entry alike.
Exits are never refused.
"""

from __future__ import annotations

from decimal import Decimal

from execution.guard import BaseGuard, GuardContext
from execution.models import Intent


class MinNotionalGuard(BaseGuard):
    name = "min_notional"

    def __init__(self, min_usd: Decimal):
        self.min_usd = min_usd
        self.refused = 0

    def too_small(self, notional: Decimal) -> str | None:
        """The rule, for the router's orders and the arbitrage loop's legs alike."""
        if notional >= self.min_usd:
            return None
        return f"notional {notional:.2f} USDT below MIN_NOTIONAL_BLOCK_USD {self.min_usd}"

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        why = self.too_small(intent.quantity * intent.ref_price) if intent.ref_price > 0 else None
        if why is not None:
            self.refused += 1
        return why

    def vet_hedge_leg(self, venue: str, symbol: str, notional_usdt: Decimal) -> str | None:
        """A leg of no size is the preflight's `size` reason, not this guard's."""
        why = self.too_small(notional_usdt) if notional_usdt > 0 else None
        return f"{venue} {symbol} leg {why}" if why else None

    def status(self) -> dict | None:
        if not self.refused:
            return None
        return {"active": False, "min_notional_usd": float(self.min_usd), "refused": self.refused}

    def snapshot(self) -> dict:
        return {"refused": self.refused}

    def restore(self, snap: dict) -> None:
        self.refused = int(snap.get("refused", 0))
