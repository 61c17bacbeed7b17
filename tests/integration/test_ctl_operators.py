"""The operator CLI faults found in use: help for every subcommand, no BrokenPipe traceback, no
silent default operator, a second hold keeps the first reason, status says when resume is
impossible, and queued commands are visible (`queue`) and can be withdrawn (`cancel`)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from execution.ctl import build_parser
from tests.conftest import PROJECT_ROOT
from tests.support.operator_cli import needs_root
from tests.support.waiting import wait_for


def ctl(state: Path, *args: str, who: str = "", env: dict | None = None, stdout=subprocess.PIPE, timeout: float = 30.0):
    """The CLI run as root; `who` is the operator sudo names (SUDO_USER), as `sudo hedgectl` does."""
    base = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "HOME": str(state.parent)}
    if who:
        base["SUDO_USER"] = who
    return subprocess.run(
        [sys.executable, "-m", "execution.ctl", *args],
        cwd=PROJECT_ROOT,
        env=base | (env or {}),
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


def start_executor(tmp_path: Path, state: Path, log_name: str) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(state), "SPEED": "3000"}
    log = tmp_path / log_name
    proc = subprocess.Popen(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    wait_for(lambda: "[executor] started" in log.read_text() or proc.poll() is not None, what="executor start")
    assert proc.poll() is None, log.read_text()[-2000:]
    wait_for(lambda: (state / "state" / "control.json").exists(), what="control.json")
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 0


def test_help_documents_every_subcommand(tmp_path):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = list(sub.choices)
    assert {"status", "hold", "queue", "cancel", "kill", "flatten", "resume-confirm"} <= set(names)
    out = ctl(tmp_path / "state", "--help").stdout
    for name in names:
        assert re.search(rf"(?m)^    {re.escape(name)}\s+\S", out), f"`ctl --help` does not describe {name}"
        sub_help = ctl(tmp_path / "state", name, "--help")
        assert sub_help.returncode == 0 and sub_help.stdout.startswith("usage:"), name


def test_a_closed_pipe_ends_status_without_a_traceback(tmp_path):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `ctl status | head -3` after head exited: every write gets EPIPE
    try:
        r = ctl(tmp_path / "state", "status", stdout=write_end)
    finally:
        os.close(write_end)
    assert "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr
    assert r.returncode in (0, 4)


@needs_root
def test_a_command_without_an_operator_is_refused(tmp_path):
    """A bare root login says nothing about who acted; a self-declared name is no identity (#20)."""
    state = tmp_path / "state"
    (state / "state").mkdir(parents=True)
    r = ctl(state, "hold", "--reason", "x", "--timeout", "0.2")
    assert r.returncode == 2 and "run the CLI as yourself or through sudo" in r.stderr
    r = ctl(state, "hold", "--reason", "x", "--timeout", "0.2", env={"HEDGE_OPERATOR": "dana"})
    assert r.returncode == 2  # HEDGE_OPERATOR is not read any more
    assert not (state / "control_log.jsonl").exists()  # nothing was sent
    r = ctl(state, "hold", "--reason", "x", "--timeout", "0.2", who="dana")
    assert r.returncode == 3
    [cmd] = [json.loads(line) for line in (state / "control_log.jsonl").read_text().splitlines()]
    assert cmd["operator"] == "dana"


@needs_root
def test_queue_cancel_hold_reasons_and_impossible_resume(tmp_path):
    state = tmp_path / "state"
    proc = start_executor(tmp_path, state, "first.log")
    try:
        assert ctl(state, "hold", "--reason", "venue maintenance", who="alice").returncode == 0
        r = ctl(state, "hold", "--reason", "funding spike", who="bob")
        assert r.returncode == 0 and "kept" in r.stdout
        wait_for(
            lambda: (
                len(ctl(state, "status", "--json").stdout)
                and json.loads(ctl(state, "status", "--json").stdout)["holds"]
            )
        )
        d = json.loads(ctl(state, "status", "--json").stdout)
        assert d["reason"] == "venue maintenance"
        assert [h["reason"] for h in d["holds"]] == ["venue maintenance", "funding spike"]
        assert d["resume_possible"] is False and "APPROVE_TOKEN" in d["resume_blocked"]
        out = ctl(state, "status").stdout
        assert "funding spike" in out and "venue maintenance" in out
        assert "resume    : IMPOSSIBLE: APPROVE_TOKEN is not configured" in out
        first_hold = json.loads((state / "control_log.jsonl").read_text().splitlines()[0])["id"]
        r = ctl(state, "cancel", first_hold, who="alice")
        assert r.returncode == 1 and "too late" in r.stdout  # it was applied already
        assert ctl(state, "resume-request", "--reason", "done", who="alice").returncode == 0
    finally:
        stop(proc)

    # the executor is down: a kill gets no ack and stays queued, visibly
    r = ctl(state, "kill", "--reason", "wrong window", "--timeout", "0.5", who="carol")
    assert r.returncode == 3 and "stays queued" in r.stdout
    r = ctl(state, "flatten", "--timeout", "0.5", who="carol")
    assert r.returncode == 3
    queue = json.loads(ctl(state, "queue", "--json").stdout)
    assert [q["cmd"] for q in queue] == ["kill", "flatten"]
    assert "kill" in ctl(state, "queue").stdout and "2 command(s) queued" in ctl(state, "queue").stdout
    assert [c["cmd"] for c in json.loads(ctl(state, "status", "--json").stdout)["queued_commands"]] == [
        "kill",
        "flatten",
    ]
    r = ctl(state, "cancel", queue[0]["id"], "--timeout", "0.5", who="carol")
    assert r.returncode == 3  # no executor to acknowledge yet
    assert ctl(state, "cancel", "cmd-nope", who="carol").returncode == 2

    proc = start_executor(tmp_path, state, "second.log")
    try:
        wait_for(lambda: json.loads(ctl(state, "queue", "--json").stdout) == [], what="queue drained")
        acks = {a["command_id"]: a for a in map(json.loads, (state / "control_acks.jsonl").read_text().splitlines())}
        assert acks[queue[0]["id"]]["ok"] is False and "withdrawn by carol" in acks[queue[0]["id"]]["message"]
        assert acks[queue[1]["id"]]["ok"] is True  # the flatten was not cancelled
        d = json.loads(ctl(state, "status", "--json").stdout)
        assert d["kill"] is False and d["last_mode"] == "HOLD"
    finally:
        stop(proc)
