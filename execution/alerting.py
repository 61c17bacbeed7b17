"""Ops alerts and breaker trips: journaled first (local, then Firestore), then handed to the notifier.

One object every component is given, so a strategy or guard that trips HOLD or raises an
alert does it the same way as the engine: one `[risk] BREAKER ...` line, one alert record, one
message, never blocking and never twice for the same id.
"""

from __future__ import annotations

from typing import Any

from execution import control, logs
from execution.control import ControlState
from execution.journal import Journal
from execution.notify import Notifier


class Alerting:
    def __init__(self, journal: Journal, notifier: Notifier, control_state: ControlState, env_label: str):
        self.journal = journal
        self.notifier = notifier
        self.control = control_state
        self.env_label = env_label
        self.log = logs.get()

    def alert(self, alert_id: str, ts: int, kind: str, text: str, **fields: Any) -> None:
        if self.journal.seen(alert_id):
            return
        self.journal.append("alerts", {"id": alert_id, "ts": ts, "kind": kind, "text": text, **fields})
        try:
            self.notifier.send(f"[{self.env_label}] {text}")
        except Exception as exc:  # noqa: BLE001 - an alert channel must never stop trading
            self.log.warning("[control] alert not sent: %s", exc.__class__.__name__)

    def trip(self, breaker: str, detail: str, ts: int) -> None:
        """A breaker sets HOLD by itself (once per breaker until resumed) and raises an alert."""
        if control.trip(self.control, breaker, detail, ts):
            self.log.warning("[risk] BREAKER %s tripped: %s -> HOLD", breaker, detail)
            self.alert(f"breaker:{breaker}:{ts}", ts, "breaker", f"BREAKER {breaker}: {detail} -> HOLD", name=breaker)
