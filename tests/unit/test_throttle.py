"""The per-venue throttler on a fake clock: weights, safety margin, waiting, back-off."""

from __future__ import annotations

import pytest

from execution.exchanges.errors import RateLimited
from execution.exchanges.throttle import RateLimit, Throttler, binance_um_throttler, okx_perp_throttler


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.t += s


def make(
    limit: int = 10, interval: float = 10.0, safety: float = 0.8, max_wait: float = 30.0
) -> tuple[Throttler, FakeClock]:
    clk = FakeClock()
    t = Throttler(
        "v",
        [RateLimit("W", limit, interval)],
        {"heavy": (("W", 4),), "light": (("W", 1),)},
        safety=safety,
        max_wait_s=max_wait,
        clock=clk,
        sleep=clk.sleep,
    )
    return t, clk


def test_safety_margin_keeps_usage_below_the_limit():
    t, clk = make(limit=10, safety=0.8)
    for _ in range(8):
        t.acquire("light")
    assert t.usage("W") == 8 and clk.slept == []
    t.acquire("light")  # the 9th would exceed 80% of 10: waits for the oldest to leave the window
    assert clk.slept and abs(sum(clk.slept) - 10.0) < 1e-6
    assert t.usage("W") <= t.capacity("W") == 8


def test_weights_count():
    t, clk = make(limit=10, safety=1.0)
    t.acquire("heavy")
    t.acquire("heavy")
    assert t.usage("W") == 8
    clk.t += 1
    t.acquire("heavy")  # 12 > 10: waits until the first heavy call (at t=1000) expires at 1010
    assert clk.t == pytest.approx(1010.0)


def test_raises_instead_of_waiting_too_long():
    t, clk = make(limit=2, safety=1.0, max_wait=1.0)
    t.acquire("light")
    t.acquire("light")
    with pytest.raises(RateLimited) as exc:
        t.acquire("light")
    assert exc.value.code == "LOCAL" and exc.value.retry_after_s == pytest.approx(10.0)
    assert clk.slept == []


def test_venue_back_off_blocks_everything_until_retry_after():
    t, clk = make(max_wait=1.0)
    assert t.on_rate_limited(5.0) == 5.0
    with pytest.raises(RateLimited):
        t.acquire("light")
    clk.t += 5.0
    t.acquire("light")


def test_back_off_grows_without_retry_after_and_resets_on_success():
    t, clk = make()
    assert [t.on_rate_limited(None) for _ in range(4)] == [1.0, 2.0, 4.0, 8.0]
    t.on_success()
    assert t.on_rate_limited(None) == 1.0


def test_usage_reported_by_the_venue_counts():
    t, clk = make(limit=10, safety=0.8, max_wait=100)
    t.observe_usage("W", 8)  # other processes on the same IP used it
    t.acquire("light")
    assert clk.slept == [pytest.approx(10.0)]


def test_published_limits_are_consistent():
    b = binance_um_throttler()
    assert b.capacity("REQUEST_WEIGHT_1M") == 1920 and b.capacity("ORDERS_10S") == 240
    assert dict(b.costs["order:post"]) == {"REQUEST_WEIGHT_1M": 1, "ORDERS_10S": 1, "ORDERS_1M": 1}
    o = okx_perp_throttler()
    assert o.capacity("trade/order:post") == 48 and o.limits["trade/order:post"].interval_s == 2.0
    with pytest.raises(ValueError):
        Throttler("x", [RateLimit("A", 1, 1)], {"e": (("B", 1),)})
