"""The Firestore audit's findings (execution/state/audit.py) as ops alerts, raised from the trading
thread: the audit runs in the mirror's thread and only queues what it found; this guard journals
each finding as an incident and raises an alert at the end of the next market instant."""

from __future__ import annotations

import queue

from execution.guard import BaseGuard, GuardContext
from execution.state.audit import FirestoreAudit


class FirestoreAuditAlerts(BaseGuard):
    name = "firestore_audit"

    def __init__(self, audit: FirestoreAudit):
        self.audit = audit
        self.reported = 0

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        while True:
            try:
                f = self.audit.findings.get_nowait()
            except queue.Empty:
                return
            self.reported += 1
            key = f"firestore-audit:{f.collection}:{f.day}:{f.digest_local}:{f.digest_remote}"
            ctx.journal(
                "incidents",
                {
                    "id": key,
                    "ts": ts,
                    "kind": "firestore_audit",
                    "collection": f.collection,
                    "day": f.day,
                    "local": f.local,
                    "firestore": f.remote,
                    "resent": f.resent,
                },
            )
            ctx.alert(key, ts, "firestore", f.text())

    def status(self) -> dict | None:
        return {"audits": self.audit.runs, "findings": self.reported} if self.audit.runs else None
