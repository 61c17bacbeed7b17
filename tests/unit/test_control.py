"""The two-man resume as a state machine, including every refusal."""

from execution import control
from execution.control import ControlState

TOKEN = "s3cret-approve"


def held():
    st = ControlState()
    assert control.hold(st, "manual check", "alice", 1000).ok
    return st


def test_two_different_operators_and_the_token_are_needed():
    st = held()
    assert not control.resume(st, "alice", 1100).ok  # no approval yet
    assert control.request_resume(st, "alice", "checked venues", 1200).ok
    assert st.mode == control.HOLD  # a request alone never clears HOLD
    same = control.confirm_resume(st, "Alice", TOKEN, TOKEN, 1300)
    assert not same.ok and "different operator" in same.message
    wrong = control.confirm_resume(st, "bob", "guess", TOKEN, 1300)
    assert not wrong.ok and "token" in wrong.message
    missing = control.confirm_resume(st, "bob", "", TOKEN, 1300)
    assert not missing.ok
    assert control.confirm_resume(st, "bob", TOKEN, TOKEN, 1400).ok
    assert st.mode == control.HOLD
    assert control.resume(st, "bob", 1500).ok and st.mode == control.RUN


def test_expired_request_and_unconfigured_token_are_refused():
    st = held()
    control.request_resume(st, "alice", "ok", 0)
    late = control.confirm_resume(st, "bob", TOKEN, TOKEN, control.RESUME_REQUEST_TTL_MS + 1)
    assert not late.ok and "expired" in late.message
    control.request_resume(st, "alice", "ok", 10)
    assert "not configured" in control.confirm_resume(st, "bob", "", "", 20).message


def test_breaker_trips_hold_once_and_kill_needs_flatten_before_resume():
    st = ControlState()
    assert control.trip(st, "drawdown", "dd 21%", 5)
    assert not control.trip(st, "drawdown", "dd 22%", 6)
    assert st.mode == control.HOLD and st.reason.startswith("breaker drawdown")
    control.kill(st, "market chaos", "carol", 7)
    control.request_resume(st, "carol", "calm", 8)
    control.confirm_resume(st, "dave", TOKEN, TOKEN, 9)
    assert not control.resume(st, "dave", 10).ok  # flatten still pending
    st.flatten_pending = False
    assert control.resume(st, "dave", 11).ok and st.breakers == [] and not st.kill


def test_a_second_hold_keeps_the_first_reason_and_adds_its_own():
    st = held()
    second = control.hold(st, "venue maintenance", "bob", 2000)
    assert second.ok and "kept" in second.message
    assert (st.reason, st.by, st.since_ms) == ("manual check", "alice", 1000)
    assert [(h["reason"], h["by"]) for h in st.holds] == [("manual check", "alice"), ("venue maintenance", "bob")]
    control.trip(st, "drawdown", "dd 21%", 3000)
    assert st.reason == "manual check" and st.holds[-1]["reason"] == "breaker drawdown: dd 21%"
    doc = ControlState.from_doc(st.to_doc())
    assert len(doc.holds) == 3
    control.request_resume(st, "alice", "all checked", 4000)
    control.confirm_resume(st, "bob", TOKEN, TOKEN, 4100)
    assert control.resume(st, "bob", 4200).ok and st.holds == []
    assert control.hold(st, "again", "carol", 5000).ok and [h["reason"] for h in st.holds] == ["again"]
