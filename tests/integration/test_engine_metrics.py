"""The executor's own metrics, from a real engine replaying a generated market with the arbitrage
loop trading and a Firestore that never answers: every counter equals what the journals and logs
of the same run say, every fill's slippage is measured against the price its order was decided
on, the state gauges equal the published documents, and each NAV point carries the BTC mark."""

from __future__ import annotations

import gzip
import io
import math
import socket

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.utils import floatToGoString

from execution import logs
from execution.app import open_runtime
from execution.feeds.synthetic import write_market
from execution.metrics import SLIPPAGE_BUCKETS_BPS, Metrics, slippage_bps
from execution.settings import load_settings
from execution.state.atomic import read_json, read_lines
from tests.support.monitoring import trading_config


def scrape(m: Metrics) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(generate_latest(m.registry).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def total(samples: dict, name: str, **labels: str) -> float:
    want = set(labels.items())
    return sum(v for (n, lb), v in samples.items() if n == name and want <= set(lb))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine_metrics")
    market, state = root / "market", root / "state"
    write_market(market, days=6, seed=7)
    config = trading_config(root)  # the arbitrage loop trades on the generated basis (a negative edge is refused)
    with socket.socket() as s:  # a port nothing listens on: Firestore down for the whole run
        s.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{s.getsockname()[1]}"
    mp = pytest.MonkeyPatch()
    mp.setenv("FIRESTORE_EMULATOR_HOST", dead)
    settings = load_settings(
        {
            "ENV_FILE": "/nonexistent",
            "CONFIG_DIR": str(config),
            "STATE_DIR": str(state),
            "FEED": "replay",
            "MARKET_DIR": str(market),
            "SPEED": "max",
            "FIRESTORE_PROJECT": "demo-metrics",
        }
    )
    metrics = Metrics()
    log = io.StringIO()
    logs.setup("INFO", stream=log)
    rt = open_runtime(settings, metrics=metrics)
    try:
        rt.engine.run(rt.feed.events())
        rt.engine.publish(force=True)
        backlog = rt.sink.outbox().backlog()  # type: ignore[union-attr]
    finally:
        rt.sink.close()
        rt.engine.close()
        logs.setup("INFO")
        mp.undo()
    yield {"state": state, "market": market, "samples": scrape(metrics), "log": log.getvalue(), "backlog": backlog}


def test_order_and_fill_counters_equal_the_runs_own_records(run):
    samples, state = run["samples"], run["state"]
    trades = read_lines(state / "trade_log.jsonl")
    nav = read_json(state / "state" / "nav.json")
    routed = run["log"].count("[executor] SEND_ORDER ")
    legs = run["log"].count("[arb] SEND_ORDER ")
    assert routed == nav["orders_sent"] > 0 and legs > 0
    assert total(samples, "hedge_orders_sent_total") == routed + legs
    assert total(samples, "hedge_order_roundtrip_seconds_count") == routed + legs  # the paper venue always answers
    assert total(samples, "hedge_fills_total") == len(trades) == nav["fills"]
    reasons = {t["reason"] for t in trades}
    assert {"entry", "arb_entry", "stop_loss"} <= reasons  # routed orders, arbitrage legs, protective orders
    for venue in {t["venue"] for t in trades}:
        assert total(samples, "hedge_fills_total", venue=venue) == sum(1 for t in trades if t["venue"] == venue)
        notional = sum(float(t["price"]) * float(t["qty"]) for t in trades if t["venue"] == venue)
        assert total(samples, "hedge_fill_notional_usdt_total", venue=venue) == pytest.approx(notional, rel=1e-9)


def test_each_fill_carries_its_reference_price_and_the_slippage_histogram_agrees(run):
    samples, trades = run["samples"], read_lines(run["state"] / "trade_log.jsonl")
    without = [t for t in trades if t.get("ref_price") is None]
    assert not without, without[:3]
    slips = [slippage_bps(t["side"], float(t["price"]), float(t["ref_price"])) for t in trades]
    assert total(samples, "exec_slippage_bps_count") == len(trades)
    for bound in SLIPPAGE_BUCKETS_BPS:  # (no _sum: a histogram with negative buckets has none)
        below = sum(1 for x in slips if x is not None and x <= bound)
        assert total(samples, "exec_slippage_bps_bucket", le=floatToGoString(bound)) == below, bound
    arb = [s for s, t in zip(slips, trades, strict=True) if t["reason"].startswith("arb_")]
    assert total(samples, "exec_slippage_bps_count", intent="arb_entry") + total(
        samples, "exec_slippage_bps_count", intent="arb_exit"
    ) + total(samples, "exec_slippage_bps_count", intent="arb_rescue") == len(arb)
    # the screener's market entries fill at the next bar's open: a reference price of the decision bar
    entries = [t for t in trades if t["reason"] == "entry"]
    assert any(float(t["price"]) != float(t["ref_price"]) for t in entries)


def test_state_gauges_equal_the_published_documents(run):
    samples, state = run["samples"], run["state"]
    nav = read_json(state / "state" / "nav.json")
    arb = read_json(state / "state" / "arbitrage.json")
    assert total(samples, "hedge_nav_usdt") == pytest.approx(float(nav["nav"]), abs=1e-6)
    assert total(samples, "hedge_drawdown_pct") == pytest.approx(float(nav["drawdown_pct"]), abs=1e-9)
    assert total(samples, "hedge_arb_attempts_total") == arb["metrics"]["attempts"] > 0
    control = read_json(state / "state" / "control.json")
    assert total(samples, "hedge_mode", mode=control["mode"]) == 1 and total(samples, "hedge_mode") == 1
    for b in control["breakers"]:
        assert total(samples, "hedge_breaker_tripped", breaker=b["name"]) == 1
    depth, _, dead = run["backlog"]
    assert depth > 0 and total(samples, "hedge_outbox_depth") == depth  # Firestore never answered
    assert total(samples, "hedge_outbox_dead") == dead
    assert total(samples, "hedge_cycles_total") > 0
    assert total(samples, "hedge_cycle_duration_seconds_count") == total(samples, "hedge_cycles_total")


def test_every_nav_point_records_the_btc_mark_of_its_time(run):
    closes = {}
    with gzip.open(run["market"] / "binance_um" / "BTCUSDT_15m.csv.gz", "rt") as f:
        next(f)
        for line in f:
            t, _, _, _, c, _ = line.split(",")
            closes[int(t) + 900_000] = float(c)  # the candle's close time is its event time
    days = sorted((run["state"] / "history" / "nav").glob("*.json"))
    assert len(days) >= 6
    points = 0
    for path in days:
        b = read_json(path)
        assert len(b["btc"]) == len(b["ts"]) == len(b["nav"])
        for ts, mark in zip(b["ts"], b["btc"], strict=True):
            assert mark == closes[ts], (path.name, ts)
            points += 1
    assert points > 500
    daily = read_json(run["state"] / "history" / "nav_daily" / "all.json")
    assert all(math.isclose(m, closes[t]) for t, m in zip(daily["ts"], daily["btc"], strict=True))


def test_positions_name_the_last_trade_they_include(run):
    state = run["state"]
    trades = read_lines(state / "trade_log.jsonl")
    positions = read_json(state / "state" / "positions.json")
    seqs = [t["seq"] for t in trades]
    assert len(set(seqs)) == len(seqs)
    assert positions["trade_seq"] == max(seqs)
    assert read_json(state / "state" / "nav.json")["journal_seq"] >= max(seqs)
