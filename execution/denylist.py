"""The denylist: symbols that are never traded (new risk refused; exits always go).

A text file in CONFIG_DIR (`DENYLIST_FILE` of risk_limits.json, default `denylist.txt`), one
entry a line: `SYMBOL` (every venue) or `venue:SYMBOL` (that venue only); `#` starts a comment.
Pure parsing here; the guard (`execution/guards/denylist.py`) reloads the file on SIGHUP and on
the operator command `denylist-reload`, keeping the previous list when the new file is bad.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from execution.settings.names import VENUES

_SYMBOL = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")


class DenylistError(ValueError):
    def __init__(self, line: int, expected: str, got: str):
        self.line, self.expected, self.got = line, expected, got
        super().__init__(f"line {line}: expected {expected}, got {got!r}")


@dataclass(frozen=True, slots=True)
class Denylist:
    entries: frozenset[tuple[str, str]]  # (venue or "*", SYMBOL)

    def denies(self, venue: str, symbol: str) -> bool:
        return (venue, symbol) in self.entries or ("*", symbol) in self.entries

    def names(self) -> list[str]:
        return sorted(s if v == "*" else f"{v}:{s}" for v, s in self.entries)


EMPTY = Denylist(frozenset())


def parse(text: str) -> Denylist:
    """Every entry of the file's text, or DenylistError naming the first bad line."""
    out: set[tuple[str, str]] = set()
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        venue, sep, symbol = line.rpartition(":")
        if not sep:
            venue = "*"
        elif venue not in VENUES:
            raise DenylistError(n, f"SYMBOL or venue:SYMBOL with venue one of {list(VENUES)}", raw.strip())
        if not _SYMBOL.match(symbol):
            raise DenylistError(n, "a symbol in capitals such as BTCUSDT or BTC-USDT-SWAP", raw.strip())
        out.add((venue, symbol))
    return Denylist(frozenset(out))
