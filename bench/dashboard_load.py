"""Investor page (Overview) load: time from request to fully rendered page, and state reads per load,
with one year of minute-level NAV history (generated into a temp dir through the executor's own
sink, which records a BTC mark beside every point) and ~10 round trips a day in the trade log.

    python bench/dashboard_load.py [--days 365] [--loads 5] [--no-browser]

Prints figures, asserts nothing. Besides the times, the CPU seconds each visit costs the browser's
processes and the dashboard server are printed (Linux /proc): on a machine shared with other work
they say what the page costs better than the wall clock does. Reads are counted two ways (tests/support/counting_reader.py),
through the same code path the page uses (dashboard.data.load with its whole-journal caches +
dashboard.history.NavHistory for the range and the since-inception day closes): reader calls (round
trips to the store) and documents as a bucketed document store (Firestore) bills them (one per
current-value document, per journal record returned, per NAV bucket read). The browser figure is a
real headless Chromium, through the project's nginx config (Basic Auth) when nginx is installed,
else straight to Streamlit.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.data import Journals, load  # noqa: E402
from dashboard.history import NavHistory  # noqa: E402
from dashboard.view_model import DAY_MS, range_window  # noqa: E402
from execution import clock  # noqa: E402
from execution.state.local import LocalStore  # noqa: E402
from execution.state.reader import LocalReader  # noqa: E402
from tests.support import nginx as ng  # noqa: E402
from tests.support.browser import Browser, chromium_binary  # noqa: E402
from tests.support.counting_reader import CountingReader  # noqa: E402
from tests.support.dashboard_state import arbitrage_doc, hedged_positions  # noqa: E402

END_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: the history ends here


def generate(root: Path, days: int) -> None:
    """`days` of one NAV point per minute (a random walk), current documents and a trade journal."""
    rng = random.Random(7)
    store = LocalStore(root, durable=False)
    nav, peak, btc = 100_000.0, 100_000.0, 90_000.0
    start = END_MS - days * DAY_MS
    for i in range(days * 1440):
        nav *= 1 + rng.gauss(0.000002, 0.0004)
        btc *= 1 + rng.gauss(0, 0.0006)
        peak = max(peak, nav)
        store.nav_point(start + i * 60_000, nav, (peak - nav) / peak * 100, round(btc, 2))  # as the executor does
    now = clock.wall_ms()
    market = END_MS - 60_000
    store.put(
        "nav",
        {
            "env": "prod",
            "profile": "live",
            "safe_mode": False,
            "dry_run": False,
            "mode": "RUN",
            "nav": nav,
            "peak_nav": peak,
            "drawdown_pct": (peak - nav) / peak * 100,
            "max_drawdown_pct": 12.0,
            "change_24h_abs": 120.5,
            "change_24h_pct": 0.12,
            "unrealized_pnl": 3.0,
            "reserve_btc": 0.013,
            "open_positions": 4,
            "initial_capital": 100_000.0,
            "fills": days * 20,
            "journal_seq": days * 20,
            "market_ts": market,
            "updated_at_ms": now,
        },
    )
    store.put("positions", {**hedged_positions(now, market), "trade_seq": days * 20})
    store.put(
        "control",
        {"mode": "RUN", "reason": "", "kill": False, "safe_mode": False, "profile": "live", "updated_at_ms": now},
    )
    store.put(
        "screener",
        {
            "tail": [
                {
                    "ts": market,
                    "venue": "binance_um",
                    "symbol": s,
                    "close": 100.0,
                    "z": 0.5,
                    "rsi": 50.0,
                    "atr": 1.0,
                    "atr_pct": 0.01,
                    "cross_up": False,
                    "cross_down": False,
                    "in_trade": False,
                    "side": "-",
                }
                for s in ("BTCUSDT", "ETHUSDT") * 5
            ],
            "last_cycle": {"ts": market, "attempted": 4, "emitted": 0},
            "updated_at_ms": now,
        },
    )
    store.put(
        "signals",
        {
            "latest": [
                {
                    "ts": market - i * 900_000,
                    "venue": "binance_um",
                    "symbol": "BTCUSDT",
                    "signal": "BUY",
                    "position_side": "LONG",
                    "price": 100_000.0,
                    "qty": "0.01",
                    "notional_usdt": 1000.0,
                    "z": 2.1,
                    "rsi": 60.0,
                }
                for i in range(20)
            ],
            "updated_at_ms": now,
        },
    )
    store.put("arbitrage", arbitrage_doc(now, market))
    for i in range(days * 10):  # ~10 round trips a day: an entry and its exit
        ts = start + i * 8_640_000
        side = "LONG" if i % 2 else "SHORT"
        price = 100_000.0 * (1 + rng.gauss(0, 0.01))
        exit_price = price * (1 + rng.gauss(0, 0.004))
        pnl = (exit_price - price) * 0.01 * (1 if side == "LONG" else -1)
        for n, (px, opening) in enumerate(((price, True), (exit_price, False))):
            store.append(
                "trades",
                {
                    "kind": "fill",
                    "id": f"t{i}-{n}",
                    "ts": ts + n * 3_600_000,
                    "venue": "binance_um",
                    "symbol": "BTCUSDT",
                    "side": "BUY" if opening == (side == "LONG") else "SELL",
                    "position_side": side,
                    "qty": 0.01,
                    "price": round(px, 2),
                    "fee_usdt": 0.5,
                    "realized_pnl_usdt": 0.0 if opening else round(pnl, 8),
                    "ref_price": round(px * (1 - 0.0002 if opening == (side == "LONG") else 1 + 0.0002), 2),
                    "seq": 2 * i + n + 1,
                },
            )
    store.close()


def reads_per_load(root: Path) -> None:
    reader = CountingReader(LocalReader(root))
    fake_now = [0]

    def one(history: NavHistory, journals: Journals, range_key: str) -> tuple[int, int, int, float]:
        reader.reset()
        t0 = time.perf_counter()
        data = load(reader, journals)
        end = int(data.doc("nav")["market_ts"])
        daily = history.points(reader, data.source, 0, end)  # the since-inception day closes
        start, end = range_window(range_key, end)
        series = history.points(reader, data.source, start, end) if range_key != "All" else daily
        ms = (time.perf_counter() - t0) * 1000
        return sum(reader.calls.values()), reader.documents, len(series.ts), ms

    print("state reads per page load (reader calls / documents a bucketed store bills), server-side read time:")
    for rng in ("30d", "24h", "7d", "All"):
        history = NavHistory(ttl_ms=5_000, wall_ms=lambda: fake_now[0])  # a dashboard process just started
        journals = Journals()
        cold = one(history, journals, rng)
        fake_now[0] += 5_000  # a viewer after the cache period, nothing new in the journals
        warm = one(history, journals, rng)
        print(
            f"  range {rng:>3}: first load after start {cold[0]:2d} calls / {cold[1]:5d} documents "
            f"({cold[2]:6d} points, {cold[3]:6.1f} ms)   later loads {warm[0]:2d} calls / {warm[1]:3d} documents "
            f"({warm[3]:5.1f} ms)"
        )
    print(
        "  (current docs: 1 document each; the trade log is read whole once per process, then only its newest "
        "20 records when the NAV document's fill count changes; NAV history: the range's buckets + the daily document)"
    )


def group_cpu_s(pgid: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of a process group (Linux
    /proc): what a page load costs the browser or the server, whatever else the machine runs."""
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def page_time(root: Path, loads: int) -> None:
    binary = chromium_binary()
    if binary is None:
        print("browser: chromium not installed, skipped")
        return
    port = ng.free_port()
    work = Path(tempfile.mkdtemp(prefix="dash-bench-"))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(work),
        "STATE_DIR": str(root),
        "ENV_FILE": "/nonexistent",
        "DASHBOARD_STALE_MINUTES": "600",
    }
    cmd = [sys.executable, "-m", "dashboard", "--port", str(port)]  # the project's launcher (loopback only)
    log = open(work / "streamlit.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    site = None
    try:
        ng.wait_port(port, timeout=60, proc=proc)
        url, auth = f"http://127.0.0.1:{port}/", None
        if not ng.missing_binaries("nginx", "htpasswd", "openssl"):
            ng.make_htpasswd(work / "htpasswd", {"bench": "bench-password-123"})
            # plain-HTTP variant of the site: Chromium keeps no cache behind a self-signed certificate,
            # which would make every visit a first visit
            site = ng.render(work / "nginx", port, work / "htpasswd", tls=False).start()
            url, auth = f"http://127.0.0.1:{site.http_port}/", ("bench", "bench-password-123")
        via = "nginx (Basic Auth, the project's site config)" if site else "Streamlit directly (nginx not installed)"
        done = (  # every section drawn, none still a skeleton (an element whose frontend code is loading)
            "document.body && document.body.innerText.includes('Read-only view') && "
            "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
            "document.querySelectorAll('[data-testid=stMetric]').length >= 6 && "
            "document.querySelectorAll('[data-testid=stSkeleton]').length == 0"
        )

        cpu: dict[str, list[tuple[float, float]]] = {"first": [], "returning": []}

        def timed_load(b: Browser, kind: str) -> float:
            b.navigate("about:blank")
            time.sleep(0.3)  # about:blank settles; its cost is not the page's
            c0, s0 = group_cpu_s(b.proc.pid), group_cpu_s(proc.pid)
            t0 = time.monotonic()
            b.navigate(url)
            b.wait_for(done, timeout=120, step=0.02)
            took = time.monotonic() - t0
            time.sleep(0.3)  # the last frames of the page are part of its cost
            cpu[kind].append((group_cpu_s(b.proc.pid) - c0, group_cpu_s(proc.pid) - s0))
            return took

        first, returning = [], []
        for i in range(max(1, loads)):
            with Browser(binary, 1400, 1800) as b:  # a new browser profile: nothing cached
                b.call("Security.setIgnoreCertificateErrors", ignore=True)
                if auth:
                    b.set_basic_auth(*auth)
                first.append(timed_load(b, "first"))
                if i == 0:
                    returning = [timed_load(b, "returning") for _ in range(loads)]  # same browser: assets cached
                    t1 = time.monotonic()  # the heaviest view: the chart switched to All (a year of minutes)
                    b.evaluate(
                        "[...document.querySelectorAll('button')].find(x => x.innerText.trim() == 'All').click()"
                    )
                    b.wait_for(
                        "[...document.querySelectorAll('[data-testid=stCaptionContainer]')]"
                        ".some(c => c.innerText.includes('the same points as the return'))",
                        timeout=120,
                        step=0.02,
                    )
                    all_s = time.monotonic() - t1
        print(f"request -> fully rendered page (every section drawn, chart included), via {via}:")
        print(
            f"  first visit (empty browser cache: every frontend file fetched): median "
            f"{statistics.median(first):.2f} s, max {max(first):.2f} s over {len(first)} "
            f"(the very first includes the server's cold start)"
        )
        print(
            f"  returning visit (browser cache warm, new session): median {statistics.median(returning):.2f} s, "
            f"max {max(returning):.2f} s over {len(returning)}"
        )
        print(f"  switching the chart to 'All' (a year of day closes, first time in this process): {all_s:.2f} s")
        for kind, rows in cpu.items():
            print(
                f"  CPU per {kind} visit (median; less sensitive to other load than the times above): "
                f"browser {statistics.median(c for c, _ in rows):.2f} s, "
                f"dashboard server {statistics.median(sv for _, sv in rows):.2f} s"
            )
    finally:
        if site is not None:
            site.stop()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="dash-bench-state-"))
    try:
        t0 = time.perf_counter()
        generate(root, args.days)
        buckets = len(list((root / "history" / "nav").glob("*.json")))
        size = sum(p.stat().st_size for p in (root / "history" / "nav").glob("*.json")) / 1e6
        print(
            f"state: {args.days} days x 1440 NAV points = {args.days * 1440:,} points in {buckets} day buckets "
            f"({size:.0f} MB), generated in {time.perf_counter() - t0:.1f} s"
        )
        reads_per_load(root)
        if not args.no_browser:
            page_time(root, args.loads)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
