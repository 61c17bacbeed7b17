"""The liveness rule shared by `ctl status` and the watchdog, and the watchdog's decision."""

from __future__ import annotations

import pytest

from execution import liveness
from execution.settings import ConfigError
from telegram.watchdog import Memory, decide

LIMIT = 300_000


def test_assess():
    assert liveness.assess(1_000_000, 1_000_000 + LIMIT, LIMIT).status == "UP"  # at the limit: still up
    down = liveness.assess(1_000_000, 1_000_001 + LIMIT, LIMIT)
    assert down.down and down.age_ms == LIMIT + 1
    assert "DOWN for 5 min 00 s" in down.describe()
    never = liveness.assess(0, 5, LIMIT)
    assert never.down and never.age_ms is None and "no executor state" in never.describe()
    assert liveness.assess(2_000, 1_000, LIMIT).age_ms == 0  # a write "from the future": age 0
    assert liveness.assess(1, 2, LIMIT).to_doc()["status"] == "UP"


def test_duration():
    assert liveness.duration(45_900) == "45 s"
    assert liveness.duration(423_000) == "7 min 03 s"
    assert liveness.duration(7_500_000) == "2 h 05 min"
    assert liveness.duration(3 * 86_400_000 + 4 * 3_600_000) == "3 d 4 h"


def test_stale_after_from_env():
    assert liveness.stale_after_ms({}) == 300_000
    assert liveness.stale_after_ms({"WATCHDOG_STALE_S": "90"}) == 90_000
    for bad in ("0", "-5", "soon"):
        with pytest.raises(ConfigError, match="WATCHDOG_STALE_S"):
            liveness.stale_after_ms({"WATCHDOG_STALE_S": bad})


def _live(age_ms: int | None) -> liveness.Liveness:
    now = 10_000_000
    return liveness.assess(None if age_ms is None else now - age_ms, now, LIMIT)


def test_one_alert_per_outage_then_one_recovery():
    now = 10_000_000
    first = decide(Memory(), _live(400_000), now - 400_000, now, "prod")
    assert first.message.startswith("🔴 [prod] Executor DOWN")
    assert first.after_sent.alerted and not first.after_failed.alerted
    again = decide(first.after_sent, _live(500_000), now - 500_000, now + 100_000, "prod")
    assert again.message == "" and again.after_sent.down_since_ms == now  # the outage's start is kept
    back = decide(again.after_sent, _live(1_000), now + 200_000, now + 300_000, "prod")
    assert back.message.startswith("🟢 [prod] Executor back") and "5 min 00 s" in back.message
    assert back.after_sent.status == "UP" and back.after_failed == again.after_sent  # retried if not sent
    assert decide(back.after_sent, _live(1_000), 1, now, "").message == ""


def test_a_failed_alert_is_sent_by_the_next_run_and_no_recovery_without_an_alert():
    now = 10_000_000
    failed = decide(Memory(), _live(400_000), now - 400_000, now, "").after_failed
    assert decide(failed, _live(460_000), now - 400_000, now + 60_000, "").message.startswith("🔴 Executor DOWN")
    assert decide(failed, _live(1_000), now, now + 60_000, "").message == ""  # never announced: nothing to undo


def test_no_state_at_all_is_down():
    step = decide(Memory(), _live(None), 0, 10_000_000, "")
    assert "no executor state found" in step.message
