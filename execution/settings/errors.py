"""`ConfigError`: the one error a bad setting raises, and the translation of pydantic's errors into it.

Entry points print `str(error)` as one line on stderr and exit 2:
    config error: .env: field 'LIVE_STALE_S': expected a positive number of seconds, got 'abc'
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ConfigError(Exception):
    def __init__(self, source: str, field_name: str, expected: str, got: Any = None, missing: bool = False):
        self.source, self.field_name, self.expected = source, field_name, expected
        self.got, self.missing = got, missing
        shown = repr(got)
        if len(shown) > 100:  # a 5,000-digit value is still one readable line
            shown = f"{shown[:60]}... ({len(str(got))} characters)"
        got_text = "missing" if missing else f"got {shown}"
        super().__init__(f"config error: {source}: field '{field_name}': expected {expected}, {got_text}")


def from_validation_error(exc: ValidationError, source: str = ".env") -> ConfigError:
    """The first error of a group's validation, as the project's one-line ConfigError.

    The validators in `execution.settings.env_types` put what they expected (and the value as
    shown, e.g. upper-cased) in the error's context; any other pydantic error falls back to its
    own message."""
    err = exc.errors(include_url=False)[0]
    loc = err.get("loc") or ("<group>",)
    ctx = err.get("ctx") or {}
    expected = str(ctx.get("expected") or err.get("msg", "a valid value")).rstrip(".")
    if err.get("type") == "missing":
        return ConfigError(source, str(loc[0]), expected, missing=True)
    return ConfigError(source, str(loc[0]), expected, ctx.get("got", err.get("input")))
