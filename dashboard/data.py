"""One read of everything the page shows (except NAV history), through the state reader only.

Every call is guarded: a store that is down or a file that cannot be read becomes a named
message on the page, never an exception. The result is plain data so Streamlit can cache it
and share it between viewers (one read per cache period, however many people watch).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from execution import clock
from execution.logs import redact

TRADES_SHOWN = 5
SIGNALS_SHOWN = 10


@dataclass
class Loaded:
    source: str = ""
    docs: dict[str, dict] = field(default_factory=dict)
    updated_at_ms: int = 0
    read_at_ms: int = 0
    problems: list[str] = field(default_factory=list)  # what the reader reported but survived
    errors: list[str] = field(default_factory=list)  # calls that failed outright
    trades: list[dict] = field(default_factory=list)
    signals: list[dict] = field(default_factory=list)
    peak_state: dict = field(default_factory=dict)
    reads: int = 0  # reader calls made for this load

    def doc(self, name: str) -> dict:
        value = self.docs.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def empty(self) -> bool:
        return not self.doc("nav")


def _failure(what: str, exc: BaseException) -> str:
    return redact(f"{what}: {type(exc).__name__}: {exc}")[:300]


def load(reader) -> Loaded:
    out = Loaded(source=str(getattr(reader, "source", "") or ""), read_at_ms=clock.wall_ms())
    try:
        snap = reader.snapshot()
        out.reads += 1
    except Exception as exc:  # noqa: BLE001 - any store failure must become a message, not a traceback
        out.errors.append(_failure("state store unreachable", exc))
        return out
    out.source = str(getattr(snap, "source", "") or out.source)
    out.docs = {k: v for k, v in (getattr(snap, "docs", None) or {}).items() if isinstance(v, dict)}
    out.updated_at_ms = int(getattr(snap, "updated_at_ms", 0) or 0)
    out.read_at_ms = int(getattr(snap, "read_at_ms", 0) or out.read_at_ms)
    out.problems = [redact(str(p)) for p in (getattr(snap, "problems", None) or [])]
    try:
        out.trades = list(reader.recent_trades(TRADES_SHOWN))
        out.reads += 1
    except Exception as exc:  # noqa: BLE001
        out.errors.append(_failure("could not read the trade log", exc))
    latest = out.doc("signals").get("latest")
    if isinstance(latest, list):
        out.signals = latest
    else:
        try:
            out.signals = list(reader.recent("signals", SIGNALS_SHOWN))
            out.reads += 1
        except Exception as exc:  # noqa: BLE001
            out.errors.append(_failure("could not read the signals", exc))
    if out.empty:  # the executor's own files as the last resort for the headline figures
        try:
            peak = reader.named("peak_state")
            out.reads += 1
            out.peak_state = peak if isinstance(peak, dict) else {}
        except Exception as exc:  # noqa: BLE001
            out.errors.append(_failure("could not read peak_state", exc))
    return out
