"""Text bound for an operator's terminal, made inert: what the CLI prints includes text the
executor did not write itself (a venue's error message in an incident, a reason typed through
Telegram), and an escape sequence in it could clear the screen, rewrite an earlier line or retitle
the window; a bidi override could show a figure reversed. Each such character is printed as a
visible `\\x1b` / `\\u202e` escape instead; newlines and tabs pass."""

from __future__ import annotations

import unicodedata
from typing import Any, TextIO

_KEEP = frozenset("\n\t")
INERT_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Zl", "Zp"})  # control, format, surrogate, private, separators


def inert(text: str) -> str:
    if text.isprintable():  # the common case, in C
        return text
    return "".join(
        ch if ch in _KEEP or unicodedata.category(ch) not in INERT_CATEGORIES else ascii(ch)[1:-1] for ch in text
    )


class InertWriter:
    """A text stream that passes everything written through `inert` to the stream it wraps."""

    def __init__(self, stream: TextIO):
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(inert(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, isatty, encoding ...
        return getattr(self._stream, name)
