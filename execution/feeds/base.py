"""The feed interface: anything that yields time-ordered market events (recorded, generated, live)."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator

from execution.feeds.events import Event


class Feed(ABC):
    @abstractmethod
    def events(self) -> Iterator[Event]:
        """Time-ordered events; a finite feed ends, a live one blocks for the next event."""

    def close(self) -> None:  # noqa: B027 - optional hook: a generated feed holds nothing
        """Stop producing events and release files or connections."""


def paced(
    events: Iterator[Event], speed: float | None, sleep=time.sleep, monotonic=time.monotonic, should_stop=lambda: False
) -> Iterator[Event]:
    """Let market time advance `speed` times faster than wall time (None: no pacing).

    Sleeps in short slices so a stop request is honoured within ~0.2 s.
    """
    if speed is None:
        yield from events
        return
    start_wall = 0.0
    start_ts: int | None = None
    for ev in events:
        if start_ts is None:
            start_ts, start_wall = ev.ts, monotonic()
        due = start_wall + (ev.ts - start_ts) / 1000.0 / speed
        while True:
            if should_stop():
                return
            wait = due - monotonic()
            if wait <= 0:
                break
            sleep(min(wait, 0.2))
        yield ev
