"""Hostile market data through the whole replay (issue 20): invalid UTF-8, timestamps in year
10000 and 1e300, prices of 1e300 and 1.7e308, NaN, and a single 1000x bar. The replay finishes,
every bad row is a [feed] line, nothing non-finite reaches a state file, and the 1000x bar
neither lifts the peak nor leaves the fund in a HOLD."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from execution.feeds.synthetic import write_market
from tests.conftest import PROJECT_ROOT

ENV = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"}


def replay(market: Path, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
        cwd=PROJECT_ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )


def strict_json(text: str):
    def refuse(name: str):
        raise AssertionError(f"non-finite {name} in state")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def markets(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    clean = root / "clean"
    write_market(clean, days=20, seed=11)
    hostile = root / "hostile"
    write_market(hostile, days=20, seed=11)
    path = hostile / "binance_um" / "BTCUSDT_15m.csv.gz"
    lines = gzip.open(path, "rb").read().split(b"\n")
    header, rows = lines[0], [r for r in lines[1:] if r]

    def cols(i: int) -> list[bytes]:
        return rows[i].split(b",")

    def with_prices(i: int, o: bytes, h: bytes, lo: bytes, c: bytes) -> bytes:
        t, *_, v = cols(i)
        return b",".join([t, o, h, lo, c, v])

    c800 = float(cols(800)[4])
    big = repr(c800 * 1000).encode()
    rows[800] = with_prices(800, big, big, big, big)  # a single 1000x bar
    rows[900] = with_prices(900, b"1e300", b"1e300", b"1e300", b"1e300")
    rows[901] = with_prices(901, cols(901)[1], b"1.7e308", cols(901)[3], cols(901)[4])
    rows[950] = with_prices(950, cols(950)[1], cols(950)[2], cols(950)[3], b"nan")
    rows.insert(600, b"1767765600000,\xff\xfe\xfd,1,1,1,1")  # invalid UTF-8
    rows.insert(700, b"253402300800000,1,1,1,1,1")  # year 10000
    rows.insert(701, b"1e300,1,1,1,1,1")
    with gzip.open(path, "wb") as fh:
        fh.write(b"\n".join([header, *rows]) + b"\n")
    return clean, hostile


def test_hostile_rows_are_feed_lines_and_change_nothing_else(markets, tmp_path):
    clean, hostile = markets
    base = replay(clean, tmp_path / "clean")
    assert base.returncode == 0, base.stderr[-2000:]
    r = replay(hostile, tmp_path / "hostile")
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr[-3000:]
    assert r.stdout.strip().splitlines()[-1].startswith("replay: bars=")
    log = (tmp_path / "hostile" / "replay.log").read_text()
    feed = [line for line in log.splitlines() if "[feed]" in line and "BTCUSDT" in line]
    assert any("implausible" in x and "x move in one bar" in x for x in feed)
    assert any("out of range" in x and "1e+300" in x for x in feed)
    assert any("1.7e+308" in x for x in feed)
    assert sum("time '" in x and "out of range" in x for x in feed) == 2
    assert any("not a number" in x for x in feed)  # the invalid UTF-8 row
    for path in (tmp_path / "hostile").rglob("*.json"):
        strict_json(path.read_text())
    for path in (tmp_path / "hostile").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            strict_json(line)
    peak = strict_json((tmp_path / "hostile" / "peak_state.json").read_text())["peak_nav"]
    base_peak = strict_json((tmp_path / "clean" / "peak_state.json").read_text())["peak_nav"]
    assert peak <= base_peak * 1.05  # the 1000x bar did not lift the peak
    control = strict_json((tmp_path / "hostile" / "state" / "control.json").read_text())
    assert not any(b["name"] == "drawdown" for b in control["breakers"])
