"""Whole journals (trades, funding, capital flows) kept in the dashboard process and topped up from
their tails, so the investor figures see every record while a page load reads only a few.

The first load in a process reads the journal once (at most `cap` records); afterwards only its last
`tail` records are read, and only when `version` changed (the NAV document's fill count, for the
trade log), so an idle fund costs no journal reads at all. A gap (more new records than the tail)
or a journal that went backwards (a fresh replay) reads the whole journal again.
"""

from __future__ import annotations

import threading

TAIL = 20
CAP = 50_000


def _key(r: dict) -> tuple:
    rid = r.get("id")
    return ("id", str(rid)) if rid is not None else ("ts", r.get("ts"), r.get("seq"), r.get("symbol"))


def _order(r: dict) -> tuple[float, float]:
    def num(v: object) -> float:
        try:
            return float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            return 0.0

    return num(r.get("ts")), num(r.get("seq"))


class Journal:
    def __init__(self, collection: str, tail: int = TAIL, cap: int = CAP):
        self.collection = collection
        self.tail, self.cap = tail, cap
        self._lock = threading.Lock()
        self.records: list[dict] = []
        self._keys: set[tuple] = set()
        self._version: object = object()
        self.loaded = False
        self.supported = True  # False: the store has no such journal (yet)
        self.complete = True  # False: more than `cap` records, only the newest are kept
        self.read_calls = 0

    def refresh(self, reader, version: object = None) -> list[dict]:
        """The journal's records in time order. `version` None means: always look at the tail."""
        with self._lock:
            if not self.supported or (self.loaded and version is not None and version == self._version):
                return self.records
            try:
                if not self.loaded:
                    self._full(reader)
                else:
                    self._top_up(reader)
            except KeyError:  # a collection this store does not journal (e.g. capital flows before venue truth)
                self.supported, self.records = False, []
                return self.records
            self._version = version
            return self.records

    def _full(self, reader) -> None:
        rows = [r for r in reader.recent(self.collection, self.cap) if isinstance(r, dict)]
        self.read_calls += 1
        self.records = sorted(rows, key=_order)
        self._keys = {_key(r) for r in self.records}
        self.complete = len(rows) < self.cap
        self.loaded = True

    def _top_up(self, reader) -> None:
        rows = [r for r in reader.recent(self.collection, self.tail) if isinstance(r, dict)]
        self.read_calls += 1
        if not rows:
            if self.records:
                self._full(reader)  # the journal was emptied (a fresh run): start over
            return
        if self.records and _order(rows[-1]) < _order(self.records[-1]):
            self._full(reader)  # the journal went backwards (a fresh run rewrote it): start over
            return
        new = [r for r in rows if _key(r) not in self._keys]
        if not new:
            return
        if len(new) == len(rows) and len(rows) >= self.tail:  # a gap: more new records than the tail
            self._full(reader)
            return
        self.records = sorted(self.records + new, key=_order)
        self._keys.update(_key(r) for r in new)
