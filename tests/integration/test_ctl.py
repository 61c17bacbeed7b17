"""The operator CLI as an operator uses it, against a running executor: the two-man flow with every
refusal, exit codes, the token never stored, export with secrets redacted, and no-ack detection.

Operators are OS users: the tests run the CLI as root with SUDO_USER set, as `sudo hedgectl` does
(SUDO_USER is trusted only for root), so they need root to be two people."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.operator_cli import TOKEN, ctl, needs_root, running_executor
from tests.support.waiting import wait_for

pytestmark = needs_root


@pytest.fixture
def executor(tmp_path):
    state = tmp_path / "state"
    with running_executor(state, tmp_path / "executor.log"):
        yield state


def test_two_man_resume_from_the_cli_with_every_refusal(executor, tmp_path):
    state = executor
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    wrong_file = tmp_path / "wrong"
    wrong_file.write_text("not-the-token\n")
    assert ctl(state, "resume-request", "--reason", "x").returncode == 1  # not in HOLD
    r = ctl(state, "hold", "--reason", "venue maintenance")
    assert r.returncode == 0 and "HOLD set by alice" in r.stdout
    status = json.loads(ctl(state, "status", "--json").stdout)
    assert status["mode"] == "HOLD" and status["reason"] == "venue maintenance"
    r = ctl(state, "resume")
    assert r.returncode == 1 and "two-man" in r.stdout
    r = ctl(state, "resume-confirm", "--token-file", str(token_file), operator="bob")
    assert r.returncode == 1 and "no resume request" in r.stdout
    assert ctl(state, "resume-request", "--reason", "maintenance over").returncode == 0
    r = ctl(state, "resume-confirm", "--token-file", str(token_file))
    assert r.returncode == 1 and "different operator" in r.stdout
    r = ctl(state, "resume-confirm", "--token-file", str(token_file), operator="\u0430lice")  # Cyrillic a
    assert r.returncode == 1 and "different operator" in r.stdout
    r = ctl(state, "resume-confirm", "--token-file", str(wrong_file), operator="bob")
    assert r.returncode == 1 and "wrong or missing approval token" in r.stdout
    r = ctl(state, "resume-confirm", operator="bob")  # no token anywhere, no terminal to prompt on
    assert r.returncode == 2 and "needs the approval token" in r.stderr
    assert json.loads(ctl(state, "status", "--json").stdout)["mode"] == "HOLD"
    r = ctl(state, "resume-confirm", operator="bob", token_env=TOKEN)
    assert r.returncode == 0 and "approved by bob" in r.stdout
    r = ctl(state, "resume", operator="bob")
    assert r.returncode == 0 and "RUN resumed by bob" in r.stdout
    assert json.loads(ctl(state, "status", "--json").stdout)["mode"] == "RUN"
    alerts = ctl(state, "alerts", "-n", "50").stdout
    assert alerts.count("REFUSED") >= 5 and "resume by bob: done" in alerts
    for path in state.rglob("*"):  # the token itself is never written anywhere
        if path.is_file():
            assert TOKEN not in path.read_text(errors="replace"), path
    out = state.parent / "export.jsonl"
    r = ctl(state, "export-log", "--out", str(out))
    assert r.returncode == 0
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    confirms = [e for e in exported if e.get("cmd") == "resume-confirm" and e["journal"] == "commands"]
    assert confirms and all(e["args"]["proof"] == "***" for e in confirms)


def test_kill_and_status_human_output(executor):
    r = ctl(executor, "kill", "--reason", "exchange incident", operator="carol")
    assert r.returncode == 0 and "KILL by carol" in r.stdout
    out = ctl(executor, "status").stdout
    assert "mode      : HOLD (KILL)" in out and "exchange incident" in out and "positions :" in out


def test_bad_usage_is_2_and_no_executor_is_3(tmp_path):
    state = tmp_path / "state"
    assert ctl(state, "hold").returncode == 2  # --reason missing
    assert ctl(state, "bogus").returncode == 2
    r = ctl(state, "hold", "--operator", "mallory", "--reason", "x")  # names come from the OS, not argv
    assert r.returncode == 2 and "--operator is not accepted" in r.stderr
    r = ctl(state, "resume-confirm", "--token", TOKEN)  # a token in argv shows in `ps`
    assert r.returncode == 2 and "--token is not accepted" in r.stderr and TOKEN not in r.stderr + r.stdout
    r = ctl(state, "hold", "--reason", "x")
    assert r.returncode == 2 and "no executor state" in r.stderr
    (state / "state").mkdir(parents=True)
    r = ctl(state, "hold", "--reason", "x", "--timeout", "1")
    assert r.returncode == 3 and "did not acknowledge" in r.stdout


def test_arbitrage_commands_go_through_the_executor(executor):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and "net" not in ctl(executor, "edge").stdout:
        time.sleep(0.3)
    edge = json.loads(ctl(executor, "edge", "--json").stdout)
    assert edge["pairs"][0]["pair"] == "BTC-USDT" and "net_edge_bps" in edge["pairs"][0]
    r = ctl(executor, "preview", "BTC-USDT", "0.01", "--json", operator="erin")
    assert r.returncode == 0
    plan = json.loads(r.stdout)["result"]
    legs = {(leg["venue"], leg["side"], leg["position_side"]) for leg in plan["legs"]}
    assert len(legs) == 2 and {v for v, _, _ in legs} == {"binance_um", "okx_perp"}
    assert {(s, p) for _, s, p in legs} == {("BUY", "LONG"), ("SELL", "SHORT")}
    r = ctl(executor, "execute", "BTC-USDT", "--json", operator="erin")  # generated basis is bps: taker costs win
    assert r.returncode == 1 and "edge_below_min" in json.loads(r.stdout)["message"]
    r = ctl(executor, "preview", "DOGE-USDT", operator="erin")
    assert r.returncode == 1 and "unknown pair" in r.stdout


def _nav(state: Path) -> dict | None:
    try:
        return json.loads((state / "state" / "nav.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def test_capital_flow_from_the_cli_on_paper(executor):
    before = wait_for(lambda: _nav(executor))
    out = ctl(executor, "capital-flow", "--amount", "2500", "--note", "subscription A. Investor", operator="ops1")
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("OK: off-venue deposit of 2500 USDT booked (flow:cmd-")
    [flow] = [json.loads(line) for line in (executor / "capital_flows.jsonl").read_text().splitlines()]
    assert {k: flow[k] for k in ("venue", "amount_usdt", "source", "note", "operator")} == {
        "venue": "off_venue",
        "amount_usdt": 2500.0,
        "source": "operator",
        "note": "subscription A. Investor",
        "operator": "ops1",
    }
    nav = wait_for(lambda: (doc := _nav(executor)) and doc.get("capital_flows") == 1 and doc)
    assert nav["capital_flows"] == 1 and nav["off_venue_cash"] == 2500.0
    assert nav["net_contributed_capital"] == before["net_contributed_capital"] + 2500.0
    for doc in (before, nav):  # the wallet is the starting capital plus trading only: the deposit sits beside it
        trading = doc["realized_pnl_total"] - doc["fees_total"] + doc["funding_total"]
        assert doc["wallet_balance"] - trading == pytest.approx(doc["initial_capital"], abs=1e-6)
    too_much = ctl(executor, "capital-flow", "--amount", "-3000", "--note", "redemption", operator="ops1")
    assert too_much.returncode == 1 and "more than the off-venue cash (2500" in too_much.stdout
    bad = ctl(executor, "capital-flow", "--amount", "lots", "--note", "x", operator="ops1")
    assert bad.returncode == 2 and "--amount must be a number such as 5000" in bad.stderr
    status = ctl(executor, "status")
    assert "net contributed" in status.stdout
