#!/usr/bin/env python3
"""What a year of running costs in Firestore, at the default cadence. Prints figures.

    python bench/firestore_cost.py [--days 1] [--trades-per-day 60]

Writes: the executor publishes its current-value documents every second and a NAV point every
minute, and journals trades, funding and signals; the real LocalStore + FirestoreMirror (with the
default DocIntervals and a simulated clock) decide what reaches Firestore; a counting target
stands in for the network. Writes per day are the same every day of the year.
Reads: a year of minute-level NAV history is written to Google's Firestore emulator (when the
Debian package is installed) and the dashboard's reads are counted per load for each range.
Free quota: 50,000 reads and 20,000 writes per day.
"""
from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from execution.state.layout import DOCS  # noqa: E402
from execution.state.local import LocalStore  # noqa: E402
from execution.state.mirror import DocIntervals, FirestoreMirror  # noqa: E402
from execution.state.outbox import Outbox  # noqa: E402

DAY_S = 86_400
DASHBOARD_CACHE_TTL_S = 60  # dashboard/app.py caches reads this long: loads per day = 86400 / TTL


class Clock:
    def __init__(self):
        self.ms = 1_767_225_600_000

    def __call__(self) -> int:
        return self.ms


class CountingTarget:
    def __init__(self, clock):
        self.clock = clock
        self.writes: collections.Counter[str] = collections.Counter()
        self.times: dict[str, list[int]] = collections.defaultdict(list)

    def commit(self, writes):
        for path, _ in writes:
            self.writes[path] += 1
            self.times[path].append(self.clock())

    def close(self):
        pass


def simulate_writes(days: int, trades_per_day: int) -> tuple[int, dict, float]:
    clock = Clock()
    target = CountingTarget(clock)
    with tempfile.TemporaryDirectory() as tmp:
        outbox = Outbox(Path(tmp) / "outbox.sqlite")
        mirror = FirestoreMirror(lambda: target, outbox, DocIntervals(), wall_ms=clock)
        local = LocalStore(Path(tmp) / "state", durable=False, wall_ms=clock, on_written=mirror.on_written,
                           on_appended=mirror.on_appended)
        trade_every = max(DAY_S // max(trades_per_day, 1), 1)
        for second in range(days * DAY_S):
            for name in DOCS:
                local.put(name, {"value": second, "updated_at_ms": clock.ms})
            if second % 60 == 0:
                local.nav_point(clock.ms, 10_000 + second * 1e-3, 0.0)
            if second % trade_every == 0:
                for collection in ("trades", "signals"):
                    local.append(collection, {"id": f"{collection}-{second}", "ts": clock.ms})
            if second % 28_800 == 0:
                local.append("funding", {"id": f"funding-{second}", "ts": clock.ms})
            local.flush()
            while mirror._send_once()[0]:  # noqa: SLF001 - drive the drain step in simulated time
                pass
            clock.ms += 1000
    per_day = sum(target.writes.values()) / days
    max_rate = 0.0
    for times in target.times.values():
        gaps = [b - a for a, b in zip(times, times[1:])]
        if gaps:
            max_rate = max(max_rate, 1000.0 / min(gaps))
    by_kind = collections.Counter()
    for path, n in target.writes.items():
        by_kind[path.split("/")[0] if not path.startswith("history/") else "/".join(path.split("/")[:2])] += n
    return per_day, {k: v / days for k, v in by_kind.items()}, max_rate


def measure_reads() -> dict[str, int] | str:
    sys.path.insert(0, str(ROOT))
    from tests.support.firestore_emulator import Emulator, find_jar, java_available

    jar = find_jar()
    if jar is None or not java_available():
        return "emulator not installed: reads not measured"
    emu = Emulator(jar)
    emu.start()
    try:
        os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
        from execution.state.firestore_reader import FirestoreReader
        from execution.state.firestore_store import FirestoreConfig, FirestoreTarget

        cfg = FirestoreConfig("hedge-test", "(default)", "bench")
        with tempfile.TemporaryDirectory() as tmp:
            local = LocalStore(Path(tmp), durable=False, min_interval_ms=0)
            docs = []
            local.on_written = lambda path, doc: docs.append((path, doc))
            t0 = 1_767_225_600_000
            for minute in range(365 * 24 * 60):  # one year of minute-level NAV history
                local.nav_point(t0 + minute * 60_000, 10_000 + minute * 1e-3, 0.0)
                if minute % 1440 == 1439:
                    local.flush()
            for name in DOCS:
                local.put(name, {"value": 1, "updated_at_ms": 1})
            local.close()
            latest = {}
            for path, doc in docs:
                latest[path] = doc
            writer = FirestoreTarget(cfg)
            items = list(latest.items())
            for i in range(0, len(items), 20):  # a day bucket of minute points is ~50 kB
                writer.commit(items[i:i + 20])
            for i in range(5):
                writer.commit([(f"trades/t{i}", {"id": f"t{i}", "ts": t0 + i})])
        end = t0 + 365 * DAY_S * 1000 - 60_000
        out = {}
        for label, span in (("24h", DAY_S), ("7d", 7 * DAY_S), ("30d", 30 * DAY_S), ("all", 365 * DAY_S)):
            target = FirestoreTarget(cfg)
            reader = FirestoreReader(target)
            t = time.perf_counter()
            reader.snapshot()
            reader.recent_trades(5)
            points = reader.nav_history(end - span * 1000, end)
            out[label] = (target.reads, len(points), (time.perf_counter() - t) * 1000)
        return out
    finally:
        emu.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=1, help="simulated days (writes are the same every day)")
    ap.add_argument("--trades-per-day", type=int, default=60)
    args = ap.parse_args()
    t = time.perf_counter()
    per_day, by_kind, max_rate = simulate_writes(args.days, args.trades_per_day)
    print(f"writes/day: {per_day:,.0f} (free quota 20,000)  -> one year: {per_day * 365:,.0f}")
    for kind, n in sorted(by_kind.items(), key=lambda x: -x[1]):
        print(f"  {kind:<22} {n:>8,.0f}/day")
    print(f"largest write rate to any one document: {max_rate:.3f}/s (limit 1/s)")
    print(f"(simulated {args.days} day(s) in {time.perf_counter() - t:.1f}s)")
    reads = measure_reads()
    if isinstance(reads, str):
        print(reads)
        return 0
    loads = DAY_S // DASHBOARD_CACHE_TTL_S
    for label, (n, points, ms) in reads.items():
        print(f"dashboard load, range {label:>3}: {n} document reads ({points} NAV points, {ms:.0f} ms on the emulator)")
    worst = max(n for n, _, _ in reads.values())
    print(f"dashboard open all day (cache {DASHBOARD_CACHE_TTL_S}s -> {loads} loads/day): <= {worst * loads:,} reads/day "
          f"(free quota 50,000)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
