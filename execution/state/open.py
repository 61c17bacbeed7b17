"""Open the state store a process should use, from its StoreEnv group (the one place that decides).

FIRESTORE_PROJECT unset: local files only. Set: the executor writes local first and mirrors to
Firestore through the on-disk outbox; readers read Firestore and fall back to local files.
"""

from __future__ import annotations

from pathlib import Path

from execution import logs
from execution.settings import StoreEnv, read_env
from execution.state.firestore_store import CALL_TIMEOUT_S, FirestoreConfig, FirestoreTarget
from execution.state.local import LocalStore
from execution.state.reader import LocalReader, StateReader
from execution.state.store import StateSink


def open_reader(store: StoreEnv | None = None) -> StateReader:
    """Local files, or Firestore falling back to them (`store` default: read from the environment)."""
    store = read_env(StoreEnv) if store is None else store
    local = LocalReader(store.state_dir)
    cfg = FirestoreConfig.from_store(store)
    if cfg is None:
        return local
    from execution.state.firestore_reader import FallbackReader, FirestoreReader

    timeout = store.read_timeout_s
    try:
        target = FirestoreTarget(cfg, timeout_s=timeout)
    except Exception as exc:  # noqa: BLE001 - bad credentials etc.: local files still answer
        logs.get().warning("[state] firestore client not created (%s): reading local files", exc.__class__.__name__)
        return local
    cache_ms = read_cache_ms(store)
    return FallbackReader(
        FirestoreReader(target, cache_ms=cache_ms),
        local,
        retry_after_ms=int(store.read_retry_s * 1000),
        reconnect=lambda: FirestoreReader(FirestoreTarget(cfg, timeout_s=timeout), cache_ms=cache_ms),
    )


def read_cache_ms(store: StoreEnv) -> int:
    """FIRESTORE_READ_CACHE_S (default 60, like the executor's document interval): how long a
    reader reuses what it read. 0 reads Firestore on every call."""
    return int(store.read_cache_s * 1000)


def open_sink(state_dir: Path, store: StoreEnv | None = None, durable: bool = True) -> StateSink:
    """The executor's sink, with one start-up line saying which store is primary and whether it answered.
    `store` default: read from the environment. `durable=False` (replays) fsyncs only at close."""
    store = read_env(StoreEnv) if store is None else store
    log = logs.get()
    local = LocalStore(state_dir, durable=durable)
    cfg = FirestoreConfig.from_store(store)
    if cfg is None:
        log.info("[state] primary store: local %s (FIRESTORE_PROJECT not set)", Path(state_dir).resolve())
        return local
    from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink, outbox_path
    from execution.state.outbox import Outbox

    intervals = DocIntervals.from_store(store)
    outbox = Outbox(outbox_path(state_dir))
    from execution.state.audit import FirestoreAudit

    audit = FirestoreAudit(state_dir, outbox, int(store.audit_interval_s * 1000))
    mirror = FirestoreMirror(
        lambda: FirestoreTarget(cfg, CALL_TIMEOUT_S), outbox, intervals, state_dir=state_dir, audit=audit
    )
    mirror.catch_up()  # before trading: what a killed run wrote locally but never queued
    queued = outbox.count()
    target = None
    try:
        target = FirestoreTarget(cfg, CALL_TIMEOUT_S)
        ms = target.ping()
        mirror.target = target
        log.info(
            "[state] primary store: %s (answered in %.0f ms); local mirror %s; outbox %d queued",
            cfg.describe(),
            ms,
            Path(state_dir).resolve(),
            queued,
        )
    except Exception as exc:  # noqa: BLE001
        if target is not None:
            target.close()
        log.warning(
            "[state] primary store: %s NOT answering (%s): trading on local state %s, writes queued "
            "(%d already) until it answers",
            cfg.describe(),
            exc.__class__.__name__,
            Path(state_dir).resolve(),
            queued,
        )
    mirror.start()
    return MirrorSink(local, mirror)
