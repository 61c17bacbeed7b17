"""`health_state`: one number and its reasons for the whole fund (runbook: 0 OK, 1 DEGRADED, 2 HALTED).

    2 halted    HOLD (a breaker, an operator, the live start), the kill switch, or market data
                stale on every screened symbol
    1 degraded  trading goes on with something wrong or held back: a guard active (depeg, daily
                stop, funding spike, ... but not the routine ones: the warm-up after a start, a
                standing denylist), data stale on some symbols, a repair pending (an order whose
                outcome is unknown; a drift or a stop repair a component publishes in
                `repairs_pending`, at the top of the document or in its entry of `strategies`),
                a difference found at reconciliation with the venues
    0 healthy   none of these

Pure: a function of the control document (`state/control.json`, which carries the guards'
statuses, the stale and screened symbols and the pending repairs), so the executor, the CLI,
the heartbeat, the dashboard and the metrics all say the same thing from the same document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HEALTHY, DEGRADED, HALTED = 0, 1, 2
LABELS = {HEALTHY: "HEALTHY", DEGRADED: "DEGRADED", HALTED: "HALTED"}


@dataclass(frozen=True)
class Health:
    state: int
    reasons: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LABELS[self.state]

    def to_doc(self) -> dict:
        return {"health_state": self.state, "health": self.label, "health_reasons": list(self.reasons)}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def assess(control: Mapping) -> Health:
    """The fund's health from its control document (missing parts count as absent)."""
    halted: list[str] = []
    reason = str(control.get("reason") or "no reason given")
    if control.get("kill"):
        halted.append(f"kill switch: {reason}")
    elif control.get("mode") == "HOLD":
        halted.append(f"HOLD: {reason}")
    stale = [str(s) for s in _list(control.get("stale_symbols"))]
    screened = {str(s) for s in _list(control.get("screened_symbols"))}
    if screened and screened <= set(stale):
        halted.append(f"market data stale on every screened symbol ({len(screened)})")
    if halted:
        return Health(HALTED, tuple(halted))
    degraded: list[str] = []
    for g in _list(control.get("guards")):
        if isinstance(g, dict) and g.get("active") and not g.get("routine"):
            degraded.append(f"guard {g.get('name', '?')}: {g.get('reason') or 'active'}")
    if stale:
        degraded.append(f"market data stale on {', '.join(stale[:5])}{' ...' if len(stale) > 5 else ''}")
    repairs = list(_list(control.get("repairs_pending")))
    for st in _list(control.get("strategies")):  # e.g. the stop validator, when it publishes some
        if isinstance(st, dict):
            repairs += [f"{st.get('name', '?')}: {r}" for r in _list(st.get("repairs_pending"))]
    for r in repairs:
        degraded.append(f"repair pending: {r}")
    diffs = [d for d in _list(control.get("reconciliation")) if isinstance(d, dict)]
    if diffs:
        first = diffs[0]
        degraded.append(
            f"{len(diffs)} difference(s) with the venues at reconciliation "
            f"(first: {first.get('difference', '?')} {first.get('venue', '?')} {first.get('symbol') or ''})".rstrip()
        )
    return Health(DEGRADED if degraded else HEALTHY, tuple(degraded))


INVESTOR_WORDING = {
    HEALTHY: "All systems normal.",
    DEGRADED: "Trading with extra caution: an automatic safeguard is limiting new positions for now.",
    HALTED: "Trading is paused: the fund is not opening new positions.",
}


def investor_text(state: int) -> str:
    """Plain words for investors (no mode names, no reasons: those stay on the Operations page)."""
    return INVESTOR_WORDING.get(state, "Status unknown.")
