#!/usr/bin/env python3
"""Read-only probes of the venues for the mainnet cutover: nothing is sent that changes anything.

    python scripts/probe_venues.py                        # balances, exchangeInfo, klines per symbol
    python scripts/probe_venues.py --verify-fills         # also: every fill in STATE_DIR/trade_log.jsonl
                                                          # against the venue's own record of its order

Keys and URLs from the environment / .env (PROFILE=testnet|live). Per venue with keys: server
time and clock offset, position mode, wallet balance, open positions and orders, and per
configured symbol its filters (exchangeInfo / instruments) and its last closed 15-minute candles
(klines). Only GET requests: the venues are built in SAFE_MODE and no write endpoint is called.

`--verify-fills` is the cutover's micro-trade check: the fills the executor journaled (not
simulated ones), summed per client order id, must equal the filled quantity the venue reports
for that order (and the average price within a tick's rounding). Exit 0: everything read (and
every fill matches); 1: a probe failed or a fill differs (listed); 2: configuration error.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TextIO

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests

from execution import clock, logs
from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.exchanges.factory import build_venue
from execution.feeds import rest_history
from execution.feeds.stream_parsers import BAR_MS
from execution.settings import VENUE_KEYS, VENUES, ConfigError, Settings, load_dotenv_file, load_settings
from execution.state.atomic import read_lines
from execution.state.layout import COLLECTION_FILES

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
KLINES = 3


def _q(d: Decimal) -> str:
    return format(d.normalize(), "f")


def probe_venue(venue: Venue, symbols: list[str], klines, say) -> list[str]:
    """Read everything the checklist asks for on one venue; returns what failed."""
    failed: list[str] = []

    def step(what: str, fn) -> None:
        try:
            say(f"[probe] {venue.name} {what}: {fn()}")
        except VenueError as exc:
            say(f"[probe] {venue.name} {what}: FAILED code={exc.code} {exc.message}")
            failed.append(f"{venue.name} {what}")
        except (requests.RequestException, ValueError, KeyError) as exc:
            say(f"[probe] {venue.name} {what}: FAILED {exc.__class__.__name__}")
            failed.append(f"{venue.name} {what}")

    step("server time", lambda: f"{venue.server_time_ms()} (offset {venue.server_time_ms() - clock.wall_ms():+d} ms)")
    step("position mode", lambda: "hedge (dual-side)" if venue.is_dual_side() else "ONE-WAY (hedge mode needed)")
    step("balance", lambda: _balance(venue))
    step("positions", lambda: ", ".join(_position(p) for p in venue.positions()) or "none")
    step("open orders", lambda: str(len(venue.open_orders())))
    for sym in symbols:
        step(f"{sym} exchangeInfo", lambda sym=sym: _filters(venue, sym))
        step(f"{sym} klines", lambda sym=sym: klines(venue.name, sym))
    return failed


def _balance(venue: Venue) -> str:
    b = venue.balance()
    return f"wallet {_q(b.wallet_balance)} {b.asset}, available {_q(b.available_balance)}, uPnL {_q(b.unrealized_pnl)}"


def _position(p) -> str:
    return f"{p.symbol} {p.position_side.value} {_q(p.qty)} @ {_q(p.entry_price)}"


def _filters(venue: Venue, symbol: str) -> str:
    f = venue.filters(symbol)
    return f"tick {_q(f.tick_size)} step {_q(f.step_size)} min qty {_q(f.min_qty)} min notional {_q(f.min_notional)}"


def kline_reader(s: Settings, session: requests.Session):
    """The last closed 15m candles of a symbol, from the venue's public REST history."""
    binance = rest_history.binance_host(s.access.endpoints.binance_rest or rest_history.BINANCE_URL)
    okx = (s.access.endpoints.okx_rest or rest_history.OKX_URL).rstrip("/")

    def read(venue: str, symbol: str) -> str:
        now = clock.wall_ms()
        end = now - now % BAR_MS
        start = end - KLINES * BAR_MS
        if venue == "binance_um":
            rows = rest_history.binance_candles(session, binance, symbol, start, end)
        else:
            rows = rest_history.okx_candles(session, okx, symbol, start, end)
        if not rows:
            raise ValueError("no closed candle returned")
        t, _o, _h, _l, c, _v = rows[-1]
        stamp = time.strftime("%Y-%m-%d %H:%M", time.gmtime(int(t) / 1000))
        return f"{len(rows)} closed 15m candle(s), last {stamp} UTC close {c}"

    return read


def verify_fills(venues: dict[str, Venue], trade_log: Path, say) -> list[str]:
    """Journaled fills (not simulated) per order against the venue's own record of that order."""
    orders: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for rec in read_lines(trade_log):
        if rec.get("status") == "simulated" or rec.get("venue") not in venues or not rec.get("client_order_id"):
            continue
        orders[(rec["venue"], rec["symbol"], rec["client_order_id"])].append(rec)
    if not orders:
        say(f"[probe] verify fills: no venue fills in {trade_log}")
        return []
    failed = []
    for (name, symbol, cid), fills in sorted(orders.items()):
        qty = sum((Decimal(str(f["qty"])) for f in fills), Decimal(0))
        try:
            order = venues[name].get_order(symbol, cid)
        except VenueError as exc:
            say(f"[probe] FILL {name} {symbol} cid={cid}: FAILED to read code={exc.code} {exc.message}")
            failed.append(f"{name} {cid}")
            continue
        if order is None:
            say(f"[probe] FILL MISMATCH {name} {symbol} cid={cid}: journaled {_q(qty)}, the venue has no such order")
            failed.append(f"{name} {cid}")
        elif order.filled_qty != qty:
            say(
                f"[probe] FILL MISMATCH {name} {symbol} cid={cid}: journaled {_q(qty)}, "
                f"venue filled {_q(order.filled_qty)} ({order.status.value})"
            )
            failed.append(f"{name} {cid}")
        else:
            say(f"[probe] FILL OK {name} {symbol} cid={cid}: {_q(qty)} at avg {_q(order.avg_price)}")
    return failed


def run(venues: dict[str, Venue], symbols: dict[str, list[str]], klines, trade_log: Path | None, out: TextIO) -> int:
    def say(line: str) -> None:
        print(line, file=out, flush=True)

    failed: list[str] = []
    for name, venue in venues.items():
        try:
            failed += probe_venue(venue, symbols.get(name, []), klines, say)
        except Exception as exc:  # noqa: BLE001 - one broken venue must not hide the others
            say(f"[probe] {name}: UNEXPECTED {type(exc).__name__}")
            failed.append(name)
    if trade_log is not None:
        failed += verify_fills(venues, trade_log, say)
    say("[probe] FAILED: " + ", ".join(failed) if failed else "[probe] done: read only, nothing changed")
    return EXIT_FAILED if failed else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--verify-fills", action="store_true", help="check STATE_DIR/trade_log.jsonl against the venues")
    args = ap.parse_args(argv)
    load_dotenv_file()
    try:
        s = load_settings(FEED="live")  # the feed plays no part here; SAFE_MODE is forced below
        logs.setup("WARNING", stream=sys.stderr, secrets=s.secret_values())
        if s.profile == "paper":
            print("[probe] PROFILE=paper: no venue to probe (set PROFILE=testnet or live, or BINANCE_TESTNET)")
            return EXIT_OK
        symbols: dict[str, list[str]] = defaultdict(list)
        for sym, cfg in s.symbols.items():
            symbols[cfg.venue].append(sym)
        venues: dict[str, Venue] = {}
        for name in VENUES:
            if not s.access.credentials.has_keys(name):
                print(f"[probe] {name}: no {VENUE_KEYS[name][0]} set: not probed")
                continue
            venues[name] = build_venue(name, s.profile, s.access, safe_mode=True)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_CONFIG
    if not venues:
        print("[probe] no venue has keys: nothing probed", file=sys.stderr)
        return EXIT_CONFIG
    print(f"[probe] PROFILE={s.profile} venues={','.join(venues)} (read only)")
    session = requests.Session()
    trade_log = s.state_dir / COLLECTION_FILES["trades"] if args.verify_fills else None
    try:
        return run(venues, symbols, kline_reader(s, session), trade_log, sys.stdout)
    finally:
        session.close()
        for v in venues.values():
            v.close()


if __name__ == "__main__":
    sys.exit(main())
