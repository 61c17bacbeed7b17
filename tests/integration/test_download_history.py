"""scripts/download_history.py against loopback servers speaking Binance's and OKX's public REST formats."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

from execution.feeds.events import CandleClosed, FundingSettled
from execution.feeds.replay import ReplayFeed
from tests.conftest import PROJECT_ROOT
from tests.support.http_server import LoopbackServer

START = 1_735_689_600_000  # 2025-01-01
END = START + 2 * 86_400_000  # 2 days = 192 bars
BAR = 900_000


def price(ts):
    return 90_000 + (ts - START) / BAR


def make_routes(throttle_once: list):
    def klines(q, body, headers):
        if throttle_once:
            throttle_once.pop()
            return 429, {"code": -1003, "msg": "Too many requests"}, {"Retry-After": "1"}
        assert q["interval"] == "15m"
        lo, hi, limit = int(q["startTime"]), int(q["endTime"]), min(int(q["limit"]), 100)  # page small on purpose
        rows = []
        t = lo - lo % BAR
        while t <= hi and t < END and len(rows) < limit:
            p = price(t)
            rows.append(
                [
                    t,
                    f"{p:.1f}",
                    f"{p + 5:.1f}",
                    f"{p - 5:.1f}",
                    f"{p + 1:.1f}",
                    "12.5",
                    t + BAR - 1,
                    "0",
                    1,
                    "0",
                    "0",
                    "0",
                ]
            )
            t += BAR
        return 200, rows, {}

    def binance_funding(q, body, headers):
        lo, hi = int(q["startTime"]), int(q["endTime"])
        rows = [
            {"symbol": q["symbol"], "fundingTime": t, "fundingRate": "0.00010000", "markPrice": "1"}
            for t in range(START, END, 8 * 3600_000)
            if lo <= t <= hi
        ]
        return 200, rows, {}

    def okx_candles(q, body, headers):
        after, limit = int(q["after"]), int(q["limit"])
        ts = [t for t in range(START, END, BAR) if t < after][-limit:]
        data = [
            [
                str(t),
                f"{price(t) + 3:.1f}",
                f"{price(t) + 8:.1f}",
                f"{price(t) - 2:.1f}",
                f"{price(t) + 4:.1f}",
                "100",
                "1",
                "90000",
                "1",
            ]
            for t in reversed(ts)
        ]  # newest first, as OKX answers
        return 200, {"code": "0", "msg": "", "data": data}, {}

    def okx_funding(q, body, headers):
        after = int(q["after"])
        ts = [t for t in range(START, END, 8 * 3600_000) if t < after][-int(q["limit"]) :]
        data = [
            {"instId": q["instId"], "fundingTime": str(t), "fundingRate": "0.0002", "realizedRate": "0.00019"}
            for t in reversed(ts)
        ]
        return 200, {"code": "0", "msg": "", "data": data}, {}

    return {
        ("GET", "/fapi/v1/klines"): klines,
        ("GET", "/fapi/v1/fundingRate"): binance_funding,
        ("GET", "/api/v5/market/history-candles"): okx_candles,
        ("GET", "/api/v5/public/funding-rate-history"): okx_funding,
    }


def test_download_writes_the_recorded_format_and_it_replays(tmp_path):
    with LoopbackServer(make_routes([True])) as srv:
        env = dict(os.environ, BINANCE_FAPI_URL=srv.url, OKX_BASE_URL=srv.url)
        proc = subprocess.run(
            [
                sys.executable,
                "scripts/download_history.py",
                "--out",
                str(tmp_path),
                "--start",
                "2025-01-01",
                "--end",
                "2025-01-03",
                "--binance",
                "BTCUSDT",
                "--okx",
                "BTC-USDT-SWAP",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert "binance_um BTCUSDT: 192 candles, 6 funding records" in proc.stdout
    assert "okx_perp BTC-USDT-SWAP: 192 candles, 6 funding records" in proc.stdout
    head = gzip.open(tmp_path / "binance_um" / "BTCUSDT_15m.csv.gz", "rt").readline().strip()
    assert head == "open_time_ms,open,high,low,close,volume"
    events = list(ReplayFeed(tmp_path).events())
    candles = [e for e in events if isinstance(e, CandleClosed)]
    assert len(candles) == 384 and not [e for e in events if not isinstance(e, (CandleClosed, FundingSettled))]
    okx = [c for c in candles if c.venue == "okx_perp"]
    assert okx[0].open_time == START and okx[-1].open_time == END - BAR  # paginated backwards, reassembled in order
    assert [f.rate for f in events if isinstance(f, FundingSettled) and f.venue == "okx_perp"][0] == 0.00019


def test_venue_error_is_a_clear_message_and_exit_1(tmp_path):
    routes = {("GET", "/fapi/v1/klines"): lambda q, b, h: (400, {"code": -1121, "msg": "Invalid symbol."}, {})}
    with LoopbackServer(routes) as srv:
        env = dict(os.environ, BINANCE_FAPI_URL=srv.url)
        proc = subprocess.run(
            [
                sys.executable,
                "scripts/download_history.py",
                "--out",
                str(tmp_path),
                "--start",
                "2025-01-01",
                "--end",
                "2025-01-02",
                "--binance",
                "NOPEUSDT",
                "--okx",
                "",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert "download error" in proc.stderr and "Invalid symbol" in proc.stderr and "Traceback" not in proc.stderr
