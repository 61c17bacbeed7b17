"""Hostile mutations of a venue's JSON answer, one change at a time, in a fixed order (no seed).

`mutations(payload)` walks every leaf and every container of a valid answer and yields a copy
with that one place replaced by what a broken or hostile venue can send: null, a missing key,
text where a number belongs, "NaN" / "Infinity" / "1e400" / "-0" / "", a number sent as a JSON
number, a 5,000-digit integer, a list or an object in place of a scalar, a list where an object
is expected and the other way round, an empty `data` array, one more level of nesting, a very
long string, an unknown enum value, timestamps of 0 / negative / past year 9999, negative and
zero sizes. Only the path to the changed place is copied, so a mutation costs little.

`numbers(result)` lists every Decimal / float / int a parsed value carries (dataclasses,
NamedTuples, lists, dicts, nested), with a dotted name, for the finiteness checks.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any, NamedTuple

LONG_TEXT = "Z" * 100_000  # a very long string (an error message must not echo it)
HUGE_INT = 10**5000  # more digits than int(str) or str(int) take (4,300)
YEAR_10000_MS = 253_402_300_800_000  # 10000-01-01T00:00:00Z
MISSING = object()

#: (label, value) put in place of any leaf or container
HOSTILE: tuple[tuple[str, Any], ...] = (
    ("null", None),
    ("empty text", ""),
    ("a word", "abc"),
    ("'NaN'", "NaN"),
    ("'nan'", "nan"),
    ("'sNaN'", "sNaN"),
    ("NaN number", math.nan),
    ("'Infinity'", "Infinity"),
    ("'-Infinity'", "-Infinity"),
    ("'inf'", "inf"),
    ("inf number", math.inf),
    ("'1e400'", "1e400"),
    ("'-1e400'", "-1e400"),
    ("'1e-400'", "1e-400"),
    ("1e308 number", 1e308),
    ("'-0'", "-0"),
    ("'0'", "0"),
    ("'-1'", "-1"),
    ("-1 number", -1),
    ("0 number", 0),
    ("'1.5'", "1.5"),
    ("'1_000'", "1_000"),
    ("' 7 '", " 7 "),
    ("'0x10'", "0x10"),
    ("5,000-digit integer", HUGE_INT),
    ("5,000-digit text", "9" * 5000),
    ("true", True),
    ("false", False),
    ("a list", [1, "2"]),
    ("an object", {"a": 1}),
    ("an empty list", []),
    ("an empty object", {}),
    ("a very long string", LONG_TEXT),
    ("an unknown enum", "HOLD"),
    ("lower-case enum", "buy"),
    ("year-10000 ms", YEAR_10000_MS),
    ("year-10000 ms text", str(YEAR_10000_MS)),
    ("negative ms", -1_700_000_000_000),
    ("negative ms text", "-1700000000000"),
)


class Mutant(NamedTuple):
    where: str  # dotted path of the changed place ("" = the whole answer)
    what: str  # label of the hostile value
    payload: Any


def _replace(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of `root` with the place at `path` set to `value` (MISSING: deleted)."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(root, list):
        out_list = list(root)
        if value is MISSING and not rest:
            del out_list[head]
        else:
            out_list[head] = _replace(root[head], rest, value)
        return out_list
    out = dict(root)
    if value is MISSING and not rest:
        del out[head]
    else:
        out[head] = _replace(root[head], rest, value)
    return out


def _places(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    yield path, node
    if isinstance(node, Mapping):
        for key in node:
            yield from _places(node[key], (*path, key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _places(item, (*path, i))


def _as_number(value: Any) -> Any:
    """A numeric text leaf as the JSON number a venue might send instead (None when not numeric)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    if not math.isfinite(number):
        return None
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


def _variants(node: Any) -> Iterator[tuple[str, Any]]:
    """What depends on the original value: its number form, one more nesting, the other shape."""
    number = _as_number(node)
    if number is not None:
        yield "as a JSON number", number
        yield "negated", -number if number else -1
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        yield "as text", str(node)
    yield "nested in a list", [node]
    yield "nested in an object", {"value": node}
    if isinstance(node, Mapping):
        yield "its values as a list", list(node.values())
    elif isinstance(node, list):
        yield "as an object", {str(i): v for i, v in enumerate(node)}
        if node:
            yield "its first item twice", [node[0], *node]


def mutations(payload: Any) -> Iterator[Mutant]:
    """Every one-place hostile change of `payload`, in a fixed order."""
    for path, node in _places(payload):
        where = ".".join(str(p) for p in path)
        if path:
            yield Mutant(where, "missing", _replace(payload, path, MISSING))
        for label, value in HOSTILE:
            yield Mutant(where, label, _replace(payload, path, value))
        for label, value in _variants(node):
            yield Mutant(where, label, _replace(payload, path, value))


def sketch(value: Any) -> str:
    """A short printable form of any value (a 5,000-digit integer has no str())."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 200:
        return f"<{value.bit_length()}-bit integer>"
    if isinstance(value, str):
        return repr(value[:40]) + ("..." if len(value) > 40 else "")
    if isinstance(value, (list, dict)):
        return f"<{type(value).__name__} of {len(value)}>"
    return repr(value)[:40]


def numbers(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, number) of every Decimal, float and int inside a parsed result."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, (Decimal, float, int)):
        yield name, value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from numbers(getattr(value, f.name), f"{name}.{f.name}" if name else f.name)
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        for field_name in value._fields:
            yield from numbers(getattr(value, field_name), f"{name}.{field_name}" if name else field_name)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from numbers(item, f"{name}[{sketch(key)}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from numbers(item, f"{name}[{i}]")


def texts(value: Any, name: str = "") -> Iterator[tuple[str, Any]]:
    """(dotted name, value) of every str-typed field of a parsed result (and of what should be one)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _text_field(getattr(value, f.name), f"{name}.{f.name}" if name else f.name, f.type)
    elif isinstance(value, tuple) and hasattr(value, "_fields"):
        hints = getattr(type(value), "__annotations__", {})
        for field_name in value._fields:
            yield from _text_field(getattr(value, field_name), f"{name}.{field_name}", hints.get(field_name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from texts(item, f"{name}[{sketch(key)}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from texts(item, f"{name}[{i}]")


def _text_field(value: Any, name: str, hint: Any) -> Iterator[tuple[str, Any]]:
    if hint in ("str", str):
        yield name, value
    else:
        yield from texts(value, name)
