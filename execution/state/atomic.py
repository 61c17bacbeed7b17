"""Files that are never half-written: JSON documents replaced atomically, journals appended whole.

`write_json` writes a temp file in the same directory, fsyncs it, renames it over the target
and fsyncs the directory: a reader (or a restart after SIGKILL or power loss) sees the old
document or the new one, never a mix. `append_line` hands the kernel one complete line in one
write(2) on an O_APPEND descriptor, so a killed process never leaves a partial line; readers
still skip (and report) a torn last line that only a power cut could leave.
"""

from __future__ import annotations

import errno
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return float(obj)
    if hasattr(obj, "value") and isinstance(obj.value, str):  # Enum
        return obj.value
    if isinstance(obj, (set, tuple)):
        return list(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def dumps(obj: Any, indent: int | None = None) -> str:
    return json.dumps(
        obj,
        default=_default,
        separators=(",", ":") if indent is None else None,
        indent=indent,
        ensure_ascii=False,
        allow_nan=False,
    )


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_text(path: Path, text: str, durable: bool = True, mode: int = 0o640) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    data = text.encode("utf-8")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:  # a full disk: the half-written temp file goes (the next start removes any that stays)
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if durable:
        fsync_dir(path.parent)


def write_json(path: Path, obj: Any, durable: bool = True) -> None:
    """Compact on purpose: json's C encoder only runs without indent (10x faster); use jq to read."""
    write_text(path, dumps(obj) + "\n", durable)


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


class AppendOnlyFile:
    """One JSON record per line, appended with a single write(2)."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        self._dirty = False

    def append(self, record: dict) -> int:
        """Returns the file's length after this record (a resumable position for tailers)."""
        data = (dumps(record) + "\n").encode("utf-8")
        n = os.write(self._fd, data)
        if n != len(data):  # regular files short-write only when the disk fills: never leave half a line
            end = os.lseek(self._fd, 0, os.SEEK_CUR)
            os.ftruncate(self._fd, end - n)
            raise OSError(
                errno.ENOSPC, f"short write ({n} of {len(data)} bytes; the part written was removed)", str(self.path)
            )
        self._dirty = True
        return os.lseek(self._fd, 0, os.SEEK_CUR)  # O_APPEND leaves the offset at the end of our write

    def sync(self) -> None:
        if self._dirty:
            os.fsync(self._fd)
            self._dirty = False

    def close(self) -> None:
        if self._fd >= 0:
            self.sync()
            os.close(self._fd)
            self._fd = -1


def read_lines(path: Path, problems: list[str] | None = None) -> list[dict]:
    """Every complete record; a torn or corrupt line is skipped and reported in `problems`."""
    out: list[dict] = []
    try:
        fh = open(path, encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return out
    with fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                if problems is not None:
                    problems.append(f"{path.name}:{lineno}: unreadable line skipped")
    return out


def tail_lines(path: Path, n: int, chunk: int = 65536) -> list[dict]:
    """The last `n` complete records without reading the whole file."""
    if n <= 0:
        return []
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return []
    with fh:
        fh.seek(0, os.SEEK_END)
        end = fh.tell()
        buf = b""
        pos = end
        while pos > 0 and buf.count(b"\n") <= n:
            step = min(chunk, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf
    lines = buf.split(b"\n")
    if pos > 0:
        lines = lines[1:]  # first piece may be a partial line
    out = []
    for raw in lines:
        if raw.strip():
            try:
                out.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return out[-n:]
