"""A stand-in for the executor's metrics until the engine serves them itself (issue 16 phase 2).

    python -m tests.support.metrics_feeder --state-dir DIR --port PORT

Runs the real exporter (execution.metrics) on 127.0.0.1:PORT and feeds it what a real replay left
in DIR: the event hooks from the replay's own records (every SEND_ORDER / ORDER_ACK / ORDER_ERR
log line, every fill of the trade log, with slippage against the signal's price for entries),
one batch per scrape as a running executor would produce them between two scrapes (a batch ends
after a fill with slippage, so each such observation is seen by its own scrape and rates over
the histograms are defined), and every --interval seconds the state-driven metrics from the
state documents and the Firestore outbox (through the same reader the CLI uses) and one
`on_cycle`. Prints
`ready <url>` when it serves. SIGTERM stops it: that is "the executor died" for the alert tests.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import sys
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path

from prometheus_client.registry import Collector

from execution import clock
from execution.metrics import Exporter, Metrics, slippage_bps
from execution.metrics_state import update_from_state
from execution.state.outbox import Outbox
from execution.state.reader import LocalReader

LOG_LINE = re.compile(r"^(\S+) \w+ \[(executor|arb)\] (SEND_ORDER|ORDER_ACK|\[ORDER_ERR\]) (.*)$")
ERR_VENUE = re.compile(r"code=\S+ (\S+)")
CID = re.compile(r"cid=(\S+)")


def _log_ts(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


Event = Callable[[], None]


def order_events(metrics: Metrics, log_path: Path) -> list[Event]:
    sent: dict[str, tuple[str, float]] = {}
    out: list[Event] = []
    for line in log_path.read_text().splitlines() if log_path.exists() else []:
        m = LOG_LINE.match(line)
        if not m:
            continue
        stamp, _, what, rest = m.groups()
        venue = rest.split()[0]
        cid = CID.search(rest)
        if what == "SEND_ORDER":
            out.append(partial(metrics.on_order_sent, venue))
            if cid:
                sent[cid[1]] = (venue, _log_ts(stamp))
            continue
        if what == "[ORDER_ERR]":
            found = ERR_VENUE.search(rest)  # `[ORDER_ERR] <endpoint> <status> code=X <venue> ...`
            venue = found[1] if found else venue
            out.append(partial(metrics.on_order_rejected, venue, "REJECTED"))
        if cid and cid[1] in sent:
            v, t0 = sent.pop(cid[1])
            out.append(partial(metrics.on_order_answer, v, max(0.0, _log_ts(stamp) - t0)))
    return out


def fill_events(metrics: Metrics, state_dir: Path) -> list[Event]:
    ref = {}
    for line in (
        (state_dir / "signals.jsonl").read_text().splitlines() if (state_dir / "signals.jsonl").exists() else []
    ):
        s = json.loads(line)
        ref[s.get("intent_id")] = float(s.get("price") or 0)
    out: list[Event] = []
    for line in (state_dir / "trade_log.jsonl").read_text().splitlines():
        f = json.loads(line)
        price, qty = float(f["price"]), float(f["qty"])
        slip = slippage_bps(f["side"], price, ref.get(f.get("intent_id"), 0.0))
        if slip is not None:  # the series exists (at 0) from the first scrape: one observation is a rate
            metrics.slippage.labels(f["symbol"], f["venue"], f.get("reason") or "unknown")
        event = partial(metrics.on_fill, f["venue"], f["symbol"], f.get("reason") or "unknown", price * qty, slip)
        event.ends_batch = slip is not None  # type: ignore[attr-defined]
        out.append(event)
    return out


class ScrapeCounter(Collector):
    """Counts scrapes (collect() runs once per scrape) so the feeder feeds one batch per scrape."""

    def __init__(self, metrics: Metrics):
        self.n = 0
        metrics.registry.register(self)

    def collect(self):
        self.n += 1
        return []


def _interleave(a: list[Event], b: list[Event]) -> list[Event]:
    out: list[Event] = []
    for i in range(max(len(a), len(b))):
        out += a[i : i + 1] + b[i : i + 1]
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=25, help="events fed between two scrapes, at most")
    ap.add_argument("--feed-when", type=Path, help="feed the events only once this file exists (after a scrape)")
    args = ap.parse_args(argv)
    metrics = Metrics()
    scrapes = ScrapeCounter(metrics)
    exporter = Exporter(metrics, args.port)
    orders = order_events(metrics, args.state_dir / "replay.log")
    fills = fill_events(metrics, args.state_dir)
    pending = deque(_interleave(orders, fills))
    fed_at_scrape = -1
    outbox_path = args.state_dir / "firestore_outbox.sqlite"
    outbox = Outbox(outbox_path) if outbox_path.exists() else None
    reader = LocalReader(args.state_dir)
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print(f"ready {exporter.url} order events={len(orders)} fills={len(fills)}", flush=True)
    while not stop:
        feeding = args.feed_when is None or args.feed_when.exists()
        if feeding and pending and scrapes.n > fed_at_scrape:
            fed_at_scrape = scrapes.n
            for _ in range(args.batch):
                event = pending.popleft()
                event()
                if not pending or getattr(event, "ends_batch", False):
                    break
        t0 = time.perf_counter()
        snap = reader.snapshot()
        update_from_state(metrics, snap.docs, clock.wall_ms(), outbox)
        metrics.on_cycle(time.perf_counter() - t0)
        time.sleep(args.interval)
    exporter.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
