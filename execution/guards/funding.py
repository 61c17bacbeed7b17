"""Funding guard: keep the fund off the side that pays a funding spike.

Per symbol it keeps the best estimate of the *next* funding rate and when it settles:
    live feeds   the venue's own estimate (mark price / funding-rate stream, `MarkUpdate`) and
                 its next funding time
    otherwise    the last settled rate (funding is persistent from one window to the next) and
                 the last settlement + the observed interval (8 h until two were seen)
A positive rate is paid by longs, a negative one by shorts.

    vet          an entry on the paying side is refused while |rate| >= FUNDING_GUARD_BPS
    cycle end    an open leg on the paying side with |rate| >= FUNDING_GUARD_TRIM_BPS is trimmed by
                 FUNDING_GUARD_TRIM_PCT % (100: closed) within FUNDING_GUARD_TRIM_LEAD_MINUTES of the
                 funding time, once per funding time, with a reduce-only order journaled with the
                 rate it saw (`funding_trim` in the trade log, a `guard` incident, an ops alert)

Only the part of a position no strategy claims is trimmed (the screener's; an arbitrage leg is
hedged on the other venue and belongs to its pair). The fill goes back to `owner` (the screener),
which forgets a trade that was closed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import Decimal

from execution.feeds.events import Event, FundingSettled, MarkUpdate
from execution.filters import round_qty
from execution.guard import BaseGuard, GuardContext, report
from execution.guards import utc
from execution.models import Intent, OrderType, PositionSide
from execution.settings import GuardLimits

DEFAULT_INTERVAL_MS = 8 * 3_600_000
MAX_INTERVAL_MS = 24 * 3_600_000


@dataclass
class NextFunding:
    rate: float = 0.0
    source: str = ""  # "venue estimate" | "last settlement"
    next_ms: int = 0
    settled_ts: int = 0
    interval_ms: int = DEFAULT_INTERVAL_MS
    estimate_ts: int = 0

    @property
    def bps(self) -> float:
        return self.rate * 10_000

    @property
    def payer(self) -> PositionSide | None:
        return PositionSide.LONG if self.rate > 0 else PositionSide.SHORT if self.rate < 0 else None


class FundingGuard(BaseGuard):
    name = "funding"

    def __init__(self, limits: GuardLimits, owner: str, after_ts: int = 0):
        self.after_ts = after_ts  # a resumed run's events up to here were seen before the snapshot
        self.entry_bps = limits.funding_bps
        self.trim_bps = limits.funding_trim_bps
        self.trim_pct = Decimal(str(limits.funding_trim_pct))
        self.lead_ms = int(limits.funding_trim_lead_minutes * 60_000)
        self.owner = owner
        self.next: dict[tuple[str, str], NextFunding] = {}
        self.trimmed: dict[str, int] = {}  # "venue:symbol:SIDE" -> funding time already trimmed for
        self.refused = 0
        self.trims = 0

    # -- what the market says -----------------------------------------------------------------
    observes = (FundingSettled, MarkUpdate)  # what `observe` reads: the engine skips the candles

    def observe(self, ev: Event, ctx: GuardContext) -> None:
        if isinstance(ev, FundingSettled):
            if ev.ts <= self.after_ts:
                return
            n = self.next.setdefault((ev.venue, ev.symbol), NextFunding())
            if n.settled_ts and 0 < ev.ts - n.settled_ts <= MAX_INTERVAL_MS:
                n.interval_ms = ev.ts - n.settled_ts
            n.settled_ts = ev.ts
            if n.source != "venue estimate" or n.estimate_ts < ev.ts:  # no fresher word from the venue
                n.rate, n.source, n.next_ms = ev.rate, "last settlement", ev.ts + n.interval_ms
        elif isinstance(ev, MarkUpdate) and ev.funding_rate is not None and ev.ts > self.after_ts:
            n = self.next.setdefault((ev.venue, ev.symbol), NextFunding())
            n.rate, n.source, n.estimate_ts = ev.funding_rate, "venue estimate", ev.ts
            if ev.next_funding_ms:
                n.next_ms = ev.next_funding_ms

    # -- entries ------------------------------------------------------------------------------
    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        n = self.next.get((intent.venue, intent.symbol))
        if n is None or n.payer is not intent.position_side or abs(n.bps) < self.entry_bps:
            return None
        self.refused += 1
        return (
            f"next funding {n.bps:+.2f} bps ({n.source}) at/above FUNDING_GUARD_BPS {self.entry_bps:g}: "
            f"{n.payer.value} pays"
        )

    # -- open legs ----------------------------------------------------------------------------
    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        if not ctx.ledger.positions or not any(abs(n.bps) >= self.trim_bps for n in self.next.values()):
            return
        for venue, symbol, pside in list(ctx.ledger.positions):
            n = self.next.get((venue, symbol))
            if n is None or n.payer is not pside or abs(n.bps) < self.trim_bps:
                continue
            if not (n.next_ms - self.lead_ms <= ts < n.next_ms):
                continue
            key = f"{venue}:{symbol}:{pside.value}"
            if self.trimmed.get(key) == n.next_ms or ctx.working_on(venue, symbol):
                continue  # done for this funding time, or an order on it is not final yet
            self._trim(ts, ctx, venue, symbol, pside, n, key)

    def _trim(
        self, ts: int, ctx: GuardContext, venue: str, symbol: str, pside: PositionSide, n: NextFunding, key: str
    ) -> None:
        held = ctx.held_by(self.name, venue, symbol, pside)  # what no strategy claims as its own
        self.trimmed[key] = n.next_ms
        qty = held
        if self.trim_pct < 100:
            qty = round_qty(held * self.trim_pct / 100, ctx.venues[venue].filters(symbol), OrderType.MARKET)
        if qty <= 0:
            return
        mark = ctx.ledger.marks.get((venue, symbol), Decimal(0))
        meta = {"funding_rate": n.rate, "funding_time_ms": n.next_ms}
        intent = Intent.closing(venue, symbol, pside, qty, ts, "funding_trim", "funding-trim", mark, meta)
        cid = ctx.submit(intent, purpose="funding_trim", owner=self.owner)
        self.trims += 1
        report(
            ctx,
            self.name,
            "TRIM",
            ts,
            f"{venue} {symbol} {pside.value}: {'closing' if qty == held else 'trimming'} {qty} of {held} before the "
            f"funding at {utc(n.next_ms)}; next rate {n.bps:+.2f} bps ({n.source}) at/above FUNDING_GUARD_TRIM_BPS "
            f"{self.trim_bps:g}",
            venue=venue,
            symbol=symbol,
            position_side=pside.value,
            qty=str(qty),
            held=str(held),
            funding_rate=n.rate,
            funding_time_ms=n.next_ms,
            rate_source=n.source,
            client_order_id=cid or "",
        )

    # -- state --------------------------------------------------------------------------------
    def blocking(self) -> list[str]:
        return sorted(
            f"{v}:{s} {n.payer.value} ({n.bps:+.2f} bps)"
            for (v, s), n in self.next.items()
            if n.payer is not None and abs(n.bps) >= self.entry_bps
        )

    def status(self) -> dict | None:
        if not self.next:
            return None
        blocking = self.blocking()
        out: dict = {
            "active": bool(blocking),
            "next_rates_bps": {f"{v}:{s}": round(n.bps, 4) for (v, s), n in sorted(self.next.items())},
            "entry_bps": self.entry_bps,
            "trim_bps": self.trim_bps,
            "refused": self.refused,
            "trims": self.trims,
        }
        if blocking:
            out["reason"] = "no entries on the paying side of " + ", ".join(blocking)
        return out

    def snapshot(self) -> dict:
        return {
            "next": [[v, s, asdict(n)] for (v, s), n in self.next.items()],
            "trimmed": self.trimmed,
            "refused": self.refused,
            "trims": self.trims,
        }

    def restore(self, snap: dict) -> None:
        self.next = {(v, s): NextFunding(**n) for v, s, n in snap.get("next", [])}
        self.trimmed = dict(snap.get("trimmed", {}))
        self.refused = int(snap.get("refused", 0))
        self.trims = int(snap.get("trims", 0))
