"""Is the executor alive? Judged from the age of its newest state write; pure, no I/O.

The executor rewrites its state documents about once a second while its loop turns (HOLD
included), so a state older than WATCHDOG_STALE_S (default 300 s) means the executor is stopped,
hung, or cannot write. Used by `ctl status` (DOWN, exit code 4) and by the cron watchdog
(`python -m telegram.watchdog`), so both say the same thing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_STALE_S = 300.0
UP, DOWN = "UP", "DOWN"


@dataclass(frozen=True)
class Liveness:
    status: str  # UP | DOWN
    age_ms: int | None  # since the newest state write; None: no state at all
    stale_after_ms: int

    @property
    def down(self) -> bool:
        return self.status == DOWN

    def describe(self) -> str:
        if self.age_ms is None:
            return "DOWN: no executor state found"
        if self.down:
            return f"DOWN for {duration(self.age_ms)} (no state written since; limit {duration(self.stale_after_ms)})"
        return f"UP (state written {duration(self.age_ms)} ago)"

    def to_doc(self) -> dict:
        return {
            "status": self.status,
            "age_s": None if self.age_ms is None else round(self.age_ms / 1000, 1),
            "stale_after_s": self.stale_after_ms / 1000,
            "text": self.describe(),
        }


def assess(updated_at_ms: int | None, now_ms: int, stale_after_ms: int) -> Liveness:
    """UP when the newest write is at most `stale_after_ms` old; DOWN when older or absent. A write
    from the future (clocks of two machines) counts as age 0."""
    if not updated_at_ms:
        return Liveness(DOWN, None, stale_after_ms)
    age = max(0, now_ms - updated_at_ms)
    return Liveness(DOWN if age > stale_after_ms else UP, age, stale_after_ms)


def duration(ms: int | float) -> str:
    """`45 s`, `7 min 03 s`, `2 h 05 min`, `3 d 4 h`: how long, for a person."""
    s = int(ms // 1000)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def stale_after_ms(env: Mapping[str, str] | None = None) -> int:
    """WATCHDOG_STALE_S (seconds, > 0; default 300) of `env` (default: the process environment),
    read through its settings group (WatchdogEnv). A bad value raises ConfigError naming it."""
    from execution.settings import WatchdogEnv, read_env

    return read_env(WatchdogEnv, env).stale_ms
