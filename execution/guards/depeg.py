"""Depeg guard: the fund's books are in USDT; when the peg wobbles, no new risk.

It watches a reference market (`DEPEG_REFERENCE`, default binance_um:USDCUSDT: another
dollar stablecoin quoted in USDT), from its candles, book tops or mark price. The price is 1
when both hold their peg; a move either way beyond `DEPEG_BPS` (USDT losing value shows as the
pair going *up*; a USDC wobble shows too, and is not told apart: either way the unit of account
is in doubt) holds every new risk (screener entries and arbitrage entries; exits still go) and
raises an alert. It clears by itself once the price has stayed inside for `DEPEG_CLEAR_MINUTES`
(measured from the last observation outside), with another alert.

A market without the reference series (a recorded directory that lacks it) runs with the guard
idle, said once at start and shown in its status; a feed that has it but has not sent a price
yet leaves it waiting (not holding).
"""

from __future__ import annotations

from execution import logs
from execution.feeds.events import BookUpdate, CandleClosed, Event, MarkUpdate
from execution.guard import BaseGuard, GuardContext, report
from execution.guards import utc
from execution.models import Intent
from execution.settings import GuardLimits


class DepegGuard(BaseGuard):
    name = "depeg"

    def __init__(self, limits: GuardLimits, available: bool | None = None, after_ts: int = 0):
        self.after_ts = after_ts  # a resumed run's events up to here were seen before the snapshot
        self.reference = limits.depeg_reference
        self.ref_venue, self.ref_symbol = self.reference
        self.threshold_bps = limits.depeg_bps
        self.clear_ms = int(limits.depeg_clear_minutes * 60_000)
        self.idle = "" if available is not False else f"no {self.ref_name} series in this market data"
        self.active = False
        self.since_ts = 0
        self.last_outside_ts = 0
        self.price: float | None = None
        self.price_ts = 0
        self.worst_bps = 0.0
        if self.idle:
            logs.get().warning(
                "[risk] GUARD depeg IDLE: %s; the USDT peg is not watched on this run (DEPEG_REFERENCE)", self.idle
            )

    @property
    def ref_name(self) -> str:
        return f"{self.reference[0]}:{self.reference[1]}"

    @property
    def deviation_bps(self) -> float | None:
        return None if self.price is None else (self.price - 1.0) * 10_000

    # -- the reference price ------------------------------------------------------------------
    def observe(self, ev: Event, ctx: GuardContext) -> None:
        if ev.symbol != self.ref_symbol or ev.venue != self.ref_venue or ev.ts <= self.after_ts:
            return
        if isinstance(ev, CandleClosed):
            price = ev.close
        elif isinstance(ev, BookUpdate):
            price = (ev.bid + ev.ask) / 2
        elif isinstance(ev, MarkUpdate) and ev.mark is not None:
            price = ev.mark
        else:
            return
        if not price > 0:
            return
        self.price, self.price_ts = price, ev.ts
        dev = (price - 1.0) * 10_000
        if abs(dev) >= self.threshold_bps:
            self.last_outside_ts = ev.ts
            if self.active and abs(dev) > abs(self.worst_bps):
                self.worst_bps = dev
            if not self.active:
                self.active, self.since_ts, self.worst_bps = True, ev.ts, dev
                report(
                    ctx,
                    self.name,
                    "ON",
                    ev.ts,
                    f"{self.ref_name} at {price:.5f} ({dev:+.1f} bps from 1) beyond DEPEG_BPS {self.threshold_bps:g}: "
                    f"new risk held until it is back inside for {self.clear_ms // 60_000} min",
                    reference=self.ref_name,
                    price=price,
                    deviation_bps=round(dev, 2),
                )
        elif self.active and ev.ts - self.last_outside_ts >= self.clear_ms:
            self.active = False
            report(
                ctx,
                self.name,
                "OFF",
                ev.ts,
                f"{self.ref_name} back at {price:.5f} ({dev:+.1f} bps) since {utc(self.last_outside_ts)}: new risk "
                f"allowed again (held since {utc(self.since_ts)}, worst {self.worst_bps:+.1f} bps)",
                reference=self.ref_name,
                price=price,
                deviation_bps=round(dev, 2),
            )

    # -- new risk -----------------------------------------------------------------------------
    def holds_new_risk(self) -> str:
        if not self.active:
            return ""
        return f"depeg: {self.ref_name} {self.deviation_bps or 0:+.1f} bps from 1 (DEPEG_BPS {self.threshold_bps:g})"

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        return self.holds_new_risk() or None

    # -- state --------------------------------------------------------------------------------
    def status(self) -> dict | None:
        dev = self.deviation_bps
        out: dict = {
            "active": self.active,
            "reference": self.ref_name,
            "price": self.price,
            "deviation_bps": None if dev is None else round(dev, 2),
            "threshold_bps": self.threshold_bps,
            "price_ts": self.price_ts,
        }
        if self.idle:
            out["idle"] = self.idle
        elif self.price is None:
            out["note"] = "no reference price yet"
        if self.active:
            out["reason"] = self.holds_new_risk()
            out["since_ms"] = self.since_ts
            out["clears_at_ms"] = self.last_outside_ts + self.clear_ms
        return out

    def snapshot(self) -> dict:
        return {
            "active": self.active,
            "since_ts": self.since_ts,
            "last_outside_ts": self.last_outside_ts,
            "price": self.price,
            "price_ts": self.price_ts,
            "worst_bps": self.worst_bps,
        }

    def restore(self, snap: dict) -> None:
        self.active = bool(snap.get("active", False))
        self.since_ts = int(snap.get("since_ts", 0))
        self.last_outside_ts = int(snap.get("last_outside_ts", 0))
        self.price = snap.get("price")
        self.price_ts = int(snap.get("price_ts", 0))
        self.worst_bps = float(snap.get("worst_bps", 0.0))
