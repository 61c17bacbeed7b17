"""Ops alerts to Telegram without ever blocking the trading loop.

`AlertSender.send(text)` puts the text on a bounded queue and returns at once; one daemon thread
sends, in order. A full queue drops the alert (counted, logged); network errors and Bot API
errors are logged and dropped (the alert is journaled by the executor anyway, see
`ops_alerts.jsonl`). Alerts go as plain text (no parse mode: nothing to escape, nothing that
can be rejected), one message each, truncated to Telegram's limit.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Mapping

from execution import logs
from execution.settings import Settings, TelegramEnv, read_env
from telegram.bot_api import API_BASE, BotApi

ALERT_TIMEOUT_S = 5.0
ALERT_MAX_RETRY_AFTER_S = 10.0


class AlertSender:
    def __init__(self, api: BotApi, chat_id: str, max_queue: int = 100):
        self.api = api
        self.chat_id = chat_id
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=max_queue)
        self.sent = 0
        self.dropped = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="telegram-alerts", daemon=True)
        self._thread.start()

    def send(self, text: str) -> None:
        """Queue `text`; never blocks, never raises."""
        try:
            self._queue.put_nowait(str(text))
        except queue.Full:
            self._count_drop()
            logs.get().warning("[telegram] alert queue full (%d): alert dropped", self._queue.maxsize)

    def _count_drop(self) -> None:
        with self._lock:
            self.dropped += 1

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                result = self.api.send_message(self.chat_id, text, parse_mode=None, overflow="truncate")
            except Exception as exc:  # noqa: BLE001 - the sender thread must survive anything
                self._count_drop()
                logs.get().warning("[telegram] alert not sent: %s", exc.__class__.__name__)
                continue
            if result.ok:
                with self._lock:
                    self.sent += 1
            else:
                self._count_drop()
                logs.get().warning("[telegram] alert not sent: %s", "; ".join(result.errors))

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (waiting at most about `timeout_s`), then stop the thread."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout_s)
        if not self._thread.is_alive():
            self.api.close()


def from_group(telegram: TelegramEnv) -> AlertSender | None:
    """An alert sender for the Telegram group, or None (with a reason logged) when it is not configured."""
    token, chat = telegram.bot_token.get_secret_value(), telegram.chat_id
    if not token or not chat:
        return None
    if not BotApi.token_looks_valid(token):
        logs.get().warning("[telegram] TELEGRAM_BOT_TOKEN is malformed: ops alerts are not sent to Telegram")
        return None
    return AlertSender(
        BotApi(
            token,
            telegram.api_base or API_BASE,
            timeout_s=ALERT_TIMEOUT_S,
            max_retry_after_s=ALERT_MAX_RETRY_AFTER_S,
        ),
        chat,
    )


def from_settings(settings: Settings) -> AlertSender | None:
    """The executor's notifier factory (execution/notify.py NOTIFIERS): its settings' Telegram group."""
    return from_group(settings.telegram)


def from_env(env: Mapping[str, str] | None = None) -> AlertSender | None:
    """`from_group` with the Telegram group read from `env` (default: the process environment)."""
    return from_group(read_env(TelegramEnv, env))
