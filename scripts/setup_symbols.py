#!/usr/bin/env python3
"""Symbol setup: hedge position mode, margin type and leverage per venue and symbol, from config.

    python scripts/setup_symbols.py                       # dry run: what would change
    python scripts/setup_symbols.py --apply               # change what differs
    python scripts/setup_symbols.py --apply --symbol okx_perp:BTC-USDT-SWAP:2
    python scripts/setup_symbols.py --refresh-filters     # dry run: diff of config/venue_filters.json
    python scripts/setup_symbols.py --refresh-filters --apply   # write it from the venues' answers

Symbols and target leverage come from config/pairs_universe.json (venue per symbol, overrides
target_leverage) and, when the arbitrage engine is enabled, both legs of every pair in
config/arbitrage.json (its leverage); `--symbol venue:SYMBOL[:LEVERAGE]` adds more.

Margin type, each strategy's documented default: the screener's symbols CROSSED (the fund's
runbook: "Per-symbol CROSSED margin"); an arbitrage leg its pair's `margin_type` in
config/arbitrage.json (the arbitrage preflight refuses a leg whose venue disagrees); a
`--symbol` ISOLATED (the arbitrage addendum's default). MARGIN_TYPE (set in the environment or
.env) or --margin-type overrides them all. Each line says which rule chose it. On OKX the margin
type is the tdMode every order carries (OKX has no per-instrument setting).

Idempotent: it reads before it writes, and a venue's "no need to change" answer counts as
success. Never places an order. Exit 0: everything is (or, dry run, could be made) as
configured; 1: something failed (listed); 2: configuration error.

--refresh-filters reads the venues' public exchangeInfo / instruments answers (no keys needed;
BINANCE_FAPI_URL / OKX_BASE_URL or the profile's official URLs) and rewrites CONFIG_DIR/
venue_filters.json for every instrument it lists plus the configured ones (an instrument the
venue no longer lists is dropped); `_source` records when and from where each venue was read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TextIO, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution import clock, logs, venue_filters
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.exchanges.factory import build_venue
from execution.exchanges.rest_venue import RestVenue
from execution.models import MarginType
from execution.settings import (
    VENUES,
    ConfigError,
    Credentials,
    EndpointsEnv,
    Settings,
    load_dotenv_file,
    load_settings,
    process_env_over_file,
    read_env,
)
from execution.state.atomic import write_text

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
T = TypeVar("T")


def _margin_text(m: MarginType) -> str:
    return m.value


def _leverage_text(x: int) -> str:
    return f"{x}x"


SCREENER_MARGIN = MarginType.CROSS  # the fund's runbook: per-symbol CROSSED margin
EXTRA_MARGIN = MarginType.ISOLATED  # the arbitrage addendum's default, for --symbol


@dataclass(frozen=True)
class Target:
    venue: str
    symbol: str
    leverage: int
    margin_type: MarginType | None = None  # None: the run's margin type
    rule: str = ""  # which rule chose the margin type (shown on the line)


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
            wanted_mt = t.margin_type or margin_type
            if not _step(
                f"{venue.name} {t.symbol} margin type" + (f" ({t.rule})" if t.rule else ""),
                current_mt,
                wanted_mt,
                apply,
                partial(venue.set_margin_type, t.symbol, wanted_mt),
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


def targets_of(s: Settings, extra: list[str], override: MarginType | None) -> list[Target]:
    """Every symbol to set up, each with its strategy's margin type (or the override), once."""
    from execution.arb.config import load as load_arb_config

    def mt(default: MarginType, rule: str) -> tuple[MarginType, str]:
        return (override, "MARGIN_TYPE") if override is not None else (default, rule)

    out: dict[tuple[str, str], Target] = {}
    for sym, cfg in s.symbols.items():
        m, rule = mt(SCREENER_MARGIN, "screener: CROSSED per the runbook")
        out[(cfg.venue, sym)] = Target(cfg.venue, sym, cfg.target_leverage, m, rule)
    arb = load_arb_config(s.config_dir)
    if arb is not None and arb.enabled:
        for pair in arb.pairs.values():
            for venue, sym in pair.symbols.items():
                m, rule = mt(pair.margin_type, f"arbitrage {pair.pair}: config/arbitrage.json")
                out.setdefault((venue, sym), Target(venue, sym, pair.leverage, m, rule))
    for text in extra:
        t = parse_symbol(text, s.default_strategy.leverage)
        m, rule = mt(EXTRA_MARGIN, "--symbol: ISOLATED per the arbitrage addendum")
        out[(t.venue, t.symbol)] = Target(t.venue, t.symbol, t.leverage, m, rule)
    return list(out.values())


def public_venue(name: str, profile: str, endpoints: EndpointsEnv) -> tuple[RestVenue, str]:
    """(an adapter without keys for the public reference-data calls, the URL it lists instruments from)."""
    if name == "binance_um":
        from execution.exchanges.binance_um import LIVE_URL, TESTNET_URL, BinanceUM

        base = endpoints.binance_rest or (TESTNET_URL if profile == "testnet" else LIVE_URL)
        return BinanceUM("", "", base, safe_mode=True), f"{base.rstrip('/')}/v1/exchangeInfo"
    from execution.exchanges.okx_perp import LIVE_URL as OKX_URL
    from execution.exchanges.okx_perp import OkxPerp

    domain = endpoints.okx_rest or OKX_URL
    return (
        OkxPerp("", "", "", demo=profile == "testnet", domain=domain, safe_mode=True),
        f"{domain.rstrip('/')}/api/v5/public/instruments?instType=SWAP",
    )


def refresh_filters(s: Settings, endpoints: EndpointsEnv, apply: bool, out: TextIO = sys.stdout) -> int:
    """Diff (and with `apply` write) CONFIG_DIR/venue_filters.json from the venues' answers."""
    from execution.app import live_symbols

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    path = s.config_dir / "venue_filters.json"
    doc = json.loads(path.read_text())
    fetched, sources, failed = {}, {}, []
    wanted = [(v, sym) for v, syms in live_symbols(s).items() for sym in syms]
    for name in VENUES:
        venue, url = public_venue(name, s.profile, endpoints)
        try:
            fetched[name] = venue.refresh_filters()
            sources[name] = {"url": url, "fetched_at": clock.utc_iso(clock.wall_ms())}
            listing = fetched[name]
            say(f"[filters] {name}: {len(listing)} instruments listed by {url}")
            for v, sym in wanted:
                if v == name and sym in listing.skipped:
                    failed.append(f"{name}:{sym}")  # the diff below says it, and keeps the entry
        except VenueError as exc:
            say(f"[filters] {name}: FAILED to read {url}: code={exc.code} {exc.message} (its entries are kept)")
            failed.append(name)
        finally:
            venue.close()
    new_doc, lines = venue_filters.refresh(doc, fetched, sources, wanted)
    for line in lines:
        say(f"[filters] {line}")
    if not lines:
        say("[filters] no difference from the venues' answers")
    if apply:
        write_text(path, json.dumps(new_doc, indent=1) + "\n")
        say(f"[filters] wrote {path} ({len(lines)} change(s))")
    else:
        say(f"[filters] {len(lines)} change(s) (dry run: nothing written; --apply to write {path})")
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--apply", action="store_true", help="change what differs (default: dry run)")
    ap.add_argument(
        "--refresh-filters",
        action="store_true",
        help="diff config/venue_filters.json against the venues' exchangeInfo / instruments (--apply writes it)",
    )
    ap.add_argument("--symbol", action="append", default=[], help="venue:SYMBOL[:LEVERAGE], repeatable")
    ap.add_argument(
        "--margin-type",
        choices=("ISOLATED", "CROSSED"),
        help="override every symbol's (default: MARGIN_TYPE if set, else each strategy's default)",
    )
    ap.add_argument("--venues", default="", help="comma-separated subset of venues")
    args = ap.parse_args(argv)
    venues: dict[str, Venue] = {}
    try:
        load_dotenv_file()
        logs.setup("WARNING", stream=sys.stderr, secrets=read_env(Credentials).secret_values())
        s = load_settings(FEED="live", MARGIN_TYPE=args.margin_type)  # the feed plays no part in symbol setup
        if args.refresh_filters:
            return refresh_filters(s, s.access.endpoints, args.apply)
        margin_type = s.access.venue.margin_type
        if s.profile == "paper":
            print("[setup] PROFILE=paper: the paper venue needs no setup")
            return EXIT_OK
        explicit = bool(args.margin_type or process_env_over_file().get("MARGIN_TYPE", "").strip())
        targets = targets_of(s, args.symbol, margin_type if explicit else None)
        asked = [v for v in args.venues.split(",") if v]
        for name in asked or sorted({t.venue for t in targets}):
            if name not in VENUES:
                raise ConfigError("--venues", name, f"one of {list(VENUES)}", name)
            if not asked and not s.access.credentials.has_keys(name):
                print(
                    f"[setup] {name}: no keys set: not checked ({', '.join(t.symbol for t in targets if t.venue == name)})"
                )
                continue
            venues[name] = build_venue(name, s.profile, s.access, safe_mode=True)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"[setup] PROFILE={s.profile} margin_type="
        f"{margin_type.value + ' (MARGIN_TYPE, every symbol)' if explicit else 'per strategy'} "
        f"{'APPLY' if args.apply else 'DRY RUN'} symbols={','.join(f'{t.venue}:{t.symbol}' for t in targets)}"
    )
    try:
        return run(venues, targets, margin_type, args.apply)
    finally:
        for v in venues.values():
            v.close()


if __name__ == "__main__":
    sys.exit(main())
