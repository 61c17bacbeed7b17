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
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from execution.feeds.market_files import write_candles, write_funding  # noqa: E402

BAR_MS = 900_000
BINANCE_URL = "https://fapi.binance.com"
OKX_URL = "https://www.okx.com"


class DownloadError(Exception):
    pass


def _get(session: requests.Session, url: str, params: dict, retries: int = 4) -> object:
    for attempt in range(retries):
        try:
            resp = session.get(url, params=params, timeout=15)
        except requests.RequestException as exc:
            if attempt == retries - 1:
                raise DownloadError(f"GET {url}: {exc.__class__.__name__}") from None
            time.sleep(1.0 * 2 ** attempt)
            continue
        if resp.status_code in (418, 429) or resp.status_code >= 500:
            wait = float(resp.headers.get("Retry-After", 1.0 * 2 ** attempt))
            if attempt == retries - 1:
                raise DownloadError(f"GET {url}: HTTP {resp.status_code} after {retries} attempts")
            time.sleep(min(wait, 60.0))
            continue
        if resp.status_code != 200:
            raise DownloadError(f"GET {url}: HTTP {resp.status_code}: {resp.text[:200]}")
        data = resp.json()
        if isinstance(data, dict) and "code" in data and str(data.get("code")) not in ("0", "200"):
            raise DownloadError(f"GET {url}: venue error code={data.get('code')} msg={data.get('msg')}")
        return data
    raise DownloadError(f"GET {url}: no answer")


def binance_candles(session, base: str, symbol: str, start: int, end: int) -> list[tuple]:
    rows, cursor = [], start
    while cursor < end:
        batch = _get(session, f"{base}/fapi/v1/klines",
                     {"symbol": symbol, "interval": "15m", "startTime": cursor, "endTime": end - 1, "limit": 1500})
        if not batch:
            break
        for k in batch:
            if int(k[0]) >= end:
                break
            rows.append((int(k[0]), k[1], k[2], k[3], k[4], k[5]))
        nxt = int(batch[-1][0]) + BAR_MS
        if nxt <= cursor:
            break
        cursor = nxt
    return rows


def binance_funding(session, base: str, symbol: str, start: int, end: int) -> list[tuple]:
    rows, cursor = [], start
    while cursor < end:
        batch = _get(session, f"{base}/fapi/v1/fundingRate",
                     {"symbol": symbol, "startTime": cursor, "endTime": end - 1, "limit": 1000})
        if not batch:
            break
        rows.extend((int(f["fundingTime"]), f["fundingRate"]) for f in batch if int(f["fundingTime"]) < end)
        nxt = int(batch[-1]["fundingTime"]) + 1
        if nxt <= cursor:
            break
        cursor = nxt
    return rows


def okx_candles(session, base: str, inst: str, start: int, end: int) -> list[tuple]:
    """OKX pages backwards: `after` = return records older than this ts."""
    out: dict[int, tuple] = {}
    after = end
    while after > start:
        data = _get(session, f"{base}/api/v5/market/history-candles",
                    {"instId": inst, "bar": "15m", "after": after, "limit": 100})["data"]
        if not data:
            break
        for c in data:  # [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]
            ts = int(c[0])
            if start <= ts < end and (len(c) < 9 or c[8] == "1"):
                out[ts] = (ts, c[1], c[2], c[3], c[4], c[5])
        oldest = min(int(c[0]) for c in data)
        if oldest >= after:
            break
        after = oldest
    return [out[t] for t in sorted(out)]


def okx_funding(session, base: str, inst: str, start: int, end: int) -> list[tuple]:
    out: dict[int, tuple] = {}
    after = end
    while after > start:
        data = _get(session, f"{base}/api/v5/public/funding-rate-history",
                    {"instId": inst, "after": after, "limit": 100})["data"]
        if not data:
            break
        for f in data:
            ts = int(f["fundingTime"])
            if start <= ts < end:
                out[ts] = (ts, f.get("realizedRate") or f["fundingRate"])
        oldest = min(int(f["fundingTime"]) for f in data)
        if oldest >= after:
            break
        after = oldest
    return [out[t] for t in sorted(out)]


def _date_ms(text: str, name: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc).timestamp() * 1000)
    except ValueError:
        raise DownloadError(f"--{name}: expected YYYY-MM-DD, got {text!r}") from None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, required=True)
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
        binance = os.environ.get("BINANCE_FAPI_URL", BINANCE_URL).rstrip("/")
        okx = os.environ.get("OKX_BASE_URL", OKX_URL).rstrip("/")
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
