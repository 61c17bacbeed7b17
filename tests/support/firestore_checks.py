"""Helpers for the Firestore tests: a recording target, waiting, and comparing Firestore with the local mirror."""

from __future__ import annotations

import json
from pathlib import Path

from execution import clock
from execution.state.firestore_store import (
    FirestoreConfig,
    FirestoreTarget,
    jsonable,
    record_doc_id,
)
from execution.state.layout import COLLECTION_FILES
from execution.state.local import LocalStore
from execution.state.mirror import (
    DocIntervals,
    FirestoreMirror,
    MirrorSink,
    outbox_path,
)
from execution.state.outbox import Outbox
from tests.support.firestore_emulator import PROJECT
from tests.support.waiting import wait_for  # noqa: F401 - the Firestore tests import it from here


class RecordingTarget(FirestoreTarget):
    """The real target, also noting each successful commit: (wall ms at send, [paths])."""

    def __init__(self, cfg, log):
        super().__init__(cfg, timeout_s=3.0)
        self.log_ = log

    def commit(self, writes):
        started = clock.wall_ms()
        super().commit(writes)
        self.log_.append((started, [path for path, _ in writes]))


def target(env: str = "t") -> FirestoreTarget:
    return FirestoreTarget(FirestoreConfig(PROJECT, "(default)", env), timeout_s=3.0)


def make_sink(
    state_dir: Path,
    env: str = "t",
    intervals: DocIntervals | None = None,
    sent: list | None = None,
    local_interval_ms: int = 0,
) -> MirrorSink:
    cfg = FirestoreConfig(PROJECT, "(default)", env)
    log = sent if sent is not None else []
    mirror = FirestoreMirror(
        lambda: RecordingTarget(cfg, log),
        Outbox(outbox_path(state_dir)),
        intervals or DocIntervals(1000, 1000, 1000),
        max_backoff_s=0.5,
        state_dir=state_dir,
    )
    mirror.catch_up()
    mirror.start()
    return MirrorSink(LocalStore(state_dir, durable=False, min_interval_ms=local_interval_ms), mirror)


def queued(state_dir: Path) -> int:
    return Outbox(outbox_path(state_dir)).count()


def remote_collection(fs: FirestoreTarget, collection: str) -> dict[str, dict]:
    col = fs.client.collection(f"hedge/{fs.cfg.env}/{collection}")
    return {d.id: d.to_dict() for d in col.stream()}


def local_records(state_dir: Path, collection: str) -> dict[str, dict]:
    path = state_dir / COLLECTION_FILES[collection]
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        out[record_doc_id(rec)] = jsonable(rec)
    return out


def local_history(state_dir: Path) -> dict[str, dict]:
    """Every NAV-history document of the local mirror, by logical path."""
    root = state_dir / "history"
    return {
        f.relative_to(state_dir).with_suffix("").as_posix(): json.loads(f.read_text())
        for f in sorted(root.rglob("*.json"))
        if not f.name.startswith(".")
    }


def remote_docs(fs: FirestoreTarget, paths: list[str]) -> dict[str, dict]:
    out = {}
    for i in range(0, len(paths), 100):
        out.update(fs.get_docs(paths[i : i + 100]))
    return out
