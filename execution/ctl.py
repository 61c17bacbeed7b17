"""Operator CLI: read the fund's state, and send commands the executor applies and acknowledges.

    python -m execution.ctl status [--json]            (also: python scripts/hedgectl.py ...)
    python -m execution.ctl alerts [-n 20] [--json]
    python -m execution.ctl hold --reason TEXT
    python -m execution.ctl resume-request --reason TEXT
    python -m execution.ctl resume-confirm [--token-file FILE]
    python -m execution.ctl resume
    python -m execution.ctl kill --reason TEXT
    python -m execution.ctl flatten
    python -m execution.ctl denylist-reload               re-read DENYLIST_FILE (as SIGHUP does)
    python -m execution.ctl queue [--json]                commands written but not acknowledged yet
    python -m execution.ctl cancel ID                     withdraw a queued command before it is applied
    python -m execution.ctl export-log --out FILE
    python -m execution.ctl edge [--json]                 arbitrage: current net edges
    python -m execution.ctl preview PAIR [SIZE]           arbitrage: projected PnL + rescue plan
    python -m execution.ctl execute PAIR [SIZE]           arbitrage: enter through the normal gates
    python -m execution.ctl arb-flatten                   arbitrage: close every pair
    python -m execution.ctl capital-flow --amount X --note TEXT
                                                          an off-venue deposit (+X) or withdrawal (-X)

The CLI never writes trading state: commands go to the control log, the executor applies them
and writes an acknowledgement, which the CLI waits for (--timeout, default 15 s). A command
that got no acknowledgement stays queued: `queue` lists it, `cancel ID` withdraws it. Every
command names its operator: the OS user running the CLI (a bare root is refused).
Exit codes: 0 done, 1 refused, 2 bad usage, 3 the executor did not acknowledge in time,
4 (`status` only) the executor is DOWN: no state written for WATCHDOG_STALE_S (default 300 s), or
no state at all; 5 (`status`) health_state 1 DEGRADED (a guard active, stale data on some
symbols, a repair pending); 6 (`status`) health_state 2 HALTED (HOLD, kill, all data stale).
The operator is whoever runs the CLI, as the operating system says (the login, or SUDO_USER
under sudo: `execution/operators.py`); it is never an argument. The approval token for
resume-confirm comes from --token-file, else APPROVE_TOKEN in the process environment (never
from .env, so the operator who runs the executor does not hold it by default), else a prompt;
never from the command line, where `ps` would show it. It never leaves this process: only an
HMAC bound to this command, the pending request and this operator does.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import time
from pathlib import Path

from execution import clock, control_log
from execution.ctl_status import (  # noqa: F401 - the CLI's read API and exit codes, used by the bot and tests
    EXIT_DEGRADED,
    EXIT_DOWN,
    EXIT_HALTED,
    EXIT_OK,
    EXIT_REFUSED,
    print_status,
    queued,
    reader_settings,
    status_command,
    status_data,
    status_exit_code,
    utc_text,
)
from execution.logs import redact
from execution.operator_numbers import int_arg, seconds_arg
from execution.operators import invoking_operator
from execution.settings import (
    ConfigError,
    Credentials,
    StoreEnv,
    process_env_over_file,
    read_env,
    secret_values,
)
from execution.settings.paths import directory_problem, output_file_arg
from execution.state.atomic import read_json, read_lines, write_text
from execution.state.layout import COLLECTION_FILES
from execution.terminal_text import InertWriter

EXIT_USAGE, EXIT_NO_ACK = 2, 3  # the others (0 done, 1 refused, 4-6 `status`) in execution/ctl_status.py
WRITE_COMMANDS = ("hold", "resume-request", "resume-confirm", "resume", "kill", "flatten", "cancel", "denylist-reload")
EPILOG = """exit codes: 0 done, 1 refused (the reason is printed), 2 bad usage, 3 the executor did not
acknowledge (the command stays queued: see `queue`, withdraw with `cancel ID`), 4 (status) the
executor is DOWN or there is no state, 5 (status) up but health_state 1 DEGRADED, 6 (status) up
but health_state 2 HALTED. The operator is the OS user running the CLI (the login, or SUDO_USER
under sudo); the approval token comes from a prompt, --token-file or $APPROVE_TOKEN."""


class UsageError(Exception):
    pass


def _state_dir(args) -> Path:
    path = Path(args.state_dir) if args.state_dir else read_env(StoreEnv, process_env_over_file()).state_dir
    problem = directory_problem(path)
    if problem:
        where = "command line" if args.state_dir else ".env"
        raise ConfigError(where, "--state-dir" if args.state_dir else "STATE_DIR", "a directory", f"{path} ({problem})")
    return path


def _operator(command: str) -> str:
    """Who sends the command: the OS user running the CLI (SUDO_USER under sudo: execution/operators.py),
    never an argument; a bare `root` is refused, as it says nothing about who acted."""
    name = invoking_operator()
    if name == "root":
        raise UsageError(
            f"{command}: who is acting? run the CLI as yourself or through sudo (the operator is the OS user, "
            "and it is journaled)"
        )
    return name


def _pending_request_id(state_dir: Path) -> str:
    """The id of the resume request waiting for a confirmation, from the executor's local control
    document (the CLI runs beside the executor; Firestore may lag by a minute)."""
    try:
        doc = read_json(state_dir / "state" / "control.json")
    except (OSError, ValueError):
        return ""
    req = doc.get("resume_request") if isinstance(doc, dict) else None
    return str(req.get("id", "")) if isinstance(req, dict) else ""


def _read_token(args) -> str:
    """--token-file, else $APPROVE_TOKEN, else a prompt on a terminal; "" when none."""
    if args.token_file:
        try:
            return Path(args.token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"--token-file {args.token_file}: cannot read it ({exc.__class__.__name__})") from None
    return read_env(Credentials).approve_token.get_secret_value() or (
        getpass.getpass("approval token: ") if sys.stdin.isatty() else ""
    )


def _arbitrage_doc(state_dir: Path) -> dict:
    from execution.state.open import open_reader

    return open_reader(reader_settings(state_dir)).snapshot().doc("arbitrage")


def alerts_data(state_dir: Path, n: int) -> list[dict]:
    return read_lines(state_dir / COLLECTION_FILES["alerts"])[-n:]


def export_log(state_dir: Path, out: Path, secrets: tuple[str, ...]) -> int:
    records = []
    for collection, name in sorted(COLLECTION_FILES.items()):
        for rec in read_lines(state_dir / name):
            rec = dict(rec)
            if isinstance(rec.get("args"), dict) and "proof" in rec["args"]:
                rec["args"] = {**rec["args"], "proof": "***"}
            records.append((rec.get("ts", 0), collection, rec))
    records.sort(key=lambda x: (x[0], x[1]))
    lines = [
        redact(json.dumps({"journal": c, **r}, default=str, separators=(",", ":")), secrets) for _, c, r in records
    ]
    write_text(out, "".join(line + "\n" for line in lines))
    return len(lines)


# -- write commands -------------------------------------------------------------------------------
def send(state_dir: Path, cmd: str, operator: str, timeout_s: float, **args: str) -> tuple[int, str]:
    code, message, _ = send_with_result(state_dir, cmd, operator, timeout_s, **args)
    return code, message


def send_with_result(
    state_dir: Path, cmd: str, operator: str, timeout_s: float, **args: str
) -> tuple[int, str, dict | None]:
    if not (state_dir / "state").is_dir():
        raise UsageError(f"no executor state in {state_dir}: is STATE_DIR right and has the executor run?")
    command = control_log.new_command(cmd, operator, clock.wall_ms(), **args)
    if cmd == "resume-confirm":  # bind the token to this command, request and operator; the token stays here
        proof = control_log.approval_proof(args["proof"], command.id, _pending_request_id(state_dir), operator)
        command = control_log.Command(command.id, command.ts, cmd, command.operator, {"proof": proof})
    command = control_log.append_command(state_dir, command)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ack = control_log.find_ack(state_dir, command.id)
        if ack is not None:
            return (EXIT_OK if ack["ok"] else EXIT_REFUSED), ack["message"], ack.get("result")
        time.sleep(0.1)
    return (
        EXIT_NO_ACK,
        (
            f"the executor did not acknowledge {cmd} ({command.id}) within {timeout_s:g}s: "
            "is it running (supervisorctl status hedge-executor)? The command stays queued."
        ),
        None,
    )


REFUSED_OPTIONS = {
    "--operator": "the operator is the OS user running the CLI (the login, or SUDO_USER under sudo)",
    "--token": "a token on the command line shows in `ps`; use --token-file, $APPROVE_TOKEN or the prompt",
}


def _refused_options(p: argparse.ArgumentParser) -> None:
    """Options that used to exist: refused with the reason instead of "unrecognized arguments"."""
    for flag in REFUSED_OPTIONS:
        p.add_argument(flag, dest=f"refused_{flag.strip('-')}", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="hedgectl",
        description="Hedge Fund Bot operator CLI (python -m execution.ctl = scripts/hedgectl.py).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--state-dir", help="STATE_DIR (default: $STATE_DIR, .env, or data/)")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, helptext: str, writes: bool = False) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=helptext, description=helptext, epilog=EPILOG)
        if writes:
            _refused_options(p)  # --operator and --token: refused with the reason
            p.add_argument("--timeout", type=seconds_arg(600), default=15.0, help="seconds to wait for the ack (15)")
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    command(
        "status",
        "mode, HOLD reasons, health and guards, flags, heartbeat, counters, limits, positions, exposure, queue "
        "(exit 0 healthy, 4 down, 5 degraded, 6 halted)",
    )
    p = command("alerts", "recent ops alerts (breakers, operator actions, rescues)")
    p.add_argument("-n", type=int_arg(1, 100_000), default=20, help="how many (20)")
    p = sub.add_parser("export-log", help="export every journal, merged by time, secrets redacted")
    p.add_argument("--out", required=True, type=output_file_arg, help="the file to write")
    command("queue", "commands written to the control log that the executor has not acknowledged yet")
    command("edge", "arbitrage: current net edges per configured pair (from the state)")
    for name, helptext in (
        ("preview", "arbitrage: projected PnL after all costs + rescue plan, nothing sent"),
        ("execute", "arbitrage: enter a pair through the same gates as the automatic loop"),
    ):
        p = command(name, helptext, writes=True)
        p.add_argument("pair", help="e.g. BTC-USDT")
        p.add_argument("size", nargs="?", help="base units (default: the configured size)")
    p = command(
        "capital-flow", "record an off-venue deposit (+) or withdrawal (-): NAV moves, P&L does not", writes=True
    )
    p.add_argument("--amount", required=True, help="USDT, + in / - out (e.g. 5000 or -1200.50)")
    p.add_argument("--note", required=True, help="what it is (subscription, redemption, ...)")
    command("arb-flatten", "arbitrage: close every pair, delta back to ~0", writes=True)
    for name, helptext, needs_reason in (
        ("hold", "set HOLD: no new risk (closes and cancels still go); a second hold adds its reason", True),
        ("resume-request", "two-man resume, step 1: operator A asks to leave HOLD", True),
        ("resume-confirm", "two-man resume, step 2: operator B (another person) approves with APPROVE_TOKEN", False),
        ("resume", "two-man resume, step 3: set RUN after an approved request", False),
        ("kill", "kill switch: HOLD and close every position", True),
        ("flatten", "close every position; the mode is unchanged", False),
        ("denylist-reload", "re-read the denylist (DENYLIST_FILE) without a restart, as SIGHUP does", False),
    ):
        p = command(name, helptext, writes=True)
        if needs_reason:
            p.add_argument("--reason", required=True, help="why (journaled, shown in status)")
        if name == "resume-confirm":
            p.add_argument(
                "--token-file", help="a file holding the approval token (else $APPROVE_TOKEN, else a prompt)"
            )
    p = command("cancel", "withdraw a queued command (see `queue`) before the executor applies it", writes=True)
    p.add_argument("target", metavar="ID", help="the command's id, as `queue` shows it")
    return ap


def main(argv: list[str] | None = None) -> int:
    """Runs a command; a closed stdout (`ctl status | head -3`) ends it quietly. What it prints
    passes through `inert`: incidents carry venues' and Telegram users' text."""
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = InertWriter(sys.stdout), InertWriter(sys.stderr)
    try:
        code = _main(argv)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader went away: nothing more to say to it, and no traceback for the operator
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        sys.stdout, sys.stderr = streams


def _main(argv: list[str] | None = None) -> int:  # noqa: C901 - one dispatch over the subcommands
    ap = build_parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    for flag, why in REFUSED_OPTIONS.items():
        if getattr(args, f"refused_{flag.strip('-')}", None) is not None:
            print(f"error: {flag} is not accepted: {why}", file=sys.stderr)
            return EXIT_USAGE
    try:
        state_dir = _state_dir(args)
        if args.command == "status":
            return status_command(state_dir, args.json)
        if args.command == "alerts":
            rows = alerts_data(state_dir, args.n)
            if args.json:
                print(json.dumps(rows, indent=1, default=str))
            else:
                for r in rows:
                    print(f"{utc_text(r.get('ts'))} {r.get('kind', '?'):<9} {r.get('text', r)}")
                if not rows:
                    print("no alerts")
            return EXIT_OK
        if args.command == "queue":
            return _print_queue(state_dir, args.json)
        if args.command == "export-log":
            n = export_log(state_dir, args.out, secret_values(process_env_over_file()))
            print(f"exported {n} journal records to {args.out}")
            return EXIT_OK
        if args.command == "edge":
            arb = status_data(state_dir)
            doc = _arbitrage_doc(state_dir)
            if args.json:
                print(json.dumps(doc, indent=1, default=str))
            elif not doc:
                print("arbitrage engine not running (no state/arbitrage.json)")
            else:
                for p in doc.get("pairs", []):
                    print(
                        f"{p.get('pair')}: net {p.get('net_edge_bps')} bps (gross {p.get('gross_edge_bps')}, basis mean "
                        f"{p.get('basis_mean_bps')}) {p.get('direction', '')}; " + "; ".join(p.get("reasons", []))
                    )
                print(f"open pairs: {len(arb['open_arbitrage_pairs'])}")
            return EXIT_OK
        operator = _operator(args.command)
        if args.command == "cancel":
            refused = _cancel_refusal(state_dir, args.target)
            if refused is not None:
                code, message = refused
                print(
                    json.dumps({"command": "cancel", "exit_code": code, "message": message}) if args.json else message
                )
                return code
        extra = {}
        if args.command in ("preview", "execute"):
            extra["pair"] = args.pair
            if args.size:
                extra["size"] = args.size
        if args.command in ("hold", "resume-request", "kill"):
            extra["reason"] = args.reason
        if args.command == "cancel":
            extra["target"] = args.target
        if args.command == "capital-flow":
            extra["amount"], extra["note"] = args.amount, args.note
        if args.command == "resume-confirm":
            token = _read_token(args)
            if not token:
                raise UsageError("resume-confirm needs the approval token (--token-file, $APPROVE_TOKEN or the prompt)")
            extra["proof"] = token
        wire = {"preview": "arb-preview", "execute": "arb-execute"}.get(args.command, args.command)
        code, message, result = send_with_result(state_dir, wire, operator, args.timeout, **extra)
        if args.json:
            print(
                json.dumps(
                    {"command": args.command, "exit_code": code, "message": message, "result": result}, default=str
                )
            )
        else:
            print(("OK: " if code == EXIT_OK else "REFUSED: " if code == EXIT_REFUSED else "NO ACK: ") + message)
            if result is not None:
                print(json.dumps(result, indent=1, default=str))
        return code
    except (UsageError, control_log.BadCommand, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _print_queue(state_dir: Path, as_json: bool) -> int:
    rows = [{k: c.get(k) for k in ("id", "ts", "cmd", "operator", "args")} for c in queued(state_dir)]
    for r in rows:
        args = r.get("args")
        if isinstance(args, dict) and "proof" in args:
            r["args"] = {**args, "proof": "***"}
    if as_json:
        print(json.dumps(rows, indent=1, default=str))
        return EXIT_OK
    for r in rows:
        args = " ".join(f"{k}={v!r}" for k, v in (r.get("args") or {}).items())
        print(f"{r['id']}  {utc_text(r.get('ts'))}  {r['cmd']:<14} by {r['operator']}  {args}".rstrip())
    print(f"{len(rows)} command(s) queued, not acknowledged" + ("; withdraw one with `cancel ID`" if rows else ""))
    return EXIT_OK


def _cancel_refusal(state_dir: Path, target: str) -> tuple[int, str] | None:
    """Why `cancel target` cannot be sent (already applied, unknown), or None to send it."""
    ack = control_log.find_ack(state_dir, target)
    if ack is not None:
        return EXIT_REFUSED, f"REFUSED: too late: {target} was already applied ({ack.get('message', '')})"
    if not any(c.get("id") == target for c in queued(state_dir)):
        return EXIT_USAGE, f"REFUSED: {target} is not a queued command (see `ctl queue`)"
    return None


if __name__ == "__main__":
    sys.exit(main())
