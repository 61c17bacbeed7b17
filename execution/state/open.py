"""Open the state store a process should use, from the environment (the one place that decides).

Readers (dashboard, heartbeat, CLI) call `open_reader`; the executor calls `open_sink`.
Today both are local-only; the Firestore mirror plugs in here (FIRESTORE_PROJECT set).
"""
from __future__ import annotations

import os
from pathlib import Path

from execution.state.local import LocalStore
from execution.state.reader import LocalReader


def state_dir_from_env(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("STATE_DIR") or "data")


def open_reader(env: dict[str, str] | None = None) -> LocalReader:
    return LocalReader(state_dir_from_env(env))


def open_sink(state_dir: Path, env: dict[str, str] | None = None) -> LocalStore:
    return LocalStore(state_dir)
