"""Operator commands from the control log, applied by the executor and acknowledged.

The CLI appends commands; the executor is the only writer of trading state, so it reads them
here, applies each through the pure control state machine (`execution/control.py`) or the
handler a strategy registered (e.g. `arb-execute`), publishes the new state and only then
journals the acknowledgement (a CLI that sees the ack reads the new mode).

`cancel TARGET` withdraws a command that is still queued: the commands read in one poll are
scanned for cancels first, so a command queued while the executor was down and cancelled
before it came back is acknowledged as withdrawn and never applied. A cancel that comes after
its target was applied is refused ("too late").
Each command id is applied at most once, across restarts (`applied_ids` starts as every id the
acknowledgements journal holds). Whatever the reader refuses (a truncated or replaced log, a
line outside the hash chain) and any id seen before is tampering: journaled as an incident,
alerted, and HOLD is set by the `control_log` breaker, which only a two-man resume clears. Time
is the executor's own clock (`wall_ms`), never the time a command says it was written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from execution import capital_flows, control, control_log, logs
from execution.bookings import Bookings
from execution.control import Answer
from execution.portfolio import Performance
from execution.strategy import CommandHandler, StrategyContext

TAMPER_BREAKER = "control_log"


class OperatorPort(StrategyContext, Protocol):
    """What applying a command may do to the engine."""

    perf: Performance

    def flatten_all(self, reason: str) -> None: ...

    bookings: Bookings

    def publish(self, now: int | None = None, force: bool = False) -> None: ...

    def wall_ms(self) -> int: ...


def _cancels(batch: list[tuple[dict | None, str]]) -> dict[str, control_log.Command]:
    """target id -> the first valid cancel of it in this batch, for targets queued before it."""
    seen: set[str] = set()
    out: dict[str, control_log.Command] = {}
    for rec, _ in batch:
        if rec is None:
            continue
        try:
            cmd = control_log.parse(rec)
        except control_log.BadCommand:
            continue
        if cmd.cmd == "cancel":
            target = cmd.args["target"]
            if target in seen and target not in out:
                out[target] = cmd
        seen.add(cmd.id)
    return out


class CommandApplier:
    def __init__(
        self,
        reader: control_log.CommandReader,
        approve_token: Callable[[], str],
        strategy_commands: Mapping[str, CommandHandler] | None = None,
        applied_ids: Iterable[str] = (),
    ):
        self.reader = reader
        self.approve_token = approve_token
        self.strategy_commands = dict(strategy_commands or {})
        self.applied: set[str] = set(applied_ids)
        self.log = logs.get()

    @property
    def offset(self) -> int:
        """Where the next poll reads the control log."""
        return self.reader.offset

    @property
    def position(self) -> control_log.ChainPosition:
        """Offset and head hash of the control log: kept in the restart snapshot."""
        return self.reader.position

    def poll(self, port: OperatorPort) -> None:
        entries = self.reader.poll()
        chained = [e for e in entries if not e.problem and str((e.record or {}).get("id", "")) not in self.applied]
        withdrawn = _cancels([(e.record, e.raw) for e in chained])  # only lines in the chain may cancel
        for entry in entries:
            if entry.problem:
                self.refuse_tampering(port, entry.problem, entry)
                continue
            rec = entry.record or {}
            cid = str(rec.get("id", ""))
            if cid in self.applied:
                self.refuse_tampering(port, f"command {cid} was applied before: a replayed line", entry)
                continue
            if cid:
                self.applied.add(cid)
            try:
                cmd = control_log.parse(rec)
            except control_log.BadCommand as exc:
                self._ack(port, cid or "?", str(rec.get("cmd", "?")), str(rec.get("operator", "")), False, str(exc))
                continue
            cancel = withdrawn.get(cmd.id)
            if cancel is not None and cmd.cmd != "cancel":
                msg = f"withdrawn by {cancel.operator} ({cancel.id}) before it was applied"
                self._ack(port, cmd.id, cmd.cmd, cmd.operator, False, msg)
                continue
            if cmd.cmd == "cancel":
                target = cmd.args["target"]
                if target in withdrawn and withdrawn[target].id == cmd.id:
                    self._ack(port, cmd.id, cmd.cmd, cmd.operator, True, f"withdrew {target} before it was applied")
                else:
                    msg = f"too late or unknown: {target} was not waiting in the queue (see ctl alerts)"
                    self._ack(port, cmd.id, cmd.cmd, cmd.operator, False, msg)
                continue
            self.apply(cmd, port)

    def apply(self, cmd: control_log.Command, port: OperatorPort) -> None:
        answer, result = self._answer(cmd, port)
        self._ack(port, cmd.id, cmd.cmd, cmd.operator, answer.ok, answer.message, result)

    def refuse_tampering(self, port: OperatorPort, problem: str, entry: control_log.Entry | None = None) -> None:
        """Journal, alert and HOLD: nothing of a tampered log is applied."""
        now = port.wall_ms()
        rec = entry.record if entry is not None and entry.record else {}
        digest = (entry.hash if entry is not None and entry.hash else "") or hashlib.sha256(
            f"{problem}|{now}".encode()
        ).hexdigest()
        line = {k: str(rec[k])[:80] for k in ("id", "cmd", "operator") if k in rec}  # never args: a proof stays local
        self.log.error("[control] TAMPER refused: %s %s -> HOLD", problem, json.dumps(line) if line else "")
        port.journal(
            "incidents",
            {"id": f"control-tamper:{digest[:32]}", "ts": now, "kind": "control_log_tamper", "detail": problem, **line},
        )
        if control.trip(port.control, TAMPER_BREAKER, problem, now):
            self.log.warning("[risk] BREAKER %s tripped: %s -> HOLD", TAMPER_BREAKER, problem)
        port.alert(
            f"tamper:{digest[:32]}",
            now,
            "breaker",
            f"CONTROL LOG TAMPERING refused: {problem} -> HOLD",
            name="control_log",
        )
        port.publish(now, force=True)

    def _answer(self, cmd: control_log.Command, port: OperatorPort) -> tuple[Answer, dict | None]:
        st, now = port.control, port.wall_ms()
        if cmd.cmd == "hold":
            return control.hold(st, cmd.args["reason"], cmd.operator, now), None
        if cmd.cmd == "resume-request":
            return control.request_resume(st, cmd.operator, cmd.args["reason"], now, request_id=cmd.id), None
        if cmd.cmd == "resume-confirm":
            token = self.approve_token()
            request_id = str((st.resume_request or {}).get("id", ""))
            expected = control_log.approval_proof(token, cmd.id, request_id, cmd.operator) if token else ""
            return control.confirm_resume(st, cmd.operator, cmd.args["proof"], expected, now), None
        if cmd.cmd == "resume":
            approval = st.resume_approved
            answer = control.resume(st, cmd.operator, now)
            if answer.ok and approval:
                self._rebase(port, cmd, approval, now)
            return answer, None
        if cmd.cmd == "kill":
            answer = control.kill(st, cmd.args["reason"], cmd.operator, now)
            port.flatten_all(f"kill by {cmd.operator}")
            return answer, None
        if cmd.cmd == "flatten":
            answer = Answer(True, f"flatten by {cmd.operator}: closing {len(port.ledger.positions)} position(s)")
            port.flatten_all(f"flatten by {cmd.operator}")
            return answer, None
        if cmd.cmd == "capital-flow":
            return self._capital_flow(cmd, port)
        handler = self.strategy_commands.get(cmd.cmd)
        if handler is None:
            if cmd.cmd.startswith("arb-"):
                return Answer(False, "the arbitrage engine is not running (config/arbitrage.json)"), None
            return Answer(False, f"no running component answers {cmd.cmd!r}"), None
        return handler(cmd, port)

    def _capital_flow(self, cmd: control_log.Command, port: OperatorPort) -> tuple[Answer, dict | None]:
        """An off-venue deposit or withdrawal: NAV moves by it, P&L does not (paper too)."""
        try:
            amount = capital_flows.parse_amount(cmd.args["amount"])
            capital_flows.check_off_venue(port.ledger.off_venue_cash, amount)
            ts = port.cycle_ts or cmd.ts  # market time: the NAV point of this instant includes it
            flow = capital_flows.operator_flow(cmd.id, ts, amount, cmd.args["note"], cmd.operator)
        except capital_flows.BadFlow as exc:
            return Answer(False, str(exc)), None
        port.bookings.book_capital_flow(flow)
        nav = port.bookings.nav()
        direction = "deposit" if amount > 0 else "withdrawal"
        message = f"off-venue {direction} of {abs(amount)} USDT booked ({flow.id}); NAV now {nav:,.2f} USDT"
        return Answer(True, message), {"flow": flow.record(), "nav": nav}

    def _rebase(self, port: OperatorPort, cmd: control_log.Command, approval: dict, now: int) -> None:
        """An approved resume re-bases the drawdown breaker's reference to the NAV it measures now (the
        ledger's or the venues' equity, as booked this cycle); the daily stop re-arms by itself."""
        nav = port.perf.last_nav
        record = port.perf.rebase(
            port.cycle_ts,
            nav,
            requested_by=str(approval.get("requested_by", "")),
            confirmed_by=str(approval.get("confirmed_by", "")),
            resumed_by=cmd.operator,
        )
        self.log.warning(
            "[risk] drawdown breaker reference re-based to NAV %.2f (drawdown reference was %s, fund peak %s) on the "
            "resume requested by %s and confirmed by %s",
            nav,
            record["previous_dd_ref_nav"],
            record["peak_nav"],
            record["requested_by"],
            record["confirmed_by"],
        )
        port.journal(
            "incidents", {"id": f"rebase:{cmd.id}", "kind": "risk_reference_rebased", "wall_ts": now, **record}
        )

    def _ack(
        self,
        port: OperatorPort,
        command_id: str,
        name: str,
        operator: str,
        ok: bool,
        message: str,
        result: dict[str, Any] | None = None,
    ) -> None:
        now = port.wall_ms()
        self.log.info("[control] %s %s by %s: %s", name, "OK" if ok else "REFUSED", operator or "?", message)
        port.publish(now, force=True)  # state first: a CLI that sees the ack then reads the new mode
        ack: dict[str, Any] = {
            "id": f"ack:{command_id}",
            "command_id": command_id,
            "cmd": name,
            "operator": operator,
            "ok": ok,
            "message": message,
            "ts": now,
            "market_ts": port.cycle_ts,
            "mode": port.control.mode,
        }
        if result is not None:
            ack["result"] = json.loads(json.dumps(result, default=str))
        port.journal("acks", ack)
        port.alert(
            f"op:{command_id}",
            now,
            "operator",
            f"{name} by {operator or '?'}: {'done' if ok else 'REFUSED'} - {message}",
            command=name,
            ok=ok,
        )
