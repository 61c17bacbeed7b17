#!/usr/bin/env python3
"""What the metrics cost: each event hook per call, the state updater per publish, a scrape, and
what they add to a replay of 86,880 bars (bench/replay.py's window). Prints figures; never
pass/fail (goal: under 3% of the replay).

    python bench/metrics_overhead.py [--bars 86880] [--fills 400] [--replay-bars-per-s 36600]
    python bench/metrics_overhead.py --replay [MARKET_DIR] [--rounds 8]

The first form prices each hook and multiplies by the replay's event counts (the state documents
are a real replay's, 5 days of the generated market). `--replay` measures the real thing: the
executor's replay loop (the same path as `python -m execution.replay`, INFO log to a file) with
metrics off (NullMetrics, METRICS_PORT=0) and on (the hooks and the state gauges, nothing
served), alternating, each run in a fresh process; it reports the median CPU seconds of the loop
(process time: a machine shared with other work slows the wall clock, not the CPU count) and
the median wall seconds. Default market: ../shared/data/market/2025H1, else a generated one.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prometheus_client import generate_latest  # noqa: E402

from execution.exchanges.errors import FilterFailure  # noqa: E402
from execution.metrics import Metrics, NullMetrics  # noqa: E402
from execution.metrics_state import update_from_state  # noqa: E402
from execution.state.reader import LocalReader  # noqa: E402


def per_call_us(stmt, number: int) -> float:
    best = min(timeit.repeat(stmt, number=number, repeat=5))
    return best / number * 1e6


def replay_docs(tmp: Path) -> dict:
    for args in (
        ["-m", "execution.feeds.synthetic", "--out", str(tmp / "m"), "--days", "5"],
        ["-m", "execution.replay", str(tmp / "m"), "--state-dir", str(tmp / "s"), "--fresh"],
    ):
        subprocess.run([sys.executable, *args], cwd=ROOT, check=True, capture_output=True)
    return LocalReader(tmp / "s").snapshot().docs


def one_replay(market: Path, metrics: bool) -> str:
    """One replay loop in this process: 'cpu_s wall_s bars'."""
    from execution import logs
    from execution.app import open_runtime
    from execution.settings import load_settings

    with tempfile.TemporaryDirectory() as tmp:
        env = {"ENV_FILE": "/nonexistent", "PATH": "/usr/bin:/bin"}
        settings = load_settings(
            env, FEED="replay", MARKET_DIR=str(market), SPEED="max", STATE_DIR=tmp, PROFILE="paper"
        )
        logs.setup(settings.log_level, stream=sys.stderr, path=str(Path(tmp) / "replay.log"))
        rt = open_runtime(settings, metrics=Metrics() if metrics else None)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        rt.engine.run(rt.feed.events())
        rt.engine.publish()
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        rt.sink.close()
        rt.engine.close()
        return f"{cpu:.4f} {wall:.4f} {rt.engine.bars}"


def replay_overhead(market: Path | None, rounds: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
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
        runs: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
        bars = 0
        for i in range(rounds):
            order = ("off", "on") if i % 2 == 0 else ("on", "off")  # neither always runs first
            for variant in order:
                cmd = [sys.executable, __file__, "--one-replay", str(market)] + (
                    ["--metrics"] if variant == "on" else []
                )
                out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout.split()
                cpu, wall, bars = float(out[0]), float(out[1]), int(out[2])
                runs[variant].append((cpu, wall))
                print(f"  round {i + 1} metrics {variant:<3}: cpu_s={cpu:.3f} wall_s={wall:.3f}", flush=True)
    med = {v: (statistics.median(c for c, _ in r), statistics.median(w for _, w in r)) for v, r in runs.items()}
    print(f"market: {market} ({bars:,} bars), {rounds} rounds")
    for v in ("off", "on"):
        cpu, wall = med[v]
        print(f"metrics {v:<3}: median loop cpu_s={cpu:.3f} ({bars / cpu:,.0f} bars per CPU s) wall_s={wall:.3f}")
    print(
        f"overhead: cpu {(med['on'][0] / med['off'][0] - 1) * 100:+.2f}%  wall {(med['on'][1] / med['off'][1] - 1) * 100:+.2f}%"
        "  (goal < 3%)"
    )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--bars", type=int, default=86_880, help="bars in the replay window")
    ap.add_argument("--series", type=int, default=5, help="bar series in the window (bars per cycle)")
    ap.add_argument("--fills", type=int, default=400, help="orders (= fills) in the window")
    ap.add_argument("--publishes", type=int, default=3, help="state publications in the replay (1/s wall)")
    ap.add_argument("--replay-bars-per-s", type=float, default=36_600, help="measured replay speed (README)")
    ap.add_argument("--replay", nargs="?", const="", metavar="MARKET_DIR", help="measure real replays, off vs on")
    ap.add_argument("--rounds", type=int, default=8, help="--replay: runs of each variant")
    ap.add_argument("--one-replay", metavar="MARKET_DIR", help=argparse.SUPPRESS)  # one measured run (a child)
    ap.add_argument("--metrics", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one_replay:
        print(one_replay(Path(args.one_replay), args.metrics))
        return 0
    if args.replay is not None:
        return replay_overhead(Path(args.replay) if args.replay else None, args.rounds)
    m, null = Metrics(), NullMetrics()
    err = FilterFailure("binance_um", "-4164", "min notional")
    hooks = {
        "on_cycle(duration)": lambda: m.on_cycle(0.0001),
        "on_order_sent(venue)": lambda: m.on_order_sent("binance_um"),
        "on_order_answer(venue, s)": lambda: m.on_order_answer("binance_um", 0.003),
        "on_fill(... slippage)": lambda: m.on_fill("binance_um", "BTCUSDT", "entry", 1000.0, 2.5),
        "on_order_rejected(error)": lambda: m.on_order_rejected("binance_um", err),
        "NullMetrics.on_cycle (off)": lambda: null.on_cycle(0.0001),
    }
    print("per call (best of 5):")
    cost = {}
    for name, fn in hooks.items():
        cost[name] = per_call_us(fn, 100_000)
        print(f"  {name:<28} {cost[name]:7.3f} us")
    with tempfile.TemporaryDirectory() as tmp:
        docs = replay_docs(Path(tmp))
    update_us = per_call_us(lambda: update_from_state(m, docs, 1_800_000_000_000), 2_000)
    scrape_us = per_call_us(lambda: generate_latest(m.registry), 200)
    series = sum(1 for line in generate_latest(m.registry).decode().splitlines() if not line.startswith("#"))
    print(f"  {'update_from_state(docs)':<28} {update_us:7.1f} us   (per publish, ~1/s)")
    print(f"  {'scrape (generate_latest)':<28} {scrape_us:7.1f} us   ({series} series; exporter thread, per scrape)")

    per_order = cost["on_order_sent(venue)"] + cost["on_order_answer(venue, s)"] + cost["on_fill(... slippage)"]
    replay_s = args.bars / args.replay_bars_per_s
    print(
        f"\nreplay of {args.bars:,} bars ({replay_s:.2f} s at {args.replay_bars_per_s:,.0f} bars/s), "
        f"{args.fills} orders each sent+answered+filled, {args.publishes} publishes:"
    )
    for label, cycles in (
        (f"one cycle per bar time ({args.series} series)", args.bars // args.series),
        ("upper bound: one cycle per bar", args.bars),
    ):
        added_s = (cycles * cost["on_cycle(duration)"] + args.fills * per_order + args.publishes * update_us) / 1e6
        print(
            f"  {label:<38} {cycles:>6,} cycles: +{added_s * 1000:.1f} ms = "
            f"{added_s / replay_s * 100:.2f}% of the replay (goal < 3%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
