"""The dashboard against hostile state (issue 20): a HOLD reason or an alert with Markdown in it is
shown as text (no clickable link, no badge), an absurd `updated_at_ms` takes no page down, and
no server path or exception class reaches an investor; the launcher binds loopback only."""

from __future__ import annotations

import re

import pytest

from dashboard.__main__ import command, flags
from execution import clock
from tests.integration.test_dashboard_app import run_app, tables, texts
from tests.support.dashboard_state import copy_state, put_docs, read_doc, replay_state, stamp_state

LINK = "[click here](https://evil.example/login) :red-badge[URGENT]"
CLASS_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    return replay_state(tmp_path_factory.mktemp("replay"))


def test_markdown_in_a_hold_reason_a_guard_or_an_alert_stays_text(monkeypatch, replayed, tmp_path):
    state = copy_state(replayed, tmp_path / "state")
    stamp_state(state, clock.wall_ms() - 1_000)
    control = read_doc(state, "control")
    control.update(
        mode="HOLD",
        reason=f"venue check {LINK}",
        breakers=[{"name": "x", "detail": LINK, "ts": 1}],
        guards=[{"name": "depeg", "active": True, "reason": LINK}],  # the Guards table and a health reason
    )
    put_docs(state, {"control": control})
    with open(state / "ops_alerts.jsonl", "a") as fh:
        fh.write('{"id": "a1", "ts": 1, "kind": "operator", "text": "hold by x - ' + LINK.replace('"', "") + '"}\n')
    ops = run_app(monkeypatch, state, page="operations.py")
    rendered = texts(ops) + "\n".join(str(t.to_dict()) for t in tables(ops))
    assert "](https://" not in rendered and ":red-badge[URGENT]" not in rendered
    assert r"\[click here\]\(https\://evil" in rendered  # shown, escaped
    assert "depeg" in rendered and "ACTIVE" in rendered  # the guard and its reason were on the page (Guards table)
    overview = run_app(monkeypatch, state)
    assert "evil.example" not in texts(overview)  # the reason never reaches investors at all


def test_an_absurd_update_time_takes_no_page_down(monkeypatch, replayed, tmp_path):
    state = copy_state(replayed, tmp_path / "state")
    for name in ("nav", "control", "positions"):
        doc = read_doc(state, name)
        doc["updated_at_ms"] = 1e30
        if name == "nav":
            doc["market_ts"] = 1e30
        put_docs(state, {name: doc})
    overview = run_app(monkeypatch, state)  # run_app asserts no exception
    assert "No figures" in texts(overview) or "could not be read" in texts(overview)
    run_app(monkeypatch, state, page="operations.py")


def test_no_server_path_or_exception_class_reaches_an_investor(monkeypatch, replayed, tmp_path):
    state = copy_state(replayed, tmp_path / "state")
    stamp_state(state, clock.wall_ms() - 1_000)
    (state / "state" / "positions.json").write_text("{broken")
    (state / "trade_log.jsonl").write_bytes(b"\xff\xfe{not json\n")
    (state / "history" / "nav_daily" / "all.json").write_text("[")
    overview = run_app(monkeypatch, state)
    page = texts(overview)
    assert str(state) not in page and "/tmp" not in page and ".json" not in page
    assert not CLASS_NAME.search(page), CLASS_NAME.search(page)


def test_the_launcher_forces_loopback_and_hides_tracebacks(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[server]\naddress = "0.0.0.0"\nport = 80\n[client]\nshowErrorDetails = "full"\n')
    argv = flags(8600, cfg)
    pairs = dict(zip(argv[::2], argv[1::2], strict=True))
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8600"
    assert pairs["--client.showErrorDetails"] == "full"  # what the given file says ...
    real = dict(zip(command(8501)[5::2], command(8501)[6::2], strict=True))
    assert real["--client.showErrorDetails"] == "none" and real["--server.address"] == "127.0.0.1"  # ... the project's
