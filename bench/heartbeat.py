#!/usr/bin/env python3
"""Benchmark the 8-hour heartbeat as cron runs it: one `python -m telegram.heartbeat` process per
run against a loopback Bot API, on the state of a replay. Prints figures; never pass/fail.

    python bench/heartbeat.py [MARKET_DIR] [--runs 10]

Default market: ../shared/data/market/2025H1 when present, else a generated 60-day market.
Figures: wall time per run (process start to exit, imports included), the message's size in
Telegram's units (UTF-16, limit 4096), the payload line's size, and the runs' exit statuses.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.fake_telegram import FakeTelegram, utf16_len  # noqa: E402

TOKEN = "123456789:AAE_bench-token-loopback-only_0000"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("market_dir", nargs="?", type=Path)
    ap.add_argument("--runs", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        market = args.market_dir
        if market is None:
            market = ROOT.parent / "shared" / "data" / "market" / "2025H1"
            if not market.exists():
                market = Path(tmp) / "generated"
                subprocess.run(
                    [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "60"],
                    cwd=ROOT,
                    check=True,
                    capture_output=True,
                )
        state = Path(tmp) / "state"
        subprocess.run(
            [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
        )
        walls, codes, payload_bytes = [], set(), 0
        with FakeTelegram(TOKEN, chat_id="42") as tg:
            env = {
                "PATH": "/usr/bin:/bin",
                "ENV_FILE": "/nonexistent",
                "STATE_DIR": str(state),
                "TELEGRAM_API_BASE": tg.url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_CHAT_ID": "42",
            }
            for _ in range(args.runs):
                started = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-m", "telegram.heartbeat"], cwd=ROOT, env=env, capture_output=True, text=True
                )
                walls.append(time.perf_counter() - started)
                codes.add(proc.returncode)
                line = next(ln for ln in proc.stderr.splitlines() if "[heartbeat] payload " in ln)
                payload_bytes = len(line.split("[heartbeat] payload ", 1)[1].encode())
            sizes = [utf16_len(m["text"]) for m in tg.messages]
    print(f"market: {market}")
    print(f"runs={args.runs} messages={len(sizes)} exit_statuses={sorted(codes)}")
    print(f"wall_s per run: median {statistics.median(walls):.3f} (min {min(walls):.3f}, max {max(walls):.3f})")
    print(f"message: {max(sizes)} UTF-16 units of 4096 (HTML source); payload line: {payload_bytes} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
