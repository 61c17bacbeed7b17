"""Hostile mutations of the configuration: every JSON file in config/, the denylist and `.env`.

Each `Mutation` changes one thing in a copy of the configuration and says whether a correct
loader must refuse it (`must_refuse`: a value no reading can make sense of) or may accept it.
What a loader did with it is then one of:

    refused   one line (ConfigError) naming the mutated file: held
    accepted  loaded: held when the mutation may be accepted, "silent" when it must be refused
    crash     any other exception (a traceback, a crash loop under supervisor)

Used by the tests (tests/unit/test_hostile_config.py) and by bench/hostile_input.py, which
runs the same mutations against any checkout and prints the tried / held / failed table.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_FILES = (
    "pairs_universe.json",
    "strategy_config.json",
    "risk_limits.json",
    "venues.json",
    "venue_filters.json",
    "arbitrage.json",
)
TEXT_FILES = ("denylist.txt",)  # line-based files beside the JSON (DENYLIST_FILE of risk_limits.json)
NEGATIVE_OK = {"maker_fee", "maker", "exit_edge_bps"}  # fields where a negative number means something
PLACEHOLDER = "__HOSTILE__"
METADATA = ("_comment", "_source")  # free text the loaders never read (venue_filters.json: where it came from)


@dataclass(frozen=True)
class Mutation:
    file: str  # the mutated file's name
    what: str  # one line: what was done
    apply: Callable[[Path], None]  # mutate the configuration directory
    must_refuse: bool


# -- whole files ----------------------------------------------------------------------------------
def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / name).unlink()
        (d / name).write_bytes(data)

    return apply


def _replace_with_dir(name: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / name).unlink()
        (d / name).mkdir()

    return apply


def _symlink_loop(name: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / name).unlink()
        (d / f"{name}.loop").symlink_to(d / name)
        (d / name).symlink_to(d / f"{name}.loop")

    return apply


def _dangling(name: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        (d / name).unlink()
        (d / name).symlink_to(d / "no-such-file.json")

    return apply


def _duplicate_first_key(name: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        text = (d / name).read_text()
        data = json.loads(text)
        key = next(k for k in data if k != "_comment")
        (d / name).write_text("{" + json.dumps(key) + ": " + json.dumps(data[key]) + ", " + text.lstrip()[1:])

    return apply


def file_mutations(name: str, original: bytes) -> Iterator[Mutation]:
    yield Mutation(name, "binary garbage", _write(name, bytes(range(256)) * 8), True)
    yield Mutation(name, "invalid UTF-8 inside a string", _write(name, original.replace(b'"', b'"\xff\xfe', 1)), True)
    yield Mutation(name, "empty file", _write(name, b""), True)
    yield Mutation(name, "truncated in the middle", _write(name, original[: len(original) // 2]), True)
    yield Mutation(name, "a JSON list", _write(name, b"[1, 2, 3]"), True)
    yield Mutation(name, "a JSON number", _write(name, b"42"), True)
    yield Mutation(name, "null", _write(name, b"null"), True)
    yield Mutation(name, "nested 100,000 deep", _write(name, b"[" * 100_000 + b"]" * 100_000), True)
    yield Mutation(name, "an object nested 5,000 deep", _write(name, b'{"a":' * 5000 + b"1" + b"}" * 5000), True)
    yield Mutation(name, "3 MiB of whitespace then the file", _write(name, b" " * (3 << 20) + original), False)
    yield Mutation(name, "a directory in its place", _replace_with_dir(name), True)
    yield Mutation(name, "a symlink loop in its place", _symlink_loop(name), True)
    yield Mutation(name, "a symlink to nothing in its place", _dangling(name), True)
    yield Mutation(name, "its first key written twice", _duplicate_first_key(name), True)
    yield Mutation(name, "a UTF-8 byte order mark first", _write(name, b"\xef\xbb\xbf" + original), False)


def text_file_mutations(name: str, original: bytes) -> Iterator[Mutation]:
    """A line-based file (the denylist): what the strict text reader and the line parser refuse."""
    yield Mutation(name, "binary garbage", _write(name, bytes(range(256)) * 8), True)
    yield Mutation(name, "a NUL byte in a line", _write(name, original + b"ETH\x00USDT\n"), True)
    yield Mutation(name, "invalid UTF-8 in a line", _write(name, original + b"BTC\xff\xfeUSDT\n"), True)
    yield Mutation(name, "2 MiB of comment", _write(name, b"#" * (2 << 20) + b"\n" + original), True)
    yield Mutation(name, "a symbol in lower case", _write(name, original + b"btcusdt\n"), True)
    yield Mutation(name, "an unknown venue", _write(name, original + b"binance:BTCUSDT\n"), True)
    yield Mutation(name, "a 5,000-character symbol", _write(name, original + b"A" * 5000 + b"\n"), True)
    yield Mutation(name, "a markdown link as a symbol", _write(name, original + b"[x](http://a.b)\n"), True)
    yield Mutation(name, "a directory in its place", _replace_with_dir(name), True)
    yield Mutation(name, "a symlink loop in its place", _symlink_loop(name), True)
    yield Mutation(name, "a symlink to nothing in its place", _dangling(name), True)
    yield Mutation(name, "empty file", _write(name, b""), False)
    yield Mutation(name, "CRLF line ends", _write(name, original.replace(b"\n", b"\r\n")), False)
    yield Mutation(name, "a symbol listed twice", _write(name, original + b"SOLUSDT\nSOLUSDT\n"), False)


# -- one value ------------------------------------------------------------------------------------
def leaves(data: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    """(path, value) of every scalar and every container, comments and provenance left out."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in METADATA:
                continue
            yield (*path, k), v
            yield from leaves(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield (*path, i), v
            yield from leaves(v, (*path, i))


def _set(data: Any, path: tuple, value: Any) -> None:
    for step in path[:-1]:
        data = data[step]
    data[path[-1]] = value


def _delete(data: Any, path: tuple) -> None:
    for step in path[:-1]:
        data = data[step]
    del data[path[-1]]


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value) is not None


# raw JSON text put where a value was: (text, label, refused for a number, refused for a string)
HOSTILE_VALUES = (
    ("NaN", "NaN", True, True),
    ("Infinity", "Infinity", True, True),
    ("-Infinity", "-Infinity", True, True),
    ("1e400", "1e400 (beyond a float)", True, True),
    ("1e308", "1e308", True, True),
    ("-1e308", "-1e308", True, True),
    ("1" + "0" * 40, "a 41-digit integer", True, True),
    ("9" * 5000, "a 5,000-digit integer", True, True),
    ('"1e308"', "the string '1e308'", True, False),
    ("-1", "-1", True, True),
    ('"abc"', "the string 'abc'", True, False),
    ('""', "an empty string", True, False),
    ("null", "null", True, True),
    ("true", "true", True, True),
    ("[]", "an empty list", True, True),
    ("{}", "an empty object", True, True),
    ('"' + "x" * 100_000 + '"', "a 100,000-character string", True, False),
    # strings that are hostile as names or paths: each may load where the field takes free text,
    # but none may crash (a NUL byte made os.stat raise ValueError on DENYLIST_FILE)
    ('"\\u0000"', "a NUL character", True, False),
    ('"x\\u0000y"', "a string with a NUL inside", True, False),
    ('"/etc/passwd"', "an absolute path", True, False),
    ('"../../etc/passwd"', "a path out of the directory", True, False),
    ('"\\n"', "a newline", True, False),
    ('"\\u202e"', "a right-to-left override", True, False),
    ('"\\ud800"', "a lone surrogate", True, False),
)


def _with_raw(name: str, data: Any, path: tuple, raw: str) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        copy = json.loads(json.dumps(data))
        _set(copy, path, PLACEHOLDER)
        (d / name).write_text(json.dumps(copy, indent=1).replace(json.dumps(PLACEHOLDER), raw, 1))

    return apply


def _with_data(name: str, data: Any, change: Callable[[Any], None]) -> Callable[[Path], None]:
    def apply(d: Path) -> None:
        copy = json.loads(json.dumps(data))
        change(copy)
        (d / name).write_text(json.dumps(copy, indent=1))

    return apply


def _label(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def value_mutations(name: str, data: Any, max_leaves: int = 400) -> Iterator[Mutation]:
    for n, (path, value) in enumerate(leaves(data)):
        if n >= max_leaves:
            return
        field = str(path[-1])
        where = _label(path)
        if isinstance(value, (dict, list)):
            yield Mutation(name, f"{where} <- the string 'x'", _with_raw(name, data, path, '"x"'), True)
            yield Mutation(name, f"{where} <- null", _with_raw(name, data, path, "null"), True)
            continue
        number = _numeric(value)
        for raw, label, bad_for_number, bad_for_string in HOSTILE_VALUES:
            if isinstance(value, bool):
                bad = raw != "true"  # the other truth value is a valid setting
            elif number:
                bad = bad_for_number and not (raw == "-1" and field in NEGATIVE_OK)
            else:
                bad = bad_for_string
            yield Mutation(name, f"{where} <- {label}", _with_raw(name, data, path, raw), bad)
        if number and not isinstance(value, bool):
            doubled = float(value) * 2
            yield Mutation(name, f"{where} <- twice its value", _with_raw(name, data, path, repr(doubled)), False)
        if isinstance(path[-1], str):
            yield Mutation(name, f"{where} removed", _with_data(name, data, lambda c, p=path: _delete(c, p)), False)
            parent = path[:-1]

            def typo(c: Any, p: tuple = parent, k: str = field) -> None:
                target = c
                for step in p:
                    target = target[step]
                target[k[:-1] + k[-1].swapcase() if k[-1].isalpha() else k + "_"] = target[k]

            yield Mutation(name, f"{where} also written with a typo in its name", _with_data(name, data, typo), True)


def config_mutations(config_dir: Path, filters_leaves: int = 40) -> list[Mutation]:
    """Every mutation of every config file (venue_filters.json: its first `filters_leaves` leaves)."""
    out: list[Mutation] = []
    for name in CONFIG_FILES:
        raw = (config_dir / name).read_bytes()
        out.extend(file_mutations(name, raw))
        limit = filters_leaves if name == "venue_filters.json" else 400
        out.extend(value_mutations(name, json.loads(raw), limit))
    for name in TEXT_FILES:
        if (config_dir / name).is_file():
            out.extend(text_file_mutations(name, (config_dir / name).read_bytes()))
    return out


# -- .env -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EnvMutation:
    what: str
    text: bytes | None  # the .env content (None: `setup` makes the file)
    must_refuse: bool
    extra: tuple[tuple[str, str], ...] = ()  # process environment on top (e.g. STATE_DIR)
    setup: Callable[[Path], None] | None = None  # given the .env path
    warns: str = ""  # a warning line that must appear (for look-alike variables)


NUMERIC_ENV = (
    "SPEED",
    "SEED",
    "INITIAL_CAPITAL_USDT",
    "ACCOUNT_LOG_INTERVAL_S",
    "RESERVE_BTC",
    "LIVE_STALE_S",
    "LIVE_BACKOFF_MAX_S",
    "VENUE_TIMEOUT_S",
    "FIRESTORE_DOC_INTERVAL_S",
    "FIRESTORE_NAV_DAY_INTERVAL_S",
    "FIRESTORE_SUMMARY_INTERVAL_S",
    "FIRESTORE_READ_CACHE_S",
    "FIRESTORE_READ_TIMEOUT_S",
    "FIRESTORE_READ_RETRY_S",
    "STOP_VALIDATOR_INTERVAL_S",
    "ORDER_REMAINDER_RETRIES",
    "ORDER_CUTBACK_MAX",
)  # WATCHDOG_STALE_S is read by `ctl status` and the watchdog, not the executor (bench: the ctl checks)
HOSTILE_NUMBERS = ("nan", "inf", "-inf", "1e400", "1e308", "-1", "abc", "\u00b2", "9" * 5000, "0x10", "1e-400")
FLAG_ENV = ("SAFE_MODE", "DRY_RUN_MODE")


def env_mutations(base: str, run_env: dict[str, str]) -> list[EnvMutation]:
    """.env mutations on top of `base` (a valid .env text); `run_env` has what the run needs."""
    out: list[EnvMutation] = []

    def with_line(line: str) -> bytes:
        return (base + line + "\n").encode("utf-8", "surrogateescape")

    for i, var in enumerate(NUMERIC_ENV):
        for value in (HOSTILE_NUMBERS[i % len(HOSTILE_NUMBERS)], HOSTILE_NUMBERS[(i + 5) % len(HOSTILE_NUMBERS)]):
            shown = value if len(value) < 20 else f"{len(value)} digits"
            out.append(EnvMutation(f"{var}={shown}", with_line(f"{var}={value}"), value != "1e-400"))
    out.append(EnvMutation("SEED=\u00b2 (a superscript two)", with_line("SEED=\u00b2"), True))
    out.append(EnvMutation("SEED of 5,000 digits", with_line("SEED=" + "7" * 5000), True))
    out.append(EnvMutation("INITIAL_CAPITAL_USDT=1e400", with_line("INITIAL_CAPITAL_USDT=1e400"), True))
    out.append(EnvMutation("LIVE_STALE_S=nan", with_line("LIVE_STALE_S=nan"), True))
    out.append(EnvMutation("LIVE_STALE_S=inf", with_line("LIVE_STALE_S=inf"), True))
    out.append(EnvMutation("FIRESTORE_DOC_INTERVAL_S=inf", with_line("FIRESTORE_DOC_INTERVAL_S=inf"), True))
    out.append(EnvMutation("FIRESTORE_SUMMARY_INTERVAL_S=1e400", with_line("FIRESTORE_SUMMARY_INTERVAL_S=1e400"), True))
    for var in FLAG_ENV:
        for value in ("maybe", "2", "nan"):
            out.append(EnvMutation(f"{var}={value}", with_line(f"{var}={value}"), True))
    out.append(EnvMutation("two SAFE_MODE lines", with_line("SAFE_MODE=true\nSAFE_MODE=false"), True))
    out.append(EnvMutation("two PROFILE lines", with_line("PROFILE=paper\nPROFILE=paper"), True))
    out.append(EnvMutation("PROFILE=prod", with_line("PROFILE=prod"), True))
    out.append(EnvMutation("FEED=carrier-pigeon", with_line("FEED=carrier-pigeon"), True))
    out.append(EnvMutation("LOG_LEVEL=\u0000", with_line("LOG_LEVEL=\u0000"), True))
    out.append(EnvMutation("HEDGE_ENV=a/b", with_line("HEDGE_ENV=a/b"), True))
    out.append(EnvMutation("HEDGE_ENV=../prod", with_line("HEDGE_ENV=../prod"), True))
    out.append(EnvMutation("FIRESTORE_DATABASE=Bad Name!", with_line("FIRESTORE_DATABASE=Bad Name!"), True))
    out.append(EnvMutation("FIRESTORE_PROJECT=x/y", with_line("FIRESTORE_PROJECT=x/y"), True))
    out.append(EnvMutation("MARGIN_TYPE=both", with_line("MARGIN_TYPE=both"), True))
    out.append(EnvMutation("HEARTBEAT_TZ=Mars/Olympus", with_line("HEARTBEAT_TZ=Mars/Olympus"), False))
    out.append(EnvMutation("SAFEMODE=false (a look-alike)", with_line("SAFEMODE=false"), False, warns="SAFEMODE"))
    out.append(EnvMutation("safe_mode=false (lower case)", with_line("safe_mode=false"), False, warns="safe_mode"))
    out.append(EnvMutation("SAFE_MOD=false (a typo)", with_line("SAFE_MOD=false"), False, warns="SAFE_MOD"))
    out.append(
        EnvMutation("HEDGE_OPERATOR=alice (retired)", with_line("HEDGE_OPERATOR=alice"), False, warns="HEDGE_OPERATOR")
    )
    out.append(EnvMutation("a line that is not KEY=VALUE", with_line("this is not a setting"), True))
    out.append(EnvMutation("a binary .env", bytes(range(256)) * 4, True))
    out.append(EnvMutation("invalid UTF-8 in a value", with_line("TELEGRAM_CHAT_ID=\udcff\udcfe"), True))
    out.append(EnvMutation("a 2 MiB .env", (base + "#" + "x" * (2 << 20) + "\n").encode(), False))

    def as_dir(p: Path) -> None:
        p.mkdir()

    def loop(p: Path) -> None:
        p.with_name(p.name + ".loop").symlink_to(p)
        p.symlink_to(p.with_name(p.name + ".loop"))

    out.append(EnvMutation("a directory as .env", None, True, setup=as_dir))
    out.append(EnvMutation("a symlink loop as .env", None, True, setup=loop))
    state = run_env.get("STATE_DIR", "")
    out.append(EnvMutation("STATE_DIR on a file", base.encode(), True, (("STATE_DIR", "/etc/hostname"),)))
    out.append(EnvMutation("STATE_DIR in /proc", base.encode(), True, (("STATE_DIR", "/proc/hedge-state"),)))
    out.append(
        EnvMutation("STATE_DIR of 5,000 characters", base.encode(), True, (("STATE_DIR", state + "/" + "d" * 5000),))
    )
    out.append(EnvMutation("CONFIG_DIR on a file", base.encode(), True, (("CONFIG_DIR", "/etc/hostname"),)))
    return out


def write_env(path: Path, m: EnvMutation) -> None:
    if m.setup is not None:
        m.setup(path)
    else:
        assert m.text is not None
        path.write_bytes(m.text)
    os.chmod(path, 0o600) if path.is_file() and not path.is_symlink() else None


# -- judging what a loader did --------------------------------------------------------------------
def judge(must_refuse: bool, names: str, run: Callable[[], Any]) -> tuple[str, str]:
    """(outcome, detail) of `run()`: "refused" (one ConfigError line naming `names`), "held"
    (accepted, and it may be), "silent" (accepted, but must not be) or "crash"."""
    from execution.settings import ConfigError

    try:
        run()
    except ConfigError as exc:
        line = str(exc)
        if "\n" in line or names not in line:
            return "crash", f"not one line naming {names}: {line[:200]!r}"
        return "refused", line[:200]
    except BaseException as exc:  # noqa: BLE001 - the point: anything else is a crash
        return "crash", f"{type(exc).__name__}: {str(exc)[:200]}"
    return ("silent", "accepted") if must_refuse else ("held", "accepted")


def load_config(config_dir: Path, state_dir: Path) -> None:
    """What the executor reads of a config directory at start: settings and the arbitrage config."""
    from execution.arb.config import load as load_arbitrage
    from execution.settings import load_settings

    load_settings({"CONFIG_DIR": str(config_dir), "STATE_DIR": str(state_dir)})
    load_arbitrage(config_dir)
