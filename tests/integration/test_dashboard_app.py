"""The investor page (dashboard/app.py) run by Streamlit's AppTest on state written by a real replay.

Expected figures are recomputed here from the state files with plain formatting, not taken from
the view model, so a wrong derivation or a wrong document field fails the test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from execution import clock
from tests.conftest import PROJECT_ROOT
from tests.support.dashboard_state import (
    arbitrage_doc,
    copy_state,
    hedged_positions,
    jsonl_tail,
    put_docs,
    read_doc,
    replay_state,
    stamp_state,
)

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
DASH = "—"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    return replay_state(tmp_path_factory.mktemp("replay"))


@pytest.fixture
def fresh(replayed, tmp_path) -> Path:
    """A copy of the replayed state whose executor wrote a moment ago."""
    state = copy_state(replayed, tmp_path / "state")
    stamp_state(state, clock.wall_ms() - 1_000)
    return state


def run_app(monkeypatch, state: Path, **env: str) -> AppTest:
    for key in (
        "FIRESTORE_PROJECT",
        "FIRESTORE_EMULATOR_HOST",
        "DASHBOARD_STALE_MINUTES",
        "RESERVE_BTC",
        "DASHBOARD_DEFAULT_RANGE",
    ):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("STATE_DIR", str(state))
    monkeypatch.setenv("ENV_FILE", "/nonexistent")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def money(x: float, signed: bool = False) -> str:
    s = f"{x:+,.2f}" if signed else f"{x:,.2f}"
    return s.replace("-0.00", "0.00").replace("+-", "-")


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta or "") for m in at.metric}


def texts(at: AppTest) -> str:
    parts = [
        e.value for kind in ("warning", "info", "caption", "markdown", "subheader", "title") for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def tables(at: AppTest) -> list:
    return [t.value for t in at.table]


def table_with(at: AppTest, column: str):
    found = [t for t in tables(at) if column in t.columns]
    assert found, f"no table with column {column!r}"
    return found[0]


# ----------------------------------------------------------------------------------------------
def test_every_section_shows_the_state(monkeypatch, fresh):
    nav, pos, screener = read_doc(fresh, "nav"), read_doc(fresh, "positions"), read_doc(fresh, "screener")
    assert pos["positions"], "the replayed window should end with open positions"
    at = run_app(monkeypatch, fresh)
    m = metrics(at)
    assert m["NAV (USDT)"][0] == money(nav["nav"])
    assert m["24h PnL (USDT)"] == (money(nav["change_24h_abs"], True), f"{nav['change_24h_pct']:+.2f}%")
    assert m["Drawdown from peak"][0] == f"{nav['drawdown_pct']:.2f}%"
    assert m["Open positions"][0] == str(len(pos["positions"]))
    assert m["Gross exposure (USDT)"][0] == money(pos["gross_notional"])
    assert m["Net exposure (USDT)"][0] == money(pos["net_notional"], True)
    assert m["BTC reserve"][0] == f"{nav['reserve_btc']} BTC"
    page = texts(at)
    assert ":green-badge[RUN]" in page and "SAFE_MODE" in page and "paper" in page
    assert "Updated " in page and " s ago" in page and "local files" in page and "stale" not in page.lower()
    assert "not part of NAV" in page.lower() or "Not part of NAV" in page

    legs = table_with(at, "Entry")
    assert len(legs) == len(pos["positions"])
    for row in pos["positions"]:
        shown = legs[(legs["Symbol"] == row["symbol"]) & (legs["Side"] == row["position_side"])].iloc[0]
        assert shown["Venue"] == row["venue"]
        assert float(shown["Qty"].replace(",", "")) == row["qty"]
        assert float(shown["Entry"].replace(",", "")) == row["entry_price"]
        assert float(shown["Mark"].replace(",", "")) == row["mark_price"]
        assert shown["uPnL (USDT)"] == money(row["unrealized_pnl"], True)
        assert shown["Leverage"] == f"{row['leverage']}x"

    venues = table_with(at, "Gross (USDT)")
    for venue, v in pos["per_venue"].items():
        r = venues[venues["Venue"] == venue].iloc[0]
        assert (r["Gross (USDT)"], r["Net (USDT)"]) == (money(v["gross_notional"]), money(v["net_notional"], True))

    trades = table_with(at, "Realized (USDT)")
    expected = sorted(jsonl_tail(fresh / "trade_log.jsonl", 5), key=lambda t: (t["ts"], t["seq"]), reverse=True)
    assert len(trades) == 5
    assert [float(q.replace(",", "")) for q in trades["Qty"]] == [t["qty"] for t in expected]
    assert list(trades["Realized (USDT)"]) == [money(t["realized_pnl_usdt"], True) for t in expected]

    sig = table_with(at, "Signal")
    latest = sorted(read_doc(fresh, "signals")["latest"], key=lambda s: s["ts"], reverse=True)[:10]
    assert list(sig["Notional (USDT)"]) == [money(s["notional_usdt"]) for s in latest]

    tail = screener["tail"][-10:][::-1]
    scr = table_with(at, "ATR %")
    assert len(scr) == len(tail)
    assert [float(z) for z in scr["z"]] == [r["z"] for r in tail]
    assert [float(x) for x in scr["RSI"]] == [r["rsi"] for r in tail]
    assert list(scr["Cross"]) == ["up" if r["cross_up"] else "down" if r["cross_down"] else DASH for r in tail]

    arb = read_doc(fresh, "arbitrage")  # the window has both venues: the arbitrage loop ran in the replay
    pairs = table_with(at, "Net edge (bps)")
    assert list(pairs["Pair"]) == [p["pair"] for p in arb["pairs"]]
    assert list(pairs["Net edge (bps)"]) == [money(p["net_edge_bps"], True) for p in arb["pairs"]]
    funding = table_with(at, "Rate")
    assert sorted(funding["Symbol"]) == sorted(f["symbol"] for f in arb["funding"])
    # the NAV chart spans the default 30 days up to the last market time
    assert "→ 2025-07-01 00:00 UTC" in page


def test_range_selector_only_changes_the_view(monkeypatch, fresh):
    before = {p.name: p.read_bytes() for p in (fresh / "state").glob("*.json")}
    at = run_app(monkeypatch, fresh)
    widgets = [
        w
        for kind in (
            "button",
            "text_input",
            "number_input",
            "checkbox",
            "toggle",
            "selectbox",
            "radio",
            "slider",
            "form",
            "file_uploader",
            "data_editor",
            "download_button",
            "chat_input",
        )
        for w in getattr(at, kind)
    ]
    assert widgets == [] and len(at.segmented_control) == 1  # the range selector is the only widget
    control = at.segmented_control[0]
    assert list(control.options) == ["24h", "7d", "30d", "All"] and control.value == "30d"
    control.set_value("24h").run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "→" in c.value)
    nav = read_doc(fresh, "nav")
    bucket = json.loads((fresh / "history" / "nav" / "2025-06-30.json").read_text())
    in_day = [t for t in bucket["ts"] if t >= nav["market_ts"] - 86_400_000]
    assert caption.startswith("2025-06-30 00:00 UTC → ") and f"{len(in_day) + 1} points" in caption
    at.segmented_control[0].set_value("All").run()
    caption = next(c.value for c in at.caption if "→" in c.value)
    assert caption.startswith("2025-06-10 ")
    assert {p.name: p.read_bytes() for p in (fresh / "state").glob("*.json")} == before


def test_stale_data_warns(monkeypatch, fresh):
    stamp_state(fresh, clock.wall_ms() - 10 * 60_000)
    at = run_app(monkeypatch, fresh, DASHBOARD_STALE_MINUTES="5")
    warning = " ".join(w.value for w in at.warning)
    assert "Data is stale: no executor update for 10 min" in warning
    assert metrics(at)["NAV (USDT)"][0] == money(read_doc(fresh, "nav")["nav"])  # still shown, as of then


def test_empty_state_says_so(monkeypatch, tmp_path):
    at = run_app(monkeypatch, tmp_path / "nothing-here")
    page = texts(at)
    assert "No executor data yet" in page and "No figures to show yet" in page
    assert metrics(at)["BTC reserve"][0] == "0.013 BTC"


def test_reserve_is_configurable_and_never_in_nav(monkeypatch, fresh):
    nav = read_doc(fresh, "nav")
    nav.pop("reserve_btc")
    put_docs(fresh, {"nav": nav})
    at = run_app(monkeypatch, fresh, RESERVE_BTC="0.25")
    m = metrics(at)
    assert m["BTC reserve"][0] == "0.25 BTC"
    assert m["NAV (USDT)"][0] == money(nav["nav"])


def test_unreadable_files_become_messages(monkeypatch, fresh):
    (fresh / "state" / "positions.json").write_text('{"positions": [')  # torn by hand
    (fresh / "trade_log.jsonl").unlink()
    (fresh / "trade_log.jsonl").mkdir()  # reading it raises IsADirectoryError inside the reader
    at = run_app(monkeypatch, fresh)
    warning = " ".join(w.value for w in at.warning)
    assert "positions.json: unreadable" in warning
    assert "could not read the trade log" in warning
    assert metrics(at)["NAV (USDT)"][0] == money(read_doc(fresh, "nav")["nav"])
    assert "No open positions." in texts(at) and "No trades yet." in texts(at)


def test_unreadable_nav_falls_back_to_peak_state(monkeypatch, fresh):
    (fresh / "state" / "nav.json").write_text("not json")
    at = run_app(monkeypatch, fresh)
    peak = json.loads((fresh / "peak_state.json").read_text())
    page = texts(at)
    assert "nav.json: unreadable" in page and "No figures to show yet" in page
    assert metrics(at)["Last known NAV (USDT)"][0] == money(peak["nav"])


def test_firestore_down_shows_local_with_a_warning(monkeypatch, fresh):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    at = run_app(monkeypatch, fresh, FIRESTORE_PROJECT="hedge-test", FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{dead}")
    warning = " ".join(w.value for w in at.warning)
    assert "Firestore" in warning and ("not reachable" in warning or "unreachable" in warning)
    if "not reachable" in warning:  # the reader fell back to the local mirror
        assert metrics(at)["NAV (USDT)"][0] == money(read_doc(fresh, "nav")["nav"])


def test_arbitrage_and_cross_venue_pairs(monkeypatch, fresh):
    nav = read_doc(fresh, "nav")
    now = read_doc(fresh, "nav")["updated_at_ms"]
    put_docs(
        fresh, {"arbitrage": arbitrage_doc(now, nav["market_ts"]), "positions": hedged_positions(now, nav["market_ts"])}
    )
    at = run_app(monkeypatch, fresh)
    page = texts(at)
    assert "Arbitrage engine running" in page and "Cross-venue pairs" in page
    pairs = table_with(at, "Net delta (USDT)")
    assert pairs.to_dict("records") == [
        {
            "Asset": "BTC",
            "Legs": "LONG 0.012 okx_perp + SHORT 0.01 binance_um",
            "Net delta (base)": "0.002",
            "Net delta (USDT)": "+214.08",
            "uPnL (USDT)": "+0.68",
        }
    ]
    edges = table_with(at, "Net edge (bps)")
    assert list(edges["Net edge (bps)"]) == ["-28.48"] and list(edges["Gross edge (bps)"]) == ["-4.73"]
    funding = table_with(at, "Next funding")
    assert list(funding["Rate"]) == ["0.009151%", "-0.00054877%"] and list(funding["In"]) == ["60 min", "60 min"]
    assert metrics(at)["Open positions"][0] == "4"


def test_bad_configuration_is_a_message(monkeypatch, fresh):
    at = run_app(monkeypatch, fresh, DASHBOARD_STALE_MINUTES="soon")
    assert "DASHBOARD_STALE_MINUTES='soon' is not a number" in " ".join(w.value for w in at.warning)
    assert not at.metric


def test_app_source_never_writes():
    """Belt and braces beside the behaviour tests: the dashboard package calls no writer at all."""
    src = "\n".join(p.read_text() for p in (PROJECT_ROOT / "dashboard").glob("*.py"))
    for forbidden in (
        "open_sink",
        "LocalStore",
        "StateSink",
        "write_json",
        "write_text",
        "sink.",
        ".submit(",
        "st.button",
        "st.form",
        "st.text_input",
        "st.query_params",
        "st.file_uploader",
    ):
        assert forbidden not in src, forbidden


def test_malformed_documents_render_without_exception(monkeypatch, tmp_path):
    now = clock.wall_ms()
    state = tmp_path / "state"
    put_docs(
        state,
        {
            "nav": {
                "nav": "n/a",
                "market_ts": "soon",
                "updated_at_ms": now,
                "reserve_btc": "lots",
                "mode": 5,
                "change_24h_pct": None,
                "peak_nav": [1],
            },
            "positions": {
                "positions": [1, {"qty": "a", "position_side": None}],
                "per_venue": [],
                "gross_notional": "x",
            },
            "control": {"mode": None, "kill": "no"},
            "screener": {"tail": "x", "last_cycle": 3},
            "signals": {"latest": [None, {"ts": "x"}]},
            "arbitrage": {"pairs": "x", "funding": [1, {"next_funding_time_ms": "x"}], "updated_at_ms": now},
        },
    )
    at = run_app(monkeypatch, state)
    m = metrics(at)
    assert m["NAV (USDT)"][0] == DASH and m["BTC reserve"][0] == "0.013 BTC"
    assert "Arbitrage engine running" in texts(at)
    # a stamp the reader itself cannot parse fails the whole snapshot: a message, still no exception
    broken = copy_state(state, tmp_path / "broken")  # another store: reads are cached per store
    put_docs(broken, {"arbitrage": {"updated_at_ms": "x"}})
    at = run_app(monkeypatch, broken)
    assert "state store unreachable: ValueError" in " ".join(w.value for w in at.warning)
