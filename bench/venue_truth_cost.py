"""What venue truth costs the venues: REST requests and weight per hour per venue, measured by
running the real reconciler (composed by execution.app on PROFILE=testnet with the shipped config:
4 Binance symbols, the OKX leg of the arbitrage pair) against the loopback venues for one hour of
readings (60 at RECONCILE_INTERVAL_S=60, the hourly trade comparison included), compared with the
venues' published limits. Figures, not pass/fail.

    python bench/venue_truth_cost.py [--interval-s 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution import clock
from execution.app import open_runtime
from execution.exchanges.throttle import binance_um_throttler, okx_perp_throttler
from execution.settings import load_settings
from execution.venue_truth import VenueTruth
from tests.fakes.fake_binance import WEIGHTS, FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.support.fake_streams import FakeBinanceUserStream, FakeOkxPrivateStream

BINANCE_WEIGHT_PER_MIN = 2400  # REQUEST_WEIGHT per minute per IP (exchangeInfo rateLimits)
OKX_LIMITS = {  # requests per window (s) per user id, from the v5 docs
    "/api/v5/account/balance": (10, 2),
    "/api/v5/account/positions": (10, 2),
    "/api/v5/account/bills": (5, 1),
    "/api/v5/account/bills-archive": (5, 2),
    "/api/v5/trade/fills": (60, 2),
    "/api/v5/trade/fills-history": (10, 2),
}


def measure(interval_s: float) -> tuple[Counter, Counter, int]:
    with (
        FakeBinance(weight_limit=10**9) as fb,
        FakeOkx(demo=True) as fo,
        FakeBinanceUserStream() as us,
        FakeOkxPrivateStream(fo.api_key, fo.api_secret, fo.passphrase) as ps,
        tempfile.TemporaryDirectory() as tmp,
    ):
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        fo.set_book("BTC-USDT-SWAP", [("60001.0", "1000")], [("60001.1", "1000")])
        env = {
            "PROFILE": "testnet",
            "SAFE_MODE": "true",
            "FEED": "live",
            "STATE_DIR": tmp,
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "BINANCE_WS_URL": us.url,
            "OKX_API_KEY": fo.api_key,
            "OKX_API_SECRET": fo.api_secret,
            "OKX_PASSPHRASE": fo.passphrase,
            "OKX_BASE_URL": fo.url,
            "OKX_WS_PRIVATE_URL": ps.url,
            "RECONCILE_INTERVAL_S": str(interval_s),
        }
        rt = open_runtime(load_settings(env))  # (the fake's own per-minute limit is lifted: the hour is compressed)
        try:
            truth = next(g for g in rt.engine.guards if isinstance(g, VenueTruth))
            sim = [0.0]  # the hour is simulated: the throttlers count it on its own clock

            def sim_clock() -> float:
                return sim[0]

            rt.venues["binance_um"].throttle = binance_um_throttler(clock=sim_clock)  # type: ignore[attr-defined]
            rt.venues["binance_um"]._observe_headers = lambda response: None  # type: ignore[attr-defined] # real-time header
            rt.venues["okx_perp"].throttle = okx_perp_throttler(clock=sim_clock)  # type: ignore[attr-defined]
            fb_before, fo_before = Counter(fb.requests), Counter(fo.requests)
            now = clock.wall_ms()
            passes = int(3600 / interval_s)
            for i in range(1, passes + 1):
                sim[0] = i * interval_s
                truth.run(rt.engine, now + int(i * interval_s * 1000))
            streams = {("POST", "/fapi/v1/listenKey"), ("PUT", "/fapi/v1/listenKey")}  # the account stream's
            binance = Counter({k: n for k, n in (Counter(fb.requests) - fb_before).items() if k not in streams})
            return binance, Counter(fo.requests) - fo_before, passes
        finally:
            rt.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval-s", type=float, default=60.0, help="RECONCILE_INTERVAL_S to measure (default 60)")
    interval_s = ap.parse_args(argv).interval_s
    binance, okx, passes = measure(interval_s)
    print(f"venue truth: {passes} readings in one hour (RECONCILE_INTERVAL_S={interval_s:g}), trades compared once")
    total = 0
    for (method, path), n in sorted(binance.items()):
        weight = WEIGHTS.get(path, 1) * n
        total += weight
        print(f"  binance_um {method:4} {path:<32} {n:5d} calls/h  weight {weight:6d}/h")
    budget = BINANCE_WEIGHT_PER_MIN * 60
    print(
        f"  binance_um total: {total:,} weight/h = {total / 60:.1f}/min of {BINANCE_WEIGHT_PER_MIN}/min "
        f"({total / budget * 100:.2f} % of the IP's request weight)"
    )
    for (method, path), n in sorted(okx.items()):
        limit, window = OKX_LIMITS.get(path, (5, 2))
        per_hour = limit * 3600 / window
        print(
            f"  okx_perp   {method:4} {path:<32} {n:5d} calls/h  limit {limit}/{window}s "
            f"({per_hour:,.0f}/h): {n / per_hour * 100:.3f} %"
        )
    print(f"  okx_perp   total: {sum(okx.values())} requests/h")


if __name__ == "__main__":
    main()
