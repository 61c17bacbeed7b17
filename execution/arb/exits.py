"""When to close an open pair (pure): the spread has converged, the pair is too old, or the
next funding settlement would cost it more than `funding.exit_against_bps`."""

from __future__ import annotations

from decimal import Decimal

from execution.arb.book import OpenPair
from execution.arb.config import ArbConfig
from execution.models import BPS_PER_UNIT

ZERO = Decimal(0)


def exit_reason(
    cfg: ArbConfig,
    pair: OpenPair,
    now: int,
    basis_bps: Decimal,
    basis_mean_bps: Decimal,
    funding_next_bps: Decimal | None,
) -> str | None:
    """`basis_bps`/`basis_mean_bps`: (mid short venue - mid long venue) in bps, now and usual.
    `funding_next_bps`: what the pair receives (+) or pays (-) at the next settlement, if known."""
    if basis_bps - basis_mean_bps <= cfg.exit_edge_bps:
        return f"converged: basis {basis_bps:.2f} bps vs usual {basis_mean_bps:.2f} (exit_edge_bps {cfg.exit_edge_bps})"
    held_min = (now - pair.opened_ts) / 60_000
    if held_min >= cfg.max_holding_minutes:
        return f"max_holding: held {held_min:.0f} min >= {cfg.max_holding_minutes:g}"
    if funding_next_bps is not None and funding_next_bps < -cfg.funding.exit_against_bps:
        return f"funding_against: next settlement {funding_next_bps:.2f} bps < -{cfg.funding.exit_against_bps}"
    return None


def next_funding_bps(funding: dict[tuple[str, str], tuple[Decimal, int]], pair: OpenPair, now: int) -> Decimal | None:
    """What the pair receives (+) or pays (-) at the next settlements still ahead of `now`, in bps
    (`funding`: rate and next settlement ms by (venue, symbol)); None when no rate is known."""
    rs, ns = funding.get((pair.short.venue, pair.short.symbol), (ZERO, 0))
    rl, nl = funding.get((pair.long.venue, pair.long.symbol), (ZERO, 0))
    if not ns and not nl:
        return None
    return (rs if ns >= now else ZERO) * BPS_PER_UNIT - (rl if nl >= now else ZERO) * BPS_PER_UNIT
