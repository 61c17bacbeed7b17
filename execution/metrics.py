"""Prometheus metrics of the executor: the catalogue, the loopback exporter, and the event hooks.

Every metric is declared once here, on a `CollectorRegistry` the `Metrics` object owns (never
prometheus_client's global one: tests build several side by side). Names follow the fund's
trading-engine runbook where it gives them (`health_state`, `exec_slippage_bps`,
`stop_validator_missing_total`, `stop_validator_repaired_total`); the others carry the `hedge_`
prefix. Two kinds of updates:

- event hooks (`on_order_sent`, `on_fill`, `on_cycle`, ...): called by the engine where the event
  happens; each is a dictionary lookup and one increment, cheap enough for the hot path
  (bench/metrics_overhead.py measures them);
- the state updater (`execution.metrics_state.update_from_state`): the gauges (NAV, drawdown,
  mode, breakers, exposure, data age, outbox, arbitrage figures) are set from the documents the
  executor already publishes, so they say exactly what the state files say.

The exporter serves `/metrics` on 127.0.0.1:METRICS_PORT only (0 or unset: off). Each metric's
help text says what it means; labels are the names given at declaration (the state-driven ones
are in execution.metrics_state.CATALOGUE).
"""

from __future__ import annotations

import math
import time
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from execution import clock
from execution.metrics_hooks import MetricsHooks, NullMetrics, slippage_bps
from execution.metrics_state import StateGauges

__all__ = ["Exporter", "Metrics", "MetricsHooks", "MetricsSettings", "NullMetrics", "slippage_bps", "start"]

disable_created_metrics()  # no `_created` series: they double the series count and nothing reads them

BIND_HOST = "127.0.0.1"  # never 0.0.0.0: the metrics say what the fund holds
VENUES = ("binance_um", "okx_perp", "paper")
# Why the venue (or the order's final status) refused an order: a fixed vocabulary, so the label's
# cardinality stays bounded whatever a venue answers.
REJECT_REASONS = (
    "filter",
    "position_side",
    "reduce_only",
    "margin",
    "auth",
    "rate_limited",
    "clock_skew",
    "not_found",
    "unavailable",
    "safe_mode",
    "bad_request",
    "venue_rejected",
    "expired",
    "canceled",
    "other",
)
_ERROR_REASON = {
    "FilterFailure": "filter",
    "PositionSideMismatch": "position_side",
    "ReduceOnlyRejected": "reduce_only",
    "InsufficientMargin": "margin",
    "AuthError": "auth",
    "RateLimited": "rate_limited",
    "ClockSkew": "clock_skew",
    "OrderNotFound": "not_found",
    "VenueUnavailable": "unavailable",
    "SafeModeRefused": "safe_mode",
    "BadRequest": "bad_request",
}
_STATUS_REASON = {"REJECTED": "venue_rejected", "EXPIRED": "expired", "CANCELED": "canceled"}
SLIPPAGE_BUCKETS_BPS = (-50.0, -20.0, -10.0, -5.0, -2.0, 0.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0)
ROUNDTRIP_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CYCLE_BUCKETS_S = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0)


def reject_reason(error: BaseException | str) -> str:
    """The `reason` label for a refused order: a VenueError (or its class name), or an order status name."""
    if isinstance(error, str):  # a status, or the name of a VenueError class (an arbitrage leg's refusal)
        return _STATUS_REASON.get(error.upper()) or _ERROR_REASON.get(error.strip(), "other")
    for cls in type(error).__mro__:
        if cls.__name__ in _ERROR_REASON:
            return _ERROR_REASON[cls.__name__]
    return "other"


@dataclass(frozen=True)
class MetricsSettings:
    port: int  # 0: no exporter

    @property
    def enabled(self) -> bool:
        return self.port > 0


def settings_from_env(env: Mapping[str, str] | None = None) -> MetricsSettings:
    """METRICS_PORT (unset, empty or 0: off) of `env` (default: the process environment), read
    through its settings group (MetricsEnv); a bad value raises ConfigError naming it."""
    from execution.settings import MetricsEnv, read_env

    return MetricsSettings(read_env(MetricsEnv, env).port)


class Metrics:
    """All the executor's metrics on one private registry. `venues` get their label series at 0
    from the start (a venue that never refused an order still shows 0 refusals, not no data)."""

    def __init__(self, venues: Iterable[str] = VENUES, registry: CollectorRegistry | None = None):
        r = self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=r)  # process_cpu_seconds_total, process_resident_memory_bytes, ... at scrape
        # -- orders and execution quality (event hooks) --------------------------------------------
        self.orders_sent = Counter("hedge_orders_sent", "Orders sent to a venue.", ["venue"], registry=r)
        self.orders_rejected = Counter(
            "hedge_orders_rejected",
            "Orders a venue refused (or that ended REJECTED/EXPIRED/CANCELED unfilled), by reason.",
            ["venue", "reason"],
            registry=r,
        )
        self.fills = Counter("hedge_fills", "Fills booked.", ["venue", "symbol"], registry=r)
        self.fill_notional = Counter("hedge_fill_notional_usdt", "Notional filled, USDT.", ["venue"], registry=r)
        self.slippage = Histogram(
            "exec_slippage_bps",
            "Execution slippage of a fill against the intent's reference price, bps (positive = worse).",
            ["symbol", "venue", "intent"],
            buckets=SLIPPAGE_BUCKETS_BPS,
            registry=r,
        )
        self.roundtrip = Histogram(
            "hedge_order_roundtrip_seconds",
            "Order round trip: request sent to the venue's answer (ack or refusal).",
            ["venue"],
            buckets=ROUNDTRIP_BUCKETS_S,
            registry=r,
        )
        # -- the loop ------------------------------------------------------------------------------
        self.loop = LoopCollector(r)  # per-cycle figures: plain numbers, exported at scrape time
        # -- protective stops (runbook names) ------------------------------------------------------
        self.stop_missing = Counter(
            "stop_validator_missing", "Positions the stop validator found without their stop on the venue.", registry=r
        )
        self.stop_repaired = Counter(
            "stop_validator_repaired", "Missing stops the stop validator placed again.", registry=r
        )
        # -- build info ------------------------------------------------------------------------------
        self.up_since = Gauge("hedge_exporter_start_timestamp_seconds", "When this exporter started.", registry=r)
        self.up_since.set(time.time())
        self._sent: dict[str, Any] = {}
        self._rejected: dict[tuple[str, str], Any] = {}
        self._fills: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._slip: dict[tuple[str, str, str], Any] = {}
        self._rtt: dict[str, Any] = {}
        for venue in venues:
            self._sent_child(venue)
            for reason in REJECT_REASONS:
                self._rejected_child(venue, reason)
        # the metrics the state documents drive (execution/metrics_state.py)
        self.state = StateGauges(r)

    # -- children cached per label set: labels() costs more than the increment -----------------------
    def _sent_child(self, venue: str):
        c = self._sent.get(venue)
        if c is None:
            c = self._sent[venue] = self.orders_sent.labels(venue)
        return c

    def _rejected_child(self, venue: str, reason: str):
        key = (venue, reason)
        c = self._rejected.get(key)
        if c is None:
            c = self._rejected[key] = self.orders_rejected.labels(venue, reason)
        return c

    # -- event hooks (the router, the arbitrage loop and the engine call these) ------------------------
    def on_order_sent(self, venue: str) -> None:
        self._sent_child(venue).inc()

    def on_order_rejected(self, venue: str, reason: BaseException | str) -> None:
        """`reason`: the VenueError raised, or the final order status name (REJECTED, ...)."""
        self._rejected_child(venue, reject_reason(reason)).inc()

    def on_order_answer(self, venue: str, seconds: float) -> None:
        """Round trip of one order request (perf_counter difference around place_order)."""
        c = self._rtt.get(venue)
        if c is None:
            c = self._rtt[venue] = self.roundtrip.labels(venue)
        c.observe(seconds)

    def on_fill(
        self, venue: str, symbol: str, intent: str, notional_usdt: float, slippage_bps: float | None = None
    ) -> None:
        """One fill. `intent`: the order's purpose (entry, stop_loss, take_profit, exit, arb_entry,
        arb_exit, arb_rescue, ...); `slippage_bps`: signed so that positive is worse than the
        reference price (BUY above it, SELL below it); None when there was no reference."""
        key = (venue, symbol)
        pair = self._fills.get(key)
        if pair is None:
            pair = self._fills[key] = (self.fills.labels(venue, symbol), self.fill_notional.labels(venue))
        pair[0].inc()
        pair[1].inc(abs(notional_usdt))
        if slippage_bps is not None:
            skey = (symbol, venue, intent)
            h = self._slip.get(skey)
            if h is None:
                h = self._slip[skey] = self.slippage.labels(symbol, venue, intent)
            h.observe(slippage_bps)

    def on_cycle(self, duration_s: float | None = None, wall_s: float | None = None) -> None:
        """A cycle completed (engine `end_cycle`; pass its wall clock as `wall_s` to save a clock
        read). The hottest hook: a few attribute updates, no lock, no label lookup."""
        loop = self.loop
        loop.cycles += 1
        loop.last_cycle_s = wall_s if wall_s is not None else clock.wall_ms() / 1000.0
        if duration_s is not None:
            loop.counts[bisect_left(CYCLE_BUCKETS_S, duration_s)] += 1
            loop.duration_sum += duration_s

    def on_stop_validation(self, missing: int, repaired: int) -> None:
        """One stop-validator pass: how many positions lacked their stop, how many were repaired."""
        if missing:
            self.stop_missing.inc(missing)
        if repaired:
            self.stop_repaired.inc(repaired)


class LoopCollector(Collector):
    """The loop's figures, kept as plain numbers by `Metrics.on_cycle` (a prometheus_client
    Counter + Gauge + Histogram cost ~1.6 us per cycle, 6% of a replay) and exported at scrape:
    hedge_cycles_total, hedge_last_cycle_timestamp_seconds, hedge_seconds_since_last_cycle
    (computed at scrape time, -1 before the first cycle) and the histogram
    hedge_cycle_duration_seconds. Only the engine thread writes; a scrape may see a cycle late."""

    def __init__(self, registry: CollectorRegistry):
        self.cycles = 0
        self.last_cycle_s = 0.0
        self.counts = [0] * (len(CYCLE_BUCKETS_S) + 1)  # the last one is +Inf
        self.duration_sum = 0.0
        registry.register(self)

    def describe(self):
        return list(self._families(0, 0.0, [0] * len(self.counts), 0.0, now_s=0.0))

    def collect(self):
        return list(
            self._families(
                self.cycles, self.last_cycle_s, list(self.counts), self.duration_sum, clock.wall_ms() / 1000.0
            )
        )

    @staticmethod
    def _families(cycles: int, last: float, counts: list[int], total: float, now_s: float):
        yield CounterMetricFamily("hedge_cycles", "Completed engine cycles.", value=cycles)
        yield GaugeMetricFamily(
            "hedge_last_cycle_timestamp_seconds", "Wall time of the last completed cycle (Unix s).", value=last
        )
        yield GaugeMetricFamily(
            "hedge_seconds_since_last_cycle",
            "Seconds since the last completed cycle, computed at scrape time (-1 before the first).",
            value=max(0.0, now_s - last) if last else -1.0,
        )
        acc, buckets = 0, []
        for bound, n in zip((*CYCLE_BUCKETS_S, math.inf), counts, strict=True):
            acc += n
            buckets.append((floatToGoString(bound), acc))
        yield HistogramMetricFamily(
            "hedge_cycle_duration_seconds", "Wall time one cycle took.", buckets=buckets, sum_value=total
        )


class Exporter:
    """The /metrics HTTP server on 127.0.0.1 (prometheus_client's own WSGI server, a daemon thread)."""

    def __init__(self, metrics: Metrics, port: int):
        if port <= 0:
            raise ValueError("the exporter needs a port > 0 (METRICS_PORT)")
        self.server, self.thread = start_http_server(port, addr=BIND_HOST, registry=metrics.registry)
        self.port = self.server.server_port
        self.url = f"http://{BIND_HOST}:{self.port}/metrics"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def start(settings: MetricsSettings, venues: Iterable[str] = VENUES) -> tuple[Metrics | NullMetrics, Exporter | None]:
    """Metrics and their exporter as METRICS_PORT says: (NullMetrics(), None) when off. A port in
    use raises OSError: the caller decides whether that stops the process."""
    if not settings.enabled:
        return NullMetrics(), None
    metrics = Metrics(venues)
    return metrics, Exporter(metrics, settings.port)
