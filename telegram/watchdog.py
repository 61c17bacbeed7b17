"""The dead-executor watchdog for small deployments without Prometheus (cron, every few minutes).

    python -m telegram.watchdog [--dry-run]

Reads the age of the executor's newest state write (Firestore when FIRESTORE_PROJECT is set, else
or when it does not answer the local STATE_DIR), judges it with execution/liveness.py (the same
rule as `ctl status`), and sends to TELEGRAM_CHAT_ID:
- one alert when the executor has not written state for WATCHDOG_STALE_S (default 300 s);
- nothing more while it stays down (the alert is remembered in WATCHDOG_STATE_FILE, default
  STATE_DIR/watchdog_state.json, across cron runs);
- one recovery message when it writes again.
A message that could not be sent (Bot API down, 429 with a long wait, no token) is not marked
sent, so the next run tries again. Never crashes: whatever fails is one `[watchdog]` or
`[telegram]` log line and the exit code is 0, so cron mails nothing. `--dry-run` prints what
would be sent and changes nothing.

Environment (the settings groups in `WatchdogConfig`): STATE_DIR, FIRESTORE_*, HEDGE_ENV,
WATCHDOG_STALE_S, WATCHDOG_STATE_FILE, TELEGRAM_BOT_TOKEN, TELEGRAM_CHAT_ID, TELEGRAM_API_BASE,
TELEGRAM_TIMEOUT_S; .env (or ENV_FILE) is read first without overriding the environment. A bad
WATCHDOG_* value stops the run with one `[watchdog] failed: ConfigError` line; any other bad value
is one warning line and its default is used.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from execution import clock, liveness, logs
from execution.settings import HeartbeatEnv, StoreEnv, TelegramEnv, WatchdogEnv, read_env
from execution.state.atomic import read_json, write_json
from telegram.bot_api import API_BASE, BotApi

WATCHDOG_MAX_RETRY_AFTER_S = 10.0  # a cron run waits this long at most on a 429; else the next run sends


@dataclass(frozen=True)
class WatchdogConfig:
    """The settings groups the watchdog needs."""

    store: StoreEnv
    telegram: TelegramEnv
    timeout_s: float  # TELEGRAM_TIMEOUT_S
    watchdog: WatchdogEnv

    @property
    def memory_path(self) -> Path:
        return self.watchdog.state_file or self.store.state_dir / "watchdog_state.json"


def load_config(log) -> WatchdogConfig:
    from telegram.heartbeat import load_dotenv_or_warn, warn_and_default

    load_dotenv_or_warn(log, "[watchdog]")
    bad = warn_and_default(log, "[watchdog]")
    return WatchdogConfig(
        store=read_env(StoreEnv, on_bad=bad),
        telegram=read_env(TelegramEnv, on_bad=bad),
        timeout_s=read_env(HeartbeatEnv, on_bad=bad).timeout_s,
        watchdog=read_env(WatchdogEnv),  # strict: a bad limit must not silently become 300 s
    )


@dataclass(frozen=True)
class Memory:
    """What the previous runs did, kept in WATCHDOG_STATE_FILE."""

    status: str = ""  # "", UP, DOWN: the last judgement
    alerted: bool = False  # the DOWN alert of the current outage was delivered
    down_since_ms: int = 0  # first run that saw it down
    last_update_ms: int = 0  # the executor's newest write when last seen

    @classmethod
    def from_doc(cls, doc: object) -> Memory:
        if not isinstance(doc, dict):
            raise ValueError("not a JSON object")
        return cls(
            status=str(doc.get("status") or ""),
            alerted=bool(doc.get("alerted")),
            down_since_ms=int(doc.get("down_since_ms") or 0),
            last_update_ms=int(doc.get("last_update_ms") or 0),
        )


@dataclass(frozen=True)
class Step:
    message: str  # "" = nothing to send
    after_sent: Memory  # the memory to keep when the message was delivered (or there was none)
    after_failed: Memory  # ... and when it could not be


def decide(prev: Memory, live: liveness.Liveness, updated_at_ms: int, now_ms: int, env_label: str) -> Step:
    """The watchdog's rule, pure: one alert per outage, one recovery message after it."""
    tag = f"[{env_label}] " if env_label else ""
    if live.down:
        since = prev.down_since_ms if prev.status == liveness.DOWN and prev.down_since_ms else now_ms
        down = Memory(liveness.DOWN, True, since, updated_at_ms)
        if prev.status == liveness.DOWN and prev.alerted:
            return Step("", down, down)
        last = f" Last state write {_utc(updated_at_ms)}." if updated_at_ms else " No executor state found at all."
        text = (
            f"🔴 {tag}Executor {live.describe()}.{last}\n"
            "Check: supervisorctl status hedge-executor; python -m execution.ctl status"
        )
        return Step(text, down, Memory(liveness.DOWN, False, since, updated_at_ms))
    up = Memory(liveness.UP, False, 0, updated_at_ms)
    if prev.status == liveness.DOWN and prev.alerted:
        outage = liveness.duration(max(0, now_ms - prev.down_since_ms)) if prev.down_since_ms else "a while"
        text = (
            f"🟢 {tag}Executor back: state written {liveness.duration(live.age_ms or 0)} ago. "
            f"The watchdog had reported it down {outage} ago ({_utc(prev.down_since_ms)})."
        )
        return Step(text, up, prev)
    return Step("", up, up)


def _utc(ms: int) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def load_memory(path: Path, log) -> Memory:
    try:
        return Memory.from_doc(read_json(path))
    except FileNotFoundError:
        return Memory()
    except (OSError, ValueError, TypeError) as exc:
        log.warning("[watchdog] %s unreadable (%s): starting from no memory", path, exc.__class__.__name__)
        return Memory()


def save_memory(path: Path, memory: Memory, log) -> None:
    try:
        write_json(path, asdict(memory))
    except OSError as exc:
        log.warning("[watchdog] %s not written (%s): the next run may repeat a message", path, exc.__class__.__name__)


def newest_write(store: StoreEnv, log) -> tuple[int, str]:
    """(the executor's newest state write in wall ms, or 0; where it was read)."""
    from execution.state.open import open_reader

    try:
        snap = open_reader(store).snapshot()
    except Exception as exc:  # noqa: BLE001 - unreadable state is judged like no state
        log.warning("[watchdog] state unreadable: %s", exc.__class__.__name__)
        return 0, "none"
    for problem in snap.problems:
        log.warning("[watchdog] state: %s", problem)
    return snap.updated_at_ms, snap.source


def send(cfg: WatchdogConfig, text: str, log) -> bool:
    token, chat = cfg.telegram.bot_token.get_secret_value(), cfg.telegram.chat_id
    if not token or not chat:
        log.warning("[watchdog] TELEGRAM_BOT_TOKEN / TELEGRAM_CHAT_ID not set: message not sent")
        return False
    if not BotApi.token_looks_valid(token):
        log.warning("[watchdog] TELEGRAM_BOT_TOKEN is malformed: message not sent")
        return False
    api = BotApi(
        token,
        cfg.telegram.api_base or API_BASE,
        timeout_s=cfg.timeout_s,
        max_retry_after_s=WATCHDOG_MAX_RETRY_AFTER_S,
    )
    try:
        result = api.send_message(chat, text, parse_mode=None, overflow="truncate")
    finally:
        api.close()
    if not result.ok:
        log.warning("[watchdog] message not sent: %s (the next run tries again)", "; ".join(result.errors))
    return result.ok


def run(cfg: WatchdogConfig, now_ms: int, log, dry_run: bool = False) -> str:
    """One watchdog pass; returns the message it sent (or would send), "" for none."""
    memory_path = cfg.memory_path
    updated, source = newest_write(cfg.store, log)
    live = liveness.assess(updated, now_ms, cfg.watchdog.stale_ms)
    prev = load_memory(memory_path, log)
    step = decide(prev, live, updated, now_ms, cfg.store.hedge_env or "")
    log.info("[watchdog] executor %s (source %s)%s", live.describe(), source, "; message due" if step.message else "")
    if dry_run:
        if step.message:
            print(step.message)
        return step.message
    delivered = send(cfg, step.message, log) if step.message else True
    if step.message and delivered:
        log.info("[watchdog] message sent: %s", step.message.splitlines()[0])
    save_memory(memory_path, step.after_sent if delivered else step.after_failed, log)
    return step.message if delivered else ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m telegram.watchdog", description="Alert when the executor stops.")
    ap.add_argument("--dry-run", action="store_true", help="print what would be sent; send and remember nothing")
    args = ap.parse_args(argv)
    log = logs.setup("INFO", stream=sys.stderr)
    try:
        cfg = load_config(log)
        log = logs.setup("INFO", stream=sys.stderr, secrets=cfg.telegram.secret_values())
        run(cfg, clock.wall_ms(), log, dry_run=args.dry_run)
    except Exception as exc:  # noqa: BLE001 - cron must always see exit 0, with the reason logged
        log.error("[watchdog] failed: %s: %s", exc.__class__.__name__, logs.redact(str(exc))[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
