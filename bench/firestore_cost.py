#!/usr/bin/env python3
"""What a year of running costs in Firestore at the default cadence, against the free quota
(50,000 document reads and 20,000 document writes a day). Prints figures; not a test.

    python bench/firestore_cost.py [--trades-per-day 60] [--signals-per-day 60] [--viewed-hours 1]

Writes: the executor's real LocalStore + FirestoreMirror (default DocIntervals, a simulated clock,
a counting target in place of the network) run a whole day second by second, as the executor
does: every current-value document published every second, a NAV point every minute, trades,
signals and funding journaled, an operator command (forced flush) every 8 hours. This is done
for the first day of the year and again for the last one, after the 363 days between have been
filled with minute NAV points, so the figures show whether a year of history changes the cost.
Reads: the year of history is loaded into Google's Firestore emulator (when the Debian package
is installed); the dashboard's own `load()` plus one NAV-history range is counted per load, cold,
for each range; then the dashboard is left open (it refreshes every DASHBOARD_REFRESH_SECONDS,
default 5) on the reader `open_reader` builds (FIRESTORE_READ_CACHE_S, default 60) for
--viewed-hours of simulated time, and the reads are scaled to a day.
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
DAY_MS = DAY_S * 1000
YEAR_START_MS = 1_767_225_600_000  # 2026-01-01
READS_QUOTA, WRITES_QUOTA = 50_000, 20_000
DOC_LIMIT = 1_048_576


class Clock:
    def __init__(self, ms: int):
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class CountingTarget:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.writes: collections.Counter[str] = collections.Counter()
        self.times: dict[str, list[int]] = collections.defaultdict(list)
        self.largest: dict[str, int] = {}

    def commit(self, writes):
        import json

        for path, data in writes:
            self.writes[path] += 1
            self.times[path].append(self.clock())
            self.largest[path] = max(self.largest.get(path, 0), len(json.dumps(data)))

    def close(self):
        pass


def fill_history(root: Path, first_day: int, days: int) -> None:
    """Minute NAV points for `days` days (local files only, as a long-running executor leaves them)."""
    store = LocalStore(root, durable=False, min_interval_ms=0)
    for d in range(first_day, first_day + days):
        for minute in range(1440):
            ts = YEAR_START_MS + d * DAY_MS + minute * 60_000
            store.nav_point(ts, 10_000 + (d * 1440 + minute) * 1e-3, 0.1)
        store.flush()
    store.close()


def simulate_day(root: Path, day: int, trades: int, signals: int) -> CountingTarget:
    """One day of the executor, second by second, through the real local store and mirror."""
    clock = Clock(YEAR_START_MS + day * DAY_MS)
    target = CountingTarget(clock)
    outbox = Outbox(root / f"outbox-{day}.sqlite")
    mirror = FirestoreMirror(lambda: target, outbox, DocIntervals(), wall_ms=clock)
    local = LocalStore(root, durable=False, wall_ms=clock, on_written=mirror.on_written, on_appended=mirror.on_appended)
    trade_every, signal_every = DAY_S // max(trades, 1), DAY_S // max(signals, 1)
    for second in range(DAY_S):
        for name in DOCS:
            local.put(name, {"value": second, "updated_at_ms": clock.ms})
        if second % 60 == 0:
            local.nav_point(clock.ms, 10_000 + second * 1e-3, 0.1)
        if trades and second % trade_every == 0:
            local.append("trades", {"id": f"t-{day}-{second}", "ts": clock.ms})
        if signals and second % signal_every == 7:
            local.append("signals", {"id": f"s-{day}-{second}", "ts": clock.ms})
        if second % 28_800 == 0:
            local.append("funding", {"id": f"f-{day}-{second}", "ts": clock.ms})
        force = second % 28_800 == 3600  # an operator command: the executor forces a flush
        local.flush(force=force)
        if force:
            mirror.expedite()
        while mirror._send_once()[0]:
            pass
        clock.ms += 1000
    local.close()
    while mirror._send_once(final=True)[0]:
        pass
    return target


def day_figures(target: CountingTarget) -> tuple[int, dict[str, int], float, tuple[str, int]]:
    max_rate = 0.0
    for times in target.times.values():
        gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
        if gaps:
            max_rate = max(max_rate, 1000.0 / max(min(gaps), 1))
    kinds: collections.Counter[str] = collections.Counter()
    for path, n in target.writes.items():
        parts = path.split("/")
        kinds["/".join(parts[:2]) if parts[0] in ("history", "state") else parts[0]] += n
    biggest = max(target.largest.items(), key=lambda kv: kv[1])
    return sum(target.writes.values()), dict(kinds), max_rate, biggest


def measure_reads(root: Path, viewed_hours: float) -> dict | str:
    from tests.support.firestore_emulator import Emulator, find_jar, java_available

    jar = find_jar()
    if jar is None or not java_available():
        return "Firestore emulator not installed (google-cloud-cli-firestore-emulator + Java): reads not measured"
    emu = Emulator(jar, log_path=root / "emulator.log")
    emu.start()
    try:
        os.environ["FIRESTORE_EMULATOR_HOST"] = emu.host
        from dashboard.data import load
        from execution.settings import DashboardEnv, StoreEnv, read_env
        from execution.state.atomic import read_json
        from execution.state.firestore_reader import FirestoreReader
        from execution.state.firestore_store import FirestoreConfig, FirestoreTarget
        from execution.state.open import read_cache_ms

        cfg = FirestoreConfig("hedge-bench", "(default)", "bench")
        writer = FirestoreTarget(cfg, timeout_s=60)
        files = sorted(p for p in (root / "history").rglob("*.json")) + sorted((root / "state").glob("*.json"))
        for i in range(0, len(files), 20):  # a day bucket of minute points is ~50 kB
            writer.commit([(f.relative_to(root).with_suffix("").as_posix(), read_json(f)) for f in files[i : i + 20]])
        writer.commit([(f"trades/t{i}", {"id": f"t{i}", "ts": YEAR_START_MS + i}) for i in range(50)])
        end = YEAR_START_MS + 365 * DAY_MS - 60_000
        ranges = {"24h": DAY_MS, "7d": 7 * DAY_MS, "30d": 30 * DAY_MS, "all": 365 * DAY_MS}
        cold = {}
        for label, span in ranges.items():
            target = FirestoreTarget(cfg)
            reader = FirestoreReader(target)
            t = time.perf_counter()
            load(reader)
            points = reader.nav_history(end - span, end)
            cold[label] = (target.reads, len(points), (time.perf_counter() - t) * 1000)
        refresh_s = read_env(DashboardEnv).refresh_s
        cache_ms = read_cache_ms(read_env(StoreEnv))
        clock = Clock(end)
        target = FirestoreTarget(cfg)
        reader = FirestoreReader(target, cache_ms=cache_ms, wall_ms=clock)
        loads = int(viewed_hours * 3600 / refresh_s)
        for _ in range(loads):  # default range 30d, as dashboard/settings.py
            load(reader)
            reader.nav_history(clock.ms - ranges["30d"], clock.ms)
            clock.ms += int(refresh_s * 1000)
        per_day = target.reads * 24 / viewed_hours
        return {
            "cold": cold,
            "refresh_s": refresh_s,
            "cache_s": cache_ms / 1000,
            "loads": loads,
            "reads": target.reads,
            "per_day": per_day,
        }
    finally:
        emu.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trades-per-day", type=int, default=60)
    ap.add_argument("--signals-per-day", type=int, default=60)
    ap.add_argument("--viewed-hours", type=float, default=1.0, help="simulated hours of an open dashboard")
    args = ap.parse_args()
    t0 = time.perf_counter()
    shm = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(dir=shm) as tmp:
        root = Path(tmp)
        first = simulate_day(root, 0, args.trades_per_day, args.signals_per_day)
        fill_history(root, 1, 363)
        last = simulate_day(root, 364, args.trades_per_day, args.signals_per_day)
        print(
            f"one simulated year ({time.perf_counter() - t0:.0f} s to simulate); defaults: state documents every "
            f"{DocIntervals().state_ms // 1000} s, NAV day bucket every {DocIntervals().day_ms // 1000} s, "
            f"summaries every {DocIntervals().summary_ms // 1000} s; executor publishes every 1 s, NAV point every "
            f"60 s; {args.trades_per_day} trades + {args.signals_per_day} signals + 3 funding/day; "
            f"3 operator commands/day"
        )
        worst_rate, worst_writes = 0.0, 0
        for label, target in (("day 1", first), ("day 365", last)):
            total, kinds, rate, (big_path, big_bytes) = day_figures(target)
            worst_rate, worst_writes = max(worst_rate, rate), max(worst_writes, total)
            print(f"{label}: {total:,} document writes (free quota {WRITES_QUOTA:,}/day, {total / WRITES_QUOTA:.0%})")
            for kind, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
                print(f"    {kind:<22} {n:>7,}")
            print(
                f"    largest write rate to any one document: {rate:.3f}/s (limit 1/s); "
                f"largest document {big_path} {big_bytes / 1024:.0f} KiB (limit 1 MiB)"
            )
        print(f"year: {worst_writes * 365:,} writes at most ({worst_writes:,}/day)")
        reads = measure_reads(root, args.viewed_hours)
    if isinstance(reads, str):
        print(reads)
        return 0
    for label, (n, points, ms) in reads["cold"].items():
        print(
            f"dashboard load, range {label:>3}, cold: {n} document reads ({points} NAV points, {ms:.0f} ms on the "
            f"emulator)"
        )
    print(
        f"dashboard open all day: refresh every {reads['refresh_s']:g} s, reader cache {reads['cache_s']:g} s -> "
        f"{reads['reads']} reads in {args.viewed_hours:g} h ({reads['loads']} loads) -> {reads['per_day']:,.0f} "
        f"reads/day (free quota {READS_QUOTA:,}, {reads['per_day'] / READS_QUOTA:.0%})"
    )
    print(
        f"verdict: writes {'fit' if worst_writes <= WRITES_QUOTA else 'DO NOT fit'}, reads "
        f"{'fit' if reads['per_day'] <= READS_QUOTA else 'DO NOT fit'} the free daily quota; "
        f"max write rate per document {worst_rate:.3f}/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
