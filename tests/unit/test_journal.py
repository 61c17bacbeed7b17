"""The journal writer: one seq per record across every journal, nothing written twice on resume,
and a resumed run numbers its new records after everything already on disk."""

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


def test_a_resumed_run_skips_what_it_wrote_and_numbers_after_it():
    # the killed run snapshotted at seq 10, then wrote trade "t" (11) and signal "s" (12)
    sink = Recorder()
    j = Journal(sink, seq=10, already_journaled={"t": 11, "s": 12})
    replayed = {"id": "t"}
    j.append("trades", replayed)  # the same fill, found again on resume
    assert sink.appended == [] and replayed["seq"] == 11  # not written again; it keeps its seq
    j.append("trades", {"id": "new"})
    assert sink.appended == [("trades", {"id": "new", "seq": 13})]  # after every seq on disk, never 11 again
