"""Where ops alerts go (Telegram today): a port the engine is given, never an import of an edge.

The entry points build the notifier with `build_notifier(settings)`, which loads the adapter
named in `NOTIFIERS` by its dotted path (the way entry points work), so the `execution`
package never imports `telegram` and a new channel is one line here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Protocol

from execution import logs
from execution.settings import Settings


class Notifier(Protocol):
    def send(self, text: str) -> None:
        """Queue one alert; never blocks the trading loop, never raises."""

    def close(self) -> None:
        """Deliver what is queued (bounded wait) and stop."""


class NullNotifier:
    """No alert channel configured: alerts are still journaled (ops_alerts.jsonl)."""

    def send(self, text: str) -> None:
        return None

    def close(self) -> None:
        return None


class FanOut:
    """Several channels at once; one failing channel never stops the others."""

    def __init__(self, channels: list[Notifier]):
        self.channels = channels

    def send(self, text: str) -> None:
        for channel in self.channels:
            try:
                channel.send(text)
            except Exception as exc:  # noqa: BLE001 - an alert channel must never stop trading
                logs.get().warning("[control] alert not sent: %s", exc.__class__.__name__)

    def close(self) -> None:
        for channel in self.channels:
            channel.close()


# name -> "module:factory"; factory(settings) -> Notifier | None (None: not configured); each
# channel takes its own group of the settings (Telegram: settings.telegram)
NOTIFIERS: dict[str, str] = {"telegram": "telegram.alerts:from_settings"}


def build_notifier(settings: Settings, names: tuple[str, ...] = tuple(NOTIFIERS)) -> Notifier:
    channels: list[Notifier] = []
    for name in names:
        module_name, _, attr = NOTIFIERS[name].partition(":")
        factory: Callable[[Settings], Notifier | None] = getattr(importlib.import_module(module_name), attr)
        channel = factory(settings)
        if channel is not None:
            channels.append(channel)
    if not channels:
        return NullNotifier()
    return channels[0] if len(channels) == 1 else FanOut(channels)
