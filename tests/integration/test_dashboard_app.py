"""The dashboard (dashboard/app.py: Overview and Operations) run by Streamlit's AppTest on state written
by a real replay.

Overview figures are recomputed here by execution.performance straight from the state files (not
through the dashboard's readers, journals or caches), so a wrong read, a stale cache or a wrong
series fails the test. Operations figures are recomputed with plain formatting from the documents.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import investor as iv
from execution import clock
from execution import performance as perf
from tests.conftest import PROJECT_ROOT
from tests.support import html_tables
from tests.support.dashboard_state import (
    add_btc_marks,
    arbitrage_doc,
    copy_state,
    hedged_positions,
    jsonl_tail,
    market_of,
    put_docs,
    read_doc,
    replay_state,
    stamp_state,
)

APP = str(PROJECT_ROOT / "dashboard" / "app.py")
DASH = "—"
OPERATOR_WORDS = ("SAFE_MODE", "HOLD", "RUN", "binance_um", "okx_perp", "stop_loss", "BUY", "SELL", "RSI", "bps")


@pytest.fixture(scope="module")
def replayed(tmp_path_factory) -> Path:
    state = replay_state(tmp_path_factory.mktemp("replay"))
    assert add_btc_marks(state, market_of(state)) > 0
    return state


@pytest.fixture
def fresh(replayed, tmp_path) -> Path:
    """A copy of the replayed state whose executor wrote a moment ago."""
    state = copy_state(replayed, tmp_path / "state")
    stamp_state(state, clock.wall_ms() - 1_000)
    return state


def run_app(monkeypatch, state: Path, page: str | None = None, **env: str) -> AppTest:
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
    if page:
        at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def money(x: float, signed: bool = False) -> str:
    s = f"{x:+,.2f}" if signed else f"{x:,.2f}"
    return s.replace("-0.00", "0.00").replace("+-", "-")


def pct(x: float | None, signed: bool = True) -> str:
    assert x is not None
    s = f"{x * 100:+,.2f}" if signed else f"{x * 100:,.2f}"
    return s.replace("-0.00", "+0.00" if signed else "0.00") + "%"


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def texts(at: AppTest) -> str:
    parts = [
        e.value
        for kind in ("warning", "info", "caption", "markdown", "subheader", "title", "metric")
        for e in getattr(at, kind)
    ]
    return "\n".join(str(p) for p in parts)


def tables(at: AppTest) -> list:
    """Streamlit tables and data grids, and the Overview's plain HTML tables (st.html)."""
    found = [t.value for t in at.table] + [d.value for d in at.dataframe]
    return found + [t for h in at.html for t in html_tables.parse(h.value)]


def typed(values) -> list:
    """A plotly.js array as Python numbers (plotly sends numpy arrays as base64 typed arrays)."""
    if isinstance(values, dict) and "bdata" in values:
        import base64

        import numpy as np

        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"])).tolist()
    return list(values)


def nav_chart(at: AppTest) -> dict | None:
    """The NAV chart's plotly figure (the hedge_plotly component's data), or None when not drawn."""
    for el in at.get("bidi_component"):
        if el.proto.component_name == "hedge_plotly":
            return json.loads(el.proto.json)["figure"]
    return None


def choose_month(at: AppTest, month: str) -> None:
    """The Overview's month of statement figures: the year's buttons (when shown), then the month's."""
    years = [w for w in at.segmented_control if w.key == "statement_year"]
    if years:
        years[0].set_value(month[:4]).run()
    at.segmented_control(key=f"statement_month_{month[:4]}").set_value(iv.MONTHS[int(month[5:7]) - 1]).run()


def shown_month(at: AppTest) -> str:
    years = [w.value for w in at.segmented_control if w.key == "statement_year"]
    control = next(w for w in at.segmented_control if (w.key or "").startswith("statement_month_"))
    year = years[0] if years else control.key.rsplit("_", 1)[1]
    return f"{year}-{iv.MONTHS.index(control.value) + 1:02d}"


def table_with(at: AppTest, column: str):
    found = [t for t in tables(at) if column in t.columns]
    assert found, f"no table with column {column!r}"
    return found[0]


def expected(state: Path):
    """execution.performance on the files themselves."""
    daily = json.loads((state / "history" / "nav_daily" / "all.json").read_text())
    nav = read_doc(state, "nav")
    points = perf.NavPoints.of(daily["ts"], daily["nav"], daily.get("btc")).with_inception(nav["initial_capital"])
    fills = [json.loads(line) for line in (state / "trade_log.jsonl").read_text().splitlines() if line.strip()]
    funding_path = state / "funding_log.jsonl"
    funding = (
        [json.loads(x) for x in funding_path.read_text().splitlines() if x.strip()] if funding_path.exists() else []
    )
    r = perf.returns_summary(points)
    trips = perf.round_trips(fills, funding)
    return points, r, trips, fills, funding


# ----------------------------------------------------------------------------------------------
def test_overview_figures_equal_the_performance_module(monkeypatch, fresh):
    points, r, trips, fills, funding = expected(fresh)
    assert r is not None and r.benchmark is not None and r.benchmark.covers_period
    nav = read_doc(fresh, "nav")
    at = run_app(monkeypatch, fresh)
    m = metrics(at)
    assert m["NAV (USDT)"] == money(nav["nav"])
    assert m["Since inception"] == pct(r.since_inception)
    assert r.since_inception == pytest.approx(nav["nav"] / nav["initial_capital"] - 1, rel=1e-9)
    assert m["This month"] == pct(r.month_to_date) and m["Today"] == pct(r.today)
    assert m["Holding BTC"] == pct(r.benchmark.value)
    assert m["Drawdown"] == f"{nav['drawdown_pct']:.2f}%"
    c = perf.costs(fills, funding, [], 0, nav["market_ts"])
    assert m["Fees paid (USDT)"] == money(float(c.fees)) and m["Funding (USDT)"] == money(float(c.funding), True)
    assert float(c.fees) == pytest.approx(nav["fees_total"], abs=1e-6)  # the journal and the books agree

    risk = dict(zip(table_with(at, "Measure")["Measure"], table_with(at, "Measure")["Value"], strict=True))
    assert risk["Sharpe ratio"] == f"{r.risk.sharpe:.2f}" and risk["Sortino ratio"] == f"{r.risk.sortino:.2f}"
    assert risk["Annualised volatility"] == pct(r.risk.annual_volatility, signed=False)
    assert risk["Max drawdown"] == pct(-r.max_drawdown.depth)
    stats = perf.trade_stats(trips)
    assert risk["Closed trades"] == str(stats.trades) and stats.trades > 0
    assert risk["Win rate"] == f"{stats.win_rate * 100:.1f}%"

    monthly = table_with(at, "Jun")
    assert list(monthly.index) == ["2025"]
    by_month = {m.month: m.value for m in r.monthly}
    for col, month in (("Jun", "2025-06"), ("Jul", "2025-07")):
        assert monthly.loc["2025", col] == f"{by_month[month] * 100:+.1f}%".replace("-0.0%", "+0.0%")

    trips_shown = table_with(at, "P&L (USDT)")
    newest = sorted(trips, key=lambda t: t.closed_ts, reverse=True)[: iv.ROUND_TRIPS_PER_PAGE]
    assert list(trips_shown["P&L (USDT)"]) == [money(float(t.net), True) for t in newest]
    assert list(trips_shown.columns[:3]) == ["Closed", "Asset", "P&L (USDT)"]  # P&L in view on a phone
    assert shown_month(at) == "2025-07"  # the newest month first
    choose_month(at, "2025-06")
    month = table_with(at, "Figure")
    mf = perf.month_figures(points, "2025-06", [], fills, funding)
    assert mf is not None
    assert dict(zip(month["Figure"], month["Value"], strict=True)) == iv.month_rows(mf)

    page = texts(at)
    assert "→ 2025-07-01 00:00 UTC" in page  # the chart spans the default 30 days up to the last market time
    assert ":blue-badge[Simulated money (paper trading)]" in page
    notes = " ".join(h.value for h in at.html)  # the headline figures explained, folded under them
    assert "<summary>What these figures mean</summary>" in notes and "not counted as gains or losses" in notes
    for word in OPERATOR_WORDS:
        assert not re.search(rf"\b{word}\b", page), f"operator word {word!r} on the investor page"


def test_all_range_uses_the_headline_points(monkeypatch, fresh):
    points, r, *_ = expected(fresh)
    assert r is not None and r.max_drawdown is not None
    at = run_app(monkeypatch, fresh)
    at.segmented_control[0].set_value("All").run()
    caption = next(c.value for c in at.caption if "→" in c.value and "points" in c.value)
    assert f"{len(points)} points" in caption and "the same points as the return and risk figures" in caption
    assert f"deepest drawdown {r.max_drawdown.depth * 100:.2f}%" in caption
    assert f"high {money(float(points.nav.max()))} USDT" in caption
    drawn = nav_chart(at)
    assert drawn is not None and drawn["layout"]["uirevision"] == "nav-All"
    nav_trace = next(t for t in drawn["data"] if t["name"] == "NAV (USDT)")
    assert typed(nav_trace["y"]) == pytest.approx([float(x) for x in points.nav])  # the plot draws those very points


def test_operations_page_shows_operator_detail(monkeypatch, fresh):
    nav, pos, screener = read_doc(fresh, "nav"), read_doc(fresh, "positions"), read_doc(fresh, "screener")
    at = run_app(monkeypatch, fresh, page="operations.py")
    page = texts(at)
    assert "SAFE_MODE" in page and "paper" in page and ("RUN" in page or "HOLD" in page)
    assert "Updated " in page and " s ago" in page and "local files" in page
    m = metrics(at)
    assert m["Open positions"] == str(len(pos["positions"]))
    assert m["Gross exposure (USDT)"] == money(pos["gross_notional"])
    if pos["positions"]:
        legs = table_with(at, "Entry")
        assert set(legs["Venue"]) <= {"binance_um", "okx_perp"}
    trades = table_with(at, "Realized (USDT)")
    last = sorted(jsonl_tail(fresh / "trade_log.jsonl", 10), key=lambda t: (t["ts"], t["seq"]), reverse=True)
    assert list(trades["Realized (USDT)"]) == [money(t["realized_pnl_usdt"], True) for t in last]
    tail = screener["tail"][-10:][::-1]
    scr = table_with(at, "ATR %")
    assert [float(z) for z in scr["z"]] == [x["z"] for x in tail]
    arb = read_doc(fresh, "arbitrage")
    pairs = table_with(at, "Net edge (bps)")
    assert list(pairs["Pair"]) == [p["pair"] for p in arb["pairs"]]
    assert nav["mode"] in page


def test_paused_fund_hides_the_reason_from_investors(monkeypatch, fresh):
    control = read_doc(fresh, "control")
    control.update(mode="HOLD", reason="operator hold: checking the OKX key rotation")
    put_docs(fresh, {"control": control})
    at = run_app(monkeypatch, fresh)
    page = texts(at)
    assert ":orange-badge[Paused]" in page and "key rotation" not in page
    ops = run_app(monkeypatch, fresh, page="operations.py")
    assert "key rotation" in texts(ops) and "HOLD" in texts(ops)


def test_stopped_executor_is_not_reporting(monkeypatch, fresh):
    control = read_doc(fresh, "control")
    control.update(mode="RUN", reason="", kill=False)
    put_docs(fresh, {"control": control})
    stamp_state(fresh, clock.wall_ms() - 10 * 60_000)
    at = run_app(monkeypatch, fresh, DASHBOARD_STALE_MINUTES="5")
    page = texts(at)
    assert "Not reporting since" in page and ":green-badge" not in page and "Trading" not in page
    assert metrics(at)["NAV (USDT)"] == money(read_doc(fresh, "nav")["nav"])  # still shown, as of then
    ops = run_app(monkeypatch, fresh, page="operations.py", DASHBOARD_STALE_MINUTES="5")
    assert "NOT REPORTING" in texts(ops) and "no executor update for 10 min" in texts(ops)


def test_running_fund_says_trading(monkeypatch, fresh):
    control = read_doc(fresh, "control")
    control.update(mode="RUN", reason="", kill=False)
    put_docs(fresh, {"control": control})
    stamp_state(fresh, clock.wall_ms() - 1_000)
    assert ":green-badge[Trading]" in texts(run_app(monkeypatch, fresh))


def _no_paths(at: AppTest, state: Path) -> None:
    page = texts(at)
    assert str(state) not in page and "/tmp" not in page and "/state/" not in page


def test_corrupt_nav_hides_only_its_section(monkeypatch, fresh):
    points, r, trips, *_ = expected(fresh)
    (fresh / "state" / "nav.json").write_text("not json")
    at = run_app(monkeypatch, fresh)
    _no_paths(at, fresh)
    page = texts(at)
    assert "Part of the data could not be read" in page and "nav.json" not in page
    assert metrics(at)["NAV (USDT)"] == money(points.nav[-1])  # the last recorded close
    assert len(table_with(at, "P&L (USDT)")) == min(len(trips), iv.ROUND_TRIPS_PER_PAGE)
    assert "Jun" in table_with(at, "Jun").columns and nav_chart(at)
    ops = run_app(monkeypatch, fresh, page="operations.py")
    assert "nav.json: unreadable" in texts(ops)
    _no_paths(ops, fresh)


def test_corrupt_positions_and_trade_log_hide_only_their_sections(monkeypatch, fresh):
    (fresh / "state" / "positions.json").write_text('{"positions": [')  # torn by hand
    (fresh / "trade_log.jsonl").unlink()
    (fresh / "trade_log.jsonl").mkdir()  # reading it raises IsADirectoryError inside the reader
    at = run_app(monkeypatch, fresh)
    _no_paths(at, fresh)
    page = texts(at)
    assert "Current positions could not be read just now." in page
    assert "The trade records could not be read just now." in page
    assert metrics(at)["NAV (USDT)"] == money(read_doc(fresh, "nav")["nav"])
    assert metrics(at)["Since inception"] != DASH and nav_chart(at)
    ops = run_app(monkeypatch, fresh, page="operations.py")
    assert "positions.json: unreadable" in texts(ops) and "could not read the trade log" in texts(ops)
    _no_paths(ops, fresh)


def test_corrupt_history_hides_only_the_history_sections(monkeypatch, fresh):
    (fresh / "history" / "nav_daily" / "all.json").write_text("{")
    for p in (fresh / "history" / "nav_hourly").glob("*.json"):
        p.write_text("{")
    at = run_app(monkeypatch, fresh)
    m = metrics(at)
    assert m["NAV (USDT)"] == money(read_doc(fresh, "nav")["nav"]) and m["Since inception"] == DASH
    assert "No NAV history in this range yet." in texts(at)
    assert table_with(at, "P&L (USDT)") is not None  # closed trades still shown


def test_benchmark_is_never_invented(monkeypatch, replayed, tmp_path):
    state = copy_state(replayed, tmp_path / "state")
    for doc in (state / "history").rglob("*.json"):
        bucket = json.loads(doc.read_text())
        bucket.pop("btc", None)
        doc.write_text(json.dumps(bucket))
    stamp_state(state, clock.wall_ms())
    at = run_app(monkeypatch, state)
    assert metrics(at)["Holding BTC"] == DASH
    assert "Benchmark (holding BTC) not available yet" in texts(at)


def test_widgets_only_change_the_view(monkeypatch, fresh):
    before = {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()}
    *_, trips, _fills, _funding = expected(fresh)
    at = run_app(monkeypatch, fresh)
    kinds = ("button", "text_input", "number_input", "checkbox", "toggle", "radio", "slider", "form")
    assert [w for kind in kinds for w in getattr(at, kind)] == []
    control = at.segmented_control[0]
    assert list(control.options) == ["24h", "7d", "30d", "All"] and control.value == "30d"
    control.set_value("24h").run()
    assert not at.exception
    caption = next(c.value for c in at.caption if "→" in c.value and "points" in c.value)
    assert "every NAV point" in caption
    at.get("pagination")[0].set_value(2).run()
    newest = sorted(trips, key=lambda t: t.closed_ts, reverse=True)
    shown = table_with(at, "P&L (USDT)")
    assert list(shown["P&L (USDT)"]) == [money(float(t.net), True) for t in newest[20:40]]
    assert len(at.download_button) == 1
    choose_month(at, "2025-06")
    assert not at.exception
    assert {p: p.read_bytes() for p in fresh.rglob("*") if p.is_file()} == before


def test_round_trips_csv(replayed):
    *_, trips, _fills, _funding = expected(replayed)
    text = iv.round_trips_csv(trips)
    lines = text.splitlines()
    assert lines[0].startswith("opened_utc,closed_utc,asset,direction,venue") and len(lines) == len(trips) + 1
    total = sum(float(line.split(",")[11]) for line in lines[1:])
    assert total == pytest.approx(float(sum(t.net for t in trips)), abs=1e-6)
    assert "stop_loss" not in text and "binance_um" not in text


def test_empty_state_says_so(monkeypatch, tmp_path):
    at = run_app(monkeypatch, tmp_path / "nothing-here")
    page = texts(at)
    assert "No figures to show yet" in page and ":gray-badge[No data yet]" in page
    assert metrics(at)["BTC reserve"] == "0.013 BTC"
    ops = run_app(monkeypatch, tmp_path / "nothing-here", page="operations.py")
    assert "No executor data yet" in texts(ops)


def test_reserve_is_configurable_and_never_in_nav(monkeypatch, fresh):
    nav = read_doc(fresh, "nav")
    nav.pop("reserve_btc")
    put_docs(fresh, {"nav": nav})
    at = run_app(monkeypatch, fresh, RESERVE_BTC="0.25")
    m = metrics(at)
    assert m["BTC reserve"] == "0.25 BTC" and m["NAV (USDT)"] == money(nav["nav"])


def test_firestore_down_shows_local_with_a_warning(monkeypatch, fresh):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    env = {"FIRESTORE_PROJECT": "hedge-test", "FIRESTORE_EMULATOR_HOST": f"127.0.0.1:{dead}"}
    at = run_app(monkeypatch, fresh, page="operations.py", **env)
    warning = " ".join(w.value for w in at.warning)
    assert "Firestore" in warning and ("not reachable" in warning or "unreachable" in warning)
    if "not reachable" in warning:  # the reader fell back to the local mirror
        at = run_app(monkeypatch, fresh, **env)
        assert metrics(at)["NAV (USDT)"] == money(read_doc(fresh, "nav")["nav"])


def test_arbitrage_and_cross_venue_pairs(monkeypatch, fresh):
    nav = read_doc(fresh, "nav")
    now = nav["updated_at_ms"]
    put_docs(
        fresh, {"arbitrage": arbitrage_doc(now, nav["market_ts"]), "positions": hedged_positions(now, nav["market_ts"])}
    )
    ops = run_app(monkeypatch, fresh, page="operations.py")
    assert "Arbitrage engine running" in texts(ops) and "Cross-venue pairs" in texts(ops)
    pairs = table_with(ops, "Net delta (USDT)")
    assert pairs.to_dict("records") == [
        {
            "Asset": "BTC",
            "Legs": "LONG 0.012 okx_perp + SHORT 0.01 binance_um",
            "Net delta (base)": "0.002",
            "Net delta (USDT)": "+214.08",
            "uPnL (USDT)": "+0.68",
        }
    ]
    funding = table_with(ops, "Next funding")
    assert list(funding["Rate"]) == ["0.009151%", "-0.00054877%"] and list(funding["In"]) == ["60 min", "60 min"]
    at = run_app(monkeypatch, fresh)  # the investor sees the same holdings in plain words
    held = table_with(at, "Position")
    assert held.to_dict("records") == [
        {
            "Asset": "Bitcoin",
            "Position": "Hedged (long and short)",
            "Net exposure (USDT)": "+214.08",
            "Unrealised P&L (USDT)": "+0.68",
            "Where": "Binance, OKX",
        },
        {
            "Asset": "Ether",
            "Position": "Hedged (long and short)",
            "Net exposure (USDT)": "+745.29",
            "Unrealised P&L (USDT)": "+2.29",
            "Where": "Binance",
        },
    ]


def test_bad_configuration_is_a_message(monkeypatch, fresh):
    at = run_app(monkeypatch, fresh, DASHBOARD_STALE_MINUTES="soon")
    warning = " ".join(w.value for w in at.warning)
    assert "configuration needs attention" in warning and "soon" not in warning  # the detail is in the log
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
    docs = {
        "nav": {
            "nav": "n/a",
            "market_ts": "soon",
            "updated_at_ms": now,
            "reserve_btc": "lots",
            "mode": 5,
            "change_24h_pct": None,
            "peak_nav": [1],
            "initial_capital": "x",
        },
        "positions": {"positions": [1, {"qty": "a", "position_side": None}], "per_venue": [], "gross_notional": "x"},
        "control": {"mode": None, "kill": "no"},
        "screener": {"tail": "x", "last_cycle": 3},
        "signals": {"latest": [None, {"ts": "x"}]},
        "arbitrage": {"pairs": "x", "funding": [1, {"next_funding_time_ms": "x"}], "updated_at_ms": now},
    }
    put_docs(state, docs)
    at = run_app(monkeypatch, state)
    m = metrics(at)
    assert m["NAV (USDT)"] == DASH and m["BTC reserve"] == "0.013 BTC"
    ops = run_app(monkeypatch, state, page="operations.py")
    assert "Arbitrage engine running" in texts(ops)
    # a stamp the reader itself cannot parse fails the whole snapshot: a message, still no exception
    broken = copy_state(state, tmp_path / "broken")  # another store: reads are cached per store
    put_docs(broken, {"arbitrage": {"updated_at_ms": "x"}})
    ops = run_app(monkeypatch, broken, page="operations.py")
    assert "state store unreachable: ValueError" in " ".join(w.value for w in ops.warning)
    at = run_app(monkeypatch, broken)
    assert "Part of the data could not be read" in texts(at)
