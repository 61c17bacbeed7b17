"""What the arbitrage loop publishes (the `arbitrage` document) and keeps in the restart snapshot
(open pairs, attempts in flight: an attempt comes back with every non-final order UNKNOWN, so it
is reconciled by client order id before anything else is sent)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from execution.arb.attempt import Attempt, LegOrder, LegState, Phase
from execution.arb.book import OpenPair
from execution.arb.symbols import BINANCE, OKX
from execution.models import OrderRequest

if TYPE_CHECKING:
    from execution.arb.loop import ArbitrageLoop


def arbitrage_doc(loop: ArbitrageLoop, now_wall: int) -> dict:
    """The `arbitrage` state document: every pair's edge and why it is not traded, funding,
    metrics, open pairs, attempts, exposure and venue health."""
    rows = []
    for ps in loop.pairs.values():
        if (ps.edges is None or ps.edges[1] is None) and ps.evaluated_ts and len(ps.books) == 2:
            loop.evaluate(ps, ps.evaluated_ts, keep_reasons=True)  # the exact numbers, for the document
        row = {
            "pair": ps.cfg.pair,
            "binance_symbol": ps.cfg.symbols.get(BINANCE),
            "okx_symbol": ps.cfg.symbols.get(OKX),
            "basis_mean_bps": round(ps.basis.mean, 4),
            "basis_samples": ps.basis.samples,
            "reasons": ps.reasons,
            "ts": ps.evaluated_ts,
        }
        if ps.edges:
            best, other = ps.edges
            d = best.to_doc()
            row.update(
                {
                    k: d[k]
                    for k in (
                        "direction",
                        "long_venue",
                        "short_venue",
                        "gross_edge_bps",
                        "net_edge_bps",
                        "basis_bps",
                        "entry_fees_bps",
                        "entry_slippage_bps",
                        "close_cost_bps",
                        "funding_bps",
                        "size",
                        "size_limited_by",
                        "notional_usdt",
                        "expected_pnl_usdt",
                    )
                }
            )
            if other is not None:
                row["other_direction_net_edge_bps"] = round(float(other.net_edge_bps), 4)
        row["quick_net_edge_bps"] = None if ps.quick_net_bps is None else round(ps.quick_net_bps, 4)
        rows.append(row)
    ex = loop.exposure()
    return {
        "enabled": loop.cfg.enabled,
        "auto": loop.cfg.auto,
        "dry_run": loop.dry_run,
        "leg_mode": loop.cfg.leg_mode,
        "min_edge_bps": loop.cfg.min_edge_bps,
        "pairs": rows,
        "funding": [
            {"venue": v, "symbol": s, "rate": r, "next_funding_time_ms": n}
            for (v, s), (r, n) in sorted(loop.funding.items())
        ],
        "metrics": loop.metrics.doc(loop.now),
        "open_pairs": [p.doc(loop.marks) for p in loop.open_pairs.values()],
        "active_attempts": [a.doc() for a in loop.attempts.values()],
        "recent_attempts": list(loop.recent)[-10:],
        "exposure": {
            "total_usdt": ex.total,
            "per_venue_usdt": ex.per_venue,
            "delta_usd": ex.delta_usd.quantize(Decimal("0.01")),
        },
        "health": {
            v: {"connected": h.connected, "skew_ms": h.skew_ms, "error": h.error} for v, h in loop.health.items()
        },
        "market_ts": loop.now,
        "updated_at_ms": now_wall,
    }


def attempt_snapshot(a: Attempt) -> dict:
    def leg(x: LegOrder) -> dict:
        return {
            "name": x.name,
            "role": x.role,
            "request": x.request.to_doc(),
            "state": x.state.value,
            "status": x.status,
            "filled": str(x.filled),
            "avg_price": str(x.avg_price),
            "error": x.error,
            "sent_ts": x.sent_ts,
            "applied": x.applied,
        }

    return {
        "attempt_id": a.attempt_id,
        "kind": a.kind,
        "pair": a.pair.doc(),
        "started_ts": a.started_ts,
        "reason": a.reason,
        "phase": a.phase.value,
        "legs": [leg(x) for x in a.legs],
        "rescues": [leg(x) for x in a.rescues],
        "rescue_round": a.rescue_round,
        "severity": a.severity,
        "events": a.events[-20:],
        "fees": {k: str(v) for k, v in a.fees.items()},
        "expected": a.expected,
    }


def attempt_restore(d: dict) -> Attempt:
    def leg(x: dict) -> LegOrder:
        state = LegState(x["state"])
        if state in (LegState.WORKING, LegState.UNKNOWN):
            state = LegState.UNKNOWN
        return LegOrder(
            x["name"],
            x["role"],
            OrderRequest.from_doc(x["request"]),
            state,
            x["status"],
            Decimal(x["filled"]),
            Decimal(x["avg_price"]),
            x["error"],
            sent_ts=x["sent_ts"],
            applied=x["applied"],
        )

    a = Attempt(
        d["attempt_id"],
        d["kind"],
        OpenPair.from_doc(d["pair"]),
        d["started_ts"],
        0,
        [leg(x) for x in d["legs"]],
        reason=d["reason"],
        phase=Phase(d["phase"]),
        rescues=[leg(x) for x in d["rescues"]],
        rescue_round=d["rescue_round"],
        severity=d["severity"],
        events=list(d["events"]),
        expected=d.get("expected", {}),
        fees={k: Decimal(v) for k, v in d.get("fees", {}).items()},
    )
    a.note("restored after a restart: orders in flight are reconciled by client order id")
    return a
