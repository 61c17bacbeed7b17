"""`_Fields`: typed access to one JSON object with the path of every field, for exact error lines.

The JSON files in CONFIG_DIR (and config/arbitrage.json) are read through it: a missing, unknown
or wrong field raises `ConfigError` naming the file, the dotted field path and what was expected.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from execution.settings.env_types import bounds_text as _bounds_text
from execution.settings.errors import ConfigError

_MISSING = object()


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
        bounds = _bounds_text(lo, hi, lo_open)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        if (lo is not None and (value <= lo if lo_open else value < lo)) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        return value

    def decimal(self, key: str, default: Any = _MISSING, lo: float | None = None, lo_open: bool = False) -> Decimal:
        value = self._get(key, default)
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise InvalidOperation
            dec = Decimal(str(value))
            if not dec.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise ConfigError(
                self.source, self._path(key), f"a decimal number{_bounds_text(lo, None, lo_open)}", value
            ) from None
        if lo is not None and (dec <= Decimal(str(lo)) if lo_open else dec < Decimal(str(lo))):
            raise ConfigError(self.source, self._path(key), f"a decimal number{_bounds_text(lo, None, lo_open)}", value)
        return dec

    def string(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or (choices and value not in choices):
            raise ConfigError(self.source, self._path(key), f"one of {list(choices)}" if choices else "a string", value)
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


def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "<file>", "an existing JSON file", missing=True) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), f"<line {exc.lineno} col {exc.colno}>", "valid JSON", exc.msg) from None
