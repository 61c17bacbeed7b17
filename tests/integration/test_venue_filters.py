"""config/venue_filters.json against the venues' answers: the shipped file equals what the loopback
venues (serving the venues' current rules) answer; `setup_symbols.py --refresh-filters` prints the
diff in a dry run and writes the file with its source on --apply; on exchange profiles the live
filters win and a difference from the file is logged once."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal as D
from pathlib import Path

import pytest

from execution import venue_filters
from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.models import Listing
from execution.settings import load_settings
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx

SHIPPED = PROJECT_ROOT / "config" / "venue_filters.json"


def _env(tmp: Path, fb: FakeBinance, fo: FakeOkx, config: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ENV_FILE": "/nonexistent",
        "CONFIG_DIR": str(config),
        "STATE_DIR": str(tmp / "state"),
        "BINANCE_FAPI_URL": fb.url,
        "OKX_BASE_URL": fo.url,
    }


def _script(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/setup_symbols.py", "--refresh-filters", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_shipped_file_matches_what_the_venues_answer():
    with FakeBinance() as fb, FakeOkx(demo=False) as fo:
        binance = BinanceUM("", "", fb.url, safe_mode=True, timeout_s=2.0)
        okx = OkxPerp("", "", "", demo=False, domain=fo.url, safe_mode=True, timeout_s=2.0)
        try:
            live = {"binance_um": binance.refresh_filters(), "okx_perp": okx.refresh_filters()}
        finally:
            binance.close()
            okx.close()
    doc = json.loads(SHIPPED.read_text())
    assert set(doc["_source"]) == {"binance_um", "okx_perp"}
    for venue, listed in live.items():
        assert doc[venue], venue
        assert doc["_source"][venue]["fetched_at"] and doc["_source"][venue]["url"].startswith("https://")
        for symbol, entry in doc[venue].items():
            assert venue_filters.entry_differences(venue, entry, venue_filters.record(listed[symbol])) == [], symbol
    # the rules the issue names: Binance's current BTCUSDT tick size and minimum notional, OKX's 0.01-contract lots
    assert (D(doc["binance_um"]["BTCUSDT"]["tick_size"]), D(doc["binance_um"]["BTCUSDT"]["min_notional"])) == (
        D("0.1"),
        D(50),
    )
    btc = doc["okx_perp"]["BTC-USDT-SWAP"]
    assert D(btc["step_size"]) / D(btc["contract_value"]) == D("0.01")


def test_refresh_dry_run_prints_the_diff_and_apply_writes_the_file(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    stale = json.loads(SHIPPED.read_text())
    stale["binance_um"]["BTCUSDT"].update(tick_size="0.01", min_notional="5")  # what the file held before
    stale["okx_perp"]["BTC-USDT-SWAP"].update(step_size="0.01", min_qty="0.01")  # 1-contract lots
    stale["binance_um"]["MATICUSDT"] = dict(stale["binance_um"]["SOLUSDT"])  # delisted since
    del stale["binance_um"]["SOLUSDT"]  # a configured symbol the file lacks
    (config / "venue_filters.json").write_text(json.dumps(stale, indent=1))
    before = (config / "venue_filters.json").read_text()
    with FakeBinance() as fb, FakeOkx(demo=False) as fo:
        env = _env(tmp_path, fb, fo, config)
        dry = _script(env)
        assert dry.returncode == 0, dry.stdout + dry.stderr
        assert "[filters] binance_um BTCUSDT: tick_size 0.01 -> 0.1, min_notional 5 -> 50" in dry.stdout
        assert "[filters] okx_perp BTC-USDT-SWAP: step_size 0.01 -> 0.0001, min_qty 0.01 -> 0.0001" in dry.stdout
        assert "[filters] binance_um MATICUSDT: not listed by the venue (dropped)" in dry.stdout
        assert "[filters] binance_um SOLUSDT: new tick_size=0.01 " in dry.stdout
        assert "dry run: nothing written" in dry.stdout
        assert (config / "venue_filters.json").read_text() == before  # a dry run writes nothing

        done = _script(env, "--apply")
        assert done.returncode == 0, done.stdout + done.stderr
        written = json.loads((config / "venue_filters.json").read_text())
        assert written["_comment"] == stale["_comment"]
        assert written["_source"]["binance_um"]["url"] == fb.url + "/v1/exchangeInfo"
        assert written["_source"]["okx_perp"]["url"].startswith(fo.url + "/api/v5/public/instruments")
        assert "MATICUSDT" not in written["binance_um"]
        assert written["binance_um"]["SOLUSDT"]["step_size"] == "1"  # the configured symbol comes back
        assert written["binance_um"]["BTCUSDT"]["tick_size"] == "0.1"
        tiers = stale["binance_um"]["BTCUSDT"]["margin_tiers"]
        assert tiers and written["binance_um"]["BTCUSDT"]["margin_tiers"] == tiers  # not a filter: kept
        load_settings({"CONFIG_DIR": str(config)})  # the written file validates

        again = _script(env)
        assert "no difference from the venues' answers" in again.stdout


def test_an_unreachable_venue_keeps_its_entries_and_fails(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    with FakeBinance() as fb, FakeOkx(demo=False) as fo:
        env = _env(tmp_path, fb, fo, config)
        env["OKX_BASE_URL"] = "http://127.0.0.1:9"  # nothing listens there
        out = _script(env, "--apply")
    assert out.returncode == 1
    assert "okx_perp: FAILED to read" in out.stdout
    written = json.loads((config / "venue_filters.json").read_text())
    assert written["okx_perp"] == json.loads(SHIPPED.read_text())["okx_perp"]


def test_on_exchange_profiles_live_filters_win_and_a_mismatch_is_logged_once(caplog):
    s = load_settings({})
    configured = dict(s.filters)
    old = configured[("binance_um", "BTCUSDT")]
    configured[("binance_um", "BTCUSDT")] = replace(old, tick_size=D("0.01"), min_notional=D("5"))
    with FakeBinance() as fb:
        venue = BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=True, timeout_s=2.0)
        try:
            log = logging.getLogger("test.filters")
            with caplog.at_level(logging.WARNING, logger="test.filters"):
                lines = venue_filters.log_mismatches(
                    {"binance_um": venue}, configured, {"binance_um": ["BTCUSDT", "ETHUSDT"]}, log
                )
            assert venue.filters("BTCUSDT").tick_size == D("0.1")  # the venue's, not the file's
        finally:
            venue.close()
    expected = (
        "binance_um BTCUSDT live filters differ from config/venue_filters.json "
        "(tick_size 0.01 -> 0.1; min_notional 5 -> 50): the venue's are used"
    )
    assert lines == [expected]
    assert [r.getMessage() for r in caplog.records] == [f"[executor] {lines[0]}"]


@pytest.mark.parametrize("venue", ["binance_um", "okx_perp"])
def test_record_has_the_files_fields(venue):
    s = load_settings({})
    f = next(f for (v, _), f in s.filters.items() if v == venue)
    assert tuple(venue_filters.record(f)) == venue_filters.FIELDS[venue]


def test_a_listed_symbol_whose_rules_did_not_read_keeps_its_entry():
    doc = json.loads(SHIPPED.read_text())
    s = load_settings({})
    listed = {sym: f for (v, sym), f in s.filters.items() if v == "binance_um"}
    odd = "BTCUSDT"
    listing = Listing(
        {k: f for k, f in listed.items() if k != odd}, skipped={odd: "exchangeInfo BTCUSDT.tickSize: must be > 0"}
    )
    new_doc, lines = venue_filters.refresh(doc, {"binance_um": listing}, {"binance_um": {"url": "x"}}, [])
    assert new_doc["binance_um"][odd] == doc["binance_um"][odd]  # nothing guessed, nothing dropped
    assert any(line.startswith(f"binance_um {odd}: listed, but its rules did not read") for line in lines)
