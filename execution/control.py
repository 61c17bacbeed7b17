"""Trading modes and the two-man resume. A pure state machine: commands in, new state + answer out.

RUN: trading. HOLD: no new risk (cancels and reduce-only closes still go). Kill: HOLD + flatten.
Every reason that set or kept HOLD (operators' holds, breakers, kill) is kept in `holds`, in
order: a second hold adds its reason, it never overwrites the first (`reason`/`since_ms`/`by`
stay those of the hold that started HOLD).
Leaving HOLD takes two different people: `resume-request` (operator A, reason), then
`resume-confirm` (operator B != A, with APPROVE_TOKEN, within the request's lifetime), then
`resume` sets RUN. Every refusal says why. "Different" means different after Unicode
normalisation and confusable folding (`execution/operators.py`); `now` is the executor's clock,
never the time a command says it was written.
"""

from __future__ import annotations

import hmac
from dataclasses import asdict, dataclass, field

from execution.operators import same_operator

RUN = "RUN"
HOLD = "HOLD"
RESUME_REQUEST_TTL_MS = 15 * 60_000


@dataclass
class ControlState:
    mode: str = RUN
    reason: str = ""
    since_ms: int = 0
    by: str = ""
    kill: bool = False
    flatten_pending: bool = False
    breakers: list[dict] = field(default_factory=list)
    resume_request: dict | None = None
    resume_approved: dict | None = None
    holds: list[dict] = field(default_factory=list)  # every {reason, by, ts} since HOLD began

    def to_doc(self) -> dict:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict) -> ControlState:
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    @property
    def holding(self) -> bool:
        return self.mode == HOLD


@dataclass(frozen=True)
class Answer:
    ok: bool
    message: str


def _enter_hold(state: ControlState, reason: str, by: str, now: int) -> bool:
    """Record a reason for HOLD; the first one (when HOLD begins) names the mode's reason.
    Returns True when this call changed the mode."""
    changed = state.mode != HOLD
    if changed:
        state.mode, state.reason, state.since_ms, state.by = HOLD, reason, now, by
        state.holds = []
    state.holds.append({"reason": reason, "by": by, "ts": now})
    state.resume_request = None
    state.resume_approved = None
    return changed


def hold(state: ControlState, reason: str, by: str, now: int) -> Answer:
    if not reason.strip():
        return Answer(False, "hold needs a reason")
    if not _enter_hold(state, reason, by, now):
        return Answer(
            True,
            f"HOLD kept; reason added by {by}: {reason} (held since {state.by}: {state.reason}; {len(state.holds)} reasons)",
        )
    return Answer(True, f"HOLD set by {by}: {reason}")


def trip(state: ControlState, breaker: str, detail: str, now: int) -> bool:
    """A breaker trips HOLD by itself. Returns True when this call changed the mode."""
    already = any(b["name"] == breaker for b in state.breakers)
    if not already:
        state.breakers.append({"name": breaker, "detail": detail, "ts": now})
    if state.mode == HOLD and already:
        return False
    return _enter_hold(state, f"breaker {breaker}: {detail}", "breaker", now)


def kill(state: ControlState, reason: str, by: str, now: int) -> Answer:
    hold(state, reason or "kill switch", by, now)
    state.kill = True
    state.flatten_pending = True
    return Answer(True, f"KILL by {by}: HOLD and flatten everything")


def request_resume(state: ControlState, operator: str, reason: str, now: int, request_id: str = "") -> Answer:
    """`request_id` (the command's id) is what a confirmation's proof is bound to."""
    if state.mode != HOLD:
        return Answer(False, "not in HOLD: nothing to resume")
    if not operator.strip() or not reason.strip():
        return Answer(False, "resume-request needs an operator and --reason")
    state.resume_request = {
        "id": request_id,
        "operator": operator,
        "reason": reason,
        "ts": now,
        "expires_ms": now + RESUME_REQUEST_TTL_MS,
    }
    state.resume_approved = None
    return Answer(
        True,
        f"resume requested by {operator}; a different operator must resume-confirm within "
        f"{RESUME_REQUEST_TTL_MS // 60_000} min",
    )


def confirm_resume(state: ControlState, operator: str, proof: str, expected_proof: str, now: int) -> Answer:
    """`proof` is what operator B presented (see control_log.approval_proof); `expected_proof` is
    what the executor computed from its APPROVE_TOKEN ("" when none is configured)."""
    req = state.resume_request
    if state.mode != HOLD:
        return Answer(False, "not in HOLD: nothing to confirm")
    if req is None:
        return Answer(False, "no resume request pending: run resume-request first")
    if now > req["expires_ms"]:
        state.resume_request = None
        return Answer(False, f"resume request by {req['operator']} expired; request again")
    if not operator.strip() or same_operator(operator, req["operator"]):
        return Answer(False, f"resume-confirm must come from a different operator than {req['operator']}")
    if not expected_proof:
        return Answer(False, "APPROVE_TOKEN is not configured on the executor: resume is disabled")
    if not hmac.compare_digest(proof.encode(), expected_proof.encode()):
        return Answer(False, "wrong or missing approval token (or a proof made for another request or operator)")
    state.resume_approved = {"requested_by": req["operator"], "confirmed_by": operator, "ts": now}
    state.resume_request = None
    return Answer(True, f"resume approved by {operator} (requested by {req['operator']}); run resume to set RUN")


def resume(state: ControlState, operator: str, now: int) -> Answer:
    if state.mode == RUN:
        return Answer(False, "already RUN")
    if state.resume_approved is None:
        return Answer(False, "resume needs an approved two-man request (resume-request, then resume-confirm)")
    if state.flatten_pending:
        return Answer(False, "flatten still in progress; resume after positions are closed")
    state.mode, state.reason, state.since_ms, state.by = RUN, "", now, operator
    state.kill = False
    state.breakers = []
    state.holds = []
    state.resume_approved = None
    return Answer(True, f"RUN resumed by {operator}")
