"""The control log: how operators talk to the executor without writing trading state.

The operator CLI appends one command per line to STATE_DIR/control_log.jsonl (under an
exclusive lock, one write(2) each); the executor, the only writer of trading state, reads new
lines, applies each command at most once and appends an acknowledgement to
control_acks.jsonl, which the CLI waits for.

Tamper evidence: every line carries `prev`, the SHA-256 of the line before it (GENESIS for the
first), so the log is a hash chain. The executor remembers where it stopped reading (offset) and
the hash of the last line it read (head), in its verified restart snapshot. A log that became
shorter (truncated), whose line at the remembered place changed (replaced), or a line that does
not chain to the one before it (hand-written, or an old line appended again) is refused: the
reader reports it and carries on from the log as it now is, without applying any of it
(`execution/commands.py` journals it, alerts and trips HOLD). Command ids are remembered across
restarts (the acknowledgements journal), so a line is applied at most once even when someone
rebuilds the chain around a copy of it.

The two-man approval token never travels: `resume-confirm` carries an HMAC bound to the command
id, the pending request's id and the confirming operator, keyed by a key derived from
APPROVE_TOKEN with PBKDF2 (so a proof in the log is costly to guess a token from). A proof is
worthless for any other command, request or operator.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import hmac
import json
import os
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execution.operators import fold, name_problem
from execution.state.atomic import dumps, read_lines
from execution.state.layout import COLLECTION_FILES
from execution.terminal_text import INERT_CATEGORIES

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
GENESIS = "0" * 64
PROOF_KDF_SALT = b"hedge-fund-bot/approve-token/v2"
PROOF_KDF_ROUNDS = 200_000
MAX_LINE = 64 * 1024  # a longer line is not a command


FREE_TEXT = ("reason", "note")  # shown to operators, investors and in Telegram: one plain line
MAX_FREE_TEXT = 500
# what a terminal would act on (execution/terminal_text.py), and unassigned code points, which a
# later Unicode version may make anything
_REFUSED_IN_FREE_TEXT = INERT_CATEGORIES | {"Cn"}


class BadCommand(ValueError):
    pass


def free_text_problem(text: str) -> str | None:
    """Why an operator's reason or note cannot be journaled as typed, or None: it is shown on
    terminals (an escape sequence would rewrite them), in one log line per event, in Telegram and
    on the dashboard, so control and format characters (newlines, ESC, bidi overrides) are refused."""
    if len(text) > MAX_FREE_TEXT:
        return f"is {len(text)} characters: at most {MAX_FREE_TEXT}"
    bad = next((ch for ch in text if unicodedata.category(ch) in _REFUSED_IN_FREE_TEXT), None)
    if bad is not None:
        return f"has a control or format character (U+{ord(bad):04X}): plain text on one line only"
    return None


@dataclass(frozen=True)
class Command:
    id: str
    ts: int
    cmd: str
    operator: str
    args: dict
    prev: str = ""  # hash of the line before this one in the log (set when appended)

    def record(self) -> dict:
        rec = {"id": self.id, "ts": self.ts, "cmd": self.cmd, "operator": self.operator, "args": self.args}
        if self.prev:
            rec["prev"] = self.prev
        return rec


def new_command(cmd: str, operator: str, ts: int, **args: str) -> Command:
    validate(cmd, operator, args)
    return Command(id=f"cmd-{ts}-{uuid.uuid4().hex[:12]}", ts=ts, cmd=cmd, operator=operator.strip(), args=args)


def validate(cmd: str, operator: str, args: dict) -> None:
    if cmd not in COMMANDS:
        raise BadCommand(f"unknown command {cmd!r} (known: {', '.join(COMMANDS)})")
    problem = name_problem(operator)
    if problem:
        raise BadCommand(f"{cmd}: {problem}")
    for name in COMMANDS[cmd]:
        value = args.get(name)
        if not isinstance(value, str) or not value.strip():
            raise BadCommand(f"{cmd}: --{name} is required and must not be empty")
        if name in FREE_TEXT:
            problem = free_text_problem(value)
            if problem:
                raise BadCommand(f"{cmd}: --{name} {problem}")
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
            prev=str(record.get("prev", "")),
        )
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise BadCommand(f"malformed command record ({exc.__class__.__name__}: {exc})") from None
    validate(cmd.cmd, cmd.operator, cmd.args)
    return cmd


# -- the approval proof ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=4)
def approval_key(token: str) -> bytes:
    """The HMAC key of the proofs: PBKDF2 of the token (computed once per process and token)."""
    return hashlib.pbkdf2_hmac("sha256", token.encode(), PROOF_KDF_SALT, PROOF_KDF_ROUNDS)


def approval_proof(token: str, command_id: str, request_id: str, operator: str) -> str:
    """What `resume-confirm` carries: bound to this command, the request it approves and who approves."""
    message = "\n".join(("resume-confirm", command_id, request_id, fold(operator))).encode()
    return hmac.new(approval_key(token), message, hashlib.sha256).hexdigest()


# -- writing (the CLI) ----------------------------------------------------------------------------
def commands_path(state_dir: Path) -> Path:
    return Path(state_dir) / COLLECTION_FILES["commands"]


def acks_path(state_dir: Path) -> Path:
    return Path(state_dir) / COLLECTION_FILES["acks"]


def line_hash(line: bytes) -> str:
    """The hash the next line's `prev` names: SHA-256 of the line without its newline."""
    return hashlib.sha256(line).hexdigest()


def _last_line(fd: int, size: int) -> bytes:
    """The log's last line (without its newline; a torn line as it is), b"" for an empty log."""
    end = size
    if end and os.pread(fd, 1, end - 1) == b"\n":
        end -= 1
    start, step = end, 4096
    while start > 0:
        lo = max(0, start - step)
        chunk = os.pread(fd, start - lo, lo)
        cut = chunk.rfind(b"\n")
        if cut >= 0:
            start = lo + cut + 1
            break
        start = lo
    return os.pread(fd, end - start, start)


def append_command(state_dir: Path, command: Command) -> Command:
    """Append `command` chained to the log's last line; returns it as written (with `prev`)."""
    path = commands_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # two CLIs never chain to the same line
        size = os.fstat(fd).st_size
        last = _last_line(fd, size)
        torn = size > 0 and os.pread(fd, 1, size - 1) != b"\n"
        prev = line_hash(last) if size else GENESIS
        chained = Command(command.id, command.ts, command.cmd, command.operator, command.args, prev)
        data = (b"\n" if torn else b"") + (dumps(chained.record()) + "\n").encode("utf-8")
        if os.write(fd, data) != len(data):
            raise OSError(f"short write to {path}")
        os.fsync(fd)
        return chained
    finally:
        os.close(fd)


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


def acknowledged_ids(state_dir: Path) -> set[str]:
    """Every command id the executor ever answered: never applied again, across restarts."""
    return {str(r["command_id"]) for r in read_lines(acks_path(state_dir)) if r.get("command_id")}


# -- reading (the executor) -----------------------------------------------------------------------
@dataclass(frozen=True)
class ChainPosition:
    """Where the executor stopped reading: the offset after the last line read and that line's hash."""

    offset: int = 0
    head: str = GENESIS
    head_len: int = 0  # bytes of the head line with its newline (0 at the start of the log)

    def to_doc(self) -> dict[str, Any]:
        return {"offset": self.offset, "head": self.head, "head_len": self.head_len}

    @classmethod
    def from_doc(cls, doc: Any) -> ChainPosition | None:
        try:
            pos = cls(int(doc["offset"]), str(doc["head"]), int(doc["head_len"]))
        except (KeyError, TypeError, ValueError):
            return None
        valid = pos.offset >= pos.head_len >= 0 and (pos.offset == 0) == (pos.head_len == 0) and len(pos.head) == 64
        return pos if valid else None

    @classmethod
    def at_end(cls, state_dir: Path) -> ChainPosition:
        """After the log's last complete line: what is in the log now is never applied."""
        path = commands_path(state_dir)
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return cls()
        try:
            size = os.fstat(fd).st_size
            data = os.pread(fd, min(size, MAX_LINE + 1), max(0, size - MAX_LINE - 1))
        finally:
            os.close(fd)
        end = data.rfind(b"\n")
        if end < 0:
            return cls()
        start = data.rfind(b"\n", 0, end) + 1
        offset = size - len(data) + end + 1
        return cls(offset, line_hash(data[start:end]), end + 1 - start)


@dataclass(frozen=True)
class Entry:
    """One thing the reader found: a chained line (`problem` "") or a refusal of tampering."""

    record: dict | None
    raw: str
    problem: str = ""
    hash: str = ""


class CommandReader:
    """Reads the lines appended since the last call and checks the chain (a torn last line waits)."""

    def __init__(self, state_dir: Path, position: ChainPosition | None = None):
        self.path = commands_path(state_dir)
        self.position = position or ChainPosition()
        self._checked: tuple[int, int, int] | None = None  # (size, inode, mtime) whose head was verified

    @property
    def offset(self) -> int:
        return self.position.offset

    def poll(self) -> list[Entry]:
        try:
            st = os.stat(self.path)
        except OSError:
            if self.position.offset:
                return self._reanchor(f"control log {self.path.name} disappeared (had {self.position.offset} bytes)")
            return []
        pos = self.position
        if st.st_size < pos.offset:
            return self._reanchor(f"control log truncated: {st.st_size} bytes, {pos.offset} already read")
        stamp = (st.st_size, st.st_ino, st.st_mtime_ns)
        if stamp == self._checked:
            return []
        with open(self.path, "rb") as fh:
            if pos.head_len:
                fh.seek(pos.offset - pos.head_len)
                line = fh.read(pos.head_len)
                if not line.endswith(b"\n") or line_hash(line[:-1]) != pos.head:
                    return self._reanchor(
                        f"control log replaced: the line ending at byte {pos.offset} is not the one read before"
                    )
            else:
                fh.seek(pos.offset)
            data = fh.read(st.st_size - pos.offset)
        self._checked = stamp
        out = []
        offset, head, head_len = pos.offset, pos.head, pos.head_len
        start = 0
        while (nl := data.find(b"\n", start)) >= 0:  # complete lines only: a torn last line waits
            line = data[start:nl]
            start = nl + 1
            h = line_hash(line)
            out.append(self._entry(line, head, h))
            offset, head, head_len = offset + len(line) + 1, h, len(line) + 1
        self.position = ChainPosition(offset, head, head_len)
        return out

    @staticmethod
    def _entry(raw: bytes, head: str, h: str) -> Entry:
        text = raw.decode("utf-8", "replace")
        if not raw.strip():
            return Entry(None, text, "blank line (the CLI never writes one)", h)
        if len(raw) > MAX_LINE:
            return Entry(None, text[:200], f"line of {len(raw)} bytes is not a command", h)
        try:
            rec = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            return Entry(None, text, "unreadable line", h)
        if not isinstance(rec, dict):
            return Entry(None, text, "line is not a JSON object", h)
        if rec.get("prev") != head:
            return Entry(rec, text, "line does not chain to the one before it (hand-written or copied)", h)
        return Entry(rec, text, "", h)

    def _reanchor(self, problem: str) -> list[Entry]:
        """Refuse what happened to the log and carry on after its current last line."""
        self.position = ChainPosition.at_end(self.path.parent)
        self._checked = None
        return [Entry(None, "", problem)]
