#!/usr/bin/env python3
"""Benchmark the whole executor path (feed, screener, decision, risk, paper fills, state) on a
six-month, four-symbol window. Prints figures; never pass/fail.

    python bench/replay.py [MARKET_DIR] [--runs 3] [--metrics]

Default market: ../shared/data/market/2025H1 when present, else a generated 181-day market.
Each run is a separate `python -m execution.replay` process into a fresh state directory (with
its normal INFO log to a file), so peak RSS is that process's own. `--metrics`: the replay keeps
the executor's Prometheus metrics as a running executor does (what they cost: compare with and
without).
"""

from __future__ import annotations

import argparse
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"replay: bars=(\d+) trades=(\d+) nav=(\S+) max_dd_pct=(\S+) wall_s=(\S+) bars_per_s=(\d+)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("market_dir", nargs="?", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--metrics", action="store_true", help="replay with the executor's metrics on")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        market = args.market_dir
        if market is None:
            market = ROOT.parent / "shared" / "data" / "market" / "2025H1"
            if not market.exists():
                market = Path(tmp) / "generated"
                subprocess.run(
                    [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "181"],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
        rates, walls, rss, cpus = [], [], [], []
        line = ""
        for i in range(args.runs):
            state = Path(tmp) / f"state{i}"
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            before, cpu0 = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
            proc = subprocess.run(
                [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)]
                + (["--metrics"] if args.metrics else []),
                cwd=ROOT,
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                print(proc.stderr, file=sys.stderr)
                return 1
            line = proc.stdout.strip().splitlines()[-1]
            m = SUMMARY.match(line)
            if m is None:
                print(f"unexpected last line from the replay: {line!r}", file=sys.stderr)
                return 1
            rates.append(int(m[6]))
            walls.append(float(m[5]))
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            rss.append(max(before, usage.ru_maxrss) / 1024)
            cpus.append(usage.ru_utime + usage.ru_stime - cpu0)
    print(f"market: {market}")
    print(f"last run: {line}")
    print(
        f"runs={args.runs} median bars_per_s={statistics.median(rates):.0f} (min {min(rates)}, max {max(rates)}) "
        f"median wall_s={statistics.median(walls):.2f} peak_rss_mb={max(rss):.0f} "
        f"median cpu_s={statistics.median(cpus):.2f} (the whole process, start-up included: less sensitive "
        "to other load on the machine than wall time)"
    )
    print("goal: >= 55000 bars/s, < 300 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
