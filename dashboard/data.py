"""One read of everything the pages show (except NAV history), through the state reader only.

Every call is guarded: a store that is down or a file that cannot be read becomes a named
message for the section it feeds, never an exception, and never a server path. The result is
plain data so Streamlit can cache it and share it between viewers (one read per cache period,
however many people watch). Whole journals (trades, funding, capital flows) come from
dashboard.journals, which reads only their new tail records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dashboard.formatting import valid_ts
from dashboard.journals import Journal
from execution import clock
from execution.logs import redact
from execution.state.layout import DOCS
from execution.state.reader import trades_as_of_positions

SIGNALS_SHOWN = 10
ALERTS_SHOWN = 10
_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[^\s/:'\"]+)+/([^\s/:'\"]+)")


def no_paths(text: str) -> str:
    """A message without the server's directories: '/srv/x/state/nav.json: ...' -> 'nav.json: ...'."""
    return _PATH.sub(r"\1", text)


@dataclass
class Loaded:
    source: str = ""
    docs: dict[str, dict] = field(default_factory=dict)
    updated_at_ms: int = 0
    read_at_ms: int = 0
    problems: list[str] = field(default_factory=list)  # what the reader reported but survived (no paths)
    errors: list[str] = field(default_factory=list)  # calls that failed outright (no paths)
    unreadable: set[str] = field(default_factory=set)  # documents / journals that could not be read
    trades: list[dict] = field(default_factory=list)  # the whole trade log (fills), oldest first
    funding: list[dict] = field(default_factory=list)
    flows: list[dict] = field(default_factory=list)  # capital flows; [] until the store journals them
    flows_journaled: bool = False
    trades_complete: bool = True
    trades_pending: bool = False  # the positions include fills whose trade records have not arrived yet
    signals: list[dict] = field(default_factory=list)
    alerts: list[dict] = field(default_factory=list)
    peak_state: dict = field(default_factory=dict)
    reads: int = 0  # reader calls made for this load

    def doc(self, name: str) -> dict:
        value = self.docs.get(name)
        return value if isinstance(value, dict) else {}

    @property
    def empty(self) -> bool:
        return not self.doc("nav")

    @property
    def version(self) -> tuple:
        """Changes whenever a figure built from this load can change (keys derived-figure caches)."""
        nav = self.doc("nav")
        return (self.source, nav.get("updated_at_ms"), len(self.trades), len(self.funding), len(self.flows))


def _failure(what: str, exc: BaseException) -> str:
    return no_paths(redact(f"{what}: {type(exc).__name__}: {exc}"))[:300]


class Journals:
    """The whole-journal caches one dashboard process keeps (shared by its viewers)."""

    def __init__(self) -> None:
        self.trades = Journal("trades")
        self.funding = Journal("funding")
        self.flows = Journal("capital_flows")


def load(reader, journals: Journals | None = None, with_alerts: bool = False) -> Loaded:
    out = Loaded(source=str(getattr(reader, "source", "") or ""), read_at_ms=clock.wall_ms())
    try:
        snap = reader.snapshot()
        out.reads += 1
    except Exception as exc:  # noqa: BLE001 - any store failure must become a message, not a traceback
        out.errors.append(_failure("state store unreachable", exc))
        out.unreadable.update(DOCS)
        return out
    out.source = str(getattr(snap, "source", "") or out.source)
    out.docs = {k: v for k, v in (getattr(snap, "docs", None) or {}).items() if isinstance(v, dict)}
    updated = getattr(snap, "updated_at_ms", 0) or 0
    out.updated_at_ms = valid_ts(updated)
    if updated and not out.updated_at_ms:
        out.problems.append("the state's update time is not a valid time")
    out.read_at_ms = int(getattr(snap, "read_at_ms", 0) or out.read_at_ms)
    for p in getattr(snap, "problems", None) or []:
        text = no_paths(redact(str(p)))
        out.problems.append(text)
        out.unreadable.update(d for d in DOCS if f"{d}.json" in text)
    _journals(reader, journals or Journals(), out)
    latest = out.doc("signals").get("latest")
    if isinstance(latest, list):
        out.signals = latest
    else:
        out.signals = _recent(reader, out, "signals", SIGNALS_SHOWN, "could not read the signals")
    if with_alerts:
        out.alerts = _recent(reader, out, "alerts", ALERTS_SHOWN, "could not read the alerts")
    if out.empty:  # the executor's own files as the last resort for the headline figures
        try:
            peak = reader.named("peak_state")
            out.reads += 1
            out.peak_state = peak if isinstance(peak, dict) else {}
        except Exception as exc:  # noqa: BLE001
            out.errors.append(_failure("could not read peak_state", exc))
    return out


def _recent(reader, out: Loaded, collection: str, n: int, what: str) -> list[dict]:
    try:
        rows = list(reader.recent(collection, n))
        out.reads += 1
        return rows
    except Exception as exc:  # noqa: BLE001
        out.errors.append(_failure(what, exc))
        out.unreadable.add(collection)
        return []


def _journals(reader, j: Journals, out: Loaded) -> None:
    nav = out.doc("nav")
    # each journal is re-read only when the NAV document says it grew (None: no such counter, look);
    # capital flows without a counter of their own follow the last seq of any journal
    flows_version = nav.get("capital_flows", nav.get("journal_seq"))
    for journal, version, what in (
        (j.trades, (nav.get("fills"), out.doc("positions").get("trade_seq")), "could not read the trade log"),
        (j.funding, nav.get("funding_total"), "could not read the funding log"),
        (j.flows, flows_version, "could not read the capital flows"),
    ):
        before = journal.read_calls
        try:
            records = list(journal.refresh(reader, version))
        except Exception as exc:  # noqa: BLE001
            out.errors.append(_failure(what, exc))
            out.unreadable.add(journal.collection)
            records = []
        out.reads += journal.read_calls - before
        if journal is j.trades:
            fills = [r for r in records if r.get("kind", "fill") == "fill"]
            out.trades, out.trades_pending = trades_as_of_positions(fills, out.doc("positions"))
            out.trades_complete = journal.complete
        elif journal is j.funding:
            out.funding = records
        else:
            out.flows, out.flows_journaled = records, journal.supported
