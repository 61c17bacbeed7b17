"""Adapter overhead on loopback: a MARKET order round trip (sign, send, parse, book the fill) on
each venue against its fake, and the throttler's cost per call. Figures, not pass/fail.

    python bench/bench_venue_adapters.py [n_orders]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.exchanges.throttle import binance_um_throttler
from execution.models import OrderRequest, OrderType, PositionSide, Side
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def round_trips(venue, symbol: str, qty: str, n: int) -> list[float]:
    out = []
    for i in range(n):
        side, pside = (Side.BUY, PositionSide.LONG) if i % 2 == 0 else (Side.SELL, PositionSide.LONG)
        req = OrderRequest(venue.name, symbol, side, pside, OrderType.MARKET, Decimal(qty), f"hfbench{i:06d}", f"b{i}")
        t0 = time.perf_counter()
        venue.place_order(req)
        fills = venue.drain_fills()
        out.append((time.perf_counter() - t0) * 1000)
        assert fills, "every market order should fill"
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("n_orders", nargs="?", type=int, default=200, help="round trips per venue (default 200)")
    n = ap.parse_args(argv).n_orders
    with FakeBinance(weight_limit=10**9) as fb, FakeOkx(demo=False) as fo:
        fb.set_book("BTCUSDT", [("60000.0", "1000")], [("60000.1", "1000")])
        fo.set_book("BTC-USDT-SWAP", [("60000.0", "100000")], [("60000.1", "100000")])
        b = BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=False)
        o = OkxPerp(fo.api_key, fo.api_secret, fo.passphrase, demo=False, domain=fo.url, safe_mode=False)
        for name, venue, sym, qty in (("binance_um", b, "BTCUSDT", "0.01"), ("okx_perp", o, "BTC-USDT-SWAP", "0.01")):
            round_trips(venue, sym, qty, 5)  # warm up: clock sync, filters, fees
            ms = round_trips(venue, sym, qty, n)
            waited = venue.throttle.waited_s
            print(
                f"{name:10s} MARKET order round trip on loopback (n={n}): p50 {statistics.median(ms):.2f} ms  "
                f"p99 {_pct(ms, 0.99):.2f} ms  max {max(ms):.2f} ms  (throttler held back {waited:.2f} s in total "
                "to stay under the venue's published limits)"
            )
            venue.close()
    clock = [0.0]
    t = binance_um_throttler(clock=lambda: clock[0], sleep=lambda s: clock.__setitem__(0, clock[0] + s))
    k = 50000
    t0 = time.perf_counter()
    for _ in range(k):
        clock[0] += 0.035  # ~1700 calls/min: a full window just under the 1920 weight cap
        t.acquire("order:get")
    print(
        f"throttler acquire: {(time.perf_counter() - t0) / k * 1e6:.2f} us per call "
        f"(window of ~{t.usage('REQUEST_WEIGHT_1M')} entries)"
    )


if __name__ == "__main__":
    main()
