"""One log line per event, tagged as operators grep them ([screener], [executor] SEND_ORDER, ...).

Lines are `2026-01-01T00:15:00.000Z INFO [tag] text`; the time is the wall clock when the line
was written (market time, where it matters, is inside the text). Secrets are redacted by
`redact` before any line is written.
"""
from __future__ import annotations

import logging
import re
import sys
import time

LOGGER_NAME = "hedge"
_SECRET_PATTERNS = [
    re.compile(r"(?i)((?:api[_-]?key|secret|passphrase|signature|token|password|X-MBX-APIKEY|OK-ACCESS-[A-Z]+)"
               r"[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)"),
    re.compile(r"\bbot\d{5,}:[A-Za-z0-9_-]{20,}"),  # Telegram bot token in a URL
]


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for s in secrets:
        if s and len(s) >= 6:
            text = text.replace(s, "***")
    text = _SECRET_PATTERNS[0].sub(lambda m: m.group(1) + "***", text)
    return _SECRET_PATTERNS[1].sub("bot***", text)


class _Formatter(logging.Formatter):
    converter = time.gmtime

    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        t = time.gmtime(record.created)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", t) + f".{int(record.msecs):03d}Z"
        msg = record.getMessage()
        if record.exc_info:
            msg += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return f"{stamp} {record.levelname} {redact(msg, self.secrets)}"


def setup(level: str = "INFO", stream=None, path: str | None = None, secrets: tuple[str, ...] = ()) -> logging.Logger:
    log = logging.getLogger(LOGGER_NAME)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    handler: logging.Handler
    if path:
        handler = logging.FileHandler(path, encoding="utf-8")
    else:
        handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(_Formatter(tuple(s for s in secrets if s)))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    return log


def get() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)
