"""Log lines the arbitrage loop writes after the hot path: a line is queued while legs are being
sent and written at the end of the market event, so formatting and I/O never delay an order."""

from __future__ import annotations

from execution.logs import EventLog


class DeferredLog:
    """Queued (level, message, args) records, written in order by `flush`."""

    def __init__(self, log: EventLog):
        self.log = log
        self._pending: list[tuple[int, str, tuple]] = []

    def add(self, level: int, msg: str, *args) -> None:
        self._pending.append((level, msg, args))

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            for level, msg, args in pending:
                self.log.log(level, msg, *args)
