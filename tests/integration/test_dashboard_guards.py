"""The dashboard shows the health state and the guards: investors read plain words ("Trading with
extra caution", never the guard's name or figures), operators read the health badge, its reasons
and a Guards table (Streamlit's AppTest on a replayed state)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.formatting import md_escape
from execution import clock
from tests.integration.test_dashboard_app import run_app, table_with, texts
from tests.support.dashboard_state import copy_state, put_docs, read_doc, replay_state, stamp_state

DEPEG = {"name": "depeg", "active": True, "reason": "depeg: binance_um:USDCUSDT +80.0 bps from 1 (DEPEG_BPS 50)"}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    return replay_state(tmp_path_factory.mktemp("replay"))


@pytest.fixture
def guarded(replayed, tmp_path) -> Path:
    state = copy_state(replayed, tmp_path / "state")
    control = read_doc(state, "control")
    control.update(mode="RUN", reason="", kill=False, guards=[DEPEG, {"name": "warmup", "active": False}])
    control.update(health_state=1, health="DEGRADED", health_reasons=[f"guard depeg: {DEPEG['reason']}"])
    put_docs(state, {"control": control})
    stamp_state(state, clock.wall_ms() - 1_000)
    return state


def test_investors_read_caution_in_plain_words(monkeypatch, guarded):
    page = texts(run_app(monkeypatch, guarded))
    assert ":violet-badge[Trading with extra caution]" in page
    assert "automatic safeguard is limiting new positions" in page
    assert "depeg" not in page and "USDCUSDT" not in page and "bps" not in page


def test_operators_read_the_health_its_reasons_and_the_guards(monkeypatch, guarded):
    ops = run_app(monkeypatch, guarded, page="operations.py")
    page = texts(ops)
    assert (
        ":orange-badge[health 1 DEGRADED]" in page
        and "Health: " + md_escape("guard depeg: depeg: binance_um:USDCUSDT +80.0 bps") in page  # shown, not acted on
    )
    table = table_with(ops, "Guard")
    rows = dict(zip(table["Guard"], table["State"], strict=True))
    assert rows == {"depeg": "ACTIVE", "warmup": "armed"}
