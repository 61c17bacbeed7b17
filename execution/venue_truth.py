"""Venue truth on testnet/live: the venues' equity is the NAV, the ledger is checked against it.

`VenueTruth` is the collaborator `build_engine` adds on exchange profiles. As a guard it reads
every venue through the `VenueReconciler` at start (before anything trades) and then every
`RECONCILE_INTERVAL_S` of wall time, booking what the venues' history says the journal lacks
(funding, transfers, missed fills). After each reading it measures the drift: the ledger's NAV
(at the venues' marks, off-venue cash aside) minus the venues' equity. Beyond
NAV_DRIFT_TOLERANCE_USDT / _PCT (the wider bound) a second reading a few seconds later confirms it
(a deposit landing between two requests is not a drift), then an ops alert, and with
NAV_DRIFT_HOLD a HOLD breaker (new risk held until a two-man resume; the drift at that moment
counts as acknowledged, and trips again only if it moves further than the tolerance).

As the NAV source it reports the venues' equity (plus off-venue cash), carried between readings
by what the ledger books (ledger NAV minus the last drift). Under DRY_RUN_MODE the money is
simulated: the ledger stays the NAV, the venues' equity is shown beside it, nothing is booked
from the venues and no drift is judged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol, cast

from execution import logs
from execution.exchanges.errors import VenueError
from execution.guard import BaseGuard, GuardContext
from execution.ledger import Ledger
from execution.nav_source import flow_fields
from execution.venue_match import Reading, beyond, drift, ledger_on_venues
from execution.venue_reconciler import BookingPort, VenueReconciler

ZERO = Decimal(0)
CONFIRM_MS = 5_000  # a drift is confirmed by a second reading this long after the first


class TruthPort(BookingPort, Protocol):
    wall_ms: Callable[[], int]

    def trip(self, breaker: str, detail: str, ts: int) -> None: ...


class VenueTruth(BaseGuard):
    name = "venue_truth"

    def __init__(
        self,
        reconciler: VenueReconciler,
        *,
        interval_ms: int,
        tolerance_usdt: Decimal,
        tolerance_pct: Decimal,
        hold: bool,
        simulated: bool = False,
        confirm_ms: int = CONFIRM_MS,
    ):
        self.reconciler = reconciler
        self.interval_ms = interval_ms
        self.tolerance_usdt = tolerance_usdt
        self.tolerance_pct = tolerance_pct
        self.hold = hold
        self.simulated = simulated
        self.confirm_ms = confirm_ms
        self.readings: dict[str, Reading] = {}
        self.unreadable: dict[str, str] = {}
        self.drift: Decimal | None = None
        self.checked_at_ms = 0
        self.suspect_since_ms = 0
        self.latched: Decimal | None = None  # the drift a trip (or alert) was raised for
        self.next_run_ms = 0
        self.log = logs.get()

    # -- start ---------------------------------------------------------------------------------
    def start(self, port: TruthPort, now: int, state_dir: Path | None = None, snap_seq: int = 0) -> None:
        """Before anything trades: index the journal (re-applying what followed the snapshot) and
        read every venue. The venues' trades are compared at the first reading after the
        strategies' first cycle (a few seconds on): the executor's own machinery (a protective
        order's fill found by the stop validator) books what it knows first, with its purpose."""
        port.journals.watch("trades", self.reconciler.index)
        if state_dir is not None and self.reconciler.booking:
            self.reconciler.adopt(state_dir, snap_seq, port)
        self.reconciler.trade_check_due |= set(self.reconciler.venues)
        self.run(port, now, trades=False)  # trades a few seconds later: the executor's own orders first
        self.next_run_ms = min(self.next_run_ms, now + self.confirm_ms)
        equity = self.equity
        self.log.info(
            "[state] venue truth at start: venues' equity %s USDT, ledger NAV %s USDT, drift %s%s",
            f"{equity:.2f}" if equity is not None else "unknown",
            f"{port.ledger.nav():.2f}",
            f"{self.drift:+.2f} USDT" if self.drift is not None else "not judged",
            " (DRY_RUN: simulated money)" if self.simulated else "",
        )

    def seed(self, readings: Mapping[str, Reading], now: int) -> None:
        """The readings a first start opened the books from."""
        self.readings.update(readings)
        self.checked_at_ms = now

    # -- the guard -----------------------------------------------------------------------------
    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        port = cast(TruthPort, ctx)  # the engine is the only guard context
        now = port.wall_ms()
        if now >= self.next_run_ms:
            self.run(port, now)

    def run(self, port: TruthPort, now: int, trades: bool = True) -> None:
        """Read (and book from) every venue, then judge the drift."""
        for name in self.reconciler.venues:
            try:
                self.readings[name] = self.reconciler.run(name, port, now, trades)
            except VenueError as exc:
                self._unreadable(port, name, f"code={exc.code} {exc.message}", now)
                continue
            if self.unreadable.pop(name, None) is not None:
                self.log.info("[state] venue truth: %s answers again", name)
        self.next_run_ms = now + self.interval_ms
        if self.simulated or self.unreadable or len(self.readings) < len(self.reconciler.venues):
            return
        self.drift = drift(port.ledger, list(self.readings.values()))
        self.checked_at_ms = now
        self._judge(port, now)

    def _unreadable(self, port: TruthPort, name: str, why: str, now: int) -> None:
        if name not in self.unreadable:
            self.log.error("[state] venue truth: %s could not be read (%s); NAV carried by the ledger", name, why)
            port.alert(f"venue_truth:unreadable:{name}:{now}", port.cycle_ts, "reconcile", f"{name} unreadable: {why}")
        self.unreadable[name] = why

    def _judge(self, port: TruthPort, now: int) -> None:
        assert self.drift is not None
        equity = self.equity or ZERO
        bound = max(self.tolerance_usdt, abs(equity) * self.tolerance_pct / 100)
        if not beyond(self.drift, equity, self.tolerance_usdt, self.tolerance_pct):
            if self.suspect_since_ms or self.latched is not None:
                self.log.info("[state] venue truth: drift %+.2f USDT back within tolerance", self.drift)
            self.suspect_since_ms, self.latched = 0, None
            return
        if self.latched is not None and abs(self.drift - self.latched) <= bound:
            return  # raised already (and, after a resume, acknowledged)
        if not self.suspect_since_ms:
            self.suspect_since_ms = now
            self.next_run_ms = now + self.confirm_ms
            self.log.warning(
                "[risk] NAV drift %+.2f USDT beyond tolerance %.2f: confirming with another reading", self.drift, bound
            )
            return
        self.latched, self.suspect_since_ms = self.drift, 0
        ledger_nav = ledger_on_venues(port.ledger, list(self.readings.values()))
        detail = (
            f"ledger {ledger_nav:.2f} vs venues' equity {equity:.2f} USDT: drift {self.drift:+.2f} USDT "
            f"({self.drift_pct:+.3f}%) beyond tolerance {bound:.2f}"
        )
        if self.hold:
            port.trip("nav_drift", detail, port.cycle_ts)
        else:
            port.alert(f"nav_drift:{now}", port.cycle_ts, "risk", f"NAV drift: {detail} (NAV_DRIFT_HOLD=false)")
        self.log.error("[risk] NAV drift confirmed: %s", detail)

    # -- figures -------------------------------------------------------------------------------
    @property
    def equity(self) -> Decimal | None:
        if not self.readings:
            return None
        return sum((r.equity for r in self.readings.values()), ZERO)

    @property
    def drift_pct(self) -> float:
        equity = self.equity
        if self.drift is None or not equity:
            return 0.0
        return float(self.drift / equity * 100)

    def nav(self, ledger: Ledger) -> Decimal:
        """The venues' equity (and off-venue cash), carried by the ledger since the last reading."""
        if self.simulated or self.drift is None:
            return ledger.nav()
        return ledger.nav() - self.drift

    def nav_float(self, ledger: Ledger) -> float:
        if self.simulated or self.drift is None:
            return ledger.nav_float()
        return ledger.nav_float() - float(self.drift)

    def fields(self, ledger: Ledger) -> dict[str, Any]:
        judged = not self.simulated and self.drift is not None
        return {
            "nav_source": "ledger (simulated)" if self.simulated else "venues" if judged else "ledger",
            "ledger_nav": ledger.nav(),
            "venue_equity": self.equity,
            "venues": {name: r.doc() for name, r in sorted(self.readings.items())},
            "venues_unreadable": dict(self.unreadable),
            "nav_drift_usdt": self.drift if judged else None,
            "nav_drift_pct": round(self.drift_pct, 6) if judged else None,
            "nav_drift_checked_at_ms": self.checked_at_ms,
            "nav_drift_tolerance": {"usdt": self.tolerance_usdt, "pct": self.tolerance_pct, "hold": self.hold},
            **flow_fields(ledger),
        }

    def status(self) -> dict | None:
        out_of_tolerance = self.latched is not None or self.suspect_since_ms
        if not out_of_tolerance and not self.unreadable:
            return None
        reason = (
            f"NAV drift {self.drift:+.2f} USDT beyond tolerance"
            if out_of_tolerance and self.drift is not None
            else f"venue(s) unreadable: {', '.join(sorted(self.unreadable))}"
        )
        return {
            "active": True,
            "reason": reason,
            "drift_usdt": self.drift,
            "confirmed": self.latched is not None,
            "unreadable": sorted(self.unreadable),
        }

    # -- persistence ---------------------------------------------------------------------------
    def snapshot(self) -> dict:
        return {
            "reconciler": self.reconciler.snapshot(),
            "drift": str(self.drift) if self.drift is not None else None,
            "latched": str(self.latched) if self.latched is not None else None,
        }

    def restore(self, snap: dict) -> None:
        self.reconciler.restore(snap.get("reconciler") or {})
        self.drift = Decimal(snap["drift"]) if snap.get("drift") is not None else None
        self.latched = Decimal(snap["latched"]) if snap.get("latched") is not None else None
