"""scripts/statement.py on replayed state: its figures equal the Overview page's for the same month,
and it writes a real PDF (headless Chromium) beside the HTML."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from execution import clock
from tests.conftest import PROJECT_ROOT
from tests.integration.test_dashboard_app import choose_month
from tests.support import html_tables
from tests.support.browser import chromium_binary
from tests.support.dashboard_state import add_btc_marks, copy_state, market_of, replay_state, stamp_state

SCRIPT = PROJECT_ROOT / "scripts" / "statement.py"


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    replayed = replay_state(tmp_path_factory.mktemp("replay"))
    add_btc_marks(replayed, market_of(replayed))
    st = copy_state(replayed, tmp_path_factory.mktemp("stmt") / "state")
    stamp_state(st, clock.wall_ms())
    return st


def run_statement(state: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STATE_DIR": str(state), "ENV_FILE": "/nonexistent"}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def statement_figures(path: Path) -> dict[str, str]:
    text = path.read_text()
    return {html.unescape(k): html.unescape(v) for k, v in re.findall(r'data-figure="([^"]+)">([^<]*)<', text)}


def page_figures(monkeypatch, state: Path, month: str) -> dict[str, str]:
    for key in ("FIRESTORE_PROJECT", "FIRESTORE_EMULATOR_HOST", "DASHBOARD_STALE_MINUTES"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("STATE_DIR", str(state))
    monkeypatch.setenv("ENV_FILE", "/nonexistent")
    at = AppTest.from_file(str(PROJECT_ROOT / "dashboard" / "app.py"), default_timeout=60)
    at.run()
    choose_month(at, month)
    assert not at.exception
    table = next(t for h in at.html for t in html_tables.parse(h.value) if "Figure" in t.columns)
    return dict(zip(table["Figure"], table["Value"], strict=True))


@pytest.mark.parametrize("month", ["2025-06", "2025-07"])
def test_statement_equals_the_page(monkeypatch, state, tmp_path, month):
    out = tmp_path / "out"
    proc = run_statement(state, "--month", month, "--out", str(out))
    if proc.returncode == 1 and "Chromium" in proc.stderr and chromium_binary() is None:
        pytest.skip("chromium not installed (Debian: chromium): the PDF cannot be printed")
    assert proc.returncode == 0, proc.stderr
    assert "[statement] reading the fund's state" in proc.stderr and "printing the PDF" in proc.stderr  # progress
    html_path, pdf_path = out / f"statement-{month}.html", out / f"statement-{month}.pdf"
    assert proc.stdout.split() == [str(html_path), str(pdf_path)]
    figures = statement_figures(html_path)
    assert figures == page_figures(monkeypatch, state, month)
    assert figures["Return"] != "—" and figures["Holding BTC"] != "not available yet"
    assert pdf_path.read_bytes()[:5] == b"%PDF-" and pdf_path.stat().st_size > 5_000
    assert "<svg" in html_path.read_text() and "Simulated money" in html_path.read_text()
    assert str(state) not in html_path.read_text()


def test_bad_month_and_empty_month(state, tmp_path):
    bad = run_statement(state, "--month", "June", "--out", str(tmp_path))
    assert bad.returncode == 2 and "expected YYYY-MM" in bad.stderr
    empty = run_statement(state, "--month", "2019-01", "--out", str(tmp_path))
    assert empty.returncode == 1 and "no NAV history for 2019-01" in empty.stderr
    assert not list(tmp_path.glob("statement-*"))
