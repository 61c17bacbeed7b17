"""Operator commands the executor applies from the control log, flattening, and reconciliation.

A mixin of `execution.engine.Engine` (it works on the engine's state): kept apart so the trading
loop reads as a loop and the operator surface as an operator surface.
"""

from __future__ import annotations

import json

from execution import control, control_log
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.reconcile import Difference, reconcile_venue
from execution.trades import InFlight


class OperatorCommands:
    # ------------------------------------------------------------------------------------------
    # operator commands (control log) and flattening
    def poll_control(self) -> None:
        assert self.commands is not None
        for rec, raw in self.commands.poll():
            if rec is None:
                self.log.warning("[control] unreadable command line ignored: %.200s", raw)
                continue
            try:
                cmd = control_log.parse(rec)
            except control_log.BadCommand as exc:
                self._ack(rec.get("id", "?"), str(rec.get("cmd", "?")), str(rec.get("operator", "")), False, str(exc))
                continue
            self.apply_command(cmd)

    def apply_command(self, cmd: control_log.Command) -> None:
        st, now = self.control, cmd.ts
        if cmd.cmd == "hold":
            answer = control.hold(st, cmd.args["reason"], cmd.operator, now)
        elif cmd.cmd == "resume-request":
            answer = control.request_resume(st, cmd.operator, cmd.args["reason"], now)
        elif cmd.cmd == "resume-confirm":
            token = self.s.secret("APPROVE_TOKEN")
            expected = control_log.approval_proof(token, cmd.id) if token else ""
            answer = control.confirm_resume(st, cmd.operator, cmd.args["proof"], expected, now)
        elif cmd.cmd == "resume":
            answer = control.resume(st, cmd.operator, now)
        elif cmd.cmd == "kill":
            answer = control.kill(st, cmd.args["reason"], cmd.operator, now)
            self.flatten_all(f"kill by {cmd.operator}")
        elif cmd.cmd == "flatten":
            answer = control.Answer(
                True, f"flatten by {cmd.operator}: closing {len(self.ledger.positions)} position(s)"
            )
            self.flatten_all(f"flatten by {cmd.operator}")
        else:
            answer, result = self._arb_command(cmd)
            self._ack(cmd.id, cmd.cmd, cmd.operator, answer.ok, answer.message, result)
            return
        self._ack(cmd.id, cmd.cmd, cmd.operator, answer.ok, answer.message)

    def _arb_command(self, cmd: control_log.Command) -> tuple[control.Answer, dict | None]:
        """edge / preview / execute / flatten of the arbitrage engine, through its own gates."""
        if self.arb is None:
            return control.Answer(False, "the arbitrage engine is not running (config/arbitrage.json)"), None
        from execution.arb import ops

        try:
            if cmd.cmd == "arb-edge":
                return control.Answer(True, "current edges"), ops.edge(self.arb)
            if cmd.cmd == "arb-preview":
                return control.Answer(True, f"preview {cmd.args['pair']}"), ops.preview(
                    self.arb, cmd.args["pair"], cmd.args.get("size")
                )
            if cmd.cmd == "arb-execute":
                if self.control.holding:
                    return control.Answer(False, f"HOLD ({self.control.reason}): no new risk"), None
                result = ops.execute(self.arb, cmd.args["pair"], cmd.args.get("size"))
                if not result.get("accepted"):
                    return control.Answer(False, "refused: " + "; ".join(map(str, result.get("reasons", [])))), result
                return control.Answer(True, f"execute {cmd.args['pair']} started: {result.get('attempt_id')}"), result
            result = ops.flatten(self.arb)
            return control.Answer(True, f"closing {len(result['open_pairs_before'])} arbitrage pair(s)"), result
        except ops.OpsError as exc:
            return control.Answer(False, str(exc)), None

    def _ack(
        self, command_id: str, name: str, operator: str, ok: bool, message: str, result: dict | None = None
    ) -> None:
        now = self.wall_ms()
        self.log.info("[control] %s %s by %s: %s", name, "OK" if ok else "REFUSED", operator or "?", message)
        self.publish(now, force=True)  # state first: a CLI that sees the ack then reads the new mode
        ack = {
            "id": f"ack:{command_id}",
            "command_id": command_id,
            "cmd": name,
            "operator": operator,
            "ok": ok,
            "message": message,
            "ts": now,
            "market_ts": self.cycle_ts,
            "mode": self.control.mode,
        }
        if result is not None:
            ack["result"] = json.loads(json.dumps(result, default=str))
        self._journal("acks", ack)
        self.alert(
            f"op:{command_id}",
            now,
            "operator",
            f"{name} by {operator or '?'}: {'done' if ok else 'REFUSED'} - {message}",
            command=name,
            ok=ok,
        )

    def flatten_all(self, reason: str) -> None:
        """Close every position with the right position side; cancel resting entries."""
        for cid, flight in list(self.in_flight.items()):
            if not flight.request.reduce_only:
                venue = self.venues[flight.request.venue]
                if not self.cancel_rate.allow(self.cycle_ts):
                    self.trip("cancel_rate", f"cancel of {cid} would exceed MAX_CANCELS_PER_MIN", self.cycle_ts)
                    break
                try:
                    venue.cancel_order(flight.request.symbol, cid)
                    del self.in_flight[cid]
                except VenueError as exc:
                    self.log.error("[executor] ORDER_ERR code=%s cancel %s: %s", exc.code, cid, exc.message)
        if self.arb is not None:
            self.arb.flatten(self.cycle_ts, reason=reason)
        for venue, symbol, pside in list(self.ledger.positions):
            trade = self.trades.get((venue, symbol))
            if trade is not None and trade.exit_pending:
                continue
            self.close_position(venue, symbol, pside, "flatten", self.cycle_ts, note=reason)
        self.control.flatten_pending = bool(self.ledger.positions) or any(
            f.request.reduce_only for f in self.in_flight.values()
        )

    def reconcile(self, ts: int) -> list[Difference]:
        """Compare books with every venue; journal and show differences; change nothing."""
        diffs: list[Difference] = []
        ours_open = {cid for cid, f in self.in_flight.items()}
        for name, venue in self.venues.items():
            for cid, flight in list(self.in_flight.items()):
                if flight.unknown and flight.request.venue == name:
                    self._resolve_unknown(venue, cid, flight)
            diffs.extend(
                reconcile_venue(
                    venue,
                    self.ledger.positions,
                    {c for c in ours_open if self.in_flight.get(c) and self.in_flight[c].request.venue == name},
                )
            )
        self.reconciliation = [d.record(ts) for d in diffs]
        for d, rec in zip(diffs, self.reconciliation, strict=False):
            self.log.warning("[state] RECONCILE %s %s %s: %s", d.kind, d.venue, d.symbol or "-", d.detail)
            self._journal("incidents", rec)
        self.log.info("[state] reconciliation done: %d difference(s) across %d venue(s)", len(diffs), len(self.venues))
        return diffs

    def _resolve_unknown(self, venue: Venue, cid: str, flight: InFlight) -> None:
        try:
            order = venue.get_order(flight.request.symbol, cid)
        except VenueError as exc:
            self.log.error("[executor] ORDER_ERR code=%s query %s: %s", exc.code, cid, exc.message)
            return
        if order is None:
            self.log.warning("[state] RECONCILE %s never reached %s: safe to decide again", cid, venue.name)
            del self.in_flight[cid]
        else:
            flight.unknown = False
            self.log.info(
                "[state] RECONCILE %s found on %s: status=%s filled=%s",
                cid,
                venue.name,
                order.status.value,
                order.filled_qty,
            )
            if order.status.is_final and order.filled_qty == 0:
                del self.in_flight[cid]
