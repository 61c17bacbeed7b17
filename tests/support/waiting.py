"""Waiting for something another process or thread does, without sleeping a fixed time."""

from __future__ import annotations

import time


def wait_for(pred, timeout: float = 60.0, step: float = 0.05, what: str = "condition"):
    """The first truthy value of `pred()`, polled every `step` s; AssertionError after `timeout` s."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"{what} not met within {timeout:.0f} s")
