"""One log line per event, tagged as operators grep them ([screener], [executor] SEND_ORDER, ...).

Lines are `2026-01-01T00:15:00.000Z INFO [tag] text`; the time is the wall clock when the line
was written (market time, where it matters, is inside the text). Every line passes through
`redact` before it is written, so no secret reaches a log.

A replay writes ~100k lines per six months of four symbols, so the path is kept cheap: no
caller lookup, a timestamp prefix cached per second, redaction regexes only run when a line
contains a word that could introduce a secret, and file output flushed in blocks.
"""
from __future__ import annotations

import logging
import re
import sys
import time

LOGGER_NAME = "hedge"

_SECRET_ASSIGN = re.compile(
    r"(?i)((?:api[_-]?key|apikey|secret|passphrase|signature|token|password|X-MBX-APIKEY|OK-ACCESS-[A-Z]+)"
    r"[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)")
_BOT_TOKEN = re.compile(r"\bbot\d{5,}:[A-Za-z0-9_-]{20,}")
_TRIGGERS = ("key", "secret", "pass", "sign", "token", "bot", "access")

# no caller lookup, thread or process names: one log call costs a few microseconds
logging._srcfile = None  # type: ignore[attr-defined]
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for s in secrets:
        if s and len(s) >= 6 and s in text:
            text = text.replace(s, "***")
    low = text.lower()
    if any(t in low for t in _TRIGGERS):
        text = _SECRET_ASSIGN.sub(lambda m: m.group(1) + "***", text)
        text = _BOT_TOKEN.sub("bot***", text)
    return text


class _Formatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets
        self._second = -1
        self._prefix = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        msg = record.getMessage()
        if record.exc_info:
            msg += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return f"{self._prefix}.{int(record.msecs):03d}Z {record.levelname} {redact(msg, self.secrets)}"


class BlockFlushFileHandler(logging.FileHandler):
    """Flushes every `every` lines or `max_delay_s`, and on warnings and above at once."""

    def __init__(self, path: str, every: int = 512, max_delay_s: float = 1.0):
        super().__init__(path, encoding="utf-8")
        self.every = every
        self.max_delay_s = max_delay_s
        self._count = 0
        self._last = time.monotonic()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
        except Exception:  # noqa: BLE001 - logging must never take the loop down
            self.handleError(record)
            return
        self._count += 1
        if record.levelno >= logging.WARNING or self._count >= self.every or \
                time.monotonic() - self._last >= self.max_delay_s:
            self.flush()
            self._count = 0
            self._last = time.monotonic()


def setup(level: str = "INFO", stream=None, path: str | None = None, secrets: tuple[str, ...] = ()) -> logging.Logger:
    log = logging.getLogger(LOGGER_NAME)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    handler: logging.Handler
    if path:
        handler = BlockFlushFileHandler(path)
    else:
        handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(_Formatter(tuple(s for s in secrets if s)))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    return log


def get() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def secrets_from_env(env: dict[str, str]) -> tuple[str, ...]:
    """Values that must never be printed, wherever they would appear."""
    names = ("BINANCE_API_KEY", "BINANCE_API_SECRET", "OKX_API_KEY", "OKX_API_SECRET", "OKX_PASSPHRASE",
             "TELEGRAM_BOT_TOKEN", "APPROVE_TOKEN")
    return tuple(env[n] for n in names if env.get(n))
