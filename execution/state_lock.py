"""One writer per STATE_DIR: an exclusive lock that a second executor cannot take.

Two executors on one state directory would both write state and both trade the same account.
The first takes an `fcntl` lock on `STATE_DIR/executor.lock` and writes its PID there; the lock
goes with the process (a SIGKILL releases it, so a stale file never blocks a restart). A second
one is refused with the holder's PID.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

LOCK_NAME = "executor.lock"


class StateDirBusy(Exception):
    """Another process holds the state directory's lock."""

    def __init__(self, state_dir: Path, holder: str):
        self.state_dir = state_dir
        self.holder = holder
        who = f"pid {holder}" if holder else "a process whose pid is not recorded"
        super().__init__(
            f"{state_dir} is in use by another executor ({who}); stop it first "
            f"(supervisorctl stop hedge-executor) or use another STATE_DIR"
        )


class StateDirLock:
    """Held for the life of the process (or until `release`)."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / LOCK_NAME
        self._fh: IO[str] | None = None

    def acquire(self) -> StateDirLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # kept open: the lock lives as long as the descriptor
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip()
            fh.close()
            raise StateDirBusy(self.path.parent, holder) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def release(self) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None
