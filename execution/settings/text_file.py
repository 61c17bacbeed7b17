"""The strict reader of the small text files an operator edits beside the JSON config (`.env`,
`config/denylist.txt`): a hostile or broken one is refused with one line naming the file, never
a traceback and never a silent misreading.

It must be a regular file (a directory, a FIFO that would block the start, a device are refused),
at most 1 MiB, UTF-8 without NUL bytes. Nothing at the path is "no file" (`None`); a symlink to
nothing is refused, since it says a file was meant to be there (a dangling `denylist.txt` link
must not quietly deny nothing).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from execution.settings.errors import ConfigError

MAX_TEXT_FILE_BYTES = 1 << 20


def read_text_file(path: Path, max_bytes: int = MAX_TEXT_FILE_BYTES) -> str | None:
    """The file's text, None when nothing is at `path`; ConfigError naming what is wrong."""
    source = str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.lexists(path):
            raise ConfigError(source, "<file>", "a readable file", "a symlink to nothing") from None
        return None
    except OSError as exc:  # a symlink loop, a path through a file, no permission
        raise ConfigError(source, "<file>", "a readable file", exc.strerror or type(exc).__name__) from None
    except (ValueError, UnicodeError):  # a NUL byte or a lone surrogate: no file can have that name
        raise ConfigError(repr(source), "<file>", "a path the system can open", "an unencodable name") from None
    if not stat.S_ISREG(st.st_mode):
        raise ConfigError(
            source, "<file>", "a regular file", "a directory" if stat.S_ISDIR(st.st_mode) else "a special file"
        )
    if st.st_size > max_bytes:
        raise ConfigError(source, "<file>", f"at most {max_bytes} bytes", f"{st.st_size} bytes")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise ConfigError(source, "<file>", "a readable file", exc.strerror or type(exc).__name__) from None
    if len(data) > max_bytes:  # grew between stat and read
        raise ConfigError(source, "<file>", f"at most {max_bytes} bytes", "more")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, f"<byte {exc.start}>", "UTF-8 text", "binary data") from None
    if "\x00" in text:
        raise ConfigError(source, f"<byte {text.index(chr(0))}>", "text", "a NUL byte")
    return text
