"""config/venue_filters.json against what the venues answer: the file's shape, the differences, a
refreshed document, and the one-time start-up line when a live venue's filters differ from it.

Pure except `log_mismatches`, which asks the venue adapters for their (cached) live filters. The
venues' own answers always win on exchange profiles; the file is what the paper venue trades
with and what an operator reviews (`scripts/setup_symbols.py --refresh-filters`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from execution.exchanges.base import Venue
from execution.exchanges.errors import VenueError
from execution.models import SymbolFilters

#: The fields the file keeps per instrument, by venue (OKX: base units, with ctVal beside them).
FIELDS: dict[str, tuple[str, ...]] = {
    "binance_um": (
        "tick_size",
        "min_price",
        "max_price",
        "step_size",
        "min_qty",
        "max_qty",
        "market_step_size",
        "market_max_qty",
        "min_notional",
    ),
    "okx_perp": (
        "contract_value",
        "tick_size",
        "step_size",
        "min_qty",
        "max_qty",
        "market_max_qty",
        "min_notional",
    ),
}
META_KEYS = ("_comment", "_source")


class WarningLog(Protocol):
    def warning(self, msg: str, *args: Any) -> None: ...


def text(value: Decimal | None) -> str:
    """A Decimal as the file writes it: plain notation, no trailing zeros ("0" for none)."""
    if value is None or value == 0:
        return "0"
    return format(value.normalize(), "f")


def record(f: SymbolFilters) -> dict[str, str]:
    """One instrument's entry in the file."""
    return {name: text(getattr(f, name)) for name in FIELDS[f.venue]}


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def entry_differences(venue: str, file_entry: Mapping[str, Any], live: Mapping[str, str]) -> list[str]:
    """'field file -> venue' for every field whose value differs (compared as numbers)."""
    out = []
    for name in FIELDS[venue]:
        mine, theirs = file_entry.get(name), live.get(name)
        if name == "market_step_size" and mine is None:
            mine = file_entry.get("step_size")  # the loader's default
        if _dec(mine if mine is not None else "0") != _dec(theirs if theirs is not None else "0"):
            out.append(f"{name} {mine if mine is not None else '-'} -> {theirs if theirs is not None else '-'}")
    return out


def filters_differences(file_filters: SymbolFilters, live: SymbolFilters) -> list[str]:
    return entry_differences(live.venue, record(file_filters), record(live))


def refresh(
    doc: Mapping[str, Any],
    fetched: Mapping[str, Mapping[str, SymbolFilters]],
    sources: Mapping[str, Mapping[str, Any]],
    wanted: Iterable[tuple[str, str]] = (),
) -> tuple[dict[str, Any], list[str]]:
    """(the refreshed document, the lines describing what changed). Every instrument already in
        the file plus `wanted` is written from the venue's answer in `fetched` (an entry's other keys,
        such as `margin_tiers`, are kept); one the venue no longer lists is dropped, one it lists but
    whose rules did not read (a `Listing`'s `skipped`) is kept as it was. Venues not in `fetched`
    (not read) are kept as they were."""
    out: dict[str, Any] = {k: doc[k] for k in META_KEYS if k in doc}
    out["_source"] = {**dict(doc.get("_source") or {}), **{v: dict(s) for v, s in sources.items()}}
    lines: list[str] = []
    wanted_by_venue: dict[str, set[str]] = {}
    for venue, symbol in wanted:
        wanted_by_venue.setdefault(venue, set()).add(symbol)
    for venue in FIELDS:
        old = dict(doc.get(venue) or {})
        if venue not in fetched:
            if old:
                out[venue] = old
            continue
        listed = fetched[venue]
        new: dict[str, dict[str, str]] = {}
        for symbol in sorted(set(old) | wanted_by_venue.get(venue, set())):
            live = listed.get(symbol)
            unread = getattr(listed, "skipped", {}).get(symbol)
            if live is None and unread is not None:  # listed, but did not read: ours stays, nothing is guessed
                if symbol in old:
                    new[symbol] = old[symbol]
                what = "kept as it was" if symbol in old else "not written"
                lines.append(f"{venue} {symbol}: listed, but its rules did not read ({unread[:120]}): {what}")
                continue
            if live is None:
                lines.append(f"{venue} {symbol}: not listed by the venue" + (" (dropped)" if symbol in old else ""))
                continue
            kept = {k: v for k, v in old.get(symbol, {}).items() if k not in FIELDS[venue]}
            new[symbol] = {**record(live), **kept}  # what is not a filter (margin_tiers) stays as it was
            if symbol not in old:
                lines.append(f"{venue} {symbol}: new " + " ".join(f"{k}={v}" for k, v in new[symbol].items()))
                continue
            changes = entry_differences(venue, old[symbol], new[symbol])
            if changes:
                lines.append(f"{venue} {symbol}: " + ", ".join(changes))
        out[venue] = new
    return out, lines


def log_mismatches(
    venues: Mapping[str, Venue],
    configured: Mapping[tuple[str, str], SymbolFilters],
    symbols: Mapping[str, Iterable[str]],
    log: WarningLog,
) -> list[str]:
    """One `[executor]` line per traded instrument whose live filters differ from the file (the
    venue's are used). Called once at start on exchange profiles; returns the lines."""
    out = []
    for venue_name, syms in symbols.items():
        venue = venues.get(venue_name)
        if venue is None or venue_name not in FIELDS:
            continue
        for symbol in syms:
            mine = configured.get((venue_name, symbol))
            try:
                live = venue.filters(symbol)
            except VenueError as exc:
                log.warning(
                    "[executor] %s %s filters not read (code=%s): %s", venue_name, symbol, exc.code, exc.message
                )
                continue
            if mine is None:
                continue
            changes = filters_differences(mine, live)
            if changes:
                line = (
                    f"{venue_name} {symbol} live filters differ from config/venue_filters.json "
                    f"({'; '.join(changes)}): the venue's are used"
                )
                log.warning("[executor] %s", line)
                out.append(line)
    return out
