"""Telegram HTML parse mode, made safe and bounded: every value that comes from state or
configuration is cut and then escaped (`<`, `>`, `&`), so a symbol like `A<B>&C` shows as
written, cannot break the message, and the message's size is bounded by what is sent. Pure."""

from __future__ import annotations

import html

MAX_FIELD_CHARS = 48  # a symbol, venue or env name longer than this is cut (with "…")


def clip(value: object, limit: int = MAX_FIELD_CHARS) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_clip(text: str, limit: int) -> str:
    """`text` HTML-escaped and cut so that the escaped form is at most `limit` characters (an
    escaped `&` counts 5): the message's size is bounded by what is sent, not what is shown."""
    escaped = html.escape(text, quote=False)
    if len(escaped) <= limit:
        return escaped
    out: list[str] = []
    used = 0
    for ch in text:
        piece = html.escape(ch, quote=False)
        if used + len(piece) > limit - 1:
            return "".join(out) + "…"
        out.append(piece)
        used += len(piece)
    return "".join(out)


def field(value: object) -> str:
    return escape_clip(str(value), MAX_FIELD_CHARS)
