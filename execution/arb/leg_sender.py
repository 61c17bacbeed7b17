"""Hands an attempt's orders to the venue clients: the first on the calling thread, the others
on a small pool at the same time (`concurrent`), or one after the other. The only threads of the
arbitrage loop live here; every outcome (an answer, an exception, no answer in time) is returned
for the runner (execution/arb/two_leg.py) to classify."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from execution.exchanges.base import Venue
from execution.exchanges.errors import UnknownOutcome
from execution.models import Order, OrderRequest


class LegSender:
    """Hands orders to venue clients: the first on the calling thread, the others on a small
    pool at the same time (`concurrent`), or one after the other."""

    def __init__(
        self, concurrent: bool = True, timeout_s: float = 10.0, perf_ns: Callable[[], int] = time.perf_counter_ns
    ):
        self.concurrent = concurrent
        self.timeout_s = timeout_s
        self.perf_ns = perf_ns
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="arb-leg") if concurrent else None
        if self._pool is not None:
            self._pool.submit(lambda: None).result()  # start the worker now, not on the first trade

    def _send(self, venue: Venue, req: OrderRequest) -> tuple[Order | BaseException, int, int]:
        """(the venue's answer or the exception, when it was sent, when it answered)."""
        t = self.perf_ns()
        try:
            return venue.place_order(req), t, self.perf_ns()
        except Exception as exc:  # noqa: BLE001 - every outcome is classified by the caller
            return exc, t, self.perf_ns()

    def send(self, jobs: list[tuple[Venue, OrderRequest]]) -> list[tuple[Order | BaseException, int, int]]:
        if self._pool is None or len(jobs) < 2:
            return [self._send(v, r) for v, r in jobs]
        futures = [self._pool.submit(self._send, v, r) for v, r in jobs[1:]]
        out = [self._send(*jobs[0])]
        for fut, (_, req) in zip(futures, jobs[1:], strict=False):
            try:
                out.append(fut.result(timeout=self.timeout_s))
            except FutureTimeout:
                out.append((UnknownOutcome(req.venue, "timeout", "place_order did not return in time"), 0, 0))
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
