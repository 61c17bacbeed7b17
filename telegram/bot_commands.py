"""The operators' Telegram commands, pure: an update in, who asked what (or why it is ignored) out.

Commands: /status, /positions, /alerts, /hold <reason>, /resume_request <reason>, /help. Only a
message from an allow-listed chat AND an allow-listed user is answered; anything else is ignored
(the bot logs it, never replies: a stranger learns nothing, not even that the bot exists).
resume-confirm, resume, kill and flatten stay on the CLI: the approval token never travels
through Telegram, and the irreversible commands need a shell on the server.
"""

from __future__ import annotations

from dataclasses import dataclass

READ_COMMANDS = ("status", "positions", "alerts", "help")
WRITE_COMMANDS = {"hold": "hold", "resume_request": "resume-request"}  # Telegram name -> control log name
CLI_ONLY = ("resume_confirm", "resume", "kill", "flatten", "cancel")
MAX_REASON_CHARS = 300

HELP = (
    "Commands:\n"
    "/status - mode, HOLD reasons, NAV, drawdown, heartbeat\n"
    "/positions - open positions\n"
    "/alerts - the last ops alerts\n"
    "/hold <reason> - set HOLD (no new risk)\n"
    "/resume_request <reason> - step 1 of the two-man resume\n"
    "resume-confirm, resume, kill and flatten stay on the CLI (the approval token never travels "
    "through Telegram)."
)


@dataclass(frozen=True)
class Request:
    update_id: int
    chat_id: int
    user_id: int
    username: str
    command: str  # without the slash and any @botname, lower case
    arg: str

    @property
    def operator(self) -> str:
        """The name the control log records: the Telegram user, by id (and @username if any)."""
        return f"telegram:{self.user_id}" + (f"/@{self.username}" if self.username else "")


@dataclass(frozen=True)
class Ignored:
    update_id: int | None
    why: str


def parse_update(update: object) -> Request | Ignored:
    """A command message, or why this update is not one (malformed, not a message, no command)."""
    if not isinstance(update, dict) or not isinstance(update.get("update_id"), int):
        return Ignored(None, "malformed update (no integer update_id)")
    uid = update["update_id"]
    msg = update.get("message")
    if not isinstance(msg, dict):
        return Ignored(uid, "not a message")
    chat, sender, text = msg.get("chat"), msg.get("from"), msg.get("text")
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int):
        return Ignored(uid, "message without a chat id")
    if not isinstance(sender, dict) or not isinstance(sender.get("id"), int):
        return Ignored(uid, f"message in chat {chat['id']} without a sender id")
    if not isinstance(text, str) or not text.startswith("/"):
        return Ignored(uid, f"no command from user {sender['id']} in chat {chat['id']}")
    head, _, arg = text.strip().partition(" ")
    command = head[1:].split("@", 1)[0].lower()
    raw_name = sender.get("username")
    username = raw_name if isinstance(raw_name, str) else ""
    return Request(uid, chat["id"], sender["id"], username, command, " ".join(arg.split())[:MAX_REASON_CHARS])


def refusal(req: Request, chats: frozenset[int], users: frozenset[int]) -> str:
    """Why this request is not served ("" when it is): both its chat and its user must be allow-listed."""
    if req.chat_id not in chats:
        return f"chat {req.chat_id} is not allow-listed (TELEGRAM_BOT_ALLOWED_CHATS)"
    if req.user_id not in users:
        return f"user {req.user_id} is not allow-listed (TELEGRAM_BOT_ALLOWED_USERS)"
    return ""


def usage_error(req: Request) -> str:
    """What is wrong with an allow-listed request before anything is done ("" when nothing)."""
    if req.command in CLI_ONLY:
        return (
            f"/{req.command} is not available over Telegram: use the CLI on the server "
            "(python -m execution.ctl ...). The approval token never travels through Telegram."
        )
    if req.command in WRITE_COMMANDS and not req.arg:
        return f"/{req.command} needs a reason: /{req.command} <reason>"
    if req.command not in WRITE_COMMANDS and req.command not in READ_COMMANDS and req.command != "start":
        return f"unknown command /{req.command}\n\n{HELP}"
    return ""
