"""Arbitrage hot-path benchmark: recorded Binance bookTicker ticks against a second venue's book.

    python bench/arb_latency.py [TICK_FILE] [--mode concurrent|sequential|both] [--basis-bps 40]

Every tick updates the Binance book; the OKX book is the same mid shifted by a basis that swings
between +-`basis-bps` (so entries and exits happen), with its own half spread, updated on every
third tick as a separate stream. Both venues are in-process paper venues (the venue clients), so
the figure is the system's own time: from a book update entering `ArbitrageLoop` to both legs
handed to the venue clients (`place_order` called), for entries and exits. Prints events/s and
p50/p99 of that time. Figures, not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from execution import logs  # noqa: E402
from execution.app import paper_venues  # noqa: E402
from execution.arb.attempt import Attempt  # noqa: E402
from execution.arb.config import parse  # noqa: E402
from execution.arb.loop import ArbitrageLoop  # noqa: E402
from execution.arb.metrics import percentile  # noqa: E402
from execution.arb.two_leg import TwoLegRunner  # noqa: E402
from execution.exchanges.base import Venue  # noqa: E402
from execution.models import BookTop, Order, OrderRequest  # noqa: E402
from execution.settings import load_settings  # noqa: E402
from tests.support.faulty_venue import FaultyVenue  # noqa: E402

DEFAULT_TICKS = ROOT.parent / "shared" / "data" / "market" / "ticks" / "binance_um_BTCUSDT_bookTicker_20240808.csv.gz"
BIN, OKX = "binance_um", "okx_perp"


def read_ticks(path: Path) -> list[tuple[int, float, float, float, float]]:
    out = []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        for row in csv.DictReader(fh):
            out.append(
                (int(row["T"]), float(row["bid"]), float(row["bid_qty"]), float(row["ask"]), float(row["ask_qty"]))
            )
    return out


class RttVenue(FaultyVenue):
    """A venue client whose `place_order` waits a network round trip (releasing the GIL, as a
    socket does) before the paper venue answers; everything else passes through (no faults)."""

    def __init__(self, inner: Venue, rtt_s: float):
        super().__init__(inner)
        self.rtt_s = rtt_s

    def place_order(self, request: OrderRequest) -> Order:
        time.sleep(self.rtt_s)
        return super().place_order(request)


class TimedRunner(TwoLegRunner):
    """The loop's runner, recording each attempt's decision -> both legs handed time (ns)."""

    def __init__(self, inner: TwoLegRunner, out: list[int]):
        self.__dict__.update(inner.__dict__)  # takes over the loop's runner as it was built
        self.out = out

    def start(self, a: Attempt, now: int) -> None:
        super().start(a, now)
        self.out.append(a.legs_sent_ns)


def run(ticks, mode: str, basis_bps: float, period: int, rtt_ms: float = 0.0) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="arb_bench_"))
    logs.setup("INFO", path=str(tmp / "bench.log"))
    settings = load_settings(env={"CONFIG_DIR": str(ROOT / "config"), "STATE_DIR": str(tmp)})
    paper = paper_venues(settings)
    for v in paper.values():
        v.account = type(v.account)(Decimal(10_000_000))
    raw = json.loads((ROOT / "config" / "arbitrage.json").read_text())
    raw.update(
        {
            "leg_mode": mode,
            "max_latency_ms": 2000,
            "leg_timeout_ms": 2000,
            "basis": {"window": 600, "min_samples": 30, "sample_ms": 1000},
            "caps": {"per_symbol_usdt": 2500, "per_venue_usdt": 5000, "total_usdt": 5000},  # one pair open at a time
            "pairs": [{"pair": "BTC-USDT", "target_notional_usdt": 2000, "max_notional_usdt": 2500, "leverage": 2}],
            "cross_venue_delta_abs_max_usd": 1e6,
            "risk": {"max_rescues_per_min": 1000, "max_fill_mismatch_ratio": 1},
        }
    )
    cfg = parse("bench", raw)
    clients: dict[str, Venue] = {n: RttVenue(v, rtt_ms / 1000) if rtt_ms else v for n, v in paper.items()}
    loop = ArbitrageLoop(
        cfg,
        clients,
        journal=lambda c, r: None,
        max_orders_per_min=10**9,
        half_spread_bps={n: vc.half_spread_bps for n, vc in settings.venues.items()},
    )
    lat_ns: list[int] = []
    # the loop steps attempts on its runner, the lifecycle starts them: both get the timed one
    loop.runner = loop.lifecycle.runner = TimedRunner(loop.runner, lat_ns)
    okx_tick = Decimal("0.1")
    perf = time.perf_counter_ns
    t_start = perf()
    events = 0
    last_ts = 0
    for i, (ts, bid, bq, ask, aq) in enumerate(ticks):
        mid = (bid + ask) / 2
        basis = basis_bps * math.sin(2 * math.pi * i / period)
        okx_mid = mid * (1 + basis / 1e4)
        if ts > last_ts:  # the venues' matching: pending market orders fill at the new prices
            paper[BIN].on_price("BTCUSDT", ts, Decimal(repr(mid)))
            paper[OKX].on_price("BTC-USDT-SWAP", ts, Decimal(repr(round(okx_mid, 1))))
            last_ts = ts
        if i % 3 == 0:
            ob = Decimal(repr(okx_mid * (1 - 0.00005))).quantize(okx_tick, rounding="ROUND_FLOOR")
            oa = Decimal(repr(okx_mid * (1 + 0.00005))).quantize(okx_tick, rounding="ROUND_CEILING")
            loop.on_book_top(BookTop(OKX, "BTC-USDT-SWAP", ob, Decimal(3), oa, Decimal(3), ts))
            events += 1
        t0 = perf()
        loop.on_book_top(
            BookTop(BIN, "BTCUSDT", Decimal(repr(bid)), Decimal(repr(bq)), Decimal(repr(ask)), Decimal(repr(aq)), ts),
            t0_ns=t0,
        )
        events += 1
        if i % 50 == 0:
            loop.on_cycle_end(ts)
        for v in paper.values():
            v.drain_fills()
    wall = (perf() - t_start) / 1e9
    loop.close()
    us = [x / 1000 for x in lat_ns if x > 0]
    m = loop.metrics.doc(last_ts)
    return {
        "mode": mode,
        "rtt_ms": rtt_ms,
        "events": events,
        "wall_s": round(wall, 3),
        "events_per_s": round(events / wall),
        "attempts_sent": len(us),
        "entries": m["attempts"],
        "exits": m["exits"],
        "rescues": m["rescues"],
        "p50_us": round(percentile(us, 0.5) or 0, 1),
        "p99_us": round(percentile(us, 0.99) or 0, 1),
        "max_us": round(max(us), 1) if us else None,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tick_file", nargs="?", type=Path, default=DEFAULT_TICKS)
    ap.add_argument("--mode", choices=("concurrent", "sequential", "both"), default="both")
    ap.add_argument("--basis-bps", type=float, default=40.0, help="amplitude of the synthetic OKX basis swing")
    ap.add_argument("--period", type=int, default=300, help="ticks per basis swing")
    ap.add_argument(
        "--rtt-ms",
        type=float,
        default=0.0,
        help="also run with venue clients that wait this round trip in place_order (default: off)",
    )
    args = ap.parse_args(argv)
    if not args.tick_file.exists():
        print(f"tick file not found: {args.tick_file}", file=sys.stderr)
        return 2
    ticks = read_ticks(args.tick_file)
    print(
        f"arb_latency: {len(ticks)} Binance bookTicker ticks from {args.tick_file.name}; OKX book = mid shifted "
        f"by +-{args.basis_bps:g} bps every {args.period} ticks; paper venue clients in-process"
    )
    modes = ("concurrent", "sequential") if args.mode == "both" else (args.mode,)
    runs = [(m, 0.0) for m in modes] + ([(m, args.rtt_ms) for m in modes] if args.rtt_ms else [])
    for mode, rtt in runs:
        r = run(ticks, mode, args.basis_bps, args.period, rtt)
        print(
            f"  {r['mode']:<10} rtt={r['rtt_ms']:g}ms events/s={r['events_per_s']:>7} events={r['events']} entries={r['entries']} "
            f"exits={r['exits']} rescues={r['rescues']}  book update -> both legs handed: "
            f"p50={r['p50_us']} us p99={r['p99_us']} us max={r['max_us']} us (n={r['attempts_sent']})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
