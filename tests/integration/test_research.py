"""Research backtests run the executor's own engine: their trades equal a full replay's; the
walk-forward CLI writes its report and proposal (never into config/) and resumes a killed study."""

from __future__ import annotations

import dataclasses
import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from execution.feeds.events import CandleClosed, FundingSettled
from execution.feeds.market_files import discover, read_candles, read_funding, write_candles, write_funding
from execution.feeds.synthetic import write_market
from execution.research.backtest import Job, market, run_env, run_job
from tests.conftest import PROJECT_ROOT, shared_path
from tests.support.recompute import load_jsonl

DAY_MS = 86_400_000
ENV = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"}


def replay(market_dir: Path, state: Path, env: dict | None = None) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market_dir), "--state-dir", str(state)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**ENV, **(env or {})},
    )
    assert proc.returncode == 0, proc.stderr
    return load_jsonl(state / "trade_log.jsonl")


def backtest(market_dir: Path, config_dir: Path, params: dict, start: int, end: int, warmup: int = 0):
    return run_job(Job(str(market_dir), str(config_dir), "10000", params, start, end, warmup, keep_records=True))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "market"
    write_market(out, days=24, seed=11)
    return out


def test_backtest_of_the_whole_window_trades_exactly_like_the_replay(generated, tmp_path):
    m = market(generated)
    fills = replay(generated, tmp_path / "st")
    result = backtest(generated, PROJECT_ROOT / "config", {}, m.first_ms, m.last_ms + 1)
    assert len(fills) > 10
    assert result.records["trades"] == fills
    assert result.records["funding"] == load_jsonl(tmp_path / "st" / "funding_log.jsonl")
    assert result.records["signals"] == load_jsonl(tmp_path / "st" / "signals.jsonl")


def test_backtest_with_parameters_trades_like_a_replay_with_that_config(generated, tmp_path):
    params = {"mode": "mean_reversion", "z_window": 48, "z_threshold": 1.5, "sl_atr": 2.0, "capital_per_trade": 750}
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    doc = json.loads((config / "strategy_config.json").read_text())
    doc["defaults"].update(params)
    for sym in list(doc["symbols"]):  # a searched field replaces the symbols' own overrides
        doc["symbols"][sym] = {k: v for k, v in doc["symbols"][sym].items() if k not in params}
    (config / "strategy_config.json").write_text(json.dumps(doc))
    m = market(generated)
    fills = replay(generated, tmp_path / "st", env={"CONFIG_DIR": str(config)})
    default = backtest(generated, PROJECT_ROOT / "config", {}, m.first_ms, m.last_ms + 1)
    result = backtest(generated, PROJECT_ROOT / "config", params, m.first_ms, m.last_ms + 1)
    assert len(fills) > 10 and result.records["trades"] == fills
    assert result.records["trades"] != default.records["trades"]  # the parameters did change the trading


def test_backtest_trades_with_the_settings_variables_the_replay_would_use(generated, tmp_path):
    m = market(generated)
    env = {"PROTECTIVE_ORDERS": "false", "TELEGRAM_BOT_TOKEN": "123:secret"}
    fills = replay(generated, tmp_path / "st", env=env)
    assert run_env(env) == (("PROTECTIVE_ORDERS", "false"),)  # secrets never travel to workers
    job = Job(str(generated), str(PROJECT_ROOT / "config"), "10000", {}, m.first_ms, m.last_ms + 1)
    result = run_job(dataclasses.replace(job, keep_records=True, env=run_env(env)))
    default = run_job(dataclasses.replace(job, keep_records=True))
    assert result.records["trades"] == fills != default.records["trades"]


def test_backtest_of_a_window_equals_a_replay_of_that_window_alone(generated, tmp_path):
    m = market(generated)
    start = (m.first_ms // DAY_MS + 5) * DAY_MS
    end = start + 12 * DAY_MS
    window = tmp_path / "window"  # the same days as their own market directory
    for s in discover(generated):
        if s.kind == "15m":
            rows = [
                (c.open_time, repr(c.open), repr(c.high), repr(c.low), repr(c.close), repr(c.volume))
                for c in read_candles(s.path, s.venue, s.symbol)
                if isinstance(c, CandleClosed) and start <= c.ts < end
            ]
            write_candles(window, s.venue, s.symbol, rows)
        else:
            rows = [
                (f.ts, repr(f.rate))
                for f in read_funding(s.path, s.venue, s.symbol)
                if isinstance(f, FundingSettled) and start <= f.ts < end
            ]
            write_funding(window, s.venue, s.symbol, rows)
    fills = replay(window, tmp_path / "st")
    result = backtest(generated, PROJECT_ROOT / "config", {}, start, end)
    assert len(fills) > 5 and result.records["trades"] == fills
    warmed = backtest(generated, PROJECT_ROOT / "config", {}, start, end, warmup=2 * DAY_MS)
    assert warmed.records["trades"] != fills  # warmed indicators trade from the window's first bar


def test_backtest_trades_like_the_replay_on_a_recorded_window(tmp_path):
    recorded = shared_path("market", "2024H1")
    m = market(recorded)
    fills = replay(recorded, tmp_path / "st")
    result = backtest(recorded, PROJECT_ROOT / "config", {}, m.first_ms, m.last_ms + 1)
    assert len(fills) > 100 and result.records["trades"] == fills


def walk_forward(market_dir: Path, study: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "execution.research", "walk-forward", str(market_dir), "--folds", "2", "--trials", "8"]
        + ["--batch", "2", "--study-dir", str(study), "--space", str(SPACE), *extra],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )


SPACE = PROJECT_ROOT / "tests" / "fixtures" / "research_space.json"


def finished(proc: subprocess.Popen) -> str:
    out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, err
    return out


def comparable(study: Path) -> dict:
    doc = json.loads((study / "proposal.json").read_text())
    doc.pop("generated_at")
    return doc


def test_walk_forward_writes_report_and_proposal_and_resumes_a_killed_study(generated, tmp_path):
    config_before = {p.name: p.read_bytes() for p in (PROJECT_ROOT / "config").iterdir()}
    whole = tmp_path / "whole"
    out = finished(walk_forward(generated, whole, "--workers", "1"))
    assert "out of sample (the test windows chained)" in out and "parameter stability" in out
    for name in ("report.txt", "report.html", "proposal.json", "optuna.db"):
        assert (whole / name).is_file(), name
    proposal = comparable(whole)
    assert set(proposal["params"]) == {"mode", "z_window", "z_threshold", "sl_atr"}
    assert proposal["strategy_config"]["defaults"]["z_window"] == proposal["params"]["z_window"]
    assert [f["fold"] for f in proposal["folds"]] == ["fold0", "fold1", "final"]
    assert "plotly" in (whole / "report.html").read_text()
    assert {p.name: p.read_bytes() for p in (PROJECT_ROOT / "config").iterdir()} == config_before

    again = finished(walk_forward(generated, whole, "--workers", "1"))  # resumed: every trial is there
    assert "candidate backtests run now: 0 " in again
    assert comparable(whole) == proposal

    killed = tmp_path / "killed"
    proc = walk_forward(generated, killed, "--workers", "1")
    assert proc.stderr is not None
    for line in proc.stderr:  # stop it in the middle of the second fold
        if line.startswith("[research] fold1 trials 2/8"):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    resumed = finished(walk_forward(generated, killed, "--workers", "1"))
    assert "candidate backtests run now: 0 " not in resumed
    assert comparable(killed) == proposal  # the same trials as the uninterrupted run


def test_walk_forward_refuses_bad_input_with_one_line(generated, tmp_path):
    bad = tmp_path / "space.json"
    bad.write_text(json.dumps({"params": {"z_window": {"low": 1, "high": 10}}}))
    proc = walk_forward(generated, tmp_path / "s", "--space", str(bad))
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        f"config error: {bad}: field 'params.z_window.low': expected an integer in [2, 10000], got 1"
    ]
    proc = walk_forward(generated, PROJECT_ROOT / "config" / "study")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "field '--study-dir': expected a directory outside CONFIG_DIR" in err
    assert not (PROJECT_ROOT / "config" / "study").exists()
