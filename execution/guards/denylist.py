"""Denylist guard: symbols that are never traded, reloaded without a restart.

New risk on a listed symbol is refused (exits always go): the screener's orders (`vet`) and the
legs of an arbitrage pair's entry (`vet_hedge_leg`: either venue's symbol listed refuses the pair). The file (`DENYLIST_FILE` in
CONFIG_DIR, format in `execution/denylist.py`) is read at start by the settings (a bad file:
exit 2) and again:
    on SIGHUP            `supervisorctl signal HUP hedge-executor`: the signal handler only sets a
                         flag (`request_reload`); the loop reloads at the end of its market instant
    on `denylist-reload` the operator command through the control log (`ctl denylist-reload`),
                         acknowledged with what changed
A file that cannot be read or parsed keeps the previous list, and says why (the command is
refused with the line at fault); it is read as strictly as at start (`settings/text_file.py`: a
directory, a FIFO, binary data or a dangling link are refused). A file that is gone means an
empty list.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

from execution import logs
from execution.control import Answer
from execution.control_log import Command
from execution.denylist import Denylist, DenylistError, parse
from execution.guard import BaseGuard, GuardContext, report
from execution.models import Intent
from execution.settings.errors import ConfigError
from execution.settings.text_file import read_text_file
from execution.strategy import CommandHandler, StrategyContext

RELOAD_COMMAND = "denylist-reload"


class DenylistGuard(BaseGuard):
    name = "denylist"

    def __init__(self, path: Path | None, entries: frozenset[tuple[str, str]] = frozenset()):
        self.path = path
        self.list = Denylist(entries)
        self.refused = 0
        self.reloads = 0
        self.reload_requested = False  # set by the SIGHUP handler, read by the loop
        self.log = logs.get()

    def request_reload(self) -> None:
        """Safe from a signal handler: only sets a flag the loop reads at the end of its next
        market instant (a live feed ticks every second even when the market is quiet)."""
        self.reload_requested = True

    def on_cycle_end(self, ts: int, ctx: GuardContext) -> None:
        if self.reload_requested:
            self.reload_requested = False
            self.reload(ctx, "SIGHUP", ts)

    def reload(self, ctx: StrategyContext, by: str, ts: int) -> Answer:
        if self.path is None:
            return Answer(False, "no DENYLIST_FILE configured in risk_limits.json: nothing to reload")
        try:
            text = read_text_file(self.path) or ""  # the reader the start used: same refusals, one line
        except ConfigError as exc:
            return self._refused(str(exc).removeprefix("config error: "))
        try:
            new = parse(text)
        except DenylistError as exc:
            return self._refused(f"{self.path} {exc}")
        old = self.list
        self.list = new
        self.reloads += 1
        added = sorted(set(new.names()) - set(old.names()))
        removed = sorted(set(old.names()) - set(new.names()))
        text = (
            f"{len(new.entries)} symbol(s) from {self.path.name} ({by})"
            + (f"; added {', '.join(added)}" if added else "")
            + (f"; removed {', '.join(removed)}" if removed else "")
            + ("" if added or removed else "; no change")
        )
        report(ctx, self.name, "RELOAD", ts, text, alert=False, denied=new.names(), by=by)
        return Answer(True, f"denylist reloaded: {text}")

    def _refused(self, why: str) -> Answer:
        self.log.error(
            "[risk] GUARD denylist RELOAD refused: %s; keeping the previous %d symbol(s)", why, len(self.list.entries)
        )
        return Answer(False, f"{why}; the previous denylist ({len(self.list.entries)} symbol(s)) stays in force")

    def commands(self) -> Mapping[str, CommandHandler]:
        def handle(cmd: Command, ctx: StrategyContext) -> tuple[Answer, dict | None]:
            answer = self.reload(ctx, f"{RELOAD_COMMAND} by {cmd.operator}", ctx.cycle_ts)
            return answer, {"denied": self.list.names()}

        return {RELOAD_COMMAND: handle}

    def denied(self, venue: str, symbol: str) -> str | None:
        """The rule, for the router's orders and the arbitrage loop's legs alike."""
        if not self.list.denies(venue, symbol):
            return None
        return f"{venue}:{symbol} is on the denylist ({self.path.name if self.path else 'DENYLIST_FILE'})"

    def vet(self, intent: Intent, ctx: GuardContext) -> str | None:
        why = self.denied(intent.venue, intent.symbol)
        if why is not None:
            self.refused += 1
        return why

    def vet_hedge_leg(self, venue: str, symbol: str, notional_usdt: Decimal) -> str | None:
        return self.denied(venue, symbol)

    def status(self) -> dict | None:
        if not self.list.entries and not self.refused:
            return None
        return {
            "active": bool(self.list.entries),
            "routine": True,
            "denied": self.list.names(),
            "refused": self.refused,
        }
