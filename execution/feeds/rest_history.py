"""Public REST history from the venues: 15m candles and funding, paginated, with bounded retries.

Used by the live feed to backfill the indicator window (at start and after a gap) and by
scripts/download_history.py to write a market directory. Base URLs come from the caller (tests
point them at loopback servers).
    Binance USD-M  GET /fapi/v1/klines (interval=15m, limit<=1500), GET /fapi/v1/fundingRate (limit<=1000)
    OKX            GET /api/v5/market/history-candles (bar=15m, limit<=100, paginated backwards with `after`),
                   GET /api/v5/public/funding-rate-history (limit<=100, paginated with `after`)
Rows are tuples in the recorded format: (open_time_ms, open, high, low, close, volume) as strings.
"""

from __future__ import annotations

import time
from typing import Any

import requests

BAR_MS = 900_000
BINANCE_URL = "https://fapi.binance.com"
OKX_URL = "https://www.okx.com"


def binance_host(url: str) -> str:
    """BINANCE_FAPI_URL is written as the adapters take it (".../fapi"); these paths add /fapi."""
    return url.rstrip("/").removesuffix("/fapi")


class DownloadError(Exception):
    def __init__(self, message: str, refused: bool = False):
        super().__init__(message)
        self.refused = refused  # the venue answered and said no (an unknown symbol, ...): asking again will not help


def _get(session: requests.Session, url: str, params: dict, retries: int = 4) -> object:
    for attempt in range(retries):
        try:
            resp = session.get(url, params=params, timeout=15)
        except requests.RequestException as exc:
            if attempt == retries - 1:
                raise DownloadError(f"GET {url}: {exc.__class__.__name__}") from None
            time.sleep(1.0 * 2**attempt)
            continue
        if resp.status_code in (418, 429) or resp.status_code >= 500:
            wait = float(resp.headers.get("Retry-After", 1.0 * 2**attempt))
            if attempt == retries - 1:
                raise DownloadError(f"GET {url}: HTTP {resp.status_code} after {retries} attempts")
            time.sleep(min(wait, 60.0))
            continue
        if resp.status_code != 200:
            raise DownloadError(f"GET {url}: HTTP {resp.status_code}: {resp.text[:200]}", refused=True)
        data = resp.json()
        if isinstance(data, dict) and "code" in data and str(data.get("code")) not in ("0", "200"):
            raise DownloadError(f"GET {url}: venue error code={data.get('code')} msg={data.get('msg')}", refused=True)
        return data
    raise DownloadError(f"GET {url}: no answer")


def _get_list(session: requests.Session, url: str, params: dict) -> list[Any]:
    """A Binance answer: a JSON list of rows."""
    data = _get(session, url, params)
    if not isinstance(data, list):
        raise DownloadError(f"GET {url}: expected a JSON list, got {type(data).__name__}")
    return data


def _okx_data(session: requests.Session, url: str, params: dict) -> list[Any]:
    """An OKX answer's `data` list."""
    data = _get(session, url, params)
    rows = data.get("data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise DownloadError(f"GET {url}: expected an object with a 'data' list")
    return rows


def binance_candles(session, base: str, symbol: str, start: int, end: int) -> list[tuple]:
    rows: list[tuple] = []
    cursor = start
    while cursor < end:
        batch = _get_list(
            session,
            f"{base}/fapi/v1/klines",
            {"symbol": symbol, "interval": "15m", "startTime": cursor, "endTime": end - 1, "limit": 1500},
        )
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
    rows: list[tuple] = []
    cursor = start
    while cursor < end:
        batch = _get_list(
            session,
            f"{base}/fapi/v1/fundingRate",
            {"symbol": symbol, "startTime": cursor, "endTime": end - 1, "limit": 1000},
        )
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
        data = _okx_data(
            session,
            f"{base}/api/v5/market/history-candles",
            {"instId": inst, "bar": "15m", "after": after, "limit": 100},
        )
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
        data = _okx_data(
            session, f"{base}/api/v5/public/funding-rate-history", {"instId": inst, "after": after, "limit": 100}
        )
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


def okx_contract_values(session, base: str) -> dict[str, float]:
    """instId -> ctVal x ctMult of every linear swap (GET /api/v5/public/instruments?instType=SWAP):
    what turns the public channels' contract sizes into base units."""
    out: dict[str, float] = {}
    for row in _okx_data(session, f"{base}/api/v5/public/instruments", {"instType": "SWAP"}):
        if not isinstance(row, dict) or row.get("ctType", "linear") != "linear":
            continue
        try:
            out[str(row["instId"])] = float(row["ctVal"]) * float(row.get("ctMult") or 1)
        except (KeyError, TypeError, ValueError):
            continue
    return out
