"""Ops alerts to Telegram without ever blocking the trading loop.

`AlertSender.send(text)` puts the text on a bounded queue and returns at once; a daemon thread
sends. A full queue drops the alert (logged); network errors are logged and dropped.
"""
from __future__ import annotations

import html
import queue
import threading

from execution import logs
from telegram.bot_api import BotApi


class AlertSender:
    def __init__(self, api: BotApi, chat_id: str, max_queue: int = 100):
        self.api = api
        self.chat_id = chat_id
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=max_queue)
        self.sent = 0
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, name="telegram-alerts", daemon=True)
        self._thread.start()

    def send(self, text: str) -> None:
        try:
            self._queue.put_nowait(text)
        except queue.Full:
            self.dropped += 1
            logs.get().warning("[telegram] alert queue full: alert dropped")

    def _run(self) -> None:
        while True:
            text = self._queue.get()
            if text is None:
                return
            try:
                result = self.api.send_message(self.chat_id, html.escape(text, quote=False))
            except Exception as exc:  # noqa: BLE001 - the sender thread must survive anything
                logs.get().warning("[telegram] alert not sent: %s", exc.__class__.__name__)
                self.dropped += 1
                continue
            if result.ok:
                self.sent += 1
            else:
                self.dropped += 1
                logs.get().warning("[telegram] alert not sent: %s", "; ".join(result.errors))

    def close(self, timeout_s: float = 5.0) -> None:
        """Send what is queued (bounded), then stop."""
        try:
            self._queue.put(None, timeout=timeout_s)
        except queue.Full:
            return
        self._thread.join(timeout_s)


def from_env(env: dict[str, str]) -> AlertSender | None:
    token, chat = env.get("TELEGRAM_BOT_TOKEN", ""), env.get("TELEGRAM_CHAT_ID", "")
    if not token or not chat:
        return None
    return AlertSender(BotApi(token, env.get("TELEGRAM_API_BASE") or "https://api.telegram.org", timeout_s=5.0,
                              max_retry_after_s=10.0), chat)
