"""The monitoring stack with the real servers on loopback: Prometheus scrapes a process serving the
executor's metrics (the real exporter fed by a real replay's state and records), every Grafana
panel query returns data from it, and when that process dies Alertmanager delivers the
ExecutorDown alert to a loopback Bot API. Configuration is rendered by scripts/render_monitoring.py
from the shipped files; the only test-only change is `for:` windows in seconds (the shipped
windows are tested by promtool in test_monitoring_rules.py)."""

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
    replay_state,
    shorten_for,
    start_alertmanager,
    start_prometheus,
    wait_until,
)

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
CHAT = "-1001234567"


class Stack:
    def __init__(self, root: Path, telegram: FakeTelegram):
        self.root = root
        self.state = replay_state(root)
        self.nav = json.loads((self.state / "state" / "nav.json").read_text())
        self.metrics_port, self.prom_port, self.am_port = free_port(), free_port(), free_port()
        self.prom = f"http://127.0.0.1:{self.prom_port}"
        self.feeder = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.metrics_feeder",
                "--state-dir",
                str(self.state),
                "--port",
                str(self.metrics_port),
                "--feed-when",
                str(root / "feed"),
            ],
            cwd=PROJECT_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.feeder.stdout is not None
        ready = self.feeder.stdout.readline()
        assert ready.startswith("ready http://127.0.0.1:"), ready
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
        if self.feeder.poll() is None:
            self.feeder.kill()
            self.feeder.wait(10)
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


def test_prometheus_scrapes_the_executor_on_loopback(stack):
    up = wait_until(
        lambda: [r for r in query(stack.prom, 'up{job="hedge-executor"}') if r["value"][1] == "1"],
        60,
        "a successful scrape of the executor",
    )
    assert up[0]["metric"]["instance"] == f"127.0.0.1:{stack.metrics_port}"
    nav = wait_until(lambda: query(stack.prom, "hedge_nav_usdt"), 30, "hedge_nav_usdt")
    assert float(nav[0]["value"][1]) == pytest.approx(stack.nav["nav"], abs=1e-6)
    # now the replay's events arrive, spread over several scrapes as a running executor's would
    (stack.root / "feed").touch()
    log = (stack.state / "replay.log").read_text()
    sent = log.count("] SEND_ORDER ")
    fills = len((stack.state / "trade_log.jsonl").read_text().splitlines())
    assert sent > 0 and fills > 0

    def total(expr: str) -> float:
        return sum(float(r["value"][1]) for r in query(stack.prom, expr))

    wait_until(lambda: total("hedge_orders_sent_total") == sent, 60, f"{sent} orders sent")
    wait_until(lambda: total("hedge_fills_total") == fills, 60, f"{fills} fills")
    arb = json.loads((stack.state / "state" / "arbitrage.json").read_text())["metrics"]
    assert total("hedge_arb_attempts_total") == arb["attempts"] > 0


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
        if not values or not all(math.isfinite(v) for v in values):
            empty.append(f"{dashboard} / {title}: {promql} -> {result}")
    assert not empty, "panels without data:\n" + "\n".join(empty)


def test_executor_down_alert_reaches_telegram(stack, telegram):
    wait_until(lambda: query(stack.prom, 'up{job="hedge-executor"} == 1'), 60, "the executor being up")
    assert not [m for m in telegram.messages if "ExecutorDown" in m["text"]]
    stack.feeder.kill()  # the executor dies: no clean shutdown
    stack.feeder.wait(10)
    message = wait_until(
        lambda: [m for m in telegram.messages if "ExecutorDown" in m["text"]],
        120,
        "the ExecutorDown alert at the loopback Bot API",
    )[0]
    assert str(message["chat_id"]) == CHAT
    assert "FIRING" in message["text"] and "[critical]" in message["text"]
    assert f"Executor down: Prometheus cannot scrape 127.0.0.1:{stack.metrics_port}" in message["text"]
    assert TOKEN not in message["text"]
