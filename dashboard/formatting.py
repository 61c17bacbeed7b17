"""Numbers, times and text as the investor pages show them: pure, no Streamlit, no I/O.

Anything missing or malformed becomes "—" rather than an exception (a half-written deployment
must still render a readable page), and state text is escaped before Markdown can act on it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

DASH = "—"


def dec(value: object) -> Decimal | None:
    """A document value as Decimal (via str, so 0.1 stays 0.1), or None when it is not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def fmt_money(value: object, signed: bool = False, places: int = 2) -> str:
    d = dec(value)
    if d is None:
        return DASH
    q = d.quantize(Decimal(1).scaleb(-places))
    if q == 0:
        q = abs(q)  # never "-0.00"
    return f"{q:+,.{places}f}" if signed else f"{q:,.{places}f}"


def fmt_pct(value: object, signed: bool = False, places: int = 2) -> str:
    s = fmt_money(value, signed, places)
    return s if s == DASH else f"{s}%"


def fmt_num(value: object, max_places: int = 8) -> str:
    """A quantity or price as the document has it (no rounding beyond `max_places`, no trailing zeros)."""
    d = dec(value)
    if d is None:
        return DASH
    if d == d.to_integral_value():
        return f"{d.to_integral_value():,}" if abs(d) >= 1000 else str(d.to_integral_value())
    q = d.quantize(Decimal(1).scaleb(-max_places)).normalize()
    text = f"{q:,f}" if abs(q) >= 1000 else f"{q:f}"
    return text


MAX_TS_MS = 4_102_444_800_000  # 2100-01-01: a later time is a broken document, shown as a dash


def valid_ts(ms: object) -> int:
    """`ms` as epoch milliseconds when it is a plausible time, else 0 (an absurd 1e30 takes no page down)."""
    d = dec(ms)
    return int(d) if d is not None and 0 < d < MAX_TS_MS else 0


def fmt_ts(ms: object, seconds: bool = False) -> str:
    ts = valid_ts(ms)
    if not ts:
        return DASH
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$=&@])")
# what can make Markdown act (a link, an autolink, a badge or emoji, HTML, code, emphasis, math)
_ACTIVE = re.compile(r"[\\`*\[\]()<>~$!|@]|:[A-Za-z/]|(?i:www)\.")


def md_escape(text: object) -> str:
    """Text from the state shown literally where Streamlit renders Markdown (st.markdown, st.table
    cells): a HOLD reason with a link in it stays text, never a clickable link or a badge. Text in
    which nothing can act (figures, dates, venue names) is returned as it is."""
    plain = " ".join(str(text).split())
    return _MARKDOWN.sub(r"\\\1", plain) if _ACTIVE.search(plain) else str(text)


def fmt_age(ms: int | float | None) -> str:
    if ms is None:
        return DASH
    s = max(0, int(ms // 1000))
    if s < 90:
        return f"{s} s"
    m = s // 60
    if m < 90:
        return f"{m} min"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h} h {m} min"
    return f"{h // 24} d {h % 24} h"


# ---------------------------------------------------------------------------------------------
# the executor's documents, read defensively
def position_rows(positions: dict) -> list[dict]:
    return [
        r for r in dict_list(positions.get("positions") if isinstance(positions, dict) else None) if isinstance(r, dict)
    ]


def dict_list(value: object) -> list[dict]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def side_of(row: dict) -> str:
    return str(row.get("position_side") or "").upper() or "?"


def signed(row: dict, value: object) -> Decimal | None:
    d = dec(value)
    if d is None:
        return None
    return -d if side_of(row) == "SHORT" else d


def dec_sum(values) -> Decimal | None:
    total, seen = Decimal(0), False
    for v in values:
        d = v if isinstance(v, Decimal) else dec(v)
        if d is not None:
            total += d
            seen = True
    return total if seen else None
