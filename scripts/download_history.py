#!/usr/bin/env python3
"""Download real 15m candles and funding from the venues' public endpoints into a market directory.

    python scripts/download_history.py --out DIR --start 2025-01-01 --end 2025-02-01 \
        [--binance BTCUSDT,ETHUSDT] [--okx BTC-USDT-SWAP]

No API key needed. Writes the recorded format (README: "Market directory format") so the result
replays with `python -m execution.replay DIR --state-dir ...`. Endpoints (overridable for tests
with BINANCE_FAPI_URL / OKX_BASE_URL):
  Binance USD-M  GET /fapi/v1/klines (interval=15m, limit<=1500), GET /fapi/v1/fundingRate (limit<=1000)
  OKX            GET /api/v5/market/history-candles (bar=15m, limit<=100, paginated backwards with `after`),
                 GET /api/v5/public/funding-rate-history (limit<=100, paginated with `after`)
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from execution.feeds.market_files import write_candles, write_funding  # noqa: E402
from execution.feeds.rest_history import (  # noqa: E402
    BINANCE_URL,
    OKX_URL,
    DownloadError,
    binance_candles,
    binance_funding,
    binance_host,
    okx_candles,
    okx_funding,
)
from execution.settings import EndpointsEnv, read_env  # noqa: E402
from execution.settings.paths import output_directory_arg  # noqa: E402


def _date_ms(text: str, name: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise DownloadError(f"--{name}: expected YYYY-MM-DD, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=output_directory_arg, required=True)
    ap.add_argument("--start", required=True, help="UTC date YYYY-MM-DD (inclusive)")
    ap.add_argument("--end", required=True, help="UTC date YYYY-MM-DD (exclusive)")
    ap.add_argument("--binance", default="BTCUSDT,ETHUSDT,SOLUSDT,BNBUSDT", help="comma list, '' for none")
    ap.add_argument("--okx", default="BTC-USDT-SWAP", help="comma list, '' for none")
    args = ap.parse_args(argv)
    try:
        start, end = _date_ms(args.start, "start"), _date_ms(args.end, "end")
        if end <= start:
            raise DownloadError("--end must be after --start")
        session = requests.Session()
        urls = read_env(EndpointsEnv)
        binance = binance_host(urls.binance_rest or BINANCE_URL)
        okx = (urls.okx_rest or OKX_URL).rstrip("/")
        for sym in filter(None, args.binance.split(",")):
            candles = binance_candles(session, binance, sym, start, end)
            write_candles(args.out, "binance_um", sym, candles)
            funding = binance_funding(session, binance, sym, start, end)
            write_funding(args.out, "binance_um", sym, funding)
            print(f"binance_um {sym}: {len(candles)} candles, {len(funding)} funding records")
        for inst in filter(None, args.okx.split(",")):
            candles = okx_candles(session, okx, inst, start, end)
            write_candles(args.out, "okx_perp", inst, candles)
            funding = okx_funding(session, okx, inst, start, end)
            write_funding(args.out, "okx_perp", inst, funding)
            print(f"okx_perp {inst}: {len(candles)} candles, {len(funding)} funding records")
    except DownloadError as exc:
        print(f"download error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
