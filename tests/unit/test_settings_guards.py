"""The guards', sizer's and margin tiers' settings: shipped values load, every wrong field is named
with its file and what was expected, and the executor exits 2 on one before anything runs."""

import json
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from execution.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cfg(tmp_path):
    d = tmp_path / "config"
    shutil.copytree(ROOT / "config", d)
    return d


def edit(path: Path, fn):
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def test_shipped_guard_settings(cfg):
    s = load_settings({"CONFIG_DIR": str(cfg)})
    g = s.guards
    assert (g.funding_bps, g.funding_trim_bps, g.funding_trim_pct, g.funding_trim_lead_minutes) == (5, 15, 100, 30)
    assert g.depeg_reference == ("binance_um", "USDCUSDT") and (g.depeg_bps, g.depeg_clear_minutes) == (50, 60)
    assert g.warmup_sec == 300 and g.min_notional_block_usd == Decimal(10)
    assert g.denylist_path == cfg / "denylist.txt" and g.denylist == frozenset()
    assert s.default_strategy.sizer == "fixed" and s.default_strategy.risk_per_trade_pct == 0.1
    assert s.margin_tiers[("binance_um", "BTCUSDT")].source == "config"
    assert s.margin_tiers[("okx_perp", "BTC-USDT-SWAP")].basis == "qty"


@pytest.mark.parametrize(
    "file,mutate,field,expected",
    [
        ("risk_limits.json", lambda d: d.update(FUNDING_GUARD_BPS="high"), "FUNDING_GUARD_BPS", "a number"),
        (
            "risk_limits.json",
            lambda d: d.update(FUNDING_GUARD_TRIM_BPS=2),
            "FUNDING_GUARD_TRIM_BPS",
            ">= FUNDING_GUARD_BPS 5",
        ),
        ("risk_limits.json", lambda d: d.update(FUNDING_GUARD_TRIM_PCT=0), "FUNDING_GUARD_TRIM_PCT", "in (0, 100]"),
        ("risk_limits.json", lambda d: d.update(DEPEG_REFERENCE="kraken:USDCUSD"), "DEPEG_REFERENCE", "venue:SYMBOL"),
        ("risk_limits.json", lambda d: d.update(DEPEG_BPS=0), "DEPEG_BPS", "a number in (0, 10000]"),
        ("risk_limits.json", lambda d: d.update(DEPEG_GUARD_ENABLED="yes"), "DEPEG_GUARD_ENABLED", "true or false"),
        ("risk_limits.json", lambda d: d.update(WARMUP_SEC=-1), "WARMUP_SEC", "a number in [0, 86400]"),
        ("risk_limits.json", lambda d: d.update(MIN_NOTIONAL_BLOCK_USD="ten"), "MIN_NOTIONAL_BLOCK_USD", "a decimal"),
        ("risk_limits.json", lambda d: d.update(FUNDING_GUARD=True), "FUNDING_GUARD", "no such field"),
        (
            "strategy_config.json",
            lambda d: d["defaults"].update(sizer="kelly"),
            "defaults.sizer",
            "one of ['fixed', 'atr_risk_parity']",
        ),
        (
            "strategy_config.json",
            lambda d: d["defaults"].update(risk_per_trade_pct=0),
            "defaults.risk_per_trade_pct",
            "in (0, 10]",
        ),
        (
            "venue_filters.json",
            lambda d: d["binance_um"]["BTCUSDT"].update(
                margin_tiers=[{"notional_floor": "0", "notional_cap": "10", "maint_rate": "0.5"}]
            ),
            "binance_um.BTCUSDT.margin_tiers[0].max_leverage",
            "a value",
        ),
        (
            "venue_filters.json",
            lambda d: d["binance_um"]["BTCUSDT"]["margin_tiers"][1].update(notional_floor="100"),
            "binance_um.BTCUSDT.margin_tiers",
            "ordered, non-overlapping tiers",
        ),
    ],
)
def test_wrong_guard_field_is_named(cfg, file, mutate, field, expected):
    edit(cfg / file, mutate)
    with pytest.raises(ConfigError) as exc:
        load_settings({"CONFIG_DIR": str(cfg)})
    msg = str(exc.value)
    assert file in msg and f"'{field}'" in msg and expected in msg, msg


def test_a_bad_denylist_stops_the_executor_with_exit_2_and_the_line_at_fault(cfg, tmp_path):
    (cfg / "denylist.txt").write_text("# ok\nBTCUSDT\nbinance:ETHUSDT\n")
    proc = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "CONFIG_DIR": str(cfg),
            "STATE_DIR": str(tmp_path / "st"),
            "ENV_FILE": str(tmp_path / "x"),
        },
        timeout=60,
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert "denylist.txt: field 'line 3': expected SYMBOL or venue:SYMBOL" in line and "binance:ETHUSDT" in line
    assert not (tmp_path / "st").exists()


def test_an_absent_denylist_denies_nothing_and_an_empty_name_turns_it_off(cfg):
    (cfg / "denylist.txt").unlink()
    assert load_settings({"CONFIG_DIR": str(cfg)}).guards.denylist == frozenset()
    edit(cfg / "risk_limits.json", lambda d: d.update(DENYLIST_FILE=""))
    assert load_settings({"CONFIG_DIR": str(cfg)}).guards.denylist_path is None
