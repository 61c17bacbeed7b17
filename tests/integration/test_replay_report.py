"""`python -m execution.replay ... --report --report-html FILE`: tables per symbol, month and exit
reason before the summary line (still the last line), and the same in an HTML file with charts."""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys

from execution.feeds.synthetic import write_market
from tests.conftest import PROJECT_ROOT
from tests.support.recompute import load_jsonl

SUMMARY = re.compile(r"^replay: bars=\d+ trades=(\d+) nav=")


def closed_round_trips(fills: list[dict]) -> dict[str, int]:
    """Flat-to-flat trips per symbol, counted independently of the project's code."""
    held: dict[tuple, float] = {}
    out: dict[str, int] = {}
    for f in fills:
        key = (f["venue"], f["symbol"], f["position_side"])
        opening = (f["side"] == "BUY") == (f["position_side"] == "LONG")
        before = held.get(key, 0.0)
        held[key] = before + f["qty"] if opening else before - f["qty"]
        if not opening and before > 0 and held[key] <= 1e-12:
            out[f["symbol"]] = out.get(f["symbol"], 0) + 1
    return out


def table(lines: list[str], title: str) -> dict[str, list[str]]:
    start = next(i for i, line in enumerate(lines) if line.startswith(title + " ") and "trades" in line)
    rows = {}
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith(("slippage:", "report written", "replay:")):
            break
        label, *cells = line.split()
        rows[label] = cells
    return rows


def test_report_tables_add_up_and_the_summary_line_stays_last(tmp_path):
    market = tmp_path / "market"
    write_market(market, days=40, seed=3)
    state, page = tmp_path / "st", tmp_path / "report.html"
    proc = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state), "--report"]
        + ["--report-html", str(page)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert SUMMARY.match(lines[-1]) and lines[0].startswith("replay report: ")
    fills = load_jsonl(state / "trade_log.jsonl")
    trips = closed_round_trips(fills)
    account = table(lines, "account")["all"]
    symbols = table(lines, "per symbol")
    months = table(lines, "per month (by close)")
    exits = table(lines, "per exit reason")
    assert int(account[0]) == sum(trips.values()) > 10
    assert {s: int(cells[0]) for s, cells in symbols.items()} == trips
    assert sum(int(c[0]) for c in months.values()) == sum(int(c[0]) for c in exits.values()) == int(account[0])
    assert set(exits) <= {"stop_loss", "take_profit", "max_hold", "flatten"}
    fees = sum(f["fee_usdt"] for f in fills)
    assert float(account[10]) == round(fees, 2)  # the account's fees are every fill's
    history = [json.loads(p.read_text()) for p in sorted((state / "history" / "nav").glob("*.json"))]
    first_ts, last_ts = history[0]["ts"][0], history[-1]["ts"][-1]
    nav_return = history[-1]["nav"][-1] / 10_000 - 1
    assert account[14] == f"{nav_return * 100:+.2f}%"
    for symbol, cells in symbols.items():  # buy and hold over the same span, from the market file itself
        rows = gzip.open(market / "binance_um" / f"{symbol}_15m.csv.gz", "rt").read().splitlines()[1:]
        closes = [float(r.split(",")[4]) for r in rows if first_ts <= int(r.split(",")[0]) + 900_000 <= last_ts]
        assert cells[15] == f"{(closes[-1] / closes[0] - 1) * 100:+.2f}%", symbol
    html = page.read_text()
    for text in ("plotly", "Equity and drawdown", "Monthly return of the account", "Per symbol", "Per exit reason"):
        assert text in html, text
    assert f"report written to {page}" in proc.stdout
