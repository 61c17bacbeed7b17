"""`python -m execution.replay` end to end: recorded and generated markets, bad data, NAV from records."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, shared_path
from tests.support.recompute import load_jsonl, recompute

SUMMARY = re.compile(
    r"^replay: bars=(\d+) trades=(\d+) nav=(-?\d+\.\d\d) max_dd_pct=(\d+\.\d\d) "
    r"wall_s=(\d+\.\d\d) bars_per_s=(\d+)$"
)
FILL_FIELDS = {
    "ts",
    "venue",
    "symbol",
    "side",
    "position_side",
    "qty",
    "price",
    "fee_usdt",
    "realized_pnl_usdt",
    "client_order_id",
    "intent_id",
}


def run_replay(market: Path, state: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state), *extra],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", **(env or {})},
    )


def check_books(state: Path) -> dict:
    nav_doc = json.loads((state / "state" / "nav.json").read_text())
    rec = recompute(state, float(nav_doc["initial_capital"]))
    assert rec["nav"] == pytest.approx(nav_doc["nav"], abs=1e-6)
    assert rec["realized"] == pytest.approx(rec["realized_recomputed"], abs=1e-6)
    assert rec["funding"] == pytest.approx(nav_doc["funding_total"], abs=1e-6)
    positions = json.loads((state / "state" / "positions.json").read_text())["positions"]
    assert {(p["venue"], p["symbol"], p["position_side"]) for p in positions} == set(rec["open_books"])
    for p in positions:
        qty, entry = rec["open_books"][(p["venue"], p["symbol"], p["position_side"])]
        assert p["qty"] == pytest.approx(qty, abs=1e-12) and p["entry_price"] == pytest.approx(entry, rel=1e-12)
    return rec


@pytest.mark.parametrize("window", ["2024H1", "2025H1"])
def test_recorded_window_replays_and_nav_is_recomputable_from_records(tmp_path, window):
    market = shared_path("market", window)
    proc = run_replay(market, tmp_path / "st")
    assert proc.returncode == 0, proc.stderr
    last = proc.stdout.strip().splitlines()[-1]
    m = SUMMARY.match(last)
    assert m, last
    bars, trades, nav = int(m[1]), int(m[2]), float(m[3])
    expected_bars = sum(sum(1 for _ in gzip.open(p, "rt")) - 1 for p in market.glob("*/*_15m.csv.gz"))
    assert bars == expected_bars
    state = tmp_path / "st"
    fills = load_jsonl(state / "trade_log.jsonl")
    assert trades == len(fills) > 10
    assert all(f.keys() >= FILL_FIELDS for f in fills)
    assert all(isinstance(f["ts"], int) and f["ts"] > 1_600_000_000_000 for f in fills)
    assert len({f["id"] for f in fills}) == len(fills)
    funding = load_jsonl(state / "funding_log.jsonl")
    assert funding and all({"ts", "venue", "symbol", "position_side", "amount_usdt"} <= f.keys() for f in funding)
    rec = check_books(state)
    assert rec["nav"] == pytest.approx(nav, abs=0.006)
    nav_doc = json.loads((state / "state" / "nav.json").read_text())
    assert nav_doc["reserve_btc"] == 0.013 and nav_doc["reserve_included_in_nav"] is False
    log = (state / "replay.log").read_text()
    for tag in (
        "[screener] ",
        "[decision] ",
        "[screener->executor] ",
        "[executor] INTENT ",
        "[executor] SEND_ORDER ",
        "[executor] ORDER_REQ paper:binance_um - {",
        "[executor] account OK — futures=True testnet=False",
    ):
        assert tag in log, tag
    assert re.search(r"\[screener\] attempted=\d+ emitted=\d+", log)
    assert re.search(r"SEND_ORDER \S+ \S+ (BUY|SELL) positionSide=(LONG|SHORT) qty=\d", log)
    if window == "2024H1":  # OKX funding times are recorded in seconds there
        assert "[feed] okx_perp BTC-USDT-SWAP unit" in log


def test_generated_market_replays_with_trades(tmp_path):
    market = tmp_path / "gen"
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "25"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    proc = run_replay(market, tmp_path / "st")
    assert proc.returncode == 0, proc.stderr
    assert int(SUMMARY.match(proc.stdout.strip().splitlines()[-1])[2]) > 0
    check_books(tmp_path / "st")


def test_bad_rows_are_reported_and_the_replay_still_balances(tmp_path):
    src = shared_path("market", "2024H1", "binance_um", "BTCUSDT_15m.csv.gz")
    lines = gzip.open(src, "rt").read().splitlines()
    head, rows = lines[0], lines[1:3000]
    rows[500] = rows[500].rsplit(",", 2)[0] + ",nan,1.0"  # NaN close
    rows[900] = rows[899]  # duplicate
    rows[1200] = ",".join([rows[1200].split(",")[0], "0", "0", "0", "0", "0"])  # zero prices
    del rows[1500:1520]  # a 20-bar gap
    rows.insert(2000, rows[100])  # out of order
    market = tmp_path / "m"
    (market / "binance_um").mkdir(parents=True)
    with gzip.open(market / "binance_um" / "BTCUSDT_15m.csv.gz", "wt") as fh:
        fh.write("\n".join([head, *rows]) + "\n")
    shutil.copy(shared_path("market", "2024H1", "binance_um", "BTCUSDT_funding.csv.gz"), market / "binance_um")
    proc = run_replay(market, tmp_path / "st")
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "st" / "replay.log").read_text()
    for kind in ("bad_value", "duplicate", "gap", "non_monotonic"):
        assert f"[feed] binance_um BTCUSDT {kind}" in log, kind
    assert "(indicators re-warm)" in log and "BTCUSDT recovered" in log
    check_books(tmp_path / "st")


def test_second_run_into_a_state_dir_of_another_market_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d, days in ((a, 3), (b, 4)):
        subprocess.run(
            [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(d), "--days", str(days)],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
        )
    assert run_replay(a, tmp_path / "st").returncode == 0
    proc = run_replay(b, tmp_path / "st")
    assert proc.returncode == 2 and "holds the state of another run" in proc.stderr
    assert run_replay(b, tmp_path / "st", "--fresh").returncode == 0


def test_a_market_of_nothing_but_unreadable_files_is_a_failed_replay_not_a_flat_one(tmp_path):
    market = tmp_path / "market"
    (market / "binance_um").mkdir(parents=True)
    (market / "binance_um" / "BTCUSDT_15m.csv.gz").write_bytes(b"not gzip")
    (market / "binance_um" / "ETHUSDT_15m.csv").write_text("open_time_ms,open,high,low,close,volume\nx,y,z,1,2,3\n")
    os.mkfifo(market / "binance_um" / "SOLUSDT_15m.csv")  # never waited on
    r = run_replay(market, tmp_path / "state", "--fresh")
    assert r.returncode == 1, r.stderr[-800:]
    assert "replay: bars=0" in r.stdout and "no bar of" in r.stderr and "Traceback" not in r.stderr
