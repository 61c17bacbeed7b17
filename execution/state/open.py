"""Open the state store a process should use, from the environment (the one place that decides).

FIRESTORE_PROJECT unset: local files only. Set: the executor writes local first and mirrors to
Firestore through the on-disk outbox; readers read Firestore and fall back to local files.
"""
from __future__ import annotations

import os
from pathlib import Path

from execution import logs
from execution.state.firestore_store import CALL_TIMEOUT_S, FirestoreConfig, FirestoreTarget
from execution.state.local import LocalStore
from execution.state.reader import LocalReader
from execution.state.store import StateSink


def state_dir_from_env(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("STATE_DIR") or "data")


def open_reader(env: dict[str, str] | None = None):
    env = dict(os.environ if env is None else env)
    local = LocalReader(state_dir_from_env(env))
    cfg = FirestoreConfig.from_env(env)
    if cfg is None:
        return local
    from execution.state.firestore_reader import FallbackReader, FirestoreReader

    timeout = float(env.get("FIRESTORE_READ_TIMEOUT_S") or 3.0)
    try:
        target = FirestoreTarget(cfg, timeout_s=timeout)
    except Exception as exc:  # noqa: BLE001 - bad credentials etc.: local files still answer
        logs.get().warning("[state] firestore client not created (%s): reading local files", exc.__class__.__name__)
        return local
    return FallbackReader(FirestoreReader(target), local,
                          reconnect=lambda: FirestoreReader(FirestoreTarget(cfg, timeout_s=timeout)))


def open_sink(state_dir: Path, env: dict[str, str] | None = None, durable: bool = True) -> StateSink:
    """The executor's sink, with one start-up line saying which store is primary and whether it answered.
    `durable=False` (replays) fsyncs only at close."""
    env = dict(os.environ if env is None else env)
    log = logs.get()
    local = LocalStore(state_dir, durable=durable)
    cfg = FirestoreConfig.from_env(env)
    if cfg is None:
        log.info("[state] primary store: local %s (FIRESTORE_PROJECT not set)", Path(state_dir).resolve())
        return local
    from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink, outbox_path
    from execution.state.outbox import Outbox

    intervals = DocIntervals.from_env(env)
    outbox = Outbox(outbox_path(state_dir))
    mirror = FirestoreMirror(lambda: FirestoreTarget(cfg, CALL_TIMEOUT_S), outbox, intervals)
    queued = outbox.count()
    try:
        mirror.target = FirestoreTarget(cfg, CALL_TIMEOUT_S)
        ms = mirror.target.ping()
        log.info("[state] primary store: %s (answered in %.0f ms); local mirror %s; outbox %d queued", cfg.describe(),
                 ms, Path(state_dir).resolve(), queued)
    except Exception as exc:  # noqa: BLE001
        log.warning("[state] primary store: %s NOT answering (%s): trading on local state %s, writes queued "
                    "(%d already) until it answers", cfg.describe(), exc.__class__.__name__,
                    Path(state_dir).resolve(), queued)
    mirror.start()
    return MirrorSink(local, mirror)
