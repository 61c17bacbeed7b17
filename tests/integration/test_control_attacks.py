"""The control plane attacked as a security tester would, against a running executor (issue 20):
a replayed confirmation, a shorter or different copy of the control log, a forged line, an
edited restart snapshot, a lying CLI clock and a weak token. Each one is refused, journaled as an
incident, alerted, and the fund stays in (or goes to) HOLD; legitimate commands keep working."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from execution import control_log
from execution.state.atomic import read_json, read_lines
from tests.conftest import PROJECT_ROOT
from tests.support.operator_cli import TOKEN, ctl, executor_env, needs_root, running_executor

pytestmark = needs_root


def status(state: Path) -> dict:
    r = ctl(state, "status", "--json")
    d = json.loads(r.stdout)
    assert r.returncode == {0: 0, 1: 5, 2: 6}[d["health_state"]], r.stdout + r.stderr  # the exit code follows health
    return d


def incidents(state: Path, kind: str) -> list[dict]:
    return [r for r in read_lines(state / "incidents.jsonl") if r.get("kind") == kind]


def wait_for(predicate, what: str, timeout_s: float = 20.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def two_man_resume(state: Path) -> None:
    assert ctl(state, "resume-request", "--reason", "checked").returncode == 0
    r = ctl(state, "resume-confirm", operator="bob", token_env=TOKEN)
    assert r.returncode == 0, r.stdout
    assert ctl(state, "resume", operator="bob").returncode == 0
    assert status(state)["mode"] == "RUN"


def log_lines(state: Path) -> list[bytes]:
    return control_log.commands_path(state).read_bytes().splitlines(keepends=True)


def append_raw(state: Path, line: bytes) -> None:
    with open(control_log.commands_path(state), "ab") as fh:
        fh.write(line if line.endswith(b"\n") else line + b"\n")


@pytest.fixture
def executor(tmp_path):
    state = tmp_path / "state"
    with running_executor(state, tmp_path / "executor.log"):
        yield state


def test_a_replayed_resume_confirm_does_not_clear_hold(executor):
    state = executor
    assert ctl(state, "hold", "--reason", "first").returncode == 0
    two_man_resume(state)
    old_confirm = next(x for x in log_lines(state) if b'"resume-confirm"' in x)
    assert ctl(state, "hold", "--reason", "second").returncode == 0
    assert ctl(state, "resume-request", "--reason", "again").returncode == 0

    append_raw(state, old_confirm)  # 1. the old line as it was: it does not chain
    wait_for(lambda: incidents(state, "control_log_tamper"), "the tampering incident")
    assert ctl(state, "resume", operator="bob").returncode == 1 and status(state)["mode"] == "HOLD"

    old = control_log.parse(json.loads(old_confirm))  # 2. the chain rebuilt around it: the id was applied
    control_log.append_command(state, old)
    wait_for(lambda: len(incidents(state, "control_log_tamper")) == 2, "the replayed id refused")
    assert "applied before" in incidents(state, "control_log_tamper")[-1]["detail"]

    assert ctl(state, "resume-request", "--reason", "third").returncode == 0  # 3. the old proof under a new id
    forged = control_log.new_command("resume-confirm", "bob", int(time.time() * 1000), proof=old.args["proof"])
    control_log.append_command(state, forged)
    ack = wait_for(lambda: control_log.find_ack(state, forged.id), "the ack of the re-used proof")
    assert not ack["ok"] and "wrong or missing approval token" in ack["message"]
    assert ctl(state, "resume", operator="bob").returncode == 1
    assert status(state)["mode"] == "HOLD"
    alerts = ctl(state, "alerts", "-n", "100").stdout
    assert "CONTROL LOG TAMPERING" in alerts

    two_man_resume(state)  # the real operators still can


def test_a_shorter_or_different_copy_of_the_log_replays_nothing(executor):
    state = executor
    assert ctl(state, "hold", "--reason", "maintenance").returncode == 0
    two_man_resume(state)
    history = control_log.commands_path(state).read_bytes()  # hold, request, confirm, resume
    assert ctl(state, "hold", "--reason", "incident").returncode == 0

    control_log.commands_path(state).write_bytes(history)  # shorter: used to replay the whole history
    wait_for(lambda: incidents(state, "control_log_tamper"), "the truncation refused")
    time.sleep(1.0)  # several polls: nothing of the old history is applied
    d = status(state)
    assert d["mode"] == "HOLD" and any("truncated" in h["reason"] for h in d["holds"])  # a reason added to HOLD

    lines = history.splitlines(keepends=True)
    other = b"".join(lines[:-1]) + history  # longer, but the line read last is no longer where it was
    control_log.commands_path(state).write_bytes(other)
    wait_for(lambda: len(incidents(state, "control_log_tamper")) >= 2, "the replacement refused")
    assert "replaced" in incidents(state, "control_log_tamper")[1]["detail"]
    assert status(state)["mode"] == "HOLD"
    assert ctl(state, "hold", "--reason", "still works").returncode == 0  # chained to the log as it is now


def test_a_forged_kill_line_is_refused_and_not_run(executor):
    state = executor
    forged = {"id": "cmd-1-forged", "ts": 1, "cmd": "kill", "operator": "nobody", "args": {"reason": "x"}}
    append_raw(state, json.dumps(forged).encode())
    [incident] = wait_for(lambda: incidents(state, "control_log_tamper"), "the forged line refused")
    assert incident["cmd"] == "kill" and "does not chain" in incident["detail"]
    d = status(state)
    assert d["mode"] == "HOLD" and not d["kill"] and "control_log" in d["reason"]
    assert control_log.find_ack(state, "cmd-1-forged") is None  # never applied, never acknowledged
    assert "KILL by nobody" not in (state / "ops_alerts.jsonl").read_text()
    r = ctl(state, "hold", "--reason", "after the forgery")  # the CLI chains after the forged line
    assert r.returncode == 0 and "reason added by alice" in r.stdout  # applied: HOLD keeps both reasons


def test_request_expiry_is_measured_on_the_executors_clock(executor):
    state = executor
    assert ctl(state, "hold", "--reason", "x").returncode == 0
    far = int(time.time() * 1000) + 10 * 365 * 86_400_000  # a CLI clock ten years ahead
    cmd = control_log.new_command("resume-request", "alice", far, reason="never expires?")
    control_log.append_command(state, cmd)
    wait_for(lambda: control_log.find_ack(state, cmd.id), "the request's ack")
    req = status(state)["resume_request"]
    now = time.time() * 1000
    assert abs(req["ts"] - now) < 60_000 and req["expires_ms"] - req["ts"] == 15 * 60_000


def test_an_edited_snapshot_restarts_in_hold_never_run(tmp_path):
    state, log = tmp_path / "state", tmp_path / "executor.log"
    with running_executor(state, log):
        assert ctl(state, "hold", "--reason", "before the restart").returncode == 0
    with running_executor(state, log):  # an untouched snapshot verifies: same mode, no incident
        assert status(state)["reason"] == "before the restart"
    assert not incidents(state, "snapshot_unverified")

    snap_path = state / "synced_state.json"
    snap = read_json(snap_path)
    snap["control"].update(mode="RUN", reason="", breakers=[])
    snap_path.write_text(json.dumps(snap))
    with running_executor(state, log):
        d = status(state)
        assert d["mode"] == "HOLD" and "snapshot" in d["reason"] and "seal does not match" in d["reason"]
        assert incidents(state, "snapshot_unverified")
        assert "BREAKER snapshot" in (state / "ops_alerts.jsonl").read_text()
        assert ctl(state, "resume", operator="bob").returncode == 1  # only the two-man rule leaves it
        two_man_resume(state)

    (state / "integrity.key").unlink()  # a key that went missing: nothing verifies, HOLD again
    with running_executor(state, log):
        d = status(state)
        assert d["mode"] == "HOLD" and "integrity.key was missing" in d["reason"]


def test_a_weak_approve_token_stops_the_executor_before_it_runs(tmp_path):
    weak = "s3cret-approve-xx"
    r = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=executor_env(tmp_path / "state", APPROVE_TOKEN=weak),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2
    [line] = r.stderr.strip().splitlines()
    assert line.startswith("config error: .env: field 'APPROVE_TOKEN'") and weak not in r.stderr + r.stdout
    assert not (tmp_path / "state" / "state").exists()  # nothing ran
