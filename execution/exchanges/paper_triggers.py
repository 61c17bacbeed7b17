"""The paper venue's trigger orders: which resting stop-loss / take-profit a bar or a book top
fires, and from which price its market order starts. Pure; the paper venue books the fills.

A sell stop (closing a LONG) fires when the price falls to it, a sell take-profit when it rises
to it; buy orders (closing a SHORT) mirror that. Inside a 15-minute bar only the range is known:
a bar that opens beyond the trigger gapped through it and the order fills from the open; one
whose range reaches it fills from the trigger. When a bar reaches both the stop and the
take-profit of one position the stop is taken first (the order inside the bar is unknown: the
cautious answer). Slippage and the bar's [low, high] cap are the venue's (`PaperVenue`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from execution.models import Side
from execution.triggers import TriggerOrder, TriggerStatus


def falls_to(side: Side, kind: str) -> bool:
    """True when the order fires on a falling price (sell stop, buy take-profit)."""
    return (side is Side.SELL) == (kind == "stop")


def bar_fire(side: Side, kind: str, trigger: Decimal, o: Decimal | None, h: Decimal, lo: Decimal) -> Decimal | None:
    """The price the triggered market order starts from, or None when the bar does not reach it.
    `o` None: the order was placed inside the bar after its open (no gap to consider)."""
    if falls_to(side, kind):
        if o is not None and o <= trigger:
            return o
        return trigger if lo <= trigger else None
    if o is not None and o >= trigger:
        return o
    return trigger if h >= trigger else None


def touched(side: Side, kind: str, trigger: Decimal, price: Decimal) -> bool:
    """A live price (the mark: mid of the book) has reached the trigger."""
    return price <= trigger if falls_to(side, kind) else price >= trigger


def would_fire_now(side: Side, kind: str, trigger: Decimal, price: Decimal) -> bool:
    """Placing it now would fire at once (the venues refuse that: Binance -2021)."""
    return touched(side, kind, trigger, price)


@dataclass(slots=True)
class PaperTrigger:
    order: TriggerOrder
    intent_id: str
    placed_ts: int
    checks: tuple[tuple[str, Decimal, bool], ...] = ()  # (kind, price, fires on a fall), the stop first

    def __post_init__(self) -> None:
        side = self.order.side
        assert side is not None
        legs = [("stop", self.order.stop_price), ("take", self.order.take_price)]
        self.checks = tuple((kind, price, falls_to(side, kind)) for kind, price in legs if price is not None)

    def to_doc(self) -> dict:
        return {"order": self.order.to_doc(), "intent_id": self.intent_id, "placed_ts": self.placed_ts}

    @classmethod
    def from_doc(cls, d: dict) -> PaperTrigger:
        return cls(TriggerOrder.from_doc(d["order"]), d["intent_id"], int(d["placed_ts"]))


@dataclass
class TriggerBook:
    """Resting triggers of the paper account, and the final ones (kept for queries)."""

    resting: list[PaperTrigger] = field(default_factory=list)
    final: dict[str, PaperTrigger] = field(default_factory=dict)
    symbols: dict[str, int] = field(default_factory=dict)  # resting triggers per symbol (the hot path asks)
    FINAL_KEPT = 200

    def add(self, t: PaperTrigger) -> None:
        self.resting.append(t)
        self.symbols[t.order.symbol] = self.symbols.get(t.order.symbol, 0) + 1

    def find(self, client_id: str) -> PaperTrigger | None:
        for t in self.resting:
            if t.order.client_id == client_id:
                return t
        return self.final.get(client_id)

    def retire(self, t: PaperTrigger, status: TriggerStatus, ts: int, reason: str = "") -> None:
        t.order.status, t.order.update_ms, t.order.reason = status, ts, reason
        self.resting = [r for r in self.resting if r is not t]
        left = self.symbols.get(t.order.symbol, 0) - 1
        if left > 0:
            self.symbols[t.order.symbol] = left
        else:
            self.symbols.pop(t.order.symbol, None)
        self.final[t.order.client_id] = t
        if len(self.final) > 2 * self.FINAL_KEPT:
            for cid in list(self.final)[: -self.FINAL_KEPT]:
                del self.final[cid]

    def due_on_bar(
        self, symbol: str, o: Decimal | None, h: Decimal, lo: Decimal, only: PaperTrigger | None = None
    ) -> list[tuple[PaperTrigger, str, Decimal]]:
        """(trigger, kind fired, start price) for every resting trigger of `symbol` the bar reaches,
        stops before take-profits."""
        fired: list[tuple[PaperTrigger, str, Decimal]] = []
        for t in self.resting if only is None else [only]:
            if t.order.symbol != symbol:
                continue
            for kind, price, falls in t.checks:  # bar_fire, inlined: this runs on every bar of a position
                if falls:
                    start = o if o is not None and o <= price else price if lo <= price else None
                else:
                    start = o if o is not None and o >= price else price if h >= price else None
                if start is not None:
                    fired.append((t, kind, start))
                    break
        if len(fired) > 1:
            fired.sort(key=lambda x: x[1] != "stop")
        return fired

    def due_on_mark(self, symbol: str, mark: Decimal) -> list[tuple[PaperTrigger, str]]:
        out: list[tuple[PaperTrigger, str]] = []
        for t in self.resting:
            if t.order.symbol != symbol:
                continue
            for kind, price, falls in t.checks:
                if (mark <= price) if falls else (mark >= price):
                    out.append((t, kind))
                    break
        out.sort(key=lambda x: x[1] != "stop")
        return out

    def snapshot(self) -> dict:
        return {
            "resting": [t.to_doc() for t in self.resting],
            "final": [t.to_doc() for t in list(self.final.values())[-self.FINAL_KEPT :]],
        }

    @classmethod
    def restore(cls, snap: dict | None) -> TriggerBook:
        book = cls()
        if snap:
            for d in snap.get("resting", []):
                book.add(PaperTrigger.from_doc(d))
            book.final = {t.order.client_id: t for t in (PaperTrigger.from_doc(d) for d in snap.get("final", []))}
        return book
