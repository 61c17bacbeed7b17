"""The metric hooks the executor's components call (the router, the arbitrage loop, the engine), and
the do-nothing set used when metrics are off. Light on purpose: nothing here imports
prometheus_client, so a replay without metrics (METRICS_PORT=0) never loads it; the real
implementation is execution.metrics.Metrics.
"""

from __future__ import annotations

from typing import Protocol


class MetricsHooks(Protocol):
    """What the components report; execution.metrics.Metrics counts it, NullMetrics ignores it."""

    def on_order_sent(self, venue: str) -> None: ...

    def on_order_rejected(self, venue: str, reason: BaseException | str) -> None: ...

    def on_order_answer(self, venue: str, seconds: float) -> None: ...

    def on_fill(
        self, venue: str, symbol: str, intent: str, notional_usdt: float, slippage_bps: float | None = None
    ) -> None: ...

    def on_cycle(self, duration_s: float | None = None, wall_s: float | None = None) -> None: ...

    def on_stop_validation(self, missing: int, repaired: int) -> None: ...


class NullMetrics:
    """Metrics off (METRICS_PORT unset): the same hooks, doing nothing, so callers never branch."""

    def on_order_sent(self, venue: str) -> None:
        pass

    def on_order_rejected(self, venue: str, reason: BaseException | str) -> None:
        pass

    def on_order_answer(self, venue: str, seconds: float) -> None:
        pass

    def on_fill(
        self, venue: str, symbol: str, intent: str, notional_usdt: float, slippage_bps: float | None = None
    ) -> None:
        pass

    def on_cycle(self, duration_s: float | None = None, wall_s: float | None = None) -> None:
        pass

    def on_stop_validation(self, missing: int, repaired: int) -> None:
        pass


def slippage_bps(side: str, fill_price: float, ref_price: float) -> float | None:
    """Signed slippage, bps: positive when the fill is worse than the reference (BUY above it,
    SELL below it). None without a usable reference price."""
    if not ref_price or ref_price <= 0:
        return None
    diff = (fill_price - ref_price) / ref_price * 10_000.0
    return diff if side.upper() == "BUY" else -diff
