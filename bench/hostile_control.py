"""The control-plane attacks of bench/hostile_input.py, against a running executor of any checkout.

Each attack is "held" when the fund's state did not move the way the attacker wanted, "silent"
when it did. The CLI of the checkout is driven as it is: an old one takes `--operator NAME`, a
new one takes the operator from the OS (root + SUDO_USER here); the token always comes from
$APPROVE_TOKEN.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

TOKEN = "approve-Zq81-very-secret"
CYRILLIC_ALICE = "\u0430lice"
APPEND = """
import json, sys
from pathlib import Path
from execution import control_log
cmd = control_log.new_command(sys.argv[2], sys.argv[3], int(sys.argv[4]), **json.loads(sys.argv[5]))
control_log.append_command(Path(sys.argv[1]), cmd)
"""


def _env(root: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "ENV_FILE": "/nonexistent", **extra}


class Tally:
    """Outcomes of one area: refused / held (the attack failed), crash / silent (it worked)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.failures: list[str] = []

    def add(self, outcome: str, what: str = "") -> None:
        self.counts[outcome] += 1
        if outcome in ("crash", "silent"):
            self.failures.append(f"{outcome}: {what}")

    def row(self, area: str) -> str:
        tried = sum(self.counts.values())
        held = self.counts["refused"] + self.counts["held"]
        return (
            f"| {area} | {tried} | {held} | {tried - held} "
            f"({self.counts['crash']} crash, {self.counts['silent']} silent) |"
        )


class Fund:
    def __init__(self, root: Path, state: Path):
        self.root, self.state = root, state
        help_text = self._run("hold", "--help", operator="alice").stdout
        self.old_cli = "--operator" in help_text
        self.proc: subprocess.Popen | None = None

    def _run(self, *args: str, operator: str = "alice", token: bool = False) -> subprocess.CompletedProcess:
        argv = list(args)
        env = _env(self.root, STATE_DIR=str(self.state), SUDO_USER=operator)
        if self.old_cli_known() and "--help" not in argv and argv[0] not in ("status", "alerts"):
            argv += ["--operator", operator]
        if token:
            env["APPROVE_TOKEN"] = TOKEN
        return subprocess.run(
            [sys.executable, "-m", "execution.ctl", *argv],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def old_cli_known(self) -> bool:
        return getattr(self, "old_cli", False)

    def ctl(self, *args: str, operator: str = "alice", token: bool = False) -> subprocess.CompletedProcess:
        return self._run(*args, operator=operator, token=token)

    def status(self) -> dict:
        r = self._run("status", "--json")
        try:
            return json.loads(r.stdout)
        except ValueError:
            return {}

    def start(self, **extra: str) -> bool:
        log = open(self.state.parent / "executor.log", "ab")
        env = {**_env(self.root, STATE_DIR=str(self.state), SPEED="3000", APPROVE_TOKEN=TOKEN), **extra}
        control = self.state / "state" / "control.json"
        before = control.stat().st_mtime_ns if control.exists() else 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "execution.executor"], cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None:
            if control.exists() and control.stat().st_mtime_ns != before:
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(60)

    def log_path(self) -> Path:
        return self.state / "control_log.jsonl"

    def append_raw(self, line: bytes) -> None:
        with open(self.log_path(), "ab") as fh:
            fh.write(line.rstrip(b"\n") + b"\n")

    def append_as_cli(self, name: str, operator: str, ts: int, **args: str) -> None:
        subprocess.run(
            [sys.executable, "-c", APPEND, str(self.state), name, operator, str(ts), json.dumps(args)],
            cwd=self.root,
            env=_env(self.root),
            check=True,
            capture_output=True,
        )

    def ensure_hold(self) -> None:
        if self.status().get("mode") != "HOLD":
            self.ctl("hold", "--reason", "attack setup")

    def two_man_resume(self) -> bool:
        self.ensure_hold()
        self.ctl("resume-request", "--reason", "checked")
        self.ctl("resume-confirm", operator="bob", token=True)
        self.ctl("resume", operator="bob")
        return self.status().get("mode") == "RUN"


def control_attacks(root: Path, work: Path) -> Tally:
    """Every attack, tallied (bench/hostile_input.py prints the row)."""
    t = Tally()
    fund = Fund(root, work / "state")
    if not fund.start():
        t.add("crash", "the executor did not start")
        return t
    try:
        if not fund.two_man_resume():
            t.add("crash", "the legitimate two-man resume does not work here")
            return t
        history = fund.log_path().read_bytes()
        old_confirm = next(x for x in history.splitlines() if b'"resume-confirm"' in x)

        fund.ctl("hold", "--reason", "second")
        fund.ctl("resume-request", "--reason", "again")
        fund.append_raw(old_confirm)
        time.sleep(1.5)
        fund.ctl("resume", operator="bob")
        t.add("silent" if fund.status().get("mode") == "RUN" else "held", "an old resume-confirm line appended again")

        fund.ensure_hold()
        fund.log_path().write_bytes(history)  # shorter: its whole history again
        time.sleep(2.0)
        t.add("silent" if fund.status().get("mode") == "RUN" else "held", "the control log replaced by a shorter copy")

        fund.ensure_hold()
        forged = {"id": "cmd-1-forged", "ts": 1, "cmd": "kill", "operator": "nobody", "args": {"reason": "x"}}
        fund.append_raw(json.dumps(forged).encode())
        time.sleep(1.5)
        t.add("silent" if fund.status().get("kill") else "held", "a hand-written kill line")

        fund.ensure_hold()
        fund.ctl("resume-request", "--reason", "homoglyph")
        r = fund.ctl("resume-confirm", operator=CYRILLIC_ALICE, token=True)
        t.add("silent" if r.returncode == 0 else "held", "resume-confirm by a Cyrillic homoglyph of the requester")

        fund.ensure_hold()
        far = int(time.time() * 1000) + 10 * 365 * 86_400_000
        fund.append_as_cli("resume-request", "alice", far, reason="never expires")
        time.sleep(1.5)
        req = fund.status().get("resume_request") or {}
        lying = req.get("expires_ms", 0) > time.time() * 1000 + 86_400_000
        t.add("silent" if lying else "held", "a resume request stamped ten years ahead (expiry on whose clock)")

        r = fund.ctl("resume-confirm", "--token", TOKEN, operator="bob")
        t.add("held" if r.returncode == 2 and "not accepted" in r.stderr else "silent", "the token on the command line")

        fund.ensure_hold()
    finally:
        fund.stop()
    snap = fund.state / "synced_state.json"
    data = json.loads(snap.read_text())
    data["control"].update(mode="RUN", reason="", breakers=[], kill=False)
    snap.write_text(json.dumps(data))
    if fund.start():
        t.add(
            "silent" if fund.status().get("mode") == "RUN" else "held", "synced_state.json edited to RUN while stopped"
        )
        fund.stop()
    else:
        t.add("crash", "the executor did not restart after the snapshot edit")

    weak = Fund(root, work / "weak")
    started = weak.start(APPROVE_TOKEN="s3cret-approve")
    weak.stop()
    t.add("silent" if started else "held", "a weak APPROVE_TOKEN (guessable from the stored proofs)")
    return t
