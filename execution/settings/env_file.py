"""Where environment values come from: `.env` (or the file ENV_FILE names) and the process environment.

`.env` is read strictly, because a hostile or broken file must stop a process with one line and
exit 2, never a traceback or a silent misreading: it must be a regular UTF-8 text file under
1 MiB, every line `KEY=VALUE` (comments and blank lines allowed), and each variable set on one
line only (two `SAFE_MODE` lines are refused, not resolved by whichever comes last). A variable
the project does not declare but that looks like one of its own (`SAFEMODE`, `safe_mode`,
`SAFE_MOD`) is reported as a warning; a retired one says what replaced it. Values are taken
literally (no `${VAR}` interpolation).
"""

from __future__ import annotations

import difflib
import io
import os
from collections.abc import Mapping, MutableMapping
from pathlib import Path

from execution.settings.env import GROUPS
from execution.settings.errors import ConfigError
from execution.settings.names import ENV_FILE
from execution.settings.text_file import MAX_TEXT_FILE_BYTES, read_text_file

MAX_ENV_FILE_BYTES = MAX_TEXT_FILE_BYTES
RETIRED = {"HEDGE_OPERATOR": "the operator is the OS user running the CLI (the login, or SUDO_USER under sudo)"}
OUTSIDE = (ENV_FILE, "SUDO_USER")  # read from the process environment only
_PREFIXES = ("BINANCE_", "OKX_", "FIRESTORE_", "DASHBOARD_", "TELEGRAM_", "HEARTBEAT_", "WATCHDOG_", "LIVE_", "HEDGE_")


def declared() -> tuple[str, ...]:
    return tuple(v for g in GROUPS for v in g.variables())


def env_file_path(env: Mapping[str, str] | None = None, default: Path | str = ".env") -> Path:
    """`.env` in the working directory (or `default`), or the file ENV_FILE names (in the process environment)."""
    return Path((os.environ if env is None else env).get(ENV_FILE) or default)


def read_env_file(path: Path) -> tuple[dict[str, str], list[str]]:
    """(values, warnings) of an env file; {} when there is none. Raises ConfigError naming the
    file and the line or variable that is wrong."""
    text = read_text_file(path, MAX_ENV_FILE_BYTES)
    if text is None:
        return {}, []
    return _parse(str(path), text)


def _parse(source: str, text: str) -> tuple[dict[str, str], list[str]]:
    from dotenv.parser import parse_stream

    values: dict[str, str] = {}
    lines: dict[str, int] = {}
    for b in parse_stream(io.StringIO(text)):
        line = b.original.line
        if b.error:
            raise ConfigError(
                source, f"<line {line}>", "KEY=VALUE, a comment or a blank line", b.original.string.strip()
            )
        if b.key is None:
            continue
        if b.key in lines:
            raise ConfigError(source, b.key, "one line per variable", f"lines {lines[b.key]} and {line}")
        lines[b.key] = line
        values[b.key] = b.value or ""
    return values, [w for key in values if (w := unknown_warning(source, key))]


def unknown_warning(source: str, key: str) -> str | None:
    """A warning for a variable the project does not read but that looks like one it does."""
    names = declared()
    if key in names or key in OUTSIDE:
        return None
    if key in RETIRED:
        return f"{source}: {key} is no longer read: {RETIRED[key]}"

    def squash(name: str) -> str:
        return name.upper().replace("_", "").replace("-", "")

    same = [n for n in names if squash(n) == squash(key)]
    close = same or difflib.get_close_matches(key.upper(), names, n=1, cutoff=0.8)
    if close:
        return f"{source}: unknown variable {key} ignored (did you mean {close[0]}?)"
    if key.upper().startswith(_PREFIXES):
        return f"{source}: unknown variable {key} ignored (not one of the project's settings: .env.example)"
    return None


def load_dotenv_file(env_file: str | None = None) -> list[str]:
    """Load `.env` (or ENV_FILE) into os.environ without overriding what is already set; returns
    the warnings about it (unknown look-alike variables). Raises ConfigError for a bad file."""
    path = Path(env_file) if env_file else env_file_path()
    values, warnings = read_env_file(path)
    for key, value in values.items():
        os.environ.setdefault(key, value)
    return warnings


def env_file_exposure(env_file: str | None = None) -> str | None:
    """A warning when `.env` (or ENV_FILE), which holds the keys, is readable by other users."""
    path = Path(env_file) if env_file else env_file_path()
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o077:
        return f"{path} is readable by other users (mode {mode & 0o777:04o}): it holds the keys; chmod 600 {path}"
    return None


def env_file_values(env: Mapping[str, str] | None = None, default: Path | str = ".env") -> dict[str, str]:
    """What `.env` (or the ENV_FILE of `env`) sets, without touching os.environ."""
    return read_env_file(env_file_path(env, default))[0]


def adopt_env_file(
    variables: tuple[str, ...],
    environ: MutableMapping[str, str] | None = None,
    replace: Mapping[str, str] | None = None,
) -> list[str]:
    """Copy `variables` from `.env` into `environ` (default: os.environ) where not already set, for
    libraries that read the process environment themselves (the Firestore client). `replace`
    maps a variable to one it overrides: {"DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS":
    "GOOGLE_APPLICATION_CREDENTIALS"} gives the dashboard its read-only key. Returns what was set."""
    environ = os.environ if environ is None else environ
    values = env_file_values(environ)
    taken = []
    for key in variables:
        if values.get(key) and key not in environ:
            environ[key] = str(values[key])
            taken.append(key)
    for source, target in (replace or {}).items():
        value = environ.get(source) or values.get(source)
        if value:
            environ[target] = str(value)
            taken.append(target)
    return taken


def sudo_user() -> str:
    """SUDO_USER: set by sudo for the process it starts (the operator behind a root CLI). Read from
    the process environment only, never from .env; trusted only when running as root
    (`execution/operators.py`)."""
    return os.environ.get("SUDO_USER", "").strip()


def process_env_over_file(default: Path | str = ".env") -> dict[str, str]:
    """`.env` (or `default`, or ENV_FILE) values with the process environment's non-empty values on top."""
    return {**env_file_values(None, default), **{k: v for k, v in os.environ.items() if v}}
