#!/usr/bin/env python3
"""Symbol setup: hedge position mode, margin type and leverage per venue and symbol, from config.

    python scripts/setup_symbols.py                       # dry run: what would change
    python scripts/setup_symbols.py --apply               # change what differs
    python scripts/setup_symbols.py --apply --symbol okx_perp:BTC-USDT-SWAP:2

Symbols and target leverage come from config/pairs_universe.json (venue per symbol, overrides
target_leverage); `--symbol venue:SYMBOL[:LEVERAGE]` adds more (e.g. the OKX leg of an
arbitrage). Margin type: MARGIN_TYPE (ISOLATED | CROSSED, default ISOLATED) or --margin-type;
on OKX it is the tdMode every order carries (OKX has no per-instrument setting).

Idempotent: it reads before it writes, and a venue's "no need to change" answer counts as
success. Never places an order. Exit 0: everything is (or, dry run, could be made) as
configured; 1: something failed (listed); 2: configuration error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution import logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.exchanges.factory import build_venue
from execution.models import MarginType
from execution.settings import VENUES, ConfigError, Credentials, load_dotenv_file, load_settings, read_env

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
T = TypeVar("T")


def _margin_text(m: MarginType) -> str:
    return m.value


def _leverage_text(x: int) -> str:
    return f"{x}x"


@dataclass(frozen=True)
class Target:
    venue: str
    symbol: str
    leverage: int


def _step(
    what: str,
    current: T,
    wanted: T,
    apply: bool,
    change: Callable[[], bool],
    say: Callable[[str], None],
    fmt: Callable[[T], str] = str,
) -> bool:
    """Read-compare-write one setting; True when it is (or would be) as wanted."""
    if current == wanted:
        say(f"[setup] {what}: {fmt(wanted)} OK (no change needed)")
        return True
    if not apply:
        say(f"[setup] {what}: WOULD SET {fmt(wanted)} (now {fmt(current)})")
        return True
    try:
        changed = change()
    except VenueError as exc:
        say(f"[setup] {what}: FAILED to set {fmt(wanted)} (now {fmt(current)}): code={exc.code} {exc.message}")
        return False
    say(f"[setup] {what}: {'SET' if changed else 'already'} {fmt(wanted)} (was {fmt(current)})")
    return True


def setup_venue(
    venue: Venue, targets: list[Target], margin_type: MarginType, apply: bool, say: Callable[[str], None]
) -> list[str]:
    """Returns the failures (empty = all good)."""
    failures: list[str] = []
    mode = {True: "hedge (dual-side)", False: "one-way"}
    try:
        dual = venue.is_dual_side()
        if not _step(
            f"{venue.name} position mode",
            dual,
            True,
            apply,
            lambda: venue.set_dual_side(True),
            say,
            lambda v: mode[bool(v)],
        ):
            failures.append(f"{venue.name} position mode")
    except VenueError as exc:
        say(f"[setup] {venue.name} position mode: FAILED to read: code={exc.code} {exc.message}")
        failures.append(f"{venue.name} position mode")
    for t in targets:
        try:
            current_mt = venue.margin_type(t.symbol)
            if not _step(
                f"{venue.name} {t.symbol} margin type",
                current_mt,
                margin_type,
                apply,
                partial(venue.set_margin_type, t.symbol, margin_type),
                say,
                _margin_text,
            ):
                failures.append(f"{venue.name} {t.symbol} margin type")
        except VenueError as exc:
            say(f"[setup] {venue.name} {t.symbol} margin type: FAILED to read: code={exc.code} {exc.message}")
            failures.append(f"{venue.name} {t.symbol} margin type")
        try:
            current_lev = venue.leverage(t.symbol)
            if not _step(
                f"{venue.name} {t.symbol} leverage",
                current_lev,
                t.leverage,
                apply,
                partial(venue.set_leverage, t.symbol, t.leverage),
                say,
                _leverage_text,
            ):
                failures.append(f"{venue.name} {t.symbol} leverage")
        except VenueError as exc:
            say(f"[setup] {venue.name} {t.symbol} leverage: FAILED to read: code={exc.code} {exc.message}")
            failures.append(f"{venue.name} {t.symbol} leverage")
    return failures


def run(
    venues: dict[str, Venue], targets: list[Target], margin_type: MarginType, apply: bool, out: TextIO = sys.stdout
) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    failures: list[str] = []
    for name, venue in venues.items():
        mine = [t for t in targets if t.venue == name]
        try:
            failures += setup_venue(venue, mine, margin_type, apply, say)
        except Exception as exc:  # noqa: BLE001 - one broken venue must not stop the others
            say(f"[setup] {name}: UNEXPECTED {type(exc).__name__}: {exc}")
            failures.append(name)
    if failures:
        say(f"[setup] FAILED: {', '.join(failures)}")
        return EXIT_FAILED
    say("[setup] done" + ("" if apply else " (dry run: nothing changed; --apply to change)"))
    return EXIT_OK


def parse_symbol(text: str, default_leverage: int) -> Target:
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[0] not in VENUES or not parts[1]:
        raise ConfigError("--symbol", text, f"venue:SYMBOL[:LEVERAGE] with venue in {list(VENUES)}", text)
    lev = default_leverage
    if len(parts) == 3:
        if not parts[2].isdigit() or not 1 <= int(parts[2]) <= 125:
            raise ConfigError("--symbol", text, "a leverage in [1, 125]", parts[2])
        lev = int(parts[2])
    return Target(parts[0], parts[1], lev)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apply", action="store_true", help="change what differs (default: dry run)")
    ap.add_argument("--symbol", action="append", default=[], help="venue:SYMBOL[:LEVERAGE], repeatable")
    ap.add_argument("--margin-type", choices=("ISOLATED", "CROSSED"), help="default: MARGIN_TYPE or ISOLATED")
    ap.add_argument("--venues", default="", help="comma-separated subset of venues")
    args = ap.parse_args(argv)
    load_dotenv_file()
    logs.setup("WARNING", stream=sys.stderr, secrets=read_env(Credentials).secret_values())
    venues: dict[str, Venue] = {}
    try:
        s = load_settings(FEED="live", MARGIN_TYPE=args.margin_type)  # the feed plays no part in symbol setup
        margin_type = s.access.venue.margin_type
        if s.profile == "paper":
            print("[setup] PROFILE=paper: the paper venue needs no setup")
            return EXIT_OK
        targets = [Target(cfg.venue, sym, cfg.target_leverage) for sym, cfg in s.symbols.items()]
        targets += [parse_symbol(x, s.default_strategy.leverage) for x in args.symbol]
        wanted = [v for v in args.venues.split(",") if v] or sorted({t.venue for t in targets})
        for name in wanted:
            if name not in VENUES:
                raise ConfigError("--venues", name, f"one of {list(VENUES)}", name)
            venues[name] = build_venue(name, s.profile, s.access, safe_mode=True)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"[setup] PROFILE={s.profile} margin_type={margin_type.value} "
        f"{'APPLY' if args.apply else 'DRY RUN'} symbols={','.join(f'{t.venue}:{t.symbol}' for t in targets)}"
    )
    try:
        return run(venues, targets, margin_type, args.apply)
    finally:
        for v in venues.values():
            v.close()


if __name__ == "__main__":
    sys.exit(main())
