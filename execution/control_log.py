"""The control log: how operators talk to the executor without writing trading state.

The operator CLI appends one command per line to STATE_DIR/control_log.jsonl (a single
write(2) each, so concurrent appends never interleave); the executor, the only writer of
trading state, reads new lines, applies each command once and appends an acknowledgement to
control_acks.jsonl, which the CLI waits for.

The two-man approval token never travels: `resume-confirm` carries
HMAC-SHA256(APPROVE_TOKEN, command id), which the executor recomputes and compares in
constant time. A proof is worthless for any other command.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from execution.state.atomic import AppendOnlyFile, read_lines
from execution.state.layout import COLLECTION_FILES

COMMANDS = {
    "hold": ("reason",),
    "resume-request": ("reason",),
    "resume-confirm": ("proof",),
    "resume": (),
    "kill": ("reason",),
    "flatten": (),
    "arb-edge": (),
    "arb-preview": ("pair",),
    "arb-execute": ("pair",),
    "arb-flatten": (),
    "cancel": ("target",),  # withdraw a queued command (by id) before the executor applies it
    "denylist-reload": (),
    "capital-flow": ("amount", "note"),  # off-venue deposit (+) / withdrawal (-), never P&L
}


class BadCommand(ValueError):
    pass


@dataclass(frozen=True)
class Command:
    id: str
    ts: int
    cmd: str
    operator: str
    args: dict

    def record(self) -> dict:
        return {"id": self.id, "ts": self.ts, "cmd": self.cmd, "operator": self.operator, "args": self.args}


def new_command(cmd: str, operator: str, ts: int, **args: str) -> Command:
    validate(cmd, operator, args)
    return Command(id=f"cmd-{ts}-{uuid.uuid4().hex[:12]}", ts=ts, cmd=cmd, operator=operator.strip(), args=args)


def validate(cmd: str, operator: str, args: dict) -> None:
    if cmd not in COMMANDS:
        raise BadCommand(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    if not isinstance(operator, str) or not operator.strip():
        raise BadCommand(f"{cmd}: an operator name is required (--operator)")
    for name in COMMANDS[cmd]:
        value = args.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadCommand(f"{cmd}: --{name} is required and must not be empty")
    if cmd == "capital-flow":
        from execution.capital_flows import BadFlow, parse_amount

        try:
            parse_amount(args["amount"])
        except BadFlow as exc:
            raise BadCommand(f"{cmd}: {exc}") from None


def parse(record: dict) -> Command:
    try:
        cmd = Command(
            id=str(record["id"]),
            ts=int(record["ts"]),
            cmd=str(record["cmd"]),
            operator=str(record.get("operator", "")),
            args=dict(record.get("args") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadCommand(f"malformed command record ({exc.__class__.__name__}: {exc})") from None
    validate(cmd.cmd, cmd.operator, cmd.args)
    return cmd


def approval_proof(token: str, command_id: str) -> str:
    return hmac.new(token.encode(), command_id.encode(), hashlib.sha256).hexdigest()


def commands_path(state_dir: Path) -> Path:
    return Path(state_dir) / COLLECTION_FILES["commands"]


def acks_path(state_dir: Path) -> Path:
    return Path(state_dir) / COLLECTION_FILES["acks"]


def append_command(state_dir: Path, command: Command) -> None:
    log = AppendOnlyFile(commands_path(state_dir))
    try:
        log.append(command.record())
        log.sync()
    finally:
        log.close()


def pending(state_dir: Path, from_offset: int = 0) -> list[dict]:
    """Commands at or after byte `from_offset` of the log that have no acknowledgement yet, oldest
    first (what the executor will apply when it next reads the log)."""
    try:
        data = commands_path(state_dir).read_bytes()
    except FileNotFoundError:
        return []
    acked = {rec.get("command_id") for rec in read_lines(acks_path(state_dir))}
    out = []
    pos = 0
    for raw in data.splitlines(keepends=True):
        start, pos = pos, pos + len(raw)
        if start < from_offset or not raw.endswith(b"\n"):
            continue
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(rec, dict) and rec.get("id") not in acked:
            out.append(rec)
    return out


def find_ack(state_dir: Path, command_id: str) -> dict | None:
    for rec in reversed(read_lines(acks_path(state_dir))):
        if rec.get("command_id") == command_id:
            return rec
    return None


class CommandReader:
    """Reads commands appended since the last call (by byte offset; a torn last line waits)."""

    def __init__(self, state_dir: Path, offset: int = 0):
        self.path = commands_path(state_dir)
        self.offset = offset

    def poll(self) -> list[tuple[dict | None, str]]:
        """[(record or None, raw line)] for each complete new line."""
        try:
            size = os.path.getsize(self.path)
        except OSError:
            return []
        if size < self.offset:  # file replaced: start over
            self.offset = 0
        if size == self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            data = fh.read(size - self.offset)
        end = data.rfind(b"\n")
        if end < 0:
            return []
        self.offset += end + 1
        out = []
        for raw in data[: end + 1].splitlines():
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
                out.append((rec if isinstance(rec, dict) else None, raw.decode("utf-8", "replace")))
            except (json.JSONDecodeError, UnicodeDecodeError):
                out.append((None, raw.decode("utf-8", "replace")))
        return out
