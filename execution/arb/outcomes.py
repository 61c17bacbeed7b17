"""What an arbitrage attempt leaves behind, as pure functions: the incident records, the realised
edge of an entry, the loop's own breakers (cross-venue delta, rescues per minute, fill
mismatch) and what each leg order tells the executor's metrics. The loop journals, counts and
trips; this module only says what."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from execution.arb.attempt import Attempt, LegOrder
from execution.arb.book import OpenPair
from execution.arb.config import ArbConfig
from execution.arb.metrics import ArbMetrics
from execution.metrics_hooks import MetricsHooks
from execution.models import BPS_PER_UNIT

ZERO = Decimal(0)
REFUSED_UNFILLED = ("REJECTED", "EXPIRED", "CANCELED")  # final statuses that count as a refusal when nothing filled
# breakers that also leave an incident record naming the attempt
INCIDENT_BREAKERS = ("arb_unresolved", "arb_rescue_failed", "arb_residual")


def leg_purpose(leg: LegOrder) -> str:
    """How the trade log names a fill of this leg: arb_entry, arb_exit or arb_rescue."""
    if leg.name.startswith("rescue"):
        return "arb_rescue"
    return "arb_exit" if leg.request.reduce_only else "arb_entry"


def order_metrics(metrics: MetricsHooks, leg: LegOrder) -> None:
    """One leg order handed to its venue, as the router reports its own orders: sent, the venue's
    answer time, and a refusal by reason (the exception's class, or the final status)."""
    venue = leg.request.venue
    metrics.on_order_sent(venue)
    if leg.answered_ns and leg.sent_ns:
        metrics.on_order_answer(venue, max(0, leg.answered_ns - leg.sent_ns) / 1e9)
    if leg.status == "REFUSED":
        metrics.on_order_rejected(venue, leg.error.partition(":")[0])
    elif leg.status in REFUSED_UNFILLED and leg.filled == 0:
        metrics.on_order_rejected(venue, leg.status)


def realised_gross_bps(a: Attempt) -> Decimal | None:
    """The entry's realised gross edge (short avg - long avg over the reference price), once both legs filled."""
    legs = {leg.role: leg for leg in a.legs}
    pair = a.pair
    if legs["long"].filled > 0 and legs["short"].filled > 0 and pair.entry_ref_price:
        return (legs["short"].avg_price - legs["long"].avg_price) / pair.entry_ref_price * BPS_PER_UNIT
    return None


def incident_record(a: Attempt, doc: dict, dry_run: bool) -> dict:
    """An attempt that ended with a warning or an error (a leg failed, a rescue ran)."""
    kinds = {leg.status for leg in a.legs if leg.filled < leg.request.quantity}
    return {
        "id": f"{a.attempt_id}:incident",
        "ts": a.history[-1][1],
        "kind": "arb_rescue" if a.rescue_round else "arb_leg_failed",
        "severity": a.severity,
        "pair": a.pair.pair,
        "attempt_id": a.attempt_id,
        "attempt_kind": a.kind,
        "summary": "; ".join(a.events[-6:]),
        "leg_statuses": sorted(kinds),
        "legs": doc["legs"],
        "rescues": doc["rescues"],
        "rescue_plans": doc["rescue_plans"],
        "final_long_qty": str(a.pair.long.qty),
        "final_short_qty": str(a.pair.short.qty),
        "final_delta_usd": doc["final_delta_usd"],
        "dry_run": dry_run,
    }


def breaker_incident_record(a: Attempt, name: str, detail: str, now: int, dry_run: bool) -> dict:
    return {
        "id": f"{a.attempt_id}:{name}",
        "ts": now,
        "kind": name,
        "severity": "ERROR",
        "pair": a.pair.pair,
        "attempt_id": a.attempt_id,
        "summary": detail,
        "phase": a.phase.value,
        "legs": [x.doc() for x in a.legs],
        "rescues": [x.doc() for x in a.rescues],
        "dry_run": dry_run,
    }


def breaker_trips(
    cfg: ArbConfig,
    settled: Iterable[OpenPair],
    marks: dict[tuple[str, str], Decimal],
    metrics: ArbMetrics,
    now: int,
) -> list[tuple[str, str]]:
    """The arbitrage breakers that trip HOLD: (name, detail) for each one beyond its limit."""
    out = []
    delta = sum((p.delta_usd(marks) for p in settled), ZERO)
    if abs(delta) > cfg.cross_venue_delta_abs_max_usd:
        out.append(("arb_delta", f"cross-venue delta {delta:.2f} USD beyond {cfg.cross_venue_delta_abs_max_usd}"))
    n = metrics.rescues_last_min(now)
    if n > cfg.max_rescues_per_min:
        out.append(("arb_rescues", f"{n} rescues in the last minute > max_rescues_per_min {cfg.max_rescues_per_min}"))
    ratio = metrics.mismatch_ratio()
    if len(metrics.mismatch) >= 3 and ratio > cfg.max_fill_mismatch_ratio:
        out.append(
            (
                "arb_fill_mismatch",
                (
                    f"fill mismatch ratio {ratio:.3f} over the last "
                    f"{len(metrics.mismatch)} entries > {cfg.max_fill_mismatch_ratio}"
                ),
            )
        )
    return out
