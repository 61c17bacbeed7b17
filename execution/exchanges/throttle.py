"""Per-venue request throttler: weights, sliding windows, a safety margin and back-off (hummingbot-style).

Every REST call names an endpoint key; the key costs a weight on one or more limits (Binance:
request weight per minute, orders per 10 s and per minute; OKX: per-endpoint counts per 2 s).
A call waits (briefly) until every limit it touches has room below `limit * safety`; if room
would only come later than `max_wait_s`, it raises `RateLimited` instead of stalling the loop.

When the venue answers 429/418 (or -1003 / OKX 50011) the adapter calls `on_rate_limited`:
nothing is sent to that venue until Retry-After has passed (or an exponential back-off when the
venue gave none), so a burst never turns into an IP ban. Usage the venue reports in headers
(X-MBX-USED-WEIGHT-1M) is folded in, so requests made by other processes on the same IP count.

The clock and the sleep are injectable so tests run on a fake clock without waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from execution.exchanges.errors import RateLimited


@dataclass(frozen=True, slots=True)
class RateLimit:
    limit_id: str
    limit: int
    interval_s: float


Costs = Mapping[str, tuple[tuple[str, int], ...]]  # endpoint key -> ((limit_id, weight), ...)


class Throttler:
    def __init__(
        self,
        venue: str,
        limits: Iterable[RateLimit],
        costs: Costs,
        default_cost: tuple[tuple[str, int], ...] = (),
        safety: float = 0.8,
        max_wait_s: float = 2.0,
        backoff_base_s: float = 1.0,
        backoff_max_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not 0 < safety <= 1:
            raise ValueError(f"safety must be in (0, 1], got {safety}")
        self.venue = venue
        self.limits = {lim.limit_id: lim for lim in limits}
        self.costs = dict(costs)
        self.default_cost = default_cost
        for key, cost in list(self.costs.items()) + [("<default>", default_cost)]:
            for limit_id, _ in cost:
                if limit_id not in self.limits:
                    raise ValueError(f"{venue}: endpoint {key} costs unknown limit {limit_id}")
        self.safety = safety
        self.max_wait_s = max_wait_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._used: dict[str, deque[tuple[float, int]]] = {k: deque() for k in self.limits}
        self._sum: dict[str, int] = {k: 0 for k in self.limits}  # running total of each window
        self._reported: dict[str, tuple[float, int]] = {}  # limit_id -> (when, used as the venue counts it)
        self.blocked_until = 0.0
        self._consecutive_limited = 0
        self.waited_s = 0.0  # total time spent waiting (for figures)

    # -- capacity ------------------------------------------------------------------------------
    def capacity(self, limit_id: str) -> int:
        lim = self.limits[limit_id]
        return max(1, math.floor(lim.limit * self.safety))

    def usage(self, limit_id: str) -> int:
        with self._lock:
            return self._usage(limit_id, self._clock())

    def _usage(self, limit_id: str, now: float) -> int:
        lim = self.limits[limit_id]
        q = self._used[limit_id]
        while q and q[0][0] <= now - lim.interval_s:
            self._sum[limit_id] -= q.popleft()[1]
        counted = self._sum[limit_id]
        rep = self._reported.get(limit_id)
        if rep is not None and now - rep[0] < lim.interval_s:
            return max(counted, rep[1])
        return counted

    def _wait_for(self, limit_id: str, weight: int, now: float) -> float:
        """Seconds until `weight` more fits under the capacity of `limit_id` (0 = now)."""
        cap = self.capacity(limit_id)
        if weight > cap:
            weight = cap  # a single call heavier than the margin waits for an empty window
        used = self._usage(limit_id, now)
        if used + weight <= cap:
            return 0.0
        lim = self.limits[limit_id]
        excess = used + weight - cap
        wait = 0.0
        rep = self._reported.get(limit_id)
        counted = self._sum[limit_id]
        if rep is not None and rep[1] > counted and now - rep[0] < lim.interval_s:
            wait = rep[0] + lim.interval_s - now  # the venue's count only helps once its window has passed
        freed = 0
        for t, w in self._used[limit_id]:
            freed += w
            if freed >= excess:
                wait = max(wait, t + lim.interval_s - now)
                break
        return max(wait, 1e-3)

    # -- the one entry point ---------------------------------------------------------------------
    def acquire(self, endpoint: str) -> None:
        """Reserve room for one call to `endpoint`, waiting at most `max_wait_s`."""
        cost = self.costs.get(endpoint, self.default_cost)
        while True:
            with self._lock:
                now = self._clock()
                wait = max(0.0, self.blocked_until - now)
                reason = "venue asked to back off"
                for limit_id, weight in cost:
                    w = self._wait_for(limit_id, weight, now)
                    if w > wait:
                        wait, reason = w, f"{limit_id} at {self._usage(limit_id, now)}/{self.capacity(limit_id)}"
                if wait <= 0:
                    for limit_id, weight in cost:
                        self._used[limit_id].append((now, weight))
                        self._sum[limit_id] += weight
                    return
            if wait > self.max_wait_s:
                raise RateLimited(
                    self.venue, "LOCAL", f"throttled ({reason}); {endpoint} would wait {wait:.2f}s", retry_after_s=wait
                )
            self.waited_s += wait
            self._sleep(wait)

    # -- what the venue tells us -----------------------------------------------------------------
    def observe_usage(self, limit_id: str, used: int) -> None:
        """Usage as the venue counts it (e.g. X-MBX-USED-WEIGHT-1M): includes other clients on our IP."""
        if limit_id in self.limits:
            with self._lock:
                self._reported[limit_id] = (self._clock(), int(used))

    def on_rate_limited(self, retry_after_s: float | None) -> float:
        """The venue said 429/418: block every call until Retry-After (or a growing back-off)."""
        with self._lock:
            self._consecutive_limited += 1
            if retry_after_s is None or retry_after_s <= 0:
                retry_after_s = min(self.backoff_max_s, self.backoff_base_s * 2 ** (self._consecutive_limited - 1))
            self.blocked_until = max(self.blocked_until, self._clock() + retry_after_s)
            return retry_after_s

    def on_success(self) -> None:
        self._consecutive_limited = 0


# -- the venues' published limits ---------------------------------------------------------------
def binance_um_throttler(**kw) -> Throttler:
    """Binance USD-M: 2400 weight/min per IP, 300 orders/10 s and 1200 orders/min per account.

    Weights from the USD-M REST docs (New Order: 0 weight on the IP limit, 1 on each order limit).
    """
    w = "REQUEST_WEIGHT_1M"

    def weight(n: int) -> tuple[tuple[str, int], ...]:
        return ((w, n),)

    order = ((w, 1), ("ORDERS_10S", 1), ("ORDERS_1M", 1))
    costs = {
        "ping": weight(1),
        "time": weight(1),
        "exchangeInfo": weight(1),
        "leverageBracket": weight(1),
        "premiumIndex": weight(1),
        "bookTicker": weight(2),
        "commissionRate": weight(20),
        "positionSide/dual:get": weight(30),
        "positionSide/dual:post": weight(1),
        "symbolConfig": weight(5),
        "marginType": weight(1),
        "leverage": weight(1),
        "order:post": order,
        "order/test": weight(1),
        "order:get": weight(1),
        "order:delete": weight(1),
        "allOpenOrders": weight(1),
        "openOrders": weight(1),
        "openOrders:all": weight(40),
        "positionRisk": weight(5),
        "balance": weight(5),
        "countdownCancelAll": weight(10),
        "algoOrder:post": order,  # the Algo Service (protective orders): weight 0, counts as an order
        "algoOrder:get": weight(1),
        "algoOrder:delete": weight(1),
        "openAlgoOrders": weight(1),
        "openAlgoOrders:all": weight(40),
        "income": weight(30),
        "userTrades": weight(5),
    }
    limits = [RateLimit(w, 2400, 60.0), RateLimit("ORDERS_10S", 300, 10.0), RateLimit("ORDERS_1M", 1200, 60.0)]
    return Throttler("binance_um", limits, costs, default_cost=weight(5), **kw)


def okx_perp_throttler(**kw) -> Throttler:
    """OKX v5: each endpoint has its own count per 2 s (per user id or IP); values from the docs."""
    per_2s = {
        "public/time": 10,
        "public/instruments": 20,
        "public/position-tiers": 10,
        "public/funding-rate": 20,
        "public/mark-price": 10,
        "market/ticker": 20,
        "account/config": 5,
        "account/set-position-mode": 5,
        "account/leverage-info": 20,
        "account/set-leverage": 20,
        "account/trade-fee": 5,
        "trade/order:post": 60,
        "trade/order:get": 60,
        "trade/cancel-order": 60,
        "trade/cancel-batch-orders": 300,
        "trade/orders-pending": 60,
        "account/positions": 10,
        "account/balance": 10,
        "trade/fills": 60,
        "trade/order-algo:post": 20,  # protective (algo) orders
        "trade/order-algo:get": 20,
        "trade/cancel-algos": 20,
        "trade/orders-algo-pending": 20,
        "trade/fills-history": 10,
        "account/bills-archive": 5,
    }
    per_1s = {"trade/cancel-all-after": 1, "account/bills": 5}
    limits = [RateLimit(k, v, 2.0) for k, v in per_2s.items()]
    limits += [RateLimit(k, v, 1.0) for k, v in per_1s.items()]
    limits.append(RateLimit("default", 5, 2.0))
    costs = {k: ((k, 1),) for k in list(per_2s) + list(per_1s)}
    # cancel-all-after allows exactly 1/s: a safety margin below 1 would round to 1 anyway
    return Throttler("okx_perp", limits, costs, default_cost=(("default", 1),), **kw)
