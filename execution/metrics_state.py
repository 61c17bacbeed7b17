"""Metrics from the state documents the executor publishes (nav, positions, control, arbitrage,
screener) and from the Firestore outbox.

`state_samples()` is pure: documents in, samples out. `update_from_state()` hands the samples to
the registry's `StateGauges` collector, which swaps them in whole, so a scrape never sees half an
update and a breaker that cleared or a symbol that left the universe disappears with it (no label
bookkeeping). The engine calls `update_from_state` from its publish step (issue 16 phase 2);
tests call it with the documents of a real replay.

health_state (runbook: 0 OK, 1 DEGRADED, 2 HALTED): the control document's own `health_state`
when it carries one; otherwise 2 in HOLD (or kill), 1 when something is wrong but trading goes
on (stale symbols, a reconciliation difference, a venue of the arbitrage loop not connected),
else 0.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from execution import clock, logs

# Breakers reported at 0 when not tripped (so `hedge_breaker_tripped{breaker="drawdown"} == 0` has
# data); any other tripped breaker appears with its own name.
KNOWN_BREAKERS = (
    "drawdown",
    "daily_loss",
    "margin_stress",
    "max_positions",
    "notional_cap",
    "order_rate",
    "cancel_rate",
    "stale_data",
    "clock_skew",
    "nav_drift",
    "arb_delta",
    "arb_rescues",
    "arb_fill_mismatch",
    "arb_unresolved",
    "arb_rescue_failed",
    "arb_residual",
)
MODES = ("RUN", "HOLD")

# name -> (type, help, label names). Counters are named without `_total` (it is added on export).
CATALOGUE: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "health_state": ("gauge", "0 OK, 1 DEGRADED, 2 HALTED (runbook).", ()),
    "hedge_mode": ("gauge", "1 for the executor's current mode (RUN or HOLD), 0 for the other.", ("mode",)),
    "hedge_kill_switch": ("gauge", "1 while the kill switch is on (HOLD + flatten).", ()),
    "hedge_flatten_pending": ("gauge", "1 while a flatten is in progress.", ()),
    "hedge_breaker_tripped": ("gauge", "1 while the breaker is tripped (it holds the fund in HOLD).", ("breaker",)),
    "hedge_guard_active": (
        "gauge",
        "1 while the guard holds new risk back (daily stop, depeg, warm-up, a denied symbol, a funding spike).",
        ("guard",),
    ),
    "hedge_guard_refused": ("counter", "Entries the guard refused (kept across restarts).", ("guard",)),
    "hedge_state_updated_timestamp_seconds": ("gauge", "Wall time of the newest state document (Unix s).", ()),
    "hedge_state_age_seconds": ("gauge", "Seconds since the executor last wrote its state.", ()),
    "hedge_market_time_seconds": ("gauge", "Market time of the last cycle (Unix s).", ()),
    "hedge_data_age_seconds": (
        "gauge",
        (
            "Age of a symbol's market data: source=book is the wall-clock age of the last book top or mark "
            "(live feed); source=candle is how far its last closed candle lags the cycle's market time."
        ),
        ("venue", "symbol", "source"),
    ),
    "hedge_data_stale": ("gauge", "1 for a symbol the feed marked stale (no new risk on it).", ("venue", "symbol")),
    "hedge_stale_symbols": ("gauge", "Number of symbols marked stale.", ()),
    "hedge_clock_skew_ms": ("gauge", "Venue clock minus local clock, ms.", ("venue",)),
    "hedge_venue_connected": ("gauge", "1 when the venue answered its last health check.", ("venue",)),
    "hedge_nav_usdt": ("gauge", "NAV = wallet + unrealised PnL, USDT (BTC reserve excluded).", ()),
    "hedge_wallet_usdt": ("gauge", "Wallet balance, USDT.", ()),
    "hedge_unrealized_pnl_usdt": ("gauge", "Unrealised PnL at the last mark, USDT.", ()),
    "hedge_realized_pnl_usdt": ("gauge", "Realised PnL since inception, USDT.", ()),
    "hedge_fees_usdt": ("gauge", "Fees paid since inception, USDT.", ()),
    "hedge_funding_usdt": ("gauge", "Funding received (+) or paid (-) since inception, USDT.", ()),
    "hedge_peak_nav_usdt": ("gauge", "Highest NAV seen, USDT.", ()),
    "hedge_drawdown_pct": ("gauge", "Drawdown from the peak NAV, %.", ()),
    "hedge_max_drawdown_pct": ("gauge", "Largest drawdown seen, %.", ()),
    "hedge_daily_pnl_pct": ("gauge", "PnL since the UTC day started, % of the day's starting NAV.", ()),
    "hedge_change_24h_pct": ("gauge", "NAV change over 24 h, %.", ()),
    "hedge_open_positions": ("gauge", "Open positions.", ()),
    "hedge_nav_drift_pct": (
        "gauge",
        "Ledger NAV minus the venues' reported equity, % of NAV (the nav document's nav_drift_pct).",
        (),
    ),
    "hedge_positions_without_stop": ("gauge", "Open positions with no stop-loss level known to the executor.", ()),
    "hedge_gross_exposure_usdt": ("gauge", "Gross notional of all positions, USDT.", ()),
    "hedge_net_exposure_usdt": ("gauge", "Net notional of all positions (long - short), USDT.", ()),
    "hedge_venue_gross_exposure_usdt": ("gauge", "Gross notional per venue, USDT.", ("venue",)),
    "hedge_venue_net_exposure_usdt": ("gauge", "Net notional per venue, USDT.", ("venue",)),
    "hedge_reconciliation_differences": (
        "gauge",
        "Differences between the ledger and the venues found by the last reconciliation.",
        (),
    ),
    "hedge_orders_last_minute": ("gauge", "Orders sent in the last minute (market time).", ()),
    "hedge_cancels_last_minute": ("gauge", "Cancels sent in the last minute (market time).", ()),
    "hedge_risk_limit": ("gauge", "A configured risk limit (risk_limits.json).", ("limit",)),
    "hedge_outbox_depth": ("gauge", "Writes waiting in the Firestore outbox.", ()),
    "hedge_outbox_oldest_age_seconds": (
        "gauge",
        "How long the oldest outbox row has been waiting, as seen by this process (0 when empty).",
        (),
    ),
    "hedge_outbox_dead": ("gauge", "Outbox rows Firestore refused for good (set aside).", ()),
    "hedge_arb_attempts": ("counter", "Arbitrage entry attempts whose legs were sent.", ()),
    "hedge_arb_rescues": ("counter", "Arbitrage attempts that needed a rescue.", ()),
    "hedge_arb_refused": ("counter", "Arbitrage entries stopped by preflight.", ()),
    "hedge_arb_closed_pairs": ("counter", "Arbitrage pairs closed.", ()),
    "hedge_arb_incidents": ("counter", "Arbitrage incidents.", ()),
    "hedge_arb_success_ratio": ("gauge", "Share of finished attempts hedged first time, no rescue.", ()),
    "hedge_arb_edge_bps": (
        "gauge",
        "Average arbitrage edge per pair: kind=expected|realised, basis=gross (at entry) | net (closed pairs).",
        ("kind", "basis"),
    ),
    "hedge_arb_net_edge_bps": ("gauge", "Current net edge of a configured pair, bps.", ("pair",)),
    "hedge_arb_open_pairs": ("gauge", "Open arbitrage pairs.", ()),
    "hedge_arb_delta_usd": ("gauge", "Cross-venue delta of the arbitrage book, USD.", ()),
    "hedge_arb_realized_pnl_usdt": ("gauge", "Realised PnL of closed arbitrage pairs, USDT.", ()),
    "hedge_arb_legs_sent_latency_us": (
        "gauge",
        "Decision to both legs sent, microseconds, over the recent attempts.",
        ("quantile",),
    ),
}

Sample = tuple[str, tuple[str, ...], float]  # (name, label values in CATALOGUE order, value)


class OutboxLike(Protocol):
    def backlog(self) -> tuple[int, int | None, int]: ...


@dataclass
class OutboxAge:
    """Age of the outbox's oldest row, from when this process first saw that row at the head of
    the queue (rows carry no time; after a restart the age counts from the first look)."""

    seq: int | None = None
    since_ms: int = 0

    def observe(self, oldest_seq: int | None, now_ms: int) -> float:
        if oldest_seq is None:
            self.seq, self.since_ms = None, 0
            return 0.0
        if oldest_seq != self.seq:
            self.seq, self.since_ms = oldest_seq, now_ms
        return max(0.0, (now_ms - self.since_ms) / 1000.0)


def _num(x: object) -> float | None:
    if isinstance(x, bool) or x is None:
        return None
    try:
        return float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def health_state(control: Mapping, arbitrage: Mapping) -> int:
    own = _num(control.get("health_state"))
    if own is not None:
        return int(own)
    if control.get("mode") == "HOLD" or control.get("kill"):
        return 2
    venues_down = any(not h.get("connected", True) for h in (arbitrage.get("health") or {}).values())
    if control.get("stale_symbols") or control.get("reconciliation") or venues_down:
        return 1
    return 0


def _split_key(key: str) -> tuple[str, str]:
    venue, _, symbol = key.partition(":")
    return venue, symbol


def _nav_samples(nav: Mapping) -> Iterable[Sample]:
    for name, field in (
        ("hedge_nav_usdt", "nav"),
        ("hedge_wallet_usdt", "wallet_balance"),
        ("hedge_unrealized_pnl_usdt", "unrealized_pnl"),
        ("hedge_realized_pnl_usdt", "realized_pnl_total"),
        ("hedge_fees_usdt", "fees_total"),
        ("hedge_funding_usdt", "funding_total"),
        ("hedge_peak_nav_usdt", "peak_nav"),
        ("hedge_drawdown_pct", "drawdown_pct"),
        ("hedge_max_drawdown_pct", "max_drawdown_pct"),
        ("hedge_daily_pnl_pct", "daily_pnl_pct"),
        ("hedge_change_24h_pct", "change_24h_pct"),
        ("hedge_open_positions", "open_positions"),
        ("hedge_nav_drift_pct", "nav_drift_pct"),
    ):
        v = _num(nav.get(field))
        if v is not None:
            yield name, (), v
    mts = _num(nav.get("market_ts"))
    if mts:
        yield "hedge_market_time_seconds", (), mts / 1000.0


def _control_samples(control: Mapping, arbitrage: Mapping) -> Iterable[Sample]:
    if not control:
        return
    yield "health_state", (), float(health_state(control, arbitrage))
    mode = control.get("mode")
    for m in MODES:
        yield "hedge_mode", (m,), 1.0 if mode == m else 0.0
    yield "hedge_kill_switch", (), 1.0 if control.get("kill") else 0.0
    yield "hedge_flatten_pending", (), 1.0 if control.get("flatten_pending") else 0.0
    tripped = {b.get("name") for b in control.get("breakers") or [] if isinstance(b, dict)}
    for name in sorted(set(KNOWN_BREAKERS) | {t for t in tripped if t}):
        yield "hedge_breaker_tripped", (name,), 1.0 if name in tripped else 0.0
    for guard in control.get("guards") or []:
        if isinstance(guard, dict) and isinstance(guard.get("name"), str):
            yield "hedge_guard_active", (guard["name"],), 1.0 if guard.get("active") else 0.0
            refused = _num(guard.get("refused"))
            if refused is not None and 0 <= refused < math.inf:
                yield "hedge_guard_refused", (guard["name"],), refused
    stale = [s for s in control.get("stale_symbols") or [] if isinstance(s, str)]
    yield "hedge_stale_symbols", (), float(len(stale))
    for key in stale:
        yield "hedge_data_stale", _split_key(key), 1.0
    yield "hedge_reconciliation_differences", (), float(len(control.get("reconciliation") or []))
    counters = control.get("counters") or {}
    for name, field in (
        ("hedge_orders_last_minute", "orders_last_min"),
        ("hedge_cancels_last_minute", "cancels_last_min"),
    ):
        v = _num(counters.get(field))
        if v is not None:
            yield name, (), v
    for limit, value in sorted((control.get("limits") or {}).items()):
        v = _num(value)
        if v is not None:
            yield "hedge_risk_limit", (str(limit),), v
    skew = _num(control.get("clock_skew_ms"))
    if skew is not None:
        yield "hedge_clock_skew_ms", ("all",), skew


def _positions_samples(
    pos: Mapping, screener: Mapping, nav: Mapping, now_ms: int, venues: set[str]
) -> Iterable[Sample]:
    if not pos:
        return
    rows = [p for p in pos.get("positions") or [] if isinstance(p, dict)]
    yield "hedge_positions_without_stop", (), float(sum(1 for p in rows if p.get("stop_loss") is None))
    for name, field in (("hedge_gross_exposure_usdt", "gross_notional"), ("hedge_net_exposure_usdt", "net_notional")):
        v = _num(pos.get(field))
        if v is not None:
            yield name, (), v
    per_venue = pos.get("per_venue") or {}
    for venue in sorted(set(per_venue) | venues):  # a venue traded without positions: exposure 0
        x = per_venue.get(venue) or {}
        for name, field in (
            ("hedge_venue_gross_exposure_usdt", "gross_notional"),
            ("hedge_venue_net_exposure_usdt", "net_notional"),
        ):
            v = _num(x.get(field)) if x else 0.0
            if v is not None:
                yield name, (venue,), v
    published = int(_num(pos.get("updated_at_ms")) or now_ms)
    for row in pos.get("market") or []:
        age = _num(row.get("age_ms")) if isinstance(row, dict) else None
        if age is not None and row.get("venue") and row.get("symbol"):
            yield "hedge_data_age_seconds", (row["venue"], row["symbol"], "book"), (age + now_ms - published) / 1000.0
    market_ts = _num(nav.get("market_ts")) or _num((screener.get("last_cycle") or {}).get("ts"))
    last: dict[tuple[str, str], float] = {}
    for r in screener.get("tail") or []:
        ts = _num(r.get("ts")) if isinstance(r, dict) else None
        if ts is not None and r.get("venue") and r.get("symbol"):
            key = (r["venue"], r["symbol"])
            last[key] = max(last.get(key, 0.0), ts)
    if market_ts:
        for (venue, symbol), ts in sorted(last.items()):
            yield "hedge_data_age_seconds", (venue, symbol, "candle"), max(0.0, (market_ts - ts) / 1000.0)


def _venues(pos: Mapping, screener: Mapping, arb: Mapping) -> set[str]:
    """The venues the executor trades, as its documents show them."""
    rows = [*(pos.get("market") or []), *(screener.get("tail") or [])]
    found = {r.get("venue") for r in rows if isinstance(r, dict)} | set(arb.get("health") or {})
    return {v for v in found if isinstance(v, str) and v}


def _arbitrage_samples(arb: Mapping) -> Iterable[Sample]:
    if not arb:
        return
    for venue, h in sorted((arb.get("health") or {}).items()):
        h = h or {}
        yield "hedge_venue_connected", (venue,), 1.0 if h.get("connected") else 0.0
        skew = _num(h.get("skew_ms"))
        if skew is not None:
            yield "hedge_clock_skew_ms", (venue,), skew
    m = arb.get("metrics") or {}
    for name, field in (
        ("hedge_arb_attempts", "attempts"),
        ("hedge_arb_rescues", "rescues"),
        ("hedge_arb_refused", "refused"),
        ("hedge_arb_closed_pairs", "closed_pairs"),
        ("hedge_arb_incidents", "incidents"),
        ("hedge_arb_success_ratio", "success_ratio" if "success_ratio" in m else "success_rate"),
        ("hedge_arb_realized_pnl_usdt", "realised_pnl_usdt"),
    ):
        v = _num(m.get(field))
        if v is not None:
            yield name, (), v
    for kind in ("expected", "realised"):
        for basis in ("gross", "net"):
            v = _num(m.get(f"{kind}_{basis}_edge_bps_avg"))
            if v is not None:
                yield "hedge_arb_edge_bps", (kind, basis), v
    for q, field in (("0.5", "decision_to_legs_sent_us_p50"), ("0.95", "decision_to_legs_sent_us_p95")):
        v = _num(m.get(field))
        if v is not None:
            yield "hedge_arb_legs_sent_latency_us", (q,), v
    for p in arb.get("pairs") or []:
        v = _num(p.get("net_edge_bps")) if isinstance(p, dict) else None
        if v is not None and p.get("pair"):
            yield "hedge_arb_net_edge_bps", (p["pair"],), v
    yield "hedge_arb_open_pairs", (), float(len(arb.get("open_pairs") or []))
    delta = _num((arb.get("exposure") or {}).get("delta_usd"))
    if delta is not None:
        yield "hedge_arb_delta_usd", (), delta


def state_samples(
    docs: Mapping[str, Mapping],
    now_ms: int,
    outbox: tuple[int, float, int] | None = None,
) -> list[Sample]:
    """Every state-driven sample. `docs`: the published documents by name (missing ones are
    skipped); `outbox`: (depth, oldest age s, dead rows) or None without Firestore."""
    nav, pos, control = docs.get("nav") or {}, docs.get("positions") or {}, docs.get("control") or {}
    arb, screener = docs.get("arbitrage") or {}, docs.get("screener") or {}
    out: list[Sample] = []
    updated = max((int(_num(d.get("updated_at_ms")) or 0) for d in docs.values() if isinstance(d, Mapping)), default=0)
    if updated:  # hedge_state_age_seconds is computed from it at scrape time (StateGauges.collect)
        out.append(("hedge_state_updated_timestamp_seconds", (), updated / 1000.0))
    out.extend(_nav_samples(nav))
    out.extend(_control_samples(control, arb))
    out.extend(_positions_samples(pos, screener, nav, now_ms, _venues(pos, screener, arb)))
    out.extend(_arbitrage_samples(arb))
    if outbox is not None:
        depth, age_s, dead = outbox
        out += [
            ("hedge_outbox_depth", (), float(depth)),
            ("hedge_outbox_oldest_age_seconds", (), age_s),
            ("hedge_outbox_dead", (), float(dead)),
        ]
    return out


class StateGauges(Collector):
    """The state-driven metrics on a registry: the latest samples, swapped in whole."""

    def __init__(self, registry: CollectorRegistry):
        self._samples: list[Sample] = []
        self.outbox_age = OutboxAge()
        registry.register(self)

    def set(self, samples: list[Sample]) -> None:
        self._samples = samples  # one reference swap: a concurrent scrape sees old or new, whole

    def describe(self):
        return [self._family(name) for name in CATALOGUE]

    @staticmethod
    def _family(name: str):
        kind, help_text, labels = CATALOGUE[name]
        cls = CounterMetricFamily if kind == "counter" else GaugeMetricFamily
        return cls(name, help_text, labels=list(labels))

    def collect(self):
        families: dict[str, GaugeMetricFamily | CounterMetricFamily] = {}
        samples = self._samples
        updated = next((v for n, _, v in samples if n == "hedge_state_updated_timestamp_seconds"), None)
        if updated is not None:  # at scrape time: it keeps growing when the loop stops publishing
            age = max(0.0, clock.wall_ms() / 1000.0 - updated)
            samples = [*samples, ("hedge_state_age_seconds", (), age)]
        for name, labels, value in samples:
            fam = families.get(name)
            if fam is None:
                fam = families[name] = self._family(name)
            fam.add_metric(list(labels), value)
        return list(families.values())


def update_from_state(metrics, docs: Mapping[str, Mapping], now_ms: int, outbox: OutboxLike | None = None) -> None:
    """Set the state-driven metrics of `metrics` (an execution.metrics.Metrics) from the published
    documents; `outbox` (execution.state.outbox.Outbox) adds its depth and oldest age. Never
    raises on odd documents: a field of the wrong type is skipped."""
    state: StateGauges | None = getattr(metrics, "state", None)
    if state is None:  # NullMetrics
        return
    try:
        backlog = None
        if outbox is not None:
            depth, oldest_seq, dead = outbox.backlog()
            backlog = (depth, state.outbox_age.observe(oldest_seq, now_ms), dead)
        state.set(state_samples(docs, now_ms, backlog))
    except Exception as exc:  # noqa: BLE001 - metrics must never stop the loop; the old samples stay
        logs.get().warning("[metrics] state metrics not updated: %s: %s", exc.__class__.__name__, str(exc)[:200])
