"""State for dashboard tests: a short replay of recorded data through the real executor, plus helpers
to turn that state into the situations a viewer can meet (stale, empty, unreadable, arbitrage running).

The recorded window is cut into a temp directory at test time (never into the repo), then
`python -m execution.replay` writes the state exactly as the executor does.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
import subprocess
import sys
from pathlib import Path

from execution.feeds.market_files import discover, write_candles, write_funding
from execution.state.local import LocalStore
from tests.conftest import PROJECT_ROOT, shared_path

WINDOW = "2025H1"
SLICE_START_MS = 1_749_513_600_000  # 2025-06-10 00:00 UTC
SLICE_END_MS = 1_751_328_000_000  # 2025-07-01 00:00 UTC (end of the window)


def slice_market(src: Path, dst: Path, start_ms: int, end_ms: int) -> Path:
    for series in discover(src):
        with gzip.open(series.path, "rt", newline="") as fh:
            rows = [tuple(r) for r in csv.reader(fh)][1:]
        keep = [r for r in rows if r and start_ms <= int(float(r[0])) < end_ms]
        if series.kind == "15m":
            write_candles(dst, series.venue, series.symbol, keep)
        else:
            write_funding(dst, series.venue, series.symbol, keep)
    return dst


def replay_state(workdir: Path) -> Path:
    """Replay ~3 weeks of the 2025H1 window; returns the state directory."""
    market = slice_market(shared_path("market", WINDOW), workdir / "market", SLICE_START_MS, SLICE_END_MS)
    state = workdir / "state"
    proc = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state), "--fresh"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "HOME": str(workdir)},
    )
    if proc.returncode != 0:
        raise AssertionError(f"replay failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return state


def copy_state(state: Path, dst: Path) -> Path:
    shutil.copytree(state, dst, ignore=shutil.ignore_patterns("replay.log"))
    return dst


def read_doc(state: Path, name: str) -> dict:
    return json.loads((state / "state" / f"{name}.json").read_text())


def put_docs(state: Path, docs: dict[str, dict]) -> None:
    """Write documents through the executor's own sink (atomic, same layout)."""
    store = LocalStore(state, durable=False)
    for name, doc in docs.items():
        store.put(name, doc)
    store.close()


def stamp_state(state: Path, updated_at_ms: int) -> None:
    """Set when the executor last wrote (every document's wall-clock stamp): now-ish is fresh, older is stale."""
    docs = {}
    for path in (state / "state").glob("*.json"):
        doc = json.loads(path.read_text())
        if isinstance(doc, dict) and doc.get("updated_at_ms"):
            doc["updated_at_ms"] = updated_at_ms
        docs[path.stem] = doc
    put_docs(state, docs)


def jsonl_tail(path: Path, n: int) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()][-n:]


def arbitrage_doc(now_ms: int, market_ts: int) -> dict:
    """An arbitrage document in the shape the arbitrage engine publishes (state/arbitrage)."""
    return {
        "enabled": True,
        "auto": True,
        "dry_run": False,
        "leg_mode": "concurrent",
        "min_edge_bps": 2.0,
        "pairs": [
            {
                "pair": "BTC-USDT",
                "binance_symbol": "BTCUSDT",
                "okx_symbol": "BTC-USDT-SWAP",
                "basis_mean_bps": 4.2903,
                "basis_samples": 96,
                "reasons": ["edge_below_min: net -28.47 bps < min_edge_bps 2"],
                "ts": market_ts,
                "direction": "long_okx_perp/short_binance_um",
                "long_venue": "okx_perp",
                "short_venue": "binance_um",
                "gross_edge_bps": -4.7279,
                "net_edge_bps": -28.4768,
                "basis_bps": -3.7188,
                "entry_fees_bps": 10.0,
                "entry_slippage_bps": 4.0,
                "close_cost_bps": 15.0092,
                "funding_bps": 0.97,
                "size": 0.01,
                "size_limited_by": "target",
                "notional_usdt": 629.24,
                "expected_pnl_usdt": -1.7919,
            }
        ],
        "funding": [
            {
                "venue": "binance_um",
                "symbol": "BTCUSDT",
                "rate": 9.151e-05,
                "next_funding_time_ms": market_ts + 3_600_000,
            },
            {
                "venue": "okx_perp",
                "symbol": "BTC-USDT-SWAP",
                "rate": -5.4876876981e-06,
                "next_funding_time_ms": market_ts + 3_600_000,
            },
        ],
        "open_pairs": [],
        "market_ts": market_ts,
        "updated_at_ms": now_ms,
    }


def hedged_positions(now_ms: int, market_ts: int) -> dict:
    """A cross-venue pair (LONG OKX / SHORT Binance BTC) beside a hedge-mode LONG+SHORT on one venue."""
    rows = [
        {
            "venue": "binance_um",
            "symbol": "BTCUSDT",
            "position_side": "SHORT",
            "qty": 0.01,
            "entry_price": 107000.0,
            "mark_price": 107100.0,
            "unrealized_pnl": -1.0,
            "notional": 1071.0,
            "leverage": 2,
            "opened_ts": market_ts,
        },
        {
            "venue": "okx_perp",
            "symbol": "BTC-USDT-SWAP",
            "position_side": "LONG",
            "qty": 0.012,
            "entry_price": 106950.0,
            "mark_price": 107090.0,
            "unrealized_pnl": 1.68,
            "notional": 1285.08,
            "leverage": 2,
            "opened_ts": market_ts,
        },
        {
            "venue": "binance_um",
            "symbol": "ETHUSDT",
            "position_side": "LONG",
            "qty": 0.4,
            "entry_price": 2480.0,
            "mark_price": 2484.3,
            "unrealized_pnl": 1.72,
            "notional": 993.72,
            "leverage": 2,
            "opened_ts": market_ts,
        },
        {
            "venue": "binance_um",
            "symbol": "ETHUSDT",
            "position_side": "SHORT",
            "qty": 0.1,
            "entry_price": 2490.0,
            "mark_price": 2484.3,
            "unrealized_pnl": 0.57,
            "notional": 248.43,
            "leverage": 2,
            "opened_ts": market_ts,
        },
    ]
    return {
        "positions": rows,
        "gross_notional": 3598.23,
        "net_notional": 959.37,
        "per_venue": {
            "binance_um": {"gross_notional": 2313.15, "net_notional": -325.71},
            "okx_perp": {"gross_notional": 1285.08, "net_notional": 1285.08},
        },
        "market_ts": market_ts,
        "updated_at_ms": now_ms,
    }


def add_btc_marks(state: Path, market: Path) -> int:
    """Record the BTC mark beside every NAV point, as the executor will (phase 2): a `btc` array parallel
    to `ts` in every history document, the close of the last BTCUSDT candle at or before each point.
    Returns the number of points marked."""
    import numpy as np

    path = next(market.glob("binance_um/BTCUSDT_15m.csv*"))
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as fh:
        rows = [r for r in csv.reader(fh)][1:]
    # a candle's close is known at its close time (open + 15 min)
    close_ts = np.asarray([int(float(r[0])) + 900_000 for r in rows], dtype=np.int64)
    closes = np.asarray([float(r[4]) for r in rows])
    marked = 0
    for doc in (state / "history").rglob("*.json"):
        bucket = json.loads(doc.read_text())
        idx = np.searchsorted(close_ts, np.asarray(bucket["ts"], dtype=np.int64), side="right") - 1
        bucket["btc"] = [float(closes[i]) if i >= 0 else None for i in idx]
        marked += sum(1 for i in idx if i >= 0)
        doc.write_text(json.dumps(bucket))
    return marked


def market_of(state: Path) -> Path:
    """The market directory replay_state cut beside a state directory."""
    return state.parent / "market"
