"""Settings: valid config loads; every wrong field is named with its file; the process exits 2."""

import json
import shutil
import subprocess
import sys
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


def test_shipped_config_loads_into_typed_settings(cfg):
    s = load_settings({"CONFIG_DIR": str(cfg)})
    assert s.profile == "paper" and s.safe_mode is True and s.feed == "generated"
    assert set(s.symbols) == {"BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"}
    assert s.symbols["SOLUSDT"].strategy.z_threshold == 2.2  # per-symbol override
    assert s.symbols["ETHUSDT"].strategy.z_threshold == s.default_strategy.z_threshold
    assert s.filters[("okx_perp", "BTC-USDT-SWAP")].contract_value > 0
    assert str(s.reserve_btc) == "0.013"


@pytest.mark.parametrize(
    "file,mutate,field",
    [
        ("strategy_config.json", lambda d: d["defaults"].update(z_window="abc"), "defaults.z_window"),
        ("strategy_config.json", lambda d: d["defaults"].pop("atr_period"), "defaults.atr_period"),
        ("strategy_config.json", lambda d: d["symbols"]["BTCUSDT"].update(z_treshold=2), "symbols.BTCUSDT.z_treshold"),
        ("strategy_config.json", lambda d: d["defaults"].update(capital_per_trade=-5), "defaults.capital_per_trade"),
        ("risk_limits.json", lambda d: d.update(KILL_DD_PCT=0), "KILL_DD_PCT"),
        ("risk_limits.json", lambda d: d.update(MAX_POSITIONS="4"), "MAX_POSITIONS"),
        ("risk_limits.json", lambda d: d.update(DAY_BOUNDARY_TZ="Mars/Olympus"), "DAY_BOUNDARY_TZ"),
        ("pairs_universe.json", lambda d: d.update(symbols="BTCUSDT"), "symbols"),
        ("pairs_universe.json", lambda d: d["overrides"].update(DOGEUSDT={}), "overrides.DOGEUSDT"),
        (
            "pairs_universe.json",
            lambda d: d["overrides"]["BTCUSDT"].update(target_leverage=50),
            "overrides.BTCUSDT.target_leverage",
        ),
        ("venues.json", lambda d: d["okx_perp"].update(taker_fee="lots"), "okx_perp.taker_fee"),
        (
            "venue_filters.json",
            lambda d: d["binance_um"]["BTCUSDT"].update(step_size="0"),
            "binance_um.BTCUSDT.step_size",
        ),
    ],
)
def test_wrong_field_is_named_with_file_and_expectation(cfg, file, mutate, field):
    edit(cfg / file, mutate)
    with pytest.raises(ConfigError) as exc:
        load_settings({"CONFIG_DIR": str(cfg)})
    msg = str(exc.value)
    assert file in msg and f"'{field}'" in msg and "expected" in msg


def test_broken_json_and_env_values_are_named(cfg):
    (cfg / "risk_limits.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"risk_limits.json.*line 1"):
        load_settings({"CONFIG_DIR": str(cfg)})
    shutil.copy(ROOT / "config" / "risk_limits.json", cfg / "risk_limits.json")
    for env, field in [
        ({"PROFILE": "prod"}, "PROFILE"),
        ({"SAFE_MODE": "maybe"}, "SAFE_MODE"),
        ({"FEED": "replay"}, "MARKET_DIR"),
        ({"SPEED": "-3"}, "SPEED"),
        ({"PROFILE": "live"}, "FEED"),
    ]:
        with pytest.raises(ConfigError, match=rf"\.env: field '{field}'"):
            load_settings({"CONFIG_DIR": str(cfg), **env})


def test_executor_with_bad_config_exits_2_with_one_line_and_no_traceback(cfg, tmp_path):
    edit(cfg / "strategy_config.json", lambda d: d["defaults"].update(rsi_period=0))
    proc = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "CONFIG_DIR": str(cfg),
            "STATE_DIR": str(tmp_path / "st"),
            "ENV_FILE": str(tmp_path / "none.env"),
        },
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "strategy_config.json" in lines[0] and "defaults.rsi_period" in lines[0]
    assert not (tmp_path / "st").exists()  # nothing was started: no state, no market data read


def test_replay_with_bad_config_exits_2(cfg, tmp_path):
    edit(cfg / "risk_limits.json", lambda d: d.update(MAX_LEVERAGE="high"))
    proc = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(tmp_path / "nomarket"), "--state-dir", str(tmp_path / "st")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "CONFIG_DIR": str(cfg), "ENV_FILE": str(tmp_path / "x")},
        timeout=60,
    )
    assert proc.returncode == 2 and "MAX_LEVERAGE" in proc.stderr and "Traceback" not in proc.stderr
