"""The account breakers that trip HOLD by themselves at the end of every market instant:
drawdown from the peak, and the account checks (leverage, notional caps, margin stress) while
positions are open. The rules are pure (`execution/risk.py`); this guard applies them to the
engine's books. Margin stress uses each venue's own maintenance tiers (Binance leverage
brackets, OKX position tiers, `execution/margin.py`); an instrument without published tiers gets
a conservative derived schedule, said once in a `[risk]` line. The daily loss is not a breaker
here: it is the daily stop (`execution/guards/daily_stop.py`), which re-arms by itself.
Drawdown is measured from the breaker's reference (`Performance.dd_ref_nav`, re-based by an
approved resume), not the investor-facing peak."""

from __future__ import annotations

from execution import logs
from execution.guard import BaseGuard, GuardContext
from execution.margin import MarginSchedule, derived_schedule
from execution.risk import account_trips, breaker_trips, margin_ratio


class AccountBreakers(BaseGuard):
    name = "account_breakers"

    def __init__(self) -> None:
        self.log = logs.get()
        self._derived: dict[tuple[str, str], MarginSchedule] = {}
        self._ratio: float | None = None
        self._maintenance = 0.0
        self._sources: set[str] = set()

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        limits = ctx.settings.risk
        ledger, perf = ctx.ledger, ctx.perf
        nav = (
            perf.last_nav
        )  # this cycle's NAV, a float (`Ledger.nav_float`), booked by the engine just before the guards run
        trips = breaker_trips(limits, nav=nav, peak_nav=perf.dd_ref_nav)
        if ledger.positions:
            maintenance = self.maintenance(ctx)
            self._maintenance, self._ratio = maintenance, margin_ratio(nav, maintenance)
            trips += account_trips(limits, nav=nav, positions=ledger.positions.values(), maintenance=maintenance)
        else:
            self._maintenance, self._ratio = 0.0, None
        for name, detail in trips:
            ctx.trip(name, detail, ts)

    def maintenance(self, ctx: GuardContext) -> float:
        """The open positions' maintenance margin (USDT) at their marks, tier by tier; a float like
        the other breaker inputs (checked every market instant, compared, never booked)."""
        total = 0.0
        sources: set[str] = set()
        for p in ctx.ledger.positions.values():
            tiers = self.schedule(ctx, p.venue, p.symbol)
            sources.add(tiers.source)
            total += tiers.maintenance_f(float(p.qty), float(p.mark_price or p.entry_price))
        self._sources = sources
        return total

    def schedule(self, ctx: GuardContext, venue: str, symbol: str) -> MarginSchedule:
        v = ctx.venues.get(venue)
        tiers = v.margin_tiers(symbol) if v is not None else None
        if tiers is not None:
            return tiers
        key = (venue, symbol)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = derived_schedule(venue, symbol)
            self.log.warning(
                "[risk] %s %s: no maintenance tiers from the venue or config/venue_filters.json; margin stress "
                "uses a conservative derived rate %s",
                venue,
                symbol,
                derived.tiers[0].maint_rate,
            )
        return derived

    def status(self) -> dict | None:
        if self._ratio is None:
            return None
        return {
            "active": False,
            "margin_ratio": round(self._ratio, 4),
            "maintenance_margin_usdt": round(self._maintenance, 2),
            "tiers_from": sorted(self._sources),
        }
