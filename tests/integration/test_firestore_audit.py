"""The Firestore audit against Google's emulator (issue 20): documents that vanished from Firestore
are noticed (count and digest per day), sent again with the same ids, and reported as an ops
alert; days that matched once are not read again."""

from __future__ import annotations

import pytest

from execution.audit_alerts import FirestoreAuditAlerts
from execution.state.audit import FirestoreAudit
from execution.state.firestore_store import FirestoreConfig, record_doc_id
from execution.state.local import LocalStore
from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink, outbox_path
from execution.state.outbox import Outbox
from tests.support.engine_harness import harness
from tests.support.firestore_checks import RecordingTarget, queued, remote_collection, target, wait_for
from tests.support.firestore_emulator import PROJECT

pytestmark = pytest.mark.emulator
D = 86_400_000
T0 = 1_735_689_600_000  # 2025-01-01


def test_lost_documents_are_noticed_resent_and_alerted(firestore, tmp_path):
    state = tmp_path / "state"
    outbox = Outbox(outbox_path(state))
    audit = FirestoreAudit(state, outbox, interval_ms=300)
    sent: list = []
    cfg = FirestoreConfig(PROJECT, "(default)", "t")
    mirror = FirestoreMirror(
        lambda: RecordingTarget(cfg, sent),
        outbox,
        DocIntervals(1000, 1000, 1000),
        max_backoff_s=0.5,
        state_dir=state,
        audit=audit,
    )
    mirror.start()
    sink = MirrorSink(LocalStore(state, durable=False), mirror)
    records = [{"id": f"t-{d}-{i}", "ts": T0 + d * D + i, "qty": i} for d in range(3) for i in range(5)]
    for rec in records:
        sink.append("trades", dict(rec))
    sink.flush(force=True)
    wait_for(lambda: queued(state) == 0 and len(remote_collection(target(), "trades")) == 15, 30, what="the mirror")
    wait_for(lambda: audit.runs >= 1 and outbox.cursor("audit:trades:2025-01-02"), 30, what="a clean audit")
    assert audit.findings.empty()

    fs = target()
    lost = [records[0], records[7], records[8]]
    for rec in lost:
        fs.client.document(f"hedge/t/trades/{record_doc_id(rec)}").delete()
    assert len(remote_collection(fs, "trades")) == 12
    wait_for(lambda: not audit.findings.empty(), 30, what="the audit to notice")
    wait_for(lambda: len(remote_collection(fs, "trades")) == 15, 30, what="the lost documents sent again")
    sink.close()

    findings = []
    while not audit.findings.empty():
        findings.append(audit.findings.get())
    by_day = {f.day: f for f in findings}
    assert by_day["2025-01-01"].resent == 1 and by_day["2025-01-02"].resent == 2
    assert by_day["2025-01-02"].local == 5 and by_day["2025-01-02"].remote == 3
    assert remote_collection(fs, "trades")[record_doc_id(records[7])]["qty"] == 2

    h = harness(tmp_path / "engine")  # the findings become alerts through the engine's own path
    guard = FirestoreAuditAlerts(audit)
    for f in findings:
        audit.findings.put(f)
    guard.on_cycle_end(T0, h.engine)
    alerts = (h.state_dir / "ops_alerts.jsonl").read_text()
    assert "FIRESTORE AUDIT trades 2025-01-02: local 5 record(s), Firestore 3; 2 missing" in alerts
    assert '"kind":"firestore_audit"' in (h.state_dir / "incidents.jsonl").read_text()
