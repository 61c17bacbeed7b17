"""The metric catalogue and its updaters: hooks count what happened, the state updater says what
the documents say (and nothing when a document is missing), the exporter binds loopback only."""

from __future__ import annotations

import socket
import urllib.request

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from execution.exchanges.errors import FilterFailure, InsufficientMargin, RateLimited, VenueError
from execution.metrics import (
    REJECT_REASONS,
    Exporter,
    Metrics,
    NullMetrics,
    reject_reason,
    settings_from_env,
    slippage_bps,
    start,
)
from execution.metrics_state import CATALOGUE, OutboxAge, health_state, state_samples, update_from_state
from execution.settings import ConfigError


def samples(m: Metrics) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(generate_latest(m.registry).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(m: Metrics, name: str, **labels) -> float | None:
    return samples(m).get((name, tuple(sorted(labels.items()))))


def test_registries_are_private_and_independent():
    a, b = Metrics(), Metrics()
    a.on_order_sent("binance_um")
    assert value(a, "hedge_orders_sent_total", venue="binance_um") == 1
    assert value(b, "hedge_orders_sent_total", venue="binance_um") == 0


def test_order_hooks_count_by_venue_and_reason():
    m = Metrics(venues=("binance_um", "okx_perp"))
    assert value(m, "hedge_orders_rejected_total", venue="okx_perp", reason="margin") == 0  # there from the start
    for _ in range(3):
        m.on_order_sent("okx_perp")
    m.on_order_rejected("okx_perp", InsufficientMargin("okx_perp", "51008", "no margin"))
    m.on_order_rejected("okx_perp", "EXPIRED")
    m.on_order_answer("okx_perp", 0.2)
    assert value(m, "hedge_orders_sent_total", venue="okx_perp") == 3
    assert value(m, "hedge_orders_rejected_total", venue="okx_perp", reason="margin") == 1
    assert value(m, "hedge_orders_rejected_total", venue="okx_perp", reason="expired") == 1
    assert value(m, "hedge_order_roundtrip_seconds_bucket", venue="okx_perp", le="0.25") == 1
    assert value(m, "hedge_order_roundtrip_seconds_bucket", venue="okx_perp", le="0.1") == 0


def test_reject_reason_vocabulary_is_bounded():
    assert reject_reason(FilterFailure("b", "-4164", "x")) == "filter"
    assert reject_reason(RateLimited("b", "429", "x")) == "rate_limited"
    assert reject_reason(VenueError("b", "1", "x")) == "other"
    assert reject_reason(ValueError("x")) == "other"
    assert reject_reason("REJECTED") == "venue_rejected"
    assert reject_reason("something new") == "other"
    assert reject_reason("InsufficientMargin") == "margin"  # an arbitrage leg's refusal, by class name
    assert {reject_reason(s) for s in ("REJECTED", "EXPIRED", "CANCELED", "?")} <= set(REJECT_REASONS)


def test_fill_and_slippage():
    m = Metrics()
    assert slippage_bps("BUY", 100.05, 100.0) == pytest.approx(5.0)
    assert slippage_bps("SELL", 100.05, 100.0) == pytest.approx(-5.0)  # sold above the reference: better
    assert slippage_bps("BUY", 100.0, 0.0) is None
    m.on_fill("binance_um", "BTCUSDT", "entry", 1000.0, 5.0)
    m.on_fill("binance_um", "BTCUSDT", "stop_loss", 500.0, None)
    assert value(m, "hedge_fills_total", venue="binance_um", symbol="BTCUSDT") == 2
    assert value(m, "hedge_fill_notional_usdt_total", venue="binance_um") == 1500
    key = {"symbol": "BTCUSDT", "venue": "binance_um", "intent": "entry"}
    assert value(m, "exec_slippage_bps_bucket", le="5.0", **key) == 1
    assert value(m, "exec_slippage_bps_bucket", le="2.0", **key) == 0
    assert value(m, "exec_slippage_bps_count", symbol="BTCUSDT", venue="binance_um", intent="stop_loss") is None


def test_cycle_and_stop_validator(monkeypatch):
    m = Metrics()
    assert value(m, "hedge_seconds_since_last_cycle") == -1
    assert value(m, "stop_validator_missing_total") == 0  # runbook names, there from the start
    m.on_cycle(0.002, wall_s=1_000.0)
    monkeypatch.setattr("execution.clock.wall_ms", lambda: 1_030_000)
    assert value(m, "hedge_seconds_since_last_cycle") == 30
    assert value(m, "hedge_last_cycle_timestamp_seconds") == 1000
    m.on_stop_validation(missing=2, repaired=1)
    m.on_stop_validation(missing=0, repaired=0)
    assert value(m, "stop_validator_missing_total") == 2
    assert value(m, "stop_validator_repaired_total") == 1


def test_null_metrics_has_every_hook():
    hooks = {n for n in dir(Metrics) if n.startswith("on_")}
    assert hooks and hooks == {n for n in dir(NullMetrics) if n.startswith("on_")}
    update_from_state(NullMetrics(), {"nav": {"nav": 1}}, 0)  # no-op, no error


def test_settings_from_env():
    assert not settings_from_env({}).enabled
    assert not settings_from_env({"METRICS_PORT": "0"}).enabled
    assert settings_from_env({"METRICS_PORT": " 9108 "}).port == 9108
    for bad in ("x", "-1", "70000"):
        with pytest.raises(ConfigError, match="METRICS_PORT"):
            settings_from_env({"METRICS_PORT": bad})
    metrics, exporter = start(settings_from_env({}))
    assert isinstance(metrics, NullMetrics) and exporter is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_exporter_serves_on_loopback_only():
    port = _free_port()
    metrics, exporter = start(settings_from_env({"METRICS_PORT": str(port)}))
    assert isinstance(exporter, Exporter)
    try:
        assert exporter.server.server_address[0] == "127.0.0.1"
        body = urllib.request.urlopen(exporter.url, timeout=5).read().decode()
        assert "hedge_orders_sent_total" in body and "process_resident_memory_bytes" in body
        with pytest.raises(OSError):  # the port is taken: the caller hears it
            Exporter(metrics, port)  # type: ignore[arg-type]
    finally:
        exporter.close()


NAV = {
    "nav": 10100.5,
    "wallet_balance": 10000.0,
    "unrealized_pnl": 100.5,
    "peak_nav": 10200.0,
    "drawdown_pct": 0.97,
    "max_drawdown_pct": 2.5,
    "daily_pnl_pct": -0.3,
    "open_positions": 2,
    "market_ts": 1_700_000_900_000,
    "updated_at_ms": 1_700_000_000_000,
    "mode": "RUN",
}
CONTROL = {
    "mode": "HOLD",
    "kill": False,
    "breakers": [{"name": "drawdown", "detail": "x", "ts": 1}, {"name": "brand_new", "detail": "y", "ts": 2}],
    "stale_symbols": ["okx_perp:BTC-USDT-SWAP"],
    "reconciliation": [],
    "counters": {"orders_last_min": 3, "cancels_last_min": 0},
    "limits": {"KILL_DD_PCT": 20.0, "MAX_POSITIONS": 4},
    "guards": [
        {"name": "depeg", "active": True, "reason": "USDCUSDT 0.9931"},
        {"name": "denylist", "active": False, "refused": 3},
        {"name": "funding", "active": False, "refused": "nan"},  # a value that is not a count: no sample
        {"active": True},  # no name: no sample
    ],
    "updated_at_ms": 1_700_000_001_000,
}
POSITIONS = {
    "positions": [{"venue": "binance_um", "symbol": "BTCUSDT", "stop_loss": 1.0}, {"venue": "okx_perp", "symbol": "X"}],
    "gross_notional": 3000.0,
    "net_notional": -1000.0,
    "per_venue": {"binance_um": {"gross_notional": 1000.0, "net_notional": 1000.0}},
    "market": [{"venue": "binance_um", "symbol": "BTCUSDT", "age_ms": 1500}],
    "updated_at_ms": 1_700_000_000_000,
}
SCREENER = {"tail": [{"venue": "binance_um", "symbol": "ETHUSDT", "ts": 1_700_000_000_000}]}
ARB = {
    "health": {"binance_um": {"connected": True, "skew_ms": 12.0}, "okx_perp": {"connected": False, "skew_ms": -3}},
    "metrics": {"attempts": 7, "rescues": 1, "expected_net_edge_bps_avg": 3.1, "realised_net_edge_bps_avg": None},
    "pairs": [{"pair": "BTC-USDT", "net_edge_bps": -2.5}],
    "open_pairs": [{}],
    "exposure": {"delta_usd": "0.04"},
}


def as_dict(out) -> dict:
    return {(n, labels): v for n, labels, v in out}


def test_state_samples_say_what_the_documents_say():
    docs = {"nav": NAV, "control": CONTROL, "positions": POSITIONS, "screener": SCREENER, "arbitrage": ARB}
    s = as_dict(state_samples(docs, now_ms=1_700_000_002_000, outbox=(92, 30.0, 1)))
    assert s[("hedge_nav_usdt", ())] == 10100.5
    assert s[("hedge_drawdown_pct", ())] == 0.97
    assert s[("health_state", ())] == 2  # HOLD
    assert s[("hedge_mode", ("HOLD",))] == 1 and s[("hedge_mode", ("RUN",))] == 0
    assert s[("hedge_breaker_tripped", ("drawdown",))] == 1
    assert s[("hedge_breaker_tripped", ("brand_new",))] == 1
    assert s[("hedge_breaker_tripped", ("daily_loss",))] == 0
    assert s[("hedge_guard_active", ("depeg",))] == 1 and s[("hedge_guard_active", ("denylist",))] == 0
    assert s[("hedge_guard_refused", ("denylist",))] == 3
    assert ("hedge_guard_refused", ("funding",)) not in s and ("hedge_guard_refused", ("depeg",)) not in s
    assert sum(1 for name, _ in s if name == "hedge_guard_active") == 3
    assert s[("hedge_stale_symbols", ())] == 1 and s[("hedge_data_stale", ("okx_perp", "BTC-USDT-SWAP"))] == 1
    assert s[("hedge_positions_without_stop", ())] == 1
    assert s[("hedge_venue_gross_exposure_usdt", ("binance_um",))] == 1000
    assert s[("hedge_venue_gross_exposure_usdt", ("okx_perp",))] == 0  # traded, nothing open there
    # book age grows with the time since the document was published; candle lag in market time
    assert s[("hedge_data_age_seconds", ("binance_um", "BTCUSDT", "book"))] == pytest.approx(3.5)
    assert s[("hedge_data_age_seconds", ("binance_um", "ETHUSDT", "candle"))] == 900
    assert s[("hedge_clock_skew_ms", ("okx_perp",))] == -3
    assert s[("hedge_venue_connected", ("okx_perp",))] == 0
    assert s[("hedge_arb_attempts", ())] == 7
    assert s[("hedge_arb_edge_bps", ("expected", "net"))] == 3.1
    assert ("hedge_arb_edge_bps", ("realised", "net")) not in s  # no closed pair yet: no number, not 0
    assert s[("hedge_arb_delta_usd", ())] == 0.04
    assert s[("hedge_outbox_depth", ())] == 92 and s[("hedge_outbox_dead", ())] == 1
    assert s[("hedge_state_updated_timestamp_seconds", ())] == 1_700_000_001
    assert {n for n, _ in s} <= set(CATALOGUE)


def test_missing_or_odd_documents_give_no_numbers_not_errors(log_lines):
    assert state_samples({}, 0) == []
    m = Metrics()
    update_from_state(m, {"nav": {"nav": "n/a", "drawdown_pct": None}, "control": {"mode": "RUN"}}, 0)
    assert value(m, "hedge_nav_usdt") is None
    assert value(m, "health_state") == 0
    update_from_state(m, {"positions": {"per_venue": "garbage"}}, 0)  # odd: logged, old samples kept
    assert value(m, "health_state") == 0
    assert "[metrics] state metrics not updated" in log_lines.getvalue()


def test_health_state_rules():
    assert health_state({"mode": "RUN"}, {}) == 0
    assert health_state({"mode": "RUN", "stale_symbols": ["a:b"]}, {}) == 1
    assert health_state({"mode": "RUN"}, {"health": {"okx_perp": {"connected": False}}}) == 1
    assert health_state({"mode": "HOLD"}, {}) == 2
    assert health_state({"mode": "RUN", "health_state": 1}, {}) == 1  # the executor's own word wins


def test_state_age_is_computed_at_scrape_time(monkeypatch):
    m = Metrics()
    update_from_state(m, {"nav": NAV}, now_ms=NAV["updated_at_ms"])
    monkeypatch.setattr("execution.clock.wall_ms", lambda: NAV["updated_at_ms"] + 400_000)
    assert value(m, "hedge_state_age_seconds") == 400  # no update since: the age keeps growing


def test_outbox_age_counts_from_first_sight_of_the_head_row():
    age = OutboxAge()
    assert age.observe(None, 1_000) == 0
    assert age.observe(5, 10_000) == 0
    assert age.observe(5, 70_000) == 60
    assert age.observe(9, 80_000) == 0  # the head moved on
    assert age.observe(None, 90_000) == 0
