"""The journal writer: one seq per record across every journal, nothing written twice on resume,
and a record found again on resume keeps the seq it was written with (the engine's positions
document names the last trade it includes by that seq)."""

from __future__ import annotations

from execution.journal import Journal
from execution.state.store import StateSink


class Recorder(StateSink):
    def __init__(self):
        self.appended: list[tuple[str, dict]] = []

    def put(self, doc, value):
        pass

    def put_file(self, name, value):
        pass

    def append(self, collection, record):
        self.appended.append((collection, dict(record)))

    def nav_point(self, ts_ms, nav, drawdown_pct, btc=None):
        pass

    def flush(self, force=False):
        pass


def test_records_get_one_seq_across_journals():
    sink = Recorder()
    j = Journal(sink)
    for collection, rid in (("trades", "a"), ("signals", "b"), ("trades", "c")):
        j.append(collection, {"id": rid})
    assert [(c, r["seq"]) for c, r in sink.appended] == [("trades", 1), ("signals", 2), ("trades", 3)]


def test_a_resumed_run_skips_what_it_wrote_and_its_records_keep_their_seq():
    # the killed run snapshotted at seq 10, then wrote trade "t" (11) and signal "s" (12)
    sink = Recorder()
    j = Journal(sink, seq=10, already_journaled={"t": 11, "s": 12})
    replayed = [{"id": "t"}, {"id": "s"}]  # the same records, found again on resume
    j.append("trades", replayed[0])
    j.append("signals", replayed[1])
    assert sink.appended == [] and [r["seq"] for r in replayed] == [11, 12]  # not written; their seq kept
    j.append("trades", {"id": "new"})
    assert sink.appended == [("trades", {"id": "new", "seq": 13})]  # numbered as an uninterrupted run would
