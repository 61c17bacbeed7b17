"""`_Fields`: typed access to one JSON object with the path of every field, for exact error lines.

The JSON files in CONFIG_DIR (and config/arbitrage.json) are read through it: a missing, unknown
or wrong field raises `ConfigError` naming the file, the dotted field path and what was expected.

`_load_json` is the one reader of those files and refuses, with one line, what is not a small
JSON text file: a directory, a special file, a symlink loop or a symlink to nothing, more than
1 MiB, bytes that are not UTF-8, nesting deeper than 64, a key written twice in one object
(JSON would silently keep the last), NaN/Infinity, numbers a float cannot hold (1e400) and
integers of more than 30 digits. Every number of every field is bounded (by default to
magnitudes up to 1e15), so 1e308 fees or tick sizes never reach the books.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from execution.settings.env_types import bounds_text as _bounds_text
from execution.settings.errors import ConfigError

_MISSING = object()
MAX_MAGNITUDE = 1e15  # the default bound of every number a config file gives
MAX_JSON_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_INT_DIGITS = 30


class _Fields:
    """Typed access to one JSON object with the path of every field, for exact error lines."""

    def __init__(self, source: str, data: Any, prefix: str = ""):
        self.source, self.prefix = source, prefix
        if not isinstance(data, dict):
            raise ConfigError(source, prefix or "<top level>", "a JSON object", data)
        self.data = data
        self._seen: set[str] = set()

    def _path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _get(self, key: str, default: Any) -> Any:
        self._seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ConfigError(self.source, self._path(key), "a value", missing=True)
            return default
        return value

    def number(
        self, key: str, default: Any = _MISSING, lo: float | None = None, hi: float | None = None, lo_open: bool = False
    ) -> float:
        value = self._get(key, default)
        lo = -MAX_MAGNITUDE if lo is None else lo
        hi = MAX_MAGNITUDE if hi is None else hi
        bounds = _bounds_text(lo, hi, lo_open)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        if (lo is not None and (value <= lo if lo_open else value < lo)) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, default)
        lo = -int(MAX_MAGNITUDE) if lo is None else lo
        hi = int(MAX_MAGNITUDE) if hi is None else hi
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        return value

    def decimal(
        self, key: str, default: Any = _MISSING, lo: float | None = None, lo_open: bool = False, hi: float | None = None
    ) -> Decimal:
        value = self._get(key, default)
        lo = -MAX_MAGNITUDE if lo is None else lo
        hi = MAX_MAGNITUDE if hi is None else hi
        expected = f"a decimal number{_bounds_text(lo, hi, lo_open)}"
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)) or len(str(value)) > 64:
                raise InvalidOperation
            dec = Decimal(str(value).strip())
            if not dec.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            raise ConfigError(self.source, self._path(key), expected, value) from None
        low, high = Decimal(str(lo)), Decimal(str(hi))
        if (dec <= low if lo_open else dec < low) or dec > high:
            raise ConfigError(self.source, self._path(key), expected, value)
        return dec

    def string(
        self,
        key: str,
        default: Any = _MISSING,
        choices: tuple[str, ...] | None = None,
        pattern: tuple[re.Pattern[str], str] | None = None,
    ) -> str:
        """`pattern`: (the regex the whole value must match, what to call it in the error)."""
        value = self._get(key, default)
        if not isinstance(value, str) or len(value) > 200 or (choices and value not in choices):
            raise ConfigError(self.source, self._path(key), f"one of {list(choices)}" if choices else "a string", value)
        if pattern is not None and value and not pattern[0].fullmatch(value):
            raise ConfigError(self.source, self._path(key), pattern[1], value)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.source, self._path(key), "true or false", value)
        return value

    def obj(self, key: str, default: Any = _MISSING) -> _Fields:
        return _Fields(self.source, self._get(key, default), self._path(key))

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default)

    def string_list(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.source, self._path(key), "a list of non-empty strings", value)
        return value

    def no_unknown(self, allowed: set[str] | None = None) -> None:
        known = self._seen | (allowed or set())
        for key in self.data:
            if key not in known:
                raise ConfigError(self.source, self._path(key), f"no such field (known: {sorted(known)})", key)


def config_file_present(path: Path) -> bool:
    """False only when nothing at all is at `path` (a dangling symlink is present, and refused)."""
    return os.path.lexists(path)


def _load_json(path: Path) -> Any:
    source = str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(
                source, "<file>", "a JSON file", "a directory" if stat.S_ISDIR(st.st_mode) else "a special file"
            )
        if st.st_size > MAX_JSON_BYTES:
            raise ConfigError(source, "<file>", f"at most {MAX_JSON_BYTES} bytes", f"{st.st_size} bytes")
        with open(path, "rb") as fh:
            data = fh.read(MAX_JSON_BYTES + 1)
    except FileNotFoundError:
        got = "a symlink to nothing" if os.path.lexists(path) else None
        raise ConfigError(source, "<file>", "an existing JSON file", got, missing=got is None) from None
    except OSError as exc:
        raise ConfigError(source, "<file>", "a readable JSON file", exc.strerror or type(exc).__name__) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(source, f"<byte {exc.start}>", "UTF-8 JSON text", "binary data") from None
    return _parse_json(source, text)


def _nesting(text: str) -> int:
    """How deep arrays and objects nest (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:  # json's C parser recurses: refuse deep nesting before it does
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _parse_json(source: str, text: str) -> Any:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise ConfigError(source, key, "each key once in its object", "written twice")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise ConfigError(source, "<value>", "a finite number", name)

    def real(raw: str) -> float:
        value = float(raw)
        if not math.isfinite(value):
            raise ConfigError(source, "<value>", "a number a float can hold", raw[:40])
        return value

    def whole(raw: str) -> int:
        if len(raw.lstrip("-")) > MAX_INT_DIGITS:
            raise ConfigError(source, "<value>", f"an integer of at most {MAX_INT_DIGITS} digits", f"{len(raw)} digits")
        return int(raw)

    deepest = _nesting(text)
    if deepest > MAX_DEPTH:
        raise ConfigError(source, "<file>", f"nesting at most {MAX_DEPTH} deep", f"{deepest} levels")
    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=real, parse_int=whole)
    except json.JSONDecodeError as exc:
        raise ConfigError(source, f"<line {exc.lineno} col {exc.colno}>", "valid JSON", exc.msg) from None
    except RecursionError:
        raise ConfigError(source, "<file>", f"nesting at most {MAX_DEPTH} deep", "deeper") from None
