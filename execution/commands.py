"""Operator commands from the control log, applied by the executor and acknowledged.

The CLI appends commands; the executor is the only writer of trading state, so it reads them
here, applies each through the pure control state machine (`execution/control.py`) or the
handler a strategy registered (e.g. `arb-execute`), publishes the new state and only then
journals the acknowledgement (a CLI that sees the ack reads the new mode).

`cancel TARGET` withdraws a command that is still queued: the commands read in one poll are
scanned for cancels first, so a command queued while the executor was down and cancelled
before it came back is acknowledged as withdrawn and never applied. A cancel that comes after
its target was applied is refused ("too late").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from execution import capital_flows, control, control_log, logs
from execution.bookings import Bookings
from execution.control import Answer
from execution.strategy import CommandHandler, StrategyContext


class OperatorPort(StrategyContext, Protocol):
    """What applying a command may do to the engine."""

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
    ):
        self.reader = reader
        self.approve_token = approve_token
        self.strategy_commands = dict(strategy_commands or {})
        self.log = logs.get()

    @property
    def offset(self) -> int:
        """Where the next poll reads the control log (kept in the restart snapshot)."""
        return self.reader.offset

    def poll(self, port: OperatorPort) -> None:
        batch = self.reader.poll()
        withdrawn = _cancels(batch)
        for rec, raw in batch:
            if rec is None:
                self.log.warning("[control] unreadable command line ignored: %.200s", raw)
                continue
            try:
                cmd = control_log.parse(rec)
            except control_log.BadCommand as exc:
                self._ack(
                    port, rec.get("id", "?"), str(rec.get("cmd", "?")), str(rec.get("operator", "")), False, str(exc)
                )
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

    def _answer(self, cmd: control_log.Command, port: OperatorPort) -> tuple[Answer, dict | None]:
        st, now = port.control, cmd.ts
        if cmd.cmd == "hold":
            return control.hold(st, cmd.args["reason"], cmd.operator, now), None
        if cmd.cmd == "resume-request":
            return control.request_resume(st, cmd.operator, cmd.args["reason"], now), None
        if cmd.cmd == "resume-confirm":
            token = self.approve_token()
            expected = control_log.approval_proof(token, cmd.id) if token else ""
            return control.confirm_resume(st, cmd.operator, cmd.args["proof"], expected, now), None
        if cmd.cmd == "resume":
            return control.resume(st, cmd.operator, now), None
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
