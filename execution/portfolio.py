"""Performance bookkeeping on top of the ledger: peak, drawdown, daily start, 24h change.

Pure: it is told (ts, nav) and never reads a clock. The day boundary for the daily-loss
breaker is midnight in a configured time zone. A capital flow (`on_flow`) moves NAV without
being a gain or a loss: the references are moved with it, so drawdown, daily P&L and the 24h
change stay what they were.

NAV figures here are floats (`Ledger.nav_float`): they are updated once per market instant
(~17,000 times per replayed half-year) and only compared, shown or fed to the breakers; a float
carries a NAV to ~1e-12 USDT. Booked amounts and the published NAV stay Decimal in the ledger.

Two peaks: the fund's true peak (what investors see as drawdown, never moved) and the drawdown
breaker's reference (`dd_ref_nav`, the highest NAV since the last approved resume). A two-man
resume re-bases the breaker's reference to the NAV at that moment (`rebase`), so a resume after
a drawdown trip does not trip again at once. (The daily loss is the daily stop, which re-arms by
itself at the day boundary: nothing to re-base there.)
"""

from __future__ import annotations

from collections import deque
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

DAY_MS = 86_400_000


class Performance:
    def __init__(self, initial_nav: Decimal | float, tz: str = "UTC"):
        initial_nav = float(initial_nav)
        self.tz = ZoneInfo(tz)
        self.peak_nav = initial_nav
        self.peak_ts = 0
        self.max_dd_pct = 0.0
        self.day = ""
        self.day_start_nav = initial_nav
        self._next_day_ms = 0
        self._window: deque[tuple[int, float]] = deque()  # (ts, nav) over the last 24h
        self._ref: tuple[int, float] | None = None  # newest point at least 24h old
        self.last_ts = 0
        self.last_nav = initial_nav
        self.dd_ref_nav = initial_nav  # the drawdown breaker's peak: max NAV since the last re-base
        self.rebased: dict | None = None  # the last re-base: ts, nav, previous reference, operators

    def update(self, ts: int, nav: float) -> None:
        if ts >= self._next_day_ms:
            self._roll_day(ts, nav)
        peak = self.peak_nav
        if nav > peak:
            self.peak_nav, self.peak_ts = nav, ts
        elif peak > 0:
            dd = (peak - nav) / peak * 100
            if dd > self.max_dd_pct:
                self.max_dd_pct = dd
        if nav > self.dd_ref_nav:
            self.dd_ref_nav = nav
        w = self._window
        w.append((ts, nav))
        cutoff = ts - DAY_MS
        while w and w[0][0] <= cutoff:
            self._ref = w.popleft()
        self.last_ts, self.last_nav = ts, nav

    def on_flow(self, amount: Decimal | float, nav_before: Decimal | float) -> None:
        """A deposit (+) or withdrawal (-) moves NAV from `nav_before` by `amount`: the peak and the
        drawdown breaker's reference are scaled (the drawdown in % is unchanged: a redemption is no
        loss), the day's start and the last 24 h are shifted (P&L unchanged)."""
        amount, nav_before = float(amount), float(nav_before)
        if nav_before > 0 and nav_before + amount > 0:
            scale = (nav_before + amount) / nav_before
            self.peak_nav = self.peak_nav * scale
            self.dd_ref_nav = self.dd_ref_nav * scale
        self.day_start_nav += amount
        self.last_nav += amount
        self._window = deque((t, n + amount) for t, n in self._window)
        if self._ref is not None:
            self._ref = (self._ref[0], self._ref[1] + amount)

    def _roll_day(self, ts: int, nav: float) -> None:
        local = datetime.fromtimestamp(ts / 1000, tz=UTC).astimezone(self.tz)
        self.day = local.strftime("%Y-%m-%d")
        self.day_start_nav = self.last_nav if self.last_ts else nav
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        self._next_day_ms = int(midnight.timestamp() * 1000)

    @property
    def next_day_ms(self) -> int:
        """When the current day ends (the next midnight in the configured zone), epoch ms."""
        return self._next_day_ms

    def rebase(self, ts: int, nav: Decimal | float, **who: str) -> dict:
        """Re-base the drawdown breaker's reference to `nav` (an approved resume); returns the record."""
        self.rebased = {
            "ts": ts,
            "nav": str(float(nav)),
            "previous_dd_ref_nav": str(self.dd_ref_nav),
            "peak_nav": str(self.peak_nav),
            **who,
        }
        self.dd_ref_nav = float(nav)
        return dict(self.rebased)

    def drawdown_pct(self, nav: Decimal | float) -> float:
        nav, peak = float(nav), self.peak_nav
        if peak <= 0 or nav >= peak:
            return 0.0
        return (peak - nav) / peak * 100

    def change_24h(self) -> tuple[float, float, float]:
        """(abs, pct, reference NAV) against the NAV 24h ago (or the oldest known)."""
        ref = self._ref[1] if self._ref else (self._window[0][1] if self._window else self.last_nav)
        delta = self.last_nav - ref
        pct = delta / ref * 100 if ref else 0.0
        return delta, pct, ref

    def snapshot(self) -> dict:
        return {
            "peak_nav": str(self.peak_nav),
            "peak_ts": self.peak_ts,
            "max_drawdown_pct": self.max_dd_pct,
            "day": self.day,
            "day_start_nav": str(self.day_start_nav),
            "next_day_ms": self._next_day_ms,
            "last_ts": self.last_ts,
            "last_nav": str(self.last_nav),
            "window": [[t, str(n)] for t, n in self._window],
            "ref": [self._ref[0], str(self._ref[1])] if self._ref else None,
            "dd_ref_nav": str(self.dd_ref_nav),
            "rebased": self.rebased,
        }

    def restore(self, snap: dict) -> None:
        """Reads snapshots written with Decimal strings (before NAV figures were floats) too."""
        self.peak_nav = float(snap["peak_nav"])
        self.peak_ts = int(snap["peak_ts"])
        self.max_dd_pct = float(snap["max_drawdown_pct"])
        self.day = snap["day"]
        self.day_start_nav = float(snap["day_start_nav"])
        self._next_day_ms = int(snap["next_day_ms"])
        self.last_ts = int(snap["last_ts"])
        self.last_nav = float(snap["last_nav"])
        self._window = deque((int(t), float(n)) for t, n in snap.get("window", []))
        ref = snap.get("ref")
        self._ref = (int(ref[0]), float(ref[1])) if ref else None
        self.dd_ref_nav = float(snap.get("dd_ref_nav", snap["peak_nav"]))
        rebased = snap.get("rebased")
        self.rebased = dict(rebased) if isinstance(rebased, dict) else None
