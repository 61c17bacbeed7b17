"""Questions about paths an operator gives (CONFIG_DIR, MARKET_DIR, STATE_DIR, a command's --out)
that must be answered, never raised: a name too long for the file system, a symlink loop, a NUL
byte, a file where a directory should be are each a reason, for the caller to refuse in one line.

The argparse types at the end turn a reason into argparse's own one-line usage error (exit 2),
before the command has done anything."""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Callable
from pathlib import Path


def is_directory(path: Path) -> bool:
    """Path.is_dir without the OSError (ENAMETOOLONG, ELOOP) or ValueError (NUL) it can raise."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


def directory_problem(path: Path, writable: bool = False) -> str | None:
    """Why `path` cannot be used as a directory (read, or created and written when `writable`), or
    None. Nothing there yet is fine when the nearest existing parent is a directory (it is created)."""
    try:
        existing = path
        while not _lexists(existing):  # raises on a name the system refuses (too long, a NUL byte)
            if existing.parent == existing:
                return "no such place"
            existing = existing.parent
        if not existing.is_dir():
            return "not a directory" if existing == path else f"{existing} is not a directory"
        if writable and not os.access(existing, os.W_OK | os.X_OK):
            return f"{existing} is not writable"
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or "a name the system refuses"
    return None


def _lexists(path: Path) -> bool:
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # the latter: a file on the way, found by the walk up
        return False
    return True


def file_problem(path: Path) -> str | None:
    """Why `path` cannot be read as a file, or None (a regular file this process may read)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or "a name the system refuses"
    if not stat.S_ISREG(st.st_mode):
        return "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable"
    return None


def _shown(text: str) -> str:
    return repr(text if len(text) <= 120 else text[:120] + "...")


def _checked(text: str, problem_of: Callable[[Path], str | None]) -> Path:
    path = Path(text)
    problem = problem_of(path)
    if problem:
        raise argparse.ArgumentTypeError(f"{_shown(text)}: {problem}")
    return path


def directory_arg(text: str) -> Path:
    """argparse type: a directory to read (it may not exist yet)."""
    return _checked(text, directory_problem)


def output_directory_arg(text: str) -> Path:
    """argparse type: a directory this command creates or writes into."""
    return _checked(text, lambda p: directory_problem(p, writable=True))


def output_file_arg(text: str) -> Path:
    """argparse type: a file this command writes (its directory must be writable; not a directory)."""
    return _checked(
        text, lambda p: "a directory, not a file" if is_directory(p) else directory_problem(p.parent, writable=True)
    )


def input_file_arg(text: str) -> Path:
    """argparse type: a file this command reads."""
    return _checked(text, file_problem)
