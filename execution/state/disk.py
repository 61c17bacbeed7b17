"""A full disk: recognised wherever the write failed, so the process can stop with one line.

Local state is written first and atomically (documents replaced whole, journals appended whole),
so stopping when a write finds no space loses nothing; what a write left behind is a temp file
(`.NAME.PID.tmp`), removed by the next start (`execution/state/local.py`). Exit code 75
(EX_TEMPFAIL: try again later) says "free some space and restart", not "bad configuration".
"""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Callable

EXIT_DISK_FULL = 75
_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def full(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) is a write that found no space (or hit a size or quota limit)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, OSError) and exc.errno in _ERRNOS:
            return True
        if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc).lower():
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def exit_line(exc: BaseException) -> str:
    """The one line a process prints before it exits on a full disk."""
    detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    name = getattr(exc, "filename", None)
    return (
        f"[state] disk full: {detail}{f' ({name})' if name else ''}; stopped with nothing half-written. "
        "Free some space and start again: leftover temp files are removed at start."
    )


def stop_on_full_disk(run: Callable[[], int]) -> int:
    """`run()`, or exit code 75 after one line on stderr when a write found the disk full."""
    try:
        return run()
    except (OSError, sqlite3.Error) as exc:
        if not full(exc):
            raise
        try:
            print(exit_line(exc), file=sys.stderr, flush=True)
        except OSError:
            pass
        _quiet_streams()
        return EXIT_DISK_FULL


def _quiet_streams() -> None:
    """Buffered log text that can no longer be written must not become a traceback at exit: a
    stream whose file is on the full disk is pointed at /dev/null (its buffer is dropped there)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, stream.fileno())
                os.close(devnull)
                stream.flush()
            except (OSError, ValueError):
                pass
