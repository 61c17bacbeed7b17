"""The operators' Telegram commands bot (supervisor program `hedge-telegram-bot`).

    python -m telegram.bot            (also: python telegram/bot.py)

Long-polls the Bot API's getUpdates and answers /status, /positions, /alerts, /hold <reason>,
/resume_request <reason> and /help (telegram/bot_commands.py), only in an allow-listed chat from
an allow-listed user (TELEGRAM_BOT_ALLOWED_CHATS, TELEGRAM_BOT_ALLOWED_USERS); every other
update is ignored with one `[telegram-bot]` log line and no reply. /hold and /resume_request go
through the control log like the CLI's commands, with the Telegram user as the operator
(`telegram:<id>/@<username>`): the executor applies, journals and acknowledges them. The bot
never writes trading state, and the approval token never travels through Telegram.

The offset of the next update is written to TELEGRAM_BOT_OFFSET_FILE (default
STATE_DIR/telegram_bot_offset.json) before a command is acted on: a restart never applies an
old update again (a crash between the two loses that one command, which the operator sees: no
answer). Telegram answering 429 is waited out (retry_after, at most 60 s); a lost network is
retried with back-off (1 s doubling to 30 s), one log line when it fails and one when it is back.
SIGTERM/SIGINT stop it after the current poll (at most TELEGRAM_BOT_POLL_S).
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and not __package__:  # run as a script path: import from the project root
    from pathlib import Path as _Path

    _here = _Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if _Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))

import argparse
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from execution import clock, ctl, logs
from execution.settings import (
    ConfigError,
    LogEnv,
    StoreEnv,
    TelegramBotEnv,
    TelegramEnv,
    load_dotenv_file,
    read_env,
)
from execution.state.atomic import read_json, write_json
from telegram.bot_api import BotApi, get_updates
from telegram.bot_commands import HELP, WRITE_COMMANDS, Ignored, Request, parse_update, refusal, usage_error

MAX_429_WAIT_S = 60.0
BACKOFF_MAX_S = 30.0
ACK_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class BotConfig:
    token: str
    api_base: str
    chats: frozenset[int]
    users: frozenset[int]
    poll_s: int
    state_dir: Path
    offset_file: Path
    ack_timeout_s: float = ACK_TIMEOUT_S

    @classmethod
    def from_env(cls) -> BotConfig:
        tg, bot, store = read_env(TelegramEnv), read_env(TelegramBotEnv), read_env(StoreEnv)
        token = tg.bot_token.get_secret_value()
        if not token:
            raise ConfigError(".env", "TELEGRAM_BOT_TOKEN", "the bot's token (BotFather)", missing=True)
        return cls(
            token=token,
            api_base=tg.api_base,
            chats=TelegramBotEnv.ids(bot.allowed_chats),
            users=TelegramBotEnv.ids(bot.allowed_users),
            poll_s=bot.poll_s,
            state_dir=store.state_dir,
            offset_file=Path(bot.offset_file) if bot.offset_file else store.state_dir / "telegram_bot_offset.json",
        )


class OffsetStore:
    """The id of the next update to fetch, kept on disk (atomic replace)."""

    def __init__(self, path: Path):
        self.path = path

    def load(self) -> int | None:
        try:
            value = read_json(self.path).get("offset")
        except (OSError, ValueError, AttributeError):
            return None
        return value if isinstance(value, int) else None

    def save(self, offset: int) -> None:
        write_json(self.path, {"offset": offset, "updated_at_ms": clock.wall_ms()})


class CommandsBot:
    def __init__(self, cfg: BotConfig, api: BotApi, sleep: Callable[[float], bool] | None = None):
        self.cfg = cfg
        self.api = api
        self.offsets = OffsetStore(cfg.offset_file)
        self.offset = self.offsets.load()
        self.stop = threading.Event()
        self._sleep = sleep or self.stop.wait  # returns True when stopping
        self.log = logs.get()
        self._failing = False
        self._backoff = 1.0

    # -- the loop ----------------------------------------------------------------------------------
    def run(self) -> None:
        self.log.info(
            "[telegram-bot] started: %d chat(s), %d user(s) allow-listed; next update %s",
            len(self.cfg.chats),
            len(self.cfg.users),
            self.offset if self.offset is not None else "(first run: whatever Telegram holds)",
        )
        while not self.stop.is_set():
            self.poll_once()
        self.log.info("[telegram-bot] stopped; next update %s", self.offset)

    def poll_once(self) -> None:
        got = get_updates(self.api, self.offset, self.cfg.poll_s)
        if got.error:
            self._on_failure(got.error, got.retry_after_s)
            return
        if self._failing:
            self.log.info("[telegram-bot] getUpdates answers again")
            self._failing, self._backoff = False, 1.0
        for update in got.updates:
            if self.stop.is_set():
                return
            self.handle(update)

    def _on_failure(self, error: str, retry_after_s: float) -> None:
        if retry_after_s:
            wait = min(retry_after_s, MAX_429_WAIT_S)
            self.log.warning("[telegram-bot] getUpdates rate limited: waiting %gs (%s)", wait, error)
        else:
            wait = self._backoff
            self._backoff = min(self._backoff * 2, BACKOFF_MAX_S)
            if not self._failing:
                self.log.warning("[telegram-bot] getUpdates failed: %s; retrying with back-off", error)
            self._failing = True
        self._sleep(wait)

    # -- one update --------------------------------------------------------------------------------
    def handle(self, update: object) -> None:
        req = parse_update(update)
        uid = req.update_id
        if uid is not None and (self.offset is None or uid >= self.offset):
            self.offset = uid + 1
            self.offsets.save(self.offset)  # before acting: an update is never applied twice
        if isinstance(req, Ignored):
            self.log.warning("[telegram-bot] ignored update %s: %s", uid, req.why)
            return
        why = refusal(req, self.cfg.chats, self.cfg.users)
        if why:
            self.log.warning("[telegram-bot] ignored update %d (/%s): %s", uid, req.command, why)
            return
        self.log.info("[telegram-bot] /%s by %s in chat %d", req.command, req.operator, req.chat_id)
        self.reply(req, self.answer(req))

    def answer(self, req: Request) -> str:
        problem = usage_error(req)
        if problem:
            return problem
        if req.command in ("help", "start"):
            return HELP
        try:
            if req.command == "status":
                return status_text(ctl.status_data(self.cfg.state_dir))
            if req.command == "positions":
                return positions_text(ctl.status_data(self.cfg.state_dir))
            if req.command == "alerts":
                return alerts_text(ctl.alerts_data(self.cfg.state_dir, 10))
            code, message, _ = ctl.send_with_result(
                self.cfg.state_dir, WRITE_COMMANDS[req.command], req.operator, self.cfg.ack_timeout_s, reason=req.arg
            )
        except (ctl.UsageError, OSError, ValueError) as exc:
            self.log.warning("[telegram-bot] /%s failed: %s", req.command, exc)
            return f"/{req.command} failed: {exc}"
        word = {ctl.EXIT_OK: "OK", ctl.EXIT_REFUSED: "REFUSED", ctl.EXIT_NO_ACK: "NO ACK"}.get(code, "?")
        self.log.info("[telegram-bot] /%s by %s: %s %s", req.command, req.operator, word, message)
        return f"{word}: {message}"

    def reply(self, req: Request, text: str) -> None:
        sent = self.api.send_message(str(req.chat_id), text, parse_mode=None)
        if not sent.ok:
            self.log.warning("[telegram-bot] reply to update %d not sent: %s", req.update_id, "; ".join(sent.errors))


# -- texts ----------------------------------------------------------------------------------------
def status_text(d: dict) -> str:
    if d["nav"] is None:
        return f"no executor state in {d['state_dir']}: has the executor run?"
    lines = [f"mode: {d['mode']}" + (" (KILL)" if d["kill"] else "")]
    if d["last_mode"] == "HOLD":
        for h in d.get("holds") or [{"reason": d["reason"], "by": d["by"]}]:
            lines.append(f"held: {h['reason']} (by {h['by']})")
    if d["mode"] == "DOWN":
        lines.append(f"executor: {d['executor'].get('text', 'DOWN')}")
    lines.append(f"NAV: {d['nav']:,.2f} USDT  drawdown {d['drawdown_pct']:.2f}%")
    age = d["heartbeat_age_ms"]
    lines.append(f"last state write: {'never' if age is None else f'{age / 1000:.0f}s ago'}")
    lines.append(f"positions: {len(d['positions'])}  breakers: {len(d['breakers'])}")
    if d.get("resume_blocked"):
        lines.append(f"resume IMPOSSIBLE: {d['resume_blocked']}")
    if d.get("queued_commands"):
        lines.append(f"queued (not acknowledged): {len(d['queued_commands'])} command(s)")
    return "\n".join(lines)


def positions_text(d: dict) -> str:
    rows = d["positions"]
    if not rows:
        return "no open positions"
    return "\n".join(
        f"{p['venue']} {p['symbol']} {p['position_side']} qty={p['qty']:g} uPnL={p['unrealized_pnl']:+.2f}"
        for p in rows[:30]
    ) + (f"\n... and {len(rows) - 30} more" if len(rows) > 30 else "")


def alerts_text(rows: list[dict]) -> str:
    if not rows:
        return "no alerts"
    return "\n".join(f"{ctl.utc_text(r.get('ts'))} {r.get('kind', '?')}: {r.get('text', '')}" for r in rows)


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(
        prog="python -m telegram.bot",
        description="Operators' Telegram commands bot (supervisor program hedge-telegram-bot): "
        "/status /positions /alerts /hold /resume_request, allow-listed chats and users only.",
    ).parse_args(argv)
    load_dotenv_file()
    try:
        cfg = BotConfig.from_env()
        level = read_env(LogEnv).log_level
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    logs.setup(level, stream=sys.stdout, secrets=(cfg.token,))
    api = BotApi(cfg.token, cfg.api_base or "https://api.telegram.org")
    bot = CommandsBot(cfg, api)

    def _stop(_signum, _frame):
        bot.stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        bot.run()
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
