"""Dead-man switches: resting orders die if the executor does.

Each venue gets a countdown (Binance POST /fapi/v1/countdownCancelAll per symbol; OKX
POST /api/v5/trade/cancel-all-after, account-wide) that cancels every open order unless it is
re-armed in time. The executor's own loop re-arms it (`tick()` between events), not a side
thread: if the loop hangs, the re-arming stops and the venue cancels.
"""

from __future__ import annotations

from collections.abc import Callable

from execution import clock, logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError


class DeadManSwitch:
    def __init__(
        self,
        venues: dict[str, Venue],
        symbols: dict[str, list[str]],
        timeout_ms: int = 60_000,
        rearm_every_ms: int = 20_000,
        wall_ms: Callable[[], int] = clock.wall_ms,
    ):
        if rearm_every_ms >= timeout_ms:
            raise ValueError("the switch must be re-armed well before it fires")
        self.venues = {n: v for n, v in venues.items() if getattr(v, "is_exchange", False)}
        self.symbols = symbols
        self.timeout_ms = timeout_ms
        self.rearm_every_ms = rearm_every_ms
        self._wall = wall_ms
        self._last = 0
        self.armed: dict[str, bool] = {}
        self.log = logs.get()

    def tick(self) -> None:
        now = self._wall()
        if not self.venues or now - self._last < self.rearm_every_ms:
            return
        self._last = now
        for name, venue in self.venues.items():
            ok = True
            for symbol in self.symbols.get(name, []) or [""]:
                try:
                    ok = venue.arm_cancel_all_after(symbol, self.timeout_ms) and ok
                except VenueError as exc:
                    ok = False
                    self.log.error(
                        "[executor] [ORDER_ERR] code=%s dead-man switch on %s %s: %s",
                        exc.code,
                        name,
                        symbol,
                        exc.message,
                    )
            if ok and not self.armed.get(name):
                self.log.info(
                    "[executor] dead-man switch armed on %s: open orders cancelled %ds after the "
                    "executor stops re-arming",
                    name,
                    self.timeout_ms // 1000,
                )
            self.armed[name] = ok

    def disarm(self) -> None:
        for name, venue in self.venues.items():
            for symbol in self.symbols.get(name, []) or [""]:
                try:
                    venue.arm_cancel_all_after(symbol, 0)
                except VenueError:
                    pass
