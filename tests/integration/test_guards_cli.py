"""What an operator sees and does with the guards, through the real processes: `ctl status` shows
the health state and the guards and its exit code follows the health; SIGHUP and `ctl
denylist-reload` reload the denylist of a running executor without a restart; a replayed market
without the peg's reference runs with the depeg guard idle, said once; one with it is watched."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from execution import control
from execution.feeds.synthetic import write_market
from tests.conftest import PROJECT_ROOT
from tests.support.engine_harness import harness, warm
from tests.support.monitoring import wait_until
from tests.support.operator_cli import needs_root


def ctl(state: Path, *args: str, who: str = "") -> subprocess.CompletedProcess:
    """The CLI; `who` is the operator sudo names (SUDO_USER, trusted only as root: execution/operators.py)."""
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "HOME": str(state.parent)}
    if who:
        env["SUDO_USER"] = who
    return subprocess.run(
        [sys.executable, "-m", "execution.ctl", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_shows_health_and_guards_and_its_exit_code_follows_the_health(tmp_path):
    h = harness(tmp_path)
    warm(h)
    h.engine.publish(force=True)
    healthy = ctl(h.state_dir, "status")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert "health    : 0 HEALTHY" in healthy.stdout and "guard     : daily_stop armed: " in healthy.stdout
    h.funding("BTCUSDT", -0.0009)  # shorts pay 9 bps: the funding guard refuses short entries
    warm(h, bars=2)
    h.engine.publish(force=True)
    degraded = ctl(h.state_dir, "status")
    assert degraded.returncode == 5
    assert (
        "health    : 1 DEGRADED: guard funding: no entries on the paying side of binance_um:BTCUSDT SHORT"
        in degraded.stdout
    )
    assert "guard     : funding ACTIVE: " in degraded.stdout
    d = json.loads(ctl(h.state_dir, "status", "--json").stdout)
    assert d["health_state"] == 1 and d["health"] == "DEGRADED" and any(g["name"] == "funding" for g in d["guards"])
    control.hold(h.engine.control, "venue maintenance", "alice", h.t)
    h.engine.publish(force=True)
    halted = ctl(h.state_dir, "status")
    assert halted.returncode == 6 and "health    : 2 HALTED" in halted.stdout


@pytest.mark.parametrize(
    "edit",
    [
        {"guards": "not a list"},
        {"guards": ["a string", 1, None]},
        {"breakers": {"drawdown": 1e308}},
        {"holds": [{"ts": "x"}, {"ts": "y"}]},
    ],
    ids=["guards-a-string", "guard-items-not-objects", "breakers-an-object", "holds-without-reasons"],
)
def test_status_of_a_control_document_of_another_shape_is_one_line_not_a_traceback(tmp_path, edit):
    h = harness(tmp_path)
    warm(h)
    h.engine.publish(force=True)
    path = h.state_dir / "state" / "control.json"
    doc = json.loads(path.read_text())
    doc.update(edit)
    path.write_text(json.dumps(doc))
    r = ctl(h.state_dir, "status")
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    assert r.stderr.startswith("status: the state documents in ") and len(r.stderr.strip().splitlines()) == 1


@needs_root
def test_sighup_and_ctl_reload_the_denylist_of_a_running_executor(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    state = tmp_path / "state"
    log = tmp_path / "executor.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state),
        "CONFIG_DIR": str(config),
        "SPEED": "3000",
    }
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "execution.executor"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: (state / "state" / "control.json").exists(), 60, "the executor's first state write")
        (config / "denylist.txt").write_text("SOLUSDT\nokx_perp:BTC-USDT-SWAP\n")
        proc.send_signal(signal.SIGHUP)
        line = wait_until(
            lambda: next((x for x in log.read_text().splitlines() if "GUARD denylist RELOAD" in x), None),
            30,
            "the reload line",
        )
        assert "2 symbol(s) from denylist.txt (SIGHUP); added SOLUSDT, okx_perp:BTC-USDT-SWAP" in line
        assert proc.poll() is None  # no restart
        r = ctl(state, "denylist-reload", who="frank")
        assert (
            r.returncode == 0
            and "denylist reloaded: 2 symbol(s) from denylist.txt (denylist-reload by frank); no change" in r.stdout
        )
        (config / "denylist.txt").write_text("solusdt\n")
        r = ctl(state, "denylist-reload", who="frank")
        assert r.returncode == 1 and "line 1: expected a symbol in capitals" in r.stdout
        doc = wait_until(
            lambda: (
                (d := json.loads((state / "state" / "control.json").read_text()))
                and any(g["name"] == "denylist" for g in d["guards"])
                and d
            ),
            30,
            "the denylist in the control document",
        )
        assert next(g for g in doc["guards"] if g["name"] == "denylist")["denied"] == [
            "SOLUSDT",
            "okx_perp:BTC-USDT-SWAP",
        ]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    assert proc.returncode == 0


def replay(market: Path, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
        cwd=PROJECT_ROOT,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_market_without_the_reference_runs_with_the_depeg_guard_idle_and_says_so_once(tmp_path):
    with_ref, without = tmp_path / "with", tmp_path / "without"
    write_market(with_ref, days=2, seed=3)
    shutil.copytree(with_ref, without)
    (without / "binance_um" / "USDCUSDT_15m.csv.gz").unlink()
    for market in (with_ref, without):
        assert replay(market, tmp_path / f"state-{market.name}").returncode == 0
    idle_log = (tmp_path / "state-without" / "replay.log").read_text()
    assert idle_log.count("GUARD depeg IDLE: no binance_um:USDCUSDT series in this market data") == 1
    idle = json.loads((tmp_path / "state-without" / "state" / "control.json").read_text())
    depeg = next(g for g in idle["guards"] if g["name"] == "depeg")
    assert depeg["idle"] and depeg["price"] is None and not depeg["active"]
    watched = json.loads((tmp_path / "state-with" / "state" / "control.json").read_text())
    depeg = next(g for g in watched["guards"] if g["name"] == "depeg")
    assert "idle" not in depeg and abs(depeg["deviation_bps"]) < 50 and depeg["price_ts"] == watched["market_ts"]
    assert "GUARD depeg" not in (tmp_path / "state-with" / "replay.log").read_text()
    screened = watched["screened_symbols"]
    assert "binance_um:USDCUSDT" not in screened and "binance_um:BTCUSDT" in screened  # watched, never traded


def test_the_live_feed_streams_the_reference_beside_the_traded_symbols_and_never_screens_it(tmp_path):
    from execution.app import build_feed, screener_universe
    from execution.settings import load_settings

    s = load_settings({"ENV_FILE": "/nonexistent", "FEED": "live", "STATE_DIR": str(tmp_path)})
    feed, available, label = build_feed(s)
    try:
        live = feed.inner  # every feed is screened (execution/feeds/plausibility.py): the live feed inside
        assert "USDCUSDT" in live.cfg.symbols["binance_um"] and label == "live:paper"
        assert ("binance_um", "USDCUSDT") in available
        assert ("binance_um", "USDCUSDT") not in screener_universe(s, available)
    finally:
        feed.close()


def test_a_reference_the_venue_does_not_list_does_not_stop_the_other_symbols(log_lines):
    """A DEPEG_REFERENCE the venue refuses (-1121) is skipped at backfill, said once; the traded
    symbols are backfilled and stream as before."""
    import time

    from execution.feeds.events import BookUpdate, CandleClosed
    from execution.feeds.live import LiveConfig, LiveFeed
    from tests.support.fake_streams import BAR_MS, FakeBinanceStream, FakeHistory

    now = int(time.time() * 1000)
    t = now - now % BAR_MS
    with FakeBinanceStream() as ws, FakeHistory() as hist:
        for i in range(30, 0, -1):
            hist.add("BTCUSDT", t - i * BAR_MS, 60_000.0 + i)
        hist.refused = {"USDCUSDT"}
        cfg = LiveConfig(
            {"binance_um": ["BTCUSDT", "USDCUSDT"]},
            binance_rest=hist.url,
            binance_ws=ws.url,
            backfill_bars=30,
            tick_ms=100,
        )
        feed = LiveFeed(cfg)
        it = feed.events()
        try:
            got = []
            deadline = time.monotonic() + 30
            while not any(isinstance(e, BookUpdate) for e in got):
                assert time.monotonic() < deadline, "the stream never flowed"
                ws.book("BTCUSDT", 60_000.0, 60_000.1, int(time.time() * 1000))
                got.append(next(it))
        finally:
            feed.close()
    assert len([e for e in got if isinstance(e, CandleClosed) and e.symbol == "BTCUSDT"]) == 30
    skipped = [x for x in log_lines.getvalue().splitlines() if "candles not backfilled" in x]
    assert len(skipped) == 1 and "binance_um USDCUSDT" in skipped[0] and "Invalid symbol" in skipped[0]
