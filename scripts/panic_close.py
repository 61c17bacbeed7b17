#!/usr/bin/env python3
"""Panic close: cancel every open order and close every position on every venue.

    python scripts/panic_close.py --dry-run          # show the plan, change nothing
    python scripts/panic_close.py --yes              # do it (or without --yes: confirm at the prompt)
    python scripts/panic_close.py --yes --venues okx_perp --rounds 8

Talks to the venues only (keys and URLs from the environment / .env, PROFILE=testnet|live):
works without the executor and with Firestore down. Each position is closed with a MARKET
order on its own position side (hedge mode: SELL+LONG, BUY+SHORT, never reduceOnly), split
into the venue's market lot limit; positions are re-read until flat (bounded rounds). One
venue failing does not stop the others. SAFE_MODE blocks new risk, not risk reduction: the
closes go out whatever SAFE_MODE says, so a real close needs `--yes` or a typed confirmation
at a terminal (without either, nothing is sent and the exit code is 2). The output ends with
what was closed and what is left.

Exit 0: every venue checked is flat with no open orders. Exit 1: something is left open, or
a venue could not be read (each is listed). Exit 2: configuration error, or not confirmed.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution import clock, ids, logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import SafeModeRefused, UnknownOutcome, VenueError
from execution.exchanges.factory import build_venue
from execution.models import OrderRequest, OrderType, Position
from execution.operator_numbers import int_arg, seconds_arg
from execution.settings import VENUE_KEYS, VENUES, ConfigError, ProfileEnv, VenueAccess, load_dotenv_file, read_env

EXIT_OK, EXIT_LEFT_OPEN, EXIT_CONFIG = 0, 1, 2


@dataclass
class VenueResult:
    venue: str
    cancelled: int = 0
    orders_sent: int = 0
    left: list[Position] = field(default_factory=list)
    found: list[Position] = field(default_factory=list)  # positions at the first read
    open_orders_left: int = 0
    unreadable: str = ""  # why the venue's state is not known (empty when it was read)

    @property
    def flat(self) -> bool:
        return not self.unreadable and not self.left and not self.open_orders_left


def _chunks(qty: Decimal, max_qty: Decimal | None) -> list[Decimal]:
    if not max_qty or qty <= max_qty:
        return [qty]
    out = []
    while qty > 0:
        out.append(min(qty, max_qty))
        qty -= out[-1]
    return out


def _q(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _describe(p: Position) -> str:
    return f"{p.venue} {p.symbol} {p.position_side.value} qty={_q(p.qty)} entry={_q(p.entry_price)}"


def _cancel_protection(
    venue: Venue, positions: list[Position] | None, dry_run: bool, say: Callable[[str], None]
) -> None:
    """Stop-loss / take-profit orders resting on the venue: those whose position is gone are
    cancelled; those still protecting an open position stay (never unprotect what is left)."""
    if positions is None and not dry_run:
        return  # positions unknown: leave every protection in place
    still_open = {(p.symbol, p.position_side) for p in positions or []} if not dry_run else set()
    try:
        triggers = venue.open_triggers()
    except VenueError as exc:
        say(f"[panic] {venue.name}: could not list protective orders code={exc.code}: {exc.message}")
        return
    for t in triggers:
        if (t.symbol, t.position_side) in still_open:
            say(f"[panic] {venue.name} {t.symbol}: protective order {t.client_id} kept (its position is open)")
            continue
        if dry_run:
            say(f"[panic] {venue.name} {t.symbol}: WOULD cancel protective order {t.client_id} once flat")
            continue
        try:
            venue.cancel_trigger(t.symbol, t.client_id)
            say(f"[panic] {venue.name} {t.symbol}: cancelled protective order {t.client_id}")
        except VenueError as exc:
            say(f"[panic] {venue.name} {t.symbol}: cancel protective order {t.client_id} FAILED code={exc.code}")


def close_venue(  # noqa: C901 - one emergency sequence read top to bottom
    venue: Venue,
    run_ts: int,
    dry_run: bool,
    rounds: int,
    wait_s: float,
    say: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
) -> VenueResult:
    res = VenueResult(venue.name)
    try:
        dual = venue.is_dual_side()
        say(f"[panic] {venue.name}: position mode {'hedge (dual-side)' if dual else 'ONE-WAY'}")
    except VenueError as exc:
        say(f"[panic] {venue.name}: position mode unknown ({exc}); assuming hedge mode")
    # 1. cancel every open order, so nothing reopens what we close
    try:
        orders = venue.open_orders()
        by_symbol: dict[str, int] = {}
        for o in orders:
            by_symbol[o.symbol] = by_symbol.get(o.symbol, 0) + 1
        for symbol, n in sorted(by_symbol.items()):
            if dry_run:
                say(f"[panic] {venue.name} {symbol}: WOULD cancel {n} open order(s)")
                continue
            try:
                res.cancelled += venue.cancel_all(symbol)
                say(f"[panic] {venue.name} {symbol}: cancelled {n} open order(s)")
            except VenueError as exc:
                say(f"[panic] {venue.name} {symbol}: cancel all FAILED code={exc.code}: {exc.message}")
        if not by_symbol:
            say(f"[panic] {venue.name}: no open orders")
    except VenueError as exc:
        say(f"[panic] {venue.name}: could not list open orders code={exc.code}: {exc.message}")
    # 2. close positions, re-reading until flat
    positions: list[Position] | None = None
    for attempt in range(rounds):
        try:
            positions = venue.positions()
        except VenueError as exc:
            res.unreadable = f"positions unreadable: code={exc.code} {exc.message}"
            say(f"[panic] {venue.name}: {res.unreadable} (round {attempt + 1}/{rounds})")
            positions = None
            if not dry_run and attempt + 1 < rounds:
                sleep(wait_s)
            continue
        res.unreadable = ""
        if not res.found:
            res.found = list(positions)
        if not positions:
            say(f"[panic] {venue.name}: flat")
            break
        if dry_run:
            for p in positions:
                say(
                    f"[panic] {venue.name} {p.symbol}: WOULD {p.position_side.closing_side.value} MARKET "
                    f"positionSide={p.position_side.value} qty={_q(p.qty)} (holding {_describe(p)})"
                )
            break
        refused = False
        for p in positions:
            try:
                f = venue.filters(p.symbol)
                max_qty = f.market_max_qty or f.max_qty
            except VenueError:
                max_qty = None
            intent = ids.intent_id(venue.name, p.symbol, run_ts, f"panic-{p.position_side.value}")
            for leg, qty in enumerate(_chunks(p.qty, max_qty)):
                req = OrderRequest(
                    venue=venue.name,
                    symbol=p.symbol,
                    side=p.position_side.closing_side,
                    position_side=p.position_side,
                    order_type=OrderType.MARKET,
                    quantity=qty,
                    client_order_id=ids.client_order_id(intent, leg=str(leg), attempt=attempt),
                    intent_id=intent,
                    reduce_only=True,
                )
                line = (
                    f"{venue.name} {p.symbol} {req.side.value} MARKET positionSide={p.position_side.value} "
                    f"qty={_q(qty)} cid={req.client_order_id}"
                )
                try:
                    order = venue.place_order(req)
                    res.orders_sent += 1
                    say(
                        f"[panic] SENT {line}: status={order.status.value} filled={_q(order.filled_qty)}"
                        + (f" avg={_q(order.avg_price)}" if order.filled_qty else "")
                    )
                except SafeModeRefused:
                    say(f"[panic] NOT SENT {line}: SAFE_MODE=true (set SAFE_MODE=false to close for real)")
                    refused = True
                    break
                except UnknownOutcome as exc:
                    res.orders_sent += 1
                    say(f"[panic] UNKNOWN {line}: code={exc.code} {exc.message} (positions are re-read next)")
                except VenueError as exc:
                    say(f"[panic] FAILED {line}: code={exc.code} {exc.message}")
            if refused:
                break
        if refused:
            break
        if attempt + 1 < rounds:
            sleep(wait_s)
        positions = None
    # 3. what is left; protective (trigger) orders: kept while their position is open, cancelled once flat
    if not dry_run and positions is None:
        try:
            positions = venue.positions()
            res.unreadable = ""
        except VenueError as exc:
            res.unreadable = f"positions unreadable: code={exc.code} {exc.message}"
    _cancel_protection(venue, positions, dry_run, say)
    if not dry_run:
        try:
            res.open_orders_left = len(venue.open_orders())
        except VenueError as exc:
            res.unreadable = res.unreadable or f"open orders unreadable: code={exc.code} {exc.message}"
    res.left = list(positions or [])
    return res


def run(
    venues: dict[str, Venue],
    dry_run: bool = False,
    rounds: int = 5,
    wait_s: float = 1.0,
    out: TextIO = sys.stdout,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    run_ts = clock.wall_ms()
    results = []
    for name, venue in venues.items():
        try:
            results.append(close_venue(venue, run_ts, dry_run, rounds, wait_s, say, sleep))
        except Exception as exc:  # noqa: BLE001 - one broken venue must not stop the others
            say(f"[panic] {name}: UNEXPECTED {type(exc).__name__}: {exc}")
            results.append(VenueResult(name, unreadable=f"unexpected {type(exc).__name__}"))
    if dry_run:
        unreadable = [r for r in results if r.unreadable]
        for r in unreadable:
            say(f"[panic] DRY RUN: {r.venue}: {r.unreadable}")
        say("[panic] DRY RUN: nothing was sent")
        return EXIT_LEFT_OPEN if unreadable else EXIT_OK
    failed = [r for r in results if not r.flat]
    for r in results:
        left = {(p.symbol, p.position_side): p.qty for p in r.left}
        for p in r.found:
            remaining = left.get((p.symbol, p.position_side), Decimal(0))
            if remaining < p.qty:
                closed = p.qty - remaining
                say(
                    f"[panic] CLOSED {p.venue} {p.symbol} {p.position_side.value} qty={_q(closed)}"
                    + (f" of {_q(p.qty)}" if remaining else "")
                    + f" (entry {_q(p.entry_price)})"
                )
    for r in results:
        if r.flat:
            say(f"[panic] {r.venue}: FLAT (cancelled {r.cancelled} order(s), sent {r.orders_sent} close order(s))")
    for r in failed:
        if r.unreadable:
            say(f"[panic] LEFT OPEN? {r.venue}: state unknown: {r.unreadable}")
        for p in r.left:
            say(f"[panic] LEFT OPEN: {_describe(p)}")
        if r.open_orders_left:
            say(f"[panic] LEFT OPEN: {r.venue}: {r.open_orders_left} open order(s)")
    return EXIT_LEFT_OPEN if failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dry-run", action="store_true", help="show the plan; send nothing")
    ap.add_argument("--yes", action="store_true", help="close for real without the interactive confirmation")
    ap.add_argument(
        "--venues", default="", help=f"comma-separated subset of {','.join(VENUES)} (default: all with keys)"
    )
    ap.add_argument(
        "--rounds", type=int_arg(1, 100), default=5, help="close/re-read rounds before giving up (default 5)"
    )
    ap.add_argument("--wait-s", type=seconds_arg(60, zero=True), default=1.0, help="seconds between rounds (default 1)")
    args = ap.parse_args(argv)
    try:
        load_dotenv_file()
        access = VenueAccess.read()
        logs.setup("INFO", stream=sys.stderr, secrets=access.credentials.secret_values())
        profile_env = read_env(ProfileEnv)
        profile, safe_mode = profile_env.profile, profile_env.safe_mode
        if profile == "paper":
            print(
                "[panic] PROFILE=paper: the paper account lives inside the executor, not on a venue; "
                "use the operator CLI 'flatten'. Nothing to do here."
            )
            return EXIT_OK
        asked = [v for v in args.venues.split(",") if v]
        for v in asked:
            if v not in VENUES:
                raise ConfigError("--venues", v, f"one of {list(VENUES)}", v)
        venues: dict[str, Venue] = {}
        for name in asked or VENUES:
            if not asked and not access.credentials.has_keys(name):
                print(f"[panic] {name}: no {VENUE_KEYS[name][0]} set: not checked")
                continue
            # SAFE_MODE blocks new risk; closing positions is risk reduction, confirmed below
            venues[name] = build_venue(name, profile, access, safe_mode=args.dry_run)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    if not venues:
        print("[panic] no venue has keys: nothing checked", file=sys.stderr)
        return EXIT_CONFIG
    print(
        f"[panic] PROFILE={profile} SAFE_MODE={safe_mode} venues={','.join(venues)}"
        + (" DRY RUN" if args.dry_run else "")
        + (
            " (SAFE_MODE blocks new risk, not risk reduction: closing anyway)" if safe_mode and not args.dry_run else ""
        ),
        flush=True,
    )
    if not args.dry_run and not args.yes and not _confirmed(profile, list(venues)):
        for v in venues.values():
            v.close()
        print(
            "[panic] NOT CONFIRMED: nothing sent. Run with --yes (or answer the prompt at a terminal); "
            "--dry-run shows the plan.",
            file=sys.stderr,
        )
        return EXIT_CONFIG
    try:
        return run(venues, dry_run=args.dry_run, rounds=max(1, args.rounds), wait_s=max(0.0, args.wait_s))
    finally:
        for v in venues.values():
            v.close()


def _confirmed(profile: str, venues: list[str]) -> bool:
    """An operator at a terminal types `yes`; without a terminal there is nobody to ask."""
    if not sys.stdin.isatty():
        return False
    answer = input(
        f"[panic] cancel every order and MARKET-close every position on {', '.join(venues)} ({profile})? type yes: "
    )
    return answer.strip().lower() == "yes"


if __name__ == "__main__":
    sys.exit(main())
