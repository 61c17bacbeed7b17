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
    cache_ms = read_cache_ms(env)
    retry_ms = int(float(env.get("FIRESTORE_READ_RETRY_S") or 30) * 1000)
    return FallbackReader(
        FirestoreReader(target, cache_ms=cache_ms),
        local,
        retry_after_ms=retry_ms,
        reconnect=lambda: FirestoreReader(FirestoreTarget(cfg, timeout_s=timeout), cache_ms=cache_ms),
    )


def read_cache_ms(env: dict[str, str]) -> int:
    """FIRESTORE_READ_CACHE_S (default 60, like the executor's document interval): how long a
    reader reuses what it read. 0 reads Firestore on every call."""
    raw = (env.get("FIRESTORE_READ_CACHE_S") or "").strip()
    try:
        value = float(raw) if raw else 60.0
    except ValueError:
        value = -1.0
    if not value >= 0:
        from execution.settings import ConfigError

        raise ConfigError(".env", "FIRESTORE_READ_CACHE_S", "seconds (a number >= 0)", raw)
    return int(value * 1000)


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
    mirror = FirestoreMirror(lambda: FirestoreTarget(cfg, CALL_TIMEOUT_S), outbox, intervals, state_dir=state_dir)
    mirror.catch_up()  # before trading: what a killed run wrote locally but never queued
    queued = outbox.count()
    try:
        mirror.target = FirestoreTarget(cfg, CALL_TIMEOUT_S)
        ms = mirror.target.ping()
        log.info(
            "[state] primary store: %s (answered in %.0f ms); local mirror %s; outbox %d queued",
            cfg.describe(),
            ms,
            Path(state_dir).resolve(),
            queued,
        )
    except Exception as exc:  # noqa: BLE001
        if mirror.target is not None:
            mirror.target.close()
            mirror.target = None
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
