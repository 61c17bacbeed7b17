"""The investor page's plain-word view (dashboard/investor.py), the whole-journal caches
(dashboard/journals.py) and path-free messages (dashboard/data.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from dashboard import investor as iv
from dashboard.data import no_paths
from dashboard.journals import Journal
from execution import performance as perf
from execution.state.reader import LocalReader
from tests.support.dashboard_state import hedged_positions

NOW = 1_751_328_000_000  # 2025-07-01 00:00 UTC
MIN = 60_000
STALE = 5 * MIN


@pytest.mark.parametrize(
    "control,nav,updated,label,level",
    [
        ({"mode": "RUN"}, {}, NOW - 1000, "Trading", "ok"),
        ({"mode": "HOLD", "reason": "drawdown 20% >= KILL_DD_PCT"}, {}, NOW - 1000, "Paused", "paused"),
        ({"mode": "RUN", "kill": True}, {}, NOW - 1000, "Paused", "paused"),
        ({}, {"mode": "RUN"}, NOW - 1000, "Trading", "ok"),
        ({"mode": "RUN"}, {}, NOW - 10 * MIN, "Not reporting since 2025-06-30 23:50 UTC", "down"),
        ({"mode": "RUN"}, {}, NOW - 2 * 86_400_000, "Not reporting since 2025-06-29 00:00 UTC", "down"),
        ({}, {}, 0, "No data yet", "none"),
    ],
)
def test_status_in_plain_words(control, nav, updated, label, level):
    s = iv.status(control, nav, updated, NOW, STALE)
    assert (s.label, s.level) == (label, level)
    assert "KILL" not in s.label and "drawdown" not in s.label
    assert (
        iv.status({"mode": "RUN"}, {}, NOW + 50 * MIN, NOW + 60 * MIN, STALE).label == "Not reporting since 00:50 UTC"
    )


@pytest.mark.parametrize(
    "doc,simulated,label",
    [
        ({"profile": "paper"}, True, "Simulated money (paper trading)"),
        ({"profile": "testnet"}, True, "Simulated money (exchange test accounts)"),
        ({"profile": "live", "safe_mode": True}, True, "Simulated money (no real orders are sent)"),
        ({"profile": "live", "dry_run": True}, True, "Simulated money (no real orders are sent)"),
        ({"profile": "live", "safe_mode": False}, False, ""),
    ],
)
def test_simulated_money(doc, simulated, label):
    s = iv.status({"mode": "RUN", **doc}, {}, NOW, NOW, STALE)
    assert (s.simulated, s.simulated_label) == (simulated, label)


def test_exposure_in_plain_words():
    rows = iv.exposure_rows(hedged_positions(NOW, NOW))
    assert [r["Asset"] for r in rows] == ["Bitcoin", "Ether"]
    assert rows[0]["Where"] == "Binance, OKX" and rows[0]["Position"] == "Hedged (long and short)"
    single = {"positions": [{"venue": "okx_perp", "symbol": "SOL-USDT-SWAP", "position_side": "SHORT", "notional": 50}]}
    assert iv.exposure_rows(single) == [
        {
            "Asset": "Solana",
            "Position": "Short",
            "Net exposure (USDT)": "-50.00",
            "Unrealised P&L (USDT)": "+0.00",
            "Where": "OKX",
        }
    ]
    assert iv.exposure_rows({}) == []


def test_monthly_table_years_by_months():
    months = [
        perf.MonthReturn("2024-12", 0.10, None),
        perf.MonthReturn("2025-01", -0.05, None),
        perf.MonthReturn("2025-03", 0.02, None),
    ]
    years, rows, cols = iv.monthly_table(months)
    assert years == ["2025", "2024"] and cols[-1] == "Year" and len(cols) == 13
    assert rows[0][0] == -0.05 and rows[0][1] is None and rows[0][2] == 0.02
    assert rows[0][12] == pytest.approx(0.95 * 1.02 - 1) and rows[1][11] == 0.10 and rows[1][12] == pytest.approx(0.10)


def test_chart_drawdown_counts_the_peak_before_the_range():
    day = perf.DAY_MS
    inception = perf.NavPoints.of([0, day, 2 * day, 3 * day], [100.0, 120.0, 90.0, 100.0])
    window = perf.NavPoints.of([2 * day + 10, 3 * day], [90.0, 100.0], [50.0, 55.0])
    s = iv.chart_series(window, inception, [], iv.sampling(iv.perf.DAY_MS))
    np.testing.assert_allclose(s.drawdown_pct, [25.0, 100 * (1 - 100 / 120)])  # below the 120 peak of day 1
    np.testing.assert_allclose(s.btc, [90.0, 99.0])  # holding BTC, rebased to the NAV at the first point
    assert s.sampled == "every NAV point"
    assert iv.sampling(30 * day).startswith("one point per hour") and iv.sampling(None).startswith("one point per UTC")
    assert iv.chart_series(perf.NavPoints.of([], []), inception, [], "x").empty


def test_round_trip_rows_pages_and_csv():
    trips = [
        perf.RoundTrip(
            "binance_um",
            "ETHUSDT",
            "LONG",
            i * 1000,
            i * 1000 + 500,
            Decimal(1),
            Decimal(100),
            Decimal(101),
            Decimal(1),
            Decimal("0.1"),
            Decimal("0.05"),
            "stop_loss",
        )
        for i in range(45)
    ]
    assert iv.pages(45) == 3 and iv.pages(0) == 1
    rows = iv.round_trip_rows(trips, 3)
    assert len(rows) == 5 and rows[0]["Asset"] == "Ether" and rows[0]["Direction"] == "Long"
    assert rows[0]["P&L (USDT)"] == "+0.95" and rows[0]["Costs (USDT)"] == "0.05"
    csv = iv.round_trips_csv(trips)
    assert csv.count("\n") == 46 and "stop_loss" not in csv and ",Binance," in csv


def test_fmt_ret():
    assert iv.fmt_ret(0.012345) == "+1.23%" and iv.fmt_ret(-0.5) == "-50.00%" and iv.fmt_ret(None) == "—"
    assert iv.fmt_ret(0.1, signed=False, places=1) == "10.0%" and iv.fmt_ret(float("nan")) == "—"


def test_messages_carry_no_server_paths():
    msg = "/srv/hedge/data/state/positions.json: unreadable (JSONDecodeError)"
    assert no_paths(msg) == "positions.json: unreadable (JSONDecodeError)"
    err = "could not read the trade log: IsADirectoryError: [Errno 21] Is a directory: '/tmp/x/y/trade_log.jsonl'"
    assert "/tmp" not in no_paths(err) and "trade_log.jsonl" in no_paths(err)


class TailReader:
    """A journal that grows; records what the Journal asked for."""

    def __init__(self, n: int = 0):
        self.rows = [{"id": f"r{i}", "ts": i, "seq": i} for i in range(n)]
        self.asked: list[int] = []

    def recent(self, collection: str, n: int) -> list[dict]:
        if collection == "capital_flows":
            raise KeyError(collection)
        self.asked.append(n)
        return self.rows[-n:]

    def add(self, k: int) -> None:
        start = len(self.rows)
        self.rows += [{"id": f"r{i}", "ts": i, "seq": i} for i in range(start, start + k)]


def test_journal_reads_whole_once_then_only_new_tails():
    r = TailReader(100)
    j = Journal("trades", tail=20, cap=1000)
    assert len(j.refresh(r, version=1)) == 100 and r.asked == [1000]
    assert len(j.refresh(r, version=1)) == 100 and r.asked == [1000]  # nothing new: no read at all
    r.add(5)
    assert [x["id"] for x in j.refresh(r, version=2)][-5:] == [f"r{i}" for i in range(100, 105)]
    assert r.asked == [1000, 20]
    r.add(30)  # more than the tail: a gap, read it whole again
    assert len(j.refresh(r, version=3)) == 135 and r.asked[-1] == 1000
    r.rows = r.rows[:10]  # a fresh run rewrote the journal
    assert len(j.refresh(r, version=4)) == 10
    flows = Journal("capital_flows")
    assert flows.refresh(r) == [] and not flows.supported
    capped = Journal("trades", cap=50)
    capped.refresh(TailReader(100))
    assert not capped.complete and len(capped.records) == 50


def test_journal_on_real_files(tmp_path):
    (tmp_path / "trade_log.jsonl").write_text("".join(f'{{"id": "t{i}", "ts": {i}}}\n' for i in range(30)))
    j = Journal("trades", tail=5)
    reader = LocalReader(tmp_path)
    assert len(j.refresh(reader)) == 30
    with open(tmp_path / "trade_log.jsonl", "a") as fh:
        fh.write('{"id": "t30", "ts": 30}\n')
    assert j.refresh(reader)[-1]["id"] == "t30" and len(j.records) == 31
    assert Journal("capital_flows").refresh(reader) == []  # not journaled by this store yet


def _state(root, positions: dict, fills: int = 5) -> None:
    import json

    (root / "state").mkdir(parents=True, exist_ok=True)
    (root / "state" / "nav.json").write_text(json.dumps({"nav": 100.0, "fills": fills, "updated_at_ms": NOW}))
    (root / "state" / "positions.json").write_text(json.dumps({"positions": [], **positions, "updated_at_ms": NOW}))
    rows = [{"kind": "fill", "id": f"f{i}", "ts": NOW - (10 - i) * MIN, "seq": 2 * i} for i in range(1, fills + 1)]
    (root / "trade_log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


@pytest.mark.parametrize(
    "positions,shown,pending",
    [
        ({"trade_seq": 6}, [2, 4, 6], False),  # the log is ahead of the positions: its newest fills wait
        ({"trade_seq": 10}, [2, 4, 6, 8, 10], False),
        ({"trade_seq": 12}, [2, 4, 6, 8, 10], True),  # positions from a store ahead of the records
        ({}, [2, 4, 6, 8, 10], False),  # an executor that does not publish trade_seq yet
    ],
)
def test_trades_are_shown_as_of_the_positions(tmp_path, positions, shown, pending):
    from dashboard.data import load

    _state(tmp_path, positions)
    data = load(LocalReader(tmp_path))
    assert [t["seq"] for t in data.trades] == shown
    assert data.trades_pending is pending


def test_a_guard_holding_back_new_risk_reads_as_caution_in_plain_words():
    guard = {"name": "daily_stop", "active": True, "reason": "daily stop: 6.20% loss"}
    s = iv.status({"mode": "RUN", "guards": [guard]}, {}, NOW - 1000, NOW, STALE)
    assert (s.label, s.level) == ("Trading with extra caution", "caution")
    assert "safeguard" in s.explanation and "daily" not in s.explanation and "%" not in s.explanation
    routine = {"name": "warmup", "active": True, "routine": True, "reason": "warm-up"}
    assert iv.status({"mode": "RUN", "guards": [routine]}, {}, NOW - 1000, NOW, STALE).level == "ok"
    stale_all = {"mode": "RUN", "stale_symbols": ["binance_um:BTCUSDT"], "screened_symbols": ["binance_um:BTCUSDT"]}
    assert iv.status(stale_all, {}, NOW - 1000, NOW, STALE).label == "Paused"
