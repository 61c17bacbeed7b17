"""One log line per event, tagged as operators grep them ([screener], [executor] SEND_ORDER, ...).

Lines are `2026-01-01T00:15:00.000Z INFO [tag] text`; the time is the wall clock when the line
was written (market time, where it matters, is inside the text). Every line passes through
`redact` before it is written, so no secret reaches a log.

A replay writes ~100k lines per six months of four symbols, so the path is kept cheap: no
caller lookup, a timestamp prefix cached per second, redaction regexes only run when a line
contains a word that could introduce a secret, and file output flushed in blocks.

The secret values of the process (venue keys, tokens) are registered once (`setup`, and every
venue adapter registers its own keys), so `redact(text)` removes them wherever they appear,
also in text that is not a log line: a venue error becomes a record through
`execution/exchanges/errors.py`, which redacts its message here.
"""

from __future__ import annotations

import logging
import re
import sys
import time

LOGGER_NAME = "hedge"

_SECRET_ASSIGN = re.compile(
    r"(?i)((?:api[_-]?key|apikey|secret|passphrase|signature|token|password|X-MBX-APIKEY|OK-ACCESS-[A-Z]+)"
    r"[\"']?\s*[:=]\s*[\"']?)([^\s\"'&,}]+)"
)
_BOT_TOKEN = re.compile(r"\bbot\d{5,}:[A-Za-z0-9_-]{20,}")

# no caller lookup, thread or process names: one log call costs a few microseconds
logging._srcfile = None
logging.logThreads = False
logging.logProcesses = False
logging.logMultiprocessing = False


_REGISTERED: tuple[str, ...] = ()


def register_secrets(*values: str) -> None:
    """Values `redact` removes from now on, in this process, whatever the caller passes."""
    global _REGISTERED
    new = tuple(v for v in values if v and len(v) >= 6 and v not in _REGISTERED)
    if new:
        _REGISTERED = tuple(sorted(_REGISTERED + new, key=len, reverse=True))  # longest first: no partial leftovers


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    for s in (*secrets, *_REGISTERED) if _REGISTERED else secrets:
        if s and len(s) >= 6 and s in text:
            text = text.replace(s, "***")
    low = text.lower()
    if (
        "key" in low
        or "secret" in low
        or "pass" in low
        or "signat" in low  # "signature": not every "signal" line runs the regexes
        or "token" in low
        or "bot" in low
        or "access" in low
    ):
        text = _SECRET_ASSIGN.sub(lambda m: m.group(1) + "***", text)
        text = _BOT_TOKEN.sub("bot***", text)
    return text


class _LinePrefix:
    """`2026-01-01T00:15:00.123Z INFO ` with the date part formatted once per second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def __call__(self, created: float, level: str) -> str:
        second = int(created)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._text}.{int((created - second) * 1000):03d}Z {level} "


class _Formatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...]):
        super().__init__()
        self.secrets = secrets
        self.prefix = _LinePrefix()

    def format(self, record: logging.LogRecord) -> str:
        msg = record.getMessage()
        if record.exc_info:
            msg += " | " + self.formatException(record.exc_info).replace("\n", " | ")
        return self.prefix(record.created, record.levelname) + redact(msg, self.secrets)


class _LineHandler(logging.StreamHandler):
    """A stream handler that can also take an already-formatted line (EventLog's fast path).

    Flushes every `every` lines or `max_delay_s`, and at once on warnings and above; `every=1`
    (stdout under supervisor) flushes every line so `tail -f` shows it immediately.
    """

    def __init__(self, stream, every: int = 1, max_delay_s: float = 1.0):
        super().__init__(stream)
        self.every = every
        self.max_delay_s = max_delay_s
        self._count = 0
        self._last = time.monotonic()
        assert self.lock is not None  # Handler.__init__ creates it
        self._line_lock = self.lock  # the handler's own lock: flush/close serialise with writes

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:  # noqa: BLE001 - logging must never take the loop down
            self.handleError(record)
            return
        self.write_line(record.levelno, line)

    def write_line(self, levelno: int, line: str) -> None:
        with self._line_lock:
            self.stream.write(line + "\n")
            self._count += 1
            if (
                levelno >= logging.WARNING
                or self._count >= self.every
                or time.monotonic() - self._last >= self.max_delay_s
            ):
                self.stream.flush()
                self._count = 0
                self._last = time.monotonic()


class EventLog:
    """What `get()` returns: the project's logger. Same calls as logging.Logger (debug, info,
    warning, error, exception, isEnabledFor). After `setup()` lines are formatted and written in
    one step (about 1 us instead of 6 us per line); before it, calls go to the standard logger,
    so pytest's caplog and library logging keep working."""

    def __init__(self, logger: logging.Logger):
        self._logger = logger
        self._handler: _LineHandler | None = None
        self._secrets: tuple[str, ...] = ()
        self._prefix = _LinePrefix()

    def _attach(self, handler: _LineHandler | None, secrets: tuple[str, ...]) -> None:
        self._handler, self._secrets = handler, secrets

    def _write(self, levelno: int, level: str, msg: str, args: tuple) -> None:
        handler = self._handler
        if handler is None:
            self._logger.log(levelno, msg, *args)
            return
        if levelno < self._logger.level:
            return
        try:
            text = msg % args if args else msg
        except (TypeError, ValueError):
            text = f"{msg} {args!r}"
        handler.write_line(levelno, self._prefix(time.time(), level) + redact(text, self._secrets))

    def debug(self, msg: str, *args) -> None:
        self._write(logging.DEBUG, "DEBUG", msg, args)

    def info(self, msg: str, *args) -> None:
        self._write(logging.INFO, "INFO", msg, args)

    def warning(self, msg: str, *args) -> None:
        self._write(logging.WARNING, "WARNING", msg, args)

    def error(self, msg: str, *args) -> None:
        self._write(logging.ERROR, "ERROR", msg, args)

    def log(self, level: int, msg: str, *args) -> None:
        self._write(level, logging.getLevelName(level), msg, args)

    def exception(self, msg: str, *args) -> None:
        self._logger.exception(msg, *args)  # noqa: LOG004 - called from the caller's except block

    def isEnabledFor(self, level: int) -> bool:
        return self._logger.isEnabledFor(level)

    @property
    def level(self) -> int:
        return self._logger.level


_EVENT_LOG = EventLog(logging.getLogger(LOGGER_NAME))


def setup(level: str = "INFO", stream=None, path: str | None = None, secrets: tuple[str, ...] = ()) -> EventLog:
    """Configure the `hedge` logger: stdout (flushed per line) or a file (flushed in blocks)."""
    log = logging.getLogger(LOGGER_NAME)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    if path:
        handler = _LineHandler(open(path, "a", encoding="utf-8"), every=512)
    else:
        handler = _LineHandler(stream or sys.stdout, every=1)
    clean = tuple(s for s in secrets if s)
    register_secrets(*clean)
    handler.setFormatter(_Formatter(clean))
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    _EVENT_LOG._attach(handler, clean)
    return _EVENT_LOG


def silence() -> EventLog:
    """No log at all: a research backtest runs the executor's engine thousands of times and nobody
    reads those lines (a disabled line costs one level check, its text is never built)."""
    log = logging.getLogger(LOGGER_NAME)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    log.addHandler(logging.NullHandler())
    log.setLevel(logging.CRITICAL + 1)
    log.propagate = False
    _EVENT_LOG._attach(None, ())
    return _EVENT_LOG


def get() -> EventLog:
    return _EVENT_LOG
