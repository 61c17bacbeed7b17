"""Operator functions behind the CLI's arbitrage commands. Each returns a printable dict.

    edge(loop)                  live edges for the configured pairs (both directions, reasons)
    preview(loop, pair, size)   projected PnL after all costs at SIZE (base units) + rescue plan
    execute(loop, pair, size)   an entry through the same gates as the automatic loop
    flatten(loop)               close every arbitrage pair (delta back to ~0)

They run inside the executor (the one writer of trading state): the CLI appends a command to
the control log and the executor calls these; `edge` and `preview` change nothing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from execution.arb.loop import ArbitrageLoop
from execution.arb.market_books import PairState
from execution.operator_numbers import NotAPlainNumber, plain_decimal


class OpsError(ValueError):
    """A bad operator request, with a message that says what is wrong."""


def _pair(loop: ArbitrageLoop, pair: str) -> PairState:
    ps = loop.pairs.get(pair)
    if ps is None:
        raise OpsError(f"unknown pair {pair!r} (configured: {sorted(loop.pairs)})")
    missing = [v for v in (ps.venue_a, ps.venue_b) if v not in ps.books]
    if missing:
        raise OpsError(f"no book yet for {pair} on {missing}")
    return ps


MAX_SIZE_BASE_UNITS = Decimal(1_000_000_000)  # beyond any order a venue takes; the preflight caps it far lower


def _size(size: str | Decimal | float | None) -> Decimal | None:
    if size is None:
        return None
    try:
        return plain_decimal(size, "size", "0.01 (base units)", MAX_SIZE_BASE_UNITS, max_decimals=12)
    except NotAPlainNumber as exc:
        raise OpsError(str(exc)) from None


def edge(loop: ArbitrageLoop) -> dict:
    out: list[dict[str, Any]] = []
    for name, ps in loop.pairs.items():
        if ps.venue_a not in ps.books or ps.venue_b not in ps.books:
            out.append({"pair": name, "error": "no book yet on both venues"})
            continue
        edges = loop.evaluate(ps, loop.now)
        if edges is None:
            out.append({"pair": name, "error": "; ".join(ps.reasons)})
            continue
        best, other = edges
        out.append(
            {
                "pair": name,
                "best": best.to_doc(),
                "other": other.to_doc() if other is not None else None,
                "preflight": loop.preflight(ps, best, loop.now),
                "basis_mean_bps": round(ps.basis.mean, 4),
                "basis_samples": ps.basis.samples,
            }
        )
    return {"market_ts": loop.now, "dry_run": loop.dry_run, "min_edge_bps": str(loop.cfg.min_edge_bps), "pairs": out}


def _edge_for_size(loop: ArbitrageLoop, ps: PairState, size: Decimal | None):
    if size is None:
        edges = loop.evaluate(ps, loop.now)
    else:
        mid = (ps.books[ps.venue_a].mid + ps.books[ps.venue_b].mid) / 2
        edges = loop.evaluate(ps, loop.now, size_notional=size * mid)
    if edges is None:
        raise OpsError("; ".join(ps.reasons) or "no edge")
    return edges[0]


def preview(loop: ArbitrageLoop, pair: str, size: str | Decimal | float | None = None) -> dict:
    ps = _pair(loop, pair)
    want = _size(size)
    e = _edge_for_size(loop, ps, want)
    plan = loop.plan(e)
    plan["requested_size"] = str(want) if want is not None else None
    plan["preflight"] = loop.preflight(ps, e, loop.now)
    plan["would_execute"] = not plan["preflight"]
    return plan


def execute(loop: ArbitrageLoop, pair: str, size: str | Decimal | float | None = None) -> dict:
    """Same edge, preflight and caps as the automatic loop; refused with the named reasons."""
    ps = _pair(loop, pair)
    e = _edge_for_size(loop, ps, _size(size))
    return loop.try_entry(ps, e, loop.now, loop.perf_ns(), source="operator")


def flatten(loop: ArbitrageLoop) -> dict:
    before = [p.doc(loop.marks) for p in loop.open_pairs.values()]
    started = loop.flatten(loop.now, reason="flatten")
    return {
        "open_pairs_before": before,
        "exit_attempts": started,
        "open_pairs_after": [p.doc(loop.marks) for p in loop.open_pairs.values()],
        "delta_usd": str(loop.exposure().delta_usd.quantize(Decimal("0.01"))),
    }
