"""The monitoring stack with the real servers on loopback: Prometheus scrapes the real executor
(`python -m execution.executor`: paper profile, the generated market at high speed, the arbitrage
loop trading, a Firestore that never answers) on 127.0.0.1:METRICS_PORT, every Grafana panel
query returns data from it, and when the executor dies Alertmanager delivers the ExecutorDown
alert to a loopback Bot API. Configuration is rendered by scripts/render_monitoring.py from the
shipped files; the only test-only changes are `for:` windows in seconds (the shipped windows are
tested by promtool in test_monitoring_rules.py) and a test copy of config/ (the arbitrage loop
trades on the generated basis; no breaker holds the run, so fills keep coming)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from tests.support.fake_telegram import FakeTelegram
from tests.support.monitoring import (
    ALERTMANAGER,
    PROMETHEUS,
    RULES,
    free_port,
    grafana_to_promql,
    need,
    panel_queries,
    query,
    shorten_for,
    start_alertmanager,
    start_executor,
    start_prometheus,
    wait_until,
)

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
CHAT = "-1001234567"


class Stack:
    def __init__(self, root: Path, telegram: FakeTelegram):
        self.root = root
        self.metrics_port, self.prom_port, self.am_port = free_port(), free_port(), free_port()
        self.prom = f"http://127.0.0.1:{self.prom_port}"
        self.state = root / "state"
        self.executor = start_executor(root, self.metrics_port)
        rules = root / "rules"
        rules.mkdir()
        (rules / "hedge.rules.yml").write_text(shorten_for(RULES.read_text()))
        token_file = root / "bot_token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        conf = root / "conf"
        subprocess.run(
            [
                sys.executable,
                "scripts/render_monitoring.py",
                "--out",
                str(conf),
                "--metrics-port",
                str(self.metrics_port),
                "--alertmanager-port",
                str(self.am_port),
                "--rules-dir",
                str(rules),
                "--telegram-token-file",
                str(token_file),
                "--chat-id",
                CHAT,
                "--api-url",
                telegram.url,
                "--scrape-interval",
                "1s",
                "--group-wait",
                "1s",
            ],
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
        )
        self.alertmanager = start_alertmanager(conf / "alertmanager.yml", root / "am", self.am_port, root / "am.log")
        self.prometheus = start_prometheus(conf / "prometheus.yml", root / "prom", self.prom_port, root / "prom.log")

    def close(self) -> None:
        self.executor.stop(kill=True)
        self.prometheus.stop()
        self.alertmanager.stop()


@pytest.fixture(scope="module")
def telegram():
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        yield tg


@pytest.fixture(scope="module")
def stack(tmp_path_factory, telegram):
    need(PROMETHEUS, "prometheus")
    need(ALERTMANAGER, "prometheus-alertmanager")
    s = Stack(tmp_path_factory.mktemp("monitoring"), telegram)
    yield s
    s.close()


def total(base: str, expr: str) -> float:
    return sum(float(r["value"][1]) for r in query(base, expr))


def test_prometheus_scrapes_the_executor_on_loopback(stack):
    up = wait_until(
        lambda: [r for r in query(stack.prom, 'up{job="hedge-executor"}') if r["value"][1] == "1"],
        60,
        "a successful scrape of the executor",
    )
    assert up[0]["metric"]["instance"] == f"127.0.0.1:{stack.metrics_port}"
    wait_until(lambda: total(stack.prom, "hedge_fills_total") >= 20, 120, "fills counted by Prometheus")
    wait_until(lambda: total(stack.prom, "hedge_arb_attempts_total") > 0, 120, "arbitrage attempts")
    # what Prometheus holds was counted by the executor from its own records: never more than
    # the trade log holds a moment later, nor more orders than the executor logged
    fills = total(stack.prom, "hedge_fills_total")
    sent = total(stack.prom, "hedge_orders_sent_total")
    trades = (stack.state / "trade_log.jsonl").read_text().splitlines()
    log = (stack.root / "executor.log").read_text()
    assert 20 <= fills <= len(trades)
    assert 0 < sent <= log.count("] SEND_ORDER ")
    nav = json.loads((stack.state / "state" / "nav.json").read_text())
    assert total(stack.prom, "hedge_nav_usdt") == pytest.approx(nav["nav"], rel=0.02)
    assert total(stack.prom, "hedge_outbox_depth") > 0  # Firestore never answers
    assert total(stack.prom, 'hedge_mode{mode="RUN"}') == 1  # the test config holds nothing: fills keep coming


def test_every_grafana_panel_query_returns_data(stack):
    queries = panel_queries()
    assert len({q[0] for q in queries}) == 4 and len(queries) >= 40
    wait_until(
        lambda: query(stack.prom, "sum(rate(hedge_fills_total[1m])) > 0"), 60, "two scrapes with fills between them"
    )
    empty = []
    for dashboard, title, expr in queries:
        promql = grafana_to_promql(expr)
        result = query(stack.prom, promql)
        values = [float(r["value"][1]) for r in result]
        # a series may be NaN (a symbol without a fill in the rate window: Grafana draws no line for
        # it); the panel has data when at least one of its series has a number
        if not any(math.isfinite(v) for v in values):
            empty.append(f"{dashboard} / {title}: {promql} -> {result}")
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_executor_down_alert_reaches_telegram(stack, telegram):
    wait_until(lambda: query(stack.prom, 'up{job="hedge-executor"} == 1'), 60, "the executor being up")
    assert not [m for m in telegram.messages if "ExecutorDown" in m["text"]]
    stack.executor.stop(kill=True)  # the executor dies: no clean shutdown
    message = wait_until(
        lambda: [m for m in telegram.messages if "ExecutorDown" in m["text"]],
        120,
        "the ExecutorDown alert at the loopback Bot API",
    )[0]
    assert str(message["chat_id"]) == CHAT
    assert "FIRING" in message["text"] and "[critical]" in message["text"]
    assert f"Executor down: Prometheus cannot scrape 127.0.0.1:{stack.metrics_port}" in message["text"]
    assert TOKEN not in message["text"]
