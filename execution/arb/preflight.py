"""Preflight (pure): every check an entry must pass, each failure a named reason.

The venue state it reads (connected, clock skew, position mode, margin type, leverage) is
gathered by the loop at a bounded rate, never on the hot path; here it is only compared.
A reason is `name` or `name: detail`; the names are stable so logs and tests can match them:

    hold, busy, denylist, min_notional, disconnected, stale_book, clock_skew, position_mode,
    margin_type, leverage, basis_warmup, edge_below_min, funding_window, size, cap_symbol,
    cap_venue, cap_total, delta

(denylist and min_notional are the guards' own rules and names: execution/arb/leg_guards.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from execution.arb.book import OpenPair
from execution.arb.config import ArbConfig, PairConfig
from execution.arb.edge import Edge
from execution.models import MarginType

ZERO = Decimal(0)


@dataclass(slots=True)
class VenueHealth:
    connected: bool = False
    skew_ms: float | None = None  # venue time - our event time, from the last sample
    checked_ts: int = 0
    error: str = ""


@dataclass(slots=True)
class AccountState:
    """Per venue symbol, as last read from the venue."""

    dual_side: bool | None = None
    margin_type: MarginType | None = None
    leverage: int | None = None
    checked_ts: int = 0
    error: str = ""


@dataclass(slots=True)
class Exposure:
    """Gross notional (at mark) of arbitrage legs, and their net USD delta."""

    per_symbol: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    per_venue: dict[str, Decimal] = field(default_factory=dict)
    total: Decimal = Decimal(0)
    delta_usd: Decimal = Decimal(0)


def exposure_of(open_pairs: Iterable[OpenPair], marks: dict[tuple[str, str], Decimal]) -> Exposure:
    """The open pairs' legs at `marks` (a leg without a mark counts at its average price)."""
    ex = Exposure()
    for p in open_pairs:
        for leg in p.legs:
            if leg.qty <= 0:
                continue
            n = leg.qty * marks.get((leg.venue, leg.symbol), leg.avg_price)
            ex.per_symbol[(leg.venue, leg.symbol)] = ex.per_symbol.get((leg.venue, leg.symbol), ZERO) + n
            ex.per_venue[leg.venue] = ex.per_venue.get(leg.venue, ZERO) + n
            ex.total += n
        ex.delta_usd += p.delta_usd(marks)
    return ex


@dataclass(slots=True)
class PreflightInput:
    edge: Edge
    pair: PairConfig
    now_ms: int
    book_ts: dict[str, int]
    health: dict[str, VenueHealth]
    accounts: dict[tuple[str, str], AccountState]
    next_funding_ms: dict[str, int]
    exposure: Exposure
    basis_samples: int
    holding: str = ""  # HOLD reason, "" when trading
    busy: str = ""  # why this pair cannot start another attempt now
    guard_vetoes: list[str] = field(default_factory=list)  # `<guard>: <why>` per leg a per-symbol guard refuses


def cap_headroom(cfg: ArbConfig, pair: PairConfig, exposure: Exposure, legs: list[tuple[str, str]]) -> Decimal:
    """The most notional one more leg on each of `legs` may add without breaking a cap."""
    room = [cfg.caps.total_usdt - exposure.total]
    if len(legs) == 2:
        room[0] = room[0] / 2
    for venue, symbol in legs:
        used = exposure.per_symbol.get((venue, symbol), Decimal(0))
        room.append(min(cfg.caps.per_symbol_usdt, pair.max_notional_usdt) - used)
        room.append(cfg.caps.per_venue_usdt - exposure.per_venue.get(venue, Decimal(0)))
    return min(room)


def check(cfg: ArbConfig, x: PreflightInput) -> list[str]:  # noqa: C901 - a flat list of independent, named checks
    e, out = x.edge, []
    legs = ((e.long_venue, e.long_symbol), (e.short_venue, e.short_symbol))
    if x.holding:
        out.append(f"hold: {x.holding}")
    if x.busy:
        out.append(f"busy: {x.busy}")
    out.extend(x.guard_vetoes)
    for venue, symbol in legs:
        h = x.health.get(venue)
        if h is None or not h.connected:
            out.append(f"disconnected: {venue}{' (' + h.error + ')' if h and h.error else ''}")
        elif h.skew_ms is None:
            out.append(f"clock_skew: {venue} not measured yet")
        elif abs(h.skew_ms) > cfg.max_clock_skew_ms:
            out.append(f"clock_skew: {venue} {h.skew_ms:+.0f} ms beyond {cfg.max_clock_skew_ms} ms")
        age = x.now_ms - x.book_ts.get(venue, 0)
        if age > cfg.max_latency_ms:
            out.append(f"stale_book: {venue} {symbol} {age} ms old > max_latency_ms {cfg.max_latency_ms}")
        a = x.accounts.get((venue, symbol))
        if a is None or a.dual_side is None:
            out.append(f"position_mode: {venue} not verified{' (' + a.error + ')' if a and a.error else ''}")
            continue
        if not a.dual_side:
            out.append(f"position_mode: {venue} is one-way, hedge mode required")
        if a.margin_type is not x.pair.margin_type:
            got = a.margin_type.value if a.margin_type else "unknown"
            out.append(f"margin_type: {venue} {symbol} {got}, expected {x.pair.margin_type.value}")
        if a.leverage != x.pair.leverage:
            out.append(f"leverage: {venue} {symbol} {a.leverage}, expected {x.pair.leverage}")
    if x.basis_samples < cfg.basis_min_samples:
        out.append(f"basis_warmup: {x.basis_samples}/{cfg.basis_min_samples} samples")
    if e.net_edge_bps < cfg.min_edge_bps:
        out.append(f"edge_below_min: net {e.net_edge_bps:.2f} bps < min_edge_bps {cfg.min_edge_bps}")
    avoid_ms = cfg.funding.avoid_window_minutes * 60_000
    for venue, _ in legs:
        nxt = x.next_funding_ms.get(venue, 0)
        if nxt and 0 <= nxt - x.now_ms < avoid_ms:
            out.append(
                f"funding_window: {venue} settles in {(nxt - x.now_ms) / 1000:.0f} s "
                f"< {cfg.funding.avoid_window_minutes:g} min"
            )
    if e.size <= 0:
        out.append(f"size: {e.size_limited_by}")
    notional = e.notional_usdt
    for venue, symbol in legs:
        used = x.exposure.per_symbol.get((venue, symbol), Decimal(0))
        cap = min(cfg.caps.per_symbol_usdt, x.pair.max_notional_usdt)
        if e.size > 0 and used + notional > cap:
            out.append(f"cap_symbol: {venue} {symbol} {used + notional:.2f} > {cap}")
        vused = x.exposure.per_venue.get(venue, Decimal(0))
        if e.size > 0 and vused + notional > cfg.caps.per_venue_usdt:
            out.append(f"cap_venue: {venue} {vused + notional:.2f} > {cfg.caps.per_venue_usdt}")
    if e.size > 0 and x.exposure.total + 2 * notional > cfg.caps.total_usdt:
        out.append(f"cap_total: {x.exposure.total + 2 * notional:.2f} > {cfg.caps.total_usdt}")
    if abs(x.exposure.delta_usd) > cfg.cross_venue_delta_abs_max_usd:
        out.append(
            f"delta: |{x.exposure.delta_usd:.2f}| USD > cross_venue_delta_abs_max_usd "
            f"{cfg.cross_venue_delta_abs_max_usd}"
        )
    return out


def reason_names(reasons: list[str]) -> list[str]:
    return [r.split(":", 1)[0] for r in reasons]
