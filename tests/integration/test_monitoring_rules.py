"""The shipped monitoring configuration, checked by the servers' own tools: promtool check config /
check rules / test rules, amtool check-config of the rendered Alertmanager config, and a unit test
case that fires and one that does not for every alert rule."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.support.monitoring import AMTOOL, PROMTOOL, RULE_TESTS, RULES, need

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"


def _tool(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)


def _render(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "scripts/render_monitoring.py", "--out", str(tmp_path / "conf"), *extra],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
    )


def test_promtool_checks_the_shipped_config_and_rules():
    promtool = need(PROMTOOL, "prometheus")
    proc = _tool(promtool, "check", "config", "deploy/prometheus/prometheus.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = _tool(promtool, "check", "rules", str(RULES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 11 rules found" in proc.stdout


def test_promtool_unit_tests_pass():
    proc = _tool(need(PROMTOOL, "prometheus"), "test", "rules", str(RULE_TESTS))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_promtool_unit_tests_catch_a_wrong_expectation(tmp_path):
    """The unit tests can fail: the same file with one expected label changed does."""
    broken = RULE_TESTS.read_text().replace("breaker: drawdown", "breaker: daily_loss", 1)
    assert broken != RULE_TESTS.read_text()
    path = RULE_TESTS.parent / "_broken.test.yml"  # beside the original: rule_files is relative
    try:
        path.write_text(broken)
        proc = _tool(need(PROMTOOL, "prometheus"), "test", "rules", str(path))
    finally:
        path.unlink(missing_ok=True)
    assert proc.returncode != 0 and "BreakerTripped" in proc.stdout + proc.stderr


def test_every_rule_has_a_firing_and_a_quiet_unit_test():
    rules = {r["alert"]: r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    fired: set[str] = set()
    quiet: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case["alert_rule_test"]:
            (fired if check.get("exp_alerts") else quiet).add(check["alertname"])
    assert set(rules) <= fired, f"never shown firing: {sorted(set(rules) - fired)}"
    assert set(rules) <= quiet, f"never shown quiet: {sorted(set(rules) - quiet)}"
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("critical", "warning"), name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name
    assert rules["ExecutorDown"]["expr"] == 'up{job="hedge-executor"} == 0'


def test_rendered_alertmanager_config_is_valid_and_holds_the_token_only_there(tmp_path):
    amtool = need(AMTOOL, "prometheus-alertmanager")
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    proc = _render(
        tmp_path, "--telegram-token-file", str(token_file), "--chat-id", "-100123", "--api-url", "http://127.0.0.1:1"
    )
    assert proc.returncode == 0, proc.stderr
    conf = tmp_path / "conf" / "alertmanager.yml"
    assert (conf.stat().st_mode & 0o777) == 0o600
    rendered = yaml.safe_load(conf.read_text())
    tg = rendered["receivers"][0]["telegram_configs"][0]
    assert (tg["bot_token"], tg["chat_id"], tg["api_url"]) == (TOKEN, -100123, "http://127.0.0.1:1")
    assert TOKEN not in (PROJECT_ROOT / "deploy" / "alertmanager" / "alertmanager.yml").read_text()
    check = _tool(amtool, "check-config", str(conf))
    assert check.returncode == 0, check.stdout + check.stderr
    promtool = need(PROMTOOL, "prometheus")
    check = _tool(promtool, "check", "config", str(tmp_path / "conf" / "prometheus.yml"))
    assert check.returncode == 0, check.stdout + check.stderr


def test_render_without_token_sends_nothing_and_says_so(tmp_path):
    proc = _render(tmp_path)
    assert proc.returncode == 0
    assert "alerts are evaluated but not sent" in proc.stderr
    rendered = yaml.safe_load((tmp_path / "conf" / "alertmanager.yml").read_text())
    assert "telegram_configs" not in rendered["receivers"][0]
    if AMTOOL:
        check = _tool(AMTOOL, "check-config", str(tmp_path / "conf" / "alertmanager.yml"))
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--metrics-port", "http"), "METRICS_PORT: expected a TCP port"),
        (("--chat-id", "@ops"), "numeric chat id"),
        (("--telegram-token-file", "/nonexistent/token"), "unreadable"),
    ],
)
def test_render_refuses_bad_input_naming_it(tmp_path, args, message):
    proc = _render(tmp_path, *args)
    assert proc.returncode == 2 and message in proc.stderr
    assert not (tmp_path / "conf").exists()


def test_render_refuses_a_file_that_is_not_a_token(tmp_path):
    bad = tmp_path / "token"
    bad.write_text("TELEGRAM_BOT_TOKEN=oops\n")
    proc = _render(tmp_path, "--telegram-token-file", str(bad))
    assert proc.returncode == 2 and "does not hold a bot token" in proc.stderr
    assert "oops" not in proc.stderr
