"""The investor page's figures, derived from state documents (dashboard/view_model.py, dashboard/settings.py)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from dashboard import formatting as fm
from dashboard import positions_view as pv
from dashboard import settings as dsettings
from dashboard import view_model as vm
from tests.support.dashboard_state import arbitrage_doc, hedged_positions

NOW = 1_795_000_000_000
MARKET = 1_751_328_000_000
MIN = 60_000


# -- formatting ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value,signed,expected",
    [
        (8703.96962722, False, "8,703.97"),
        (-49.46721695, True, "-49.47"),
        (1920.4349, True, "+1,920.43"),
        (-0.001, True, "+0.00"),
        ("12.5", False, "12.50"),
        (None, False, "—"),
        ("nan", False, "—"),
        ("abc", False, "—"),
        (True, False, "—"),
    ],
)
def test_money(value, signed, expected):
    assert fm.fmt_money(value, signed=signed) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        (1.51, "1.51"),
        (6.0, "6"),
        (0.009, "0.009"),
        (107087.4, "107,087.4"),
        (2484.3, "2,484.3"),
        (154.9809960941978, "154.98099609"),
        (1e-05, "0.00001"),
        (None, "—"),
    ],
)
def test_num_keeps_the_documents_digits(value, expected):
    assert fm.fmt_num(value) == expected


def test_timestamps_and_ages():
    assert fm.fmt_ts(MARKET) == "2025-07-01 00:00 UTC"
    assert fm.fmt_ts(MARKET + 5_000, seconds=True) == "2025-07-01 00:00:05 UTC"
    assert fm.fmt_ts(0) == "—"
    assert [fm.fmt_age(x) for x in (0, 42_000, 7 * MIN, 125 * MIN, 3 * vm.DAY_MS + 3_600_000, None)] == [
        "0 s",
        "42 s",
        "7 min",
        "2 h 5 min",
        "3 d 1 h",
        "—",
    ]


# -- freshness and mode -------------------------------------------------------------------------
def test_fresh_stale_and_absent():
    ok = vm.freshness("firestore", NOW - 30_000, NOW, 5 * MIN)
    assert (ok.level, ok.age_ms) == ("ok", 30_000) and "Firestore" in ok.message and "30 s ago" in ok.message
    edge = vm.freshness("local", NOW - 5 * MIN, NOW, 5 * MIN)
    assert edge.level == "ok"  # exactly N minutes is not yet stale
    stale = vm.freshness("local", NOW - 5 * MIN - 1, NOW, 5 * MIN)
    assert stale.level == "stale" and "stale" in stale.message and "local files" in stale.message
    none = vm.freshness("local", 0, NOW, 5 * MIN)
    assert none.level == "none" and none.age_ms is None


def test_executor_clock_slightly_ahead_reads_as_fresh():
    f = vm.freshness("local", NOW + 2_000, NOW, 5 * MIN)
    assert f.level == "ok" and f.age_ms == 0


def test_mode_badge_from_control_then_nav():
    control = {
        "mode": "HOLD",
        "reason": "breaker drawdown: 21% >= 20%",
        "kill": False,
        "safe_mode": True,
        "dry_run": False,
        "profile": "live",
    }
    b = vm.mode_badge(control, {"mode": "RUN", "profile": "paper", "env": "prod"})
    assert (b.mode, b.reason, b.profile, b.env) == ("HOLD", "breaker drawdown: 21% >= 20%", "live", "prod")
    assert b.labels == ["HOLD", "SAFE_MODE", "live"]
    assert vm.mode_badge({"mode": "HOLD", "kill": True}, {}).mode == "KILL"
    fallback = vm.mode_badge({}, {"mode": "RUN", "safe_mode": False, "dry_run": True, "profile": "testnet"})
    assert fallback.labels == ["RUN", "DRY_RUN", "testnet"]
    assert vm.mode_badge({}, {}).mode == "UNKNOWN"


# -- KPIs and exposure --------------------------------------------------------------------------
NAV_DOC = {
    "nav": 8703.96962722,
    "change_24h_abs": -49.46721695,
    "change_24h_pct": -0.565118,
    "drawdown_pct": 14.161171,
    "peak_nav": 10139.89785602,
    "max_drawdown_pct": 15.377141,
    "unrealized_pnl": -20.596,
    "open_positions": 2,
    "reserve_btc": 0.013,
}


def test_kpis_come_from_the_documents():
    pos = hedged_positions(NOW, MARKET)
    k = vm.kpis(NAV_DOC, pos, Decimal("0.5"))
    assert k.nav == Decimal("8703.96962722") and k.change_24h_pct == Decimal("-0.565118")
    assert k.open_positions == 4  # legs, hedge mode: ETH LONG and ETH SHORT count twice
    assert (k.gross_exposure, k.net_exposure) == (Decimal("3598.23"), Decimal("959.37"))
    assert k.gross_leverage == (Decimal("3598.23") / Decimal("8703.96962722")).quantize(Decimal("0.01"))
    assert k.reserve_btc == Decimal("0.013")  # the document's value wins over the configured default


def test_kpis_without_totals_sum_the_rows_and_reserve_defaults():
    pos = hedged_positions(NOW, MARKET)
    del pos["gross_notional"], pos["net_notional"]
    k = vm.kpis({"nav": 1000}, pos, Decimal("0.013"))
    assert k.gross_exposure == Decimal("1071.0") + Decimal("1285.08") + Decimal("993.72") + Decimal("248.43")
    assert k.net_exposure == -Decimal("1071.0") + Decimal("1285.08") + Decimal("993.72") - Decimal("248.43")
    assert k.reserve_btc == Decimal("0.013")


def test_kpis_with_nothing():
    k = vm.kpis({}, {}, None)
    assert k.nav is None and k.gross_exposure is None and k.open_positions == 0 and k.gross_leverage is None


def test_exposure_per_venue():
    rows = {e.venue: e for e in pv.exposure_by_venue(hedged_positions(NOW, MARKET))}
    bn, okx = rows["binance_um"], rows["okx_perp"]
    assert (bn.legs, bn.long_notional, bn.short_notional) == (
        3,
        Decimal("993.72"),
        Decimal("1071.0") + Decimal("248.43"),
    )
    assert (bn.gross, bn.net) == (Decimal("2313.15"), Decimal("-325.71"))
    assert bn.unrealized_pnl == Decimal("-1.0") + Decimal("1.72") + Decimal("0.57")
    assert (okx.legs, okx.gross, okx.net) == (1, Decimal("1285.08"), Decimal("1285.08"))


def test_exposure_falls_back_to_rows_without_per_venue():
    pos = hedged_positions(NOW, MARKET)
    del pos["per_venue"]
    bn = {e.venue: e for e in pv.exposure_by_venue(pos)}["binance_um"]
    assert (bn.gross, bn.net) == (Decimal("2313.15"), Decimal("-325.71"))


# -- positions ----------------------------------------------------------------------------------
def test_legs_group_per_asset_and_cross_venue_pairs_carry_net_delta():
    groups = {g.asset: g for g in pv.position_groups(hedged_positions(NOW, MARKET), arbitrage_doc(NOW, MARKET))}
    assert sorted(groups) == ["BTC", "ETH"]
    btc, eth = groups["BTC"], groups["ETH"]
    assert [(leg.side, leg.venue) for leg in btc.legs] == [("LONG", "okx_perp"), ("SHORT", "binance_um")]
    assert btc.cross_venue_pair and (btc.net_qty, btc.net_notional) == (Decimal("0.002"), Decimal("214.08"))
    # LONG and SHORT on the same venue is hedge mode, not a cross-venue pair
    assert not eth.cross_venue_pair and eth.net_qty == Decimal("0.3")
    pairs = pv.pair_rows(list(groups.values()))
    assert pairs == [
        {
            "Asset": "BTC",
            "Legs": "LONG 0.012 okx_perp + SHORT 0.01 binance_um",
            "Net delta (base)": "0.002",
            "Net delta (USDT)": "+214.08",
            "uPnL (USDT)": "+0.68",
        }
    ]


def test_leg_rows_show_every_leg_with_its_numbers():
    rows = pv.leg_rows(pv.position_groups(hedged_positions(NOW, MARKET)))
    assert len(rows) == 4
    eth_short = next(r for r in rows if r["Asset"] == "ETH" and r["Side"] == "SHORT")
    assert eth_short == {
        **eth_short,
        "Venue": "binance_um",
        "Symbol": "ETHUSDT",
        "Qty": "0.1",
        "Entry": "2,490",
        "Mark": "2,484.3",
        "uPnL (USDT)": "+0.57",
        "Notional (USDT)": "248.43",
        "Leverage": "2x",
    }


@pytest.mark.parametrize(
    "venue,symbol,asset",
    [
        ("binance_um", "BTCUSDT", "BTC"),
        ("okx_perp", "BTC-USDT-SWAP", "BTC"),
        ("binance_um", "1000PEPEUSDT", "1000PEPE"),
        ("binance_um", "ETHUSDC", "ETH"),
        ("x", "WEIRD", "WEIRD"),
    ],
)
def test_base_asset(venue, symbol, asset):
    assert pv.base_asset(venue, symbol) == asset


def test_arbitrage_pairs_name_the_asset():
    aliases = pv.arb_aliases(
        {"pairs": [{"pair": "XBT-USDT", "binance_symbol": "BTCUSDT", "okx_symbol": "BTC-USDT-SWAP"}]}
    )
    assert aliases == {("binance_um", "BTCUSDT"): "XBT", ("okx_perp", "BTC-USDT-SWAP"): "XBT"}


def test_malformed_positions_do_not_raise():
    groups = pv.position_groups({"positions": [{"venue": "binance_um"}, "junk", {"symbol": "X", "qty": "abc"}]})
    assert len(pv.leg_rows(groups)) == 2
    assert pv.position_groups({"positions": "nope"}) == []


# -- tables -------------------------------------------------------------------------------------
def test_trades_newest_first_and_at_most_n():
    trades = [
        {
            "ts": 1000 * i,
            "seq": i,
            "venue": "binance_um",
            "symbol": "BTCUSDT",
            "side": "BUY",
            "position_side": "LONG",
            "qty": 0.001 * i,
            "price": 100 + i,
            "fee_usdt": 0.01,
            "realized_pnl_usdt": -1.234,
            "reason": "entry",
        }
        for i in range(1, 9)
    ]
    rows = vm.trade_rows(trades, 5)
    assert [r["Qty"] for r in rows] == ["0.008", "0.007", "0.006", "0.005", "0.004"]
    assert rows[0]["Realized (USDT)"] == "-1.23" and rows[0]["Side"] == "BUY LONG"


def test_screener_tail_and_cross_flags():
    tail = [
        {
            "ts": MARKET - i,
            "symbol": f"S{i}",
            "z": 2.2003,
            "rsi": 70.73,
            "atr": 1.0916,
            "atr_pct": 0.00368,
            "cross_up": i == 1,
            "cross_down": i == 2,
            "in_trade": i == 3,
            "side": "LONG",
        }
        for i in range(12, 0, -1)
    ]
    rows = vm.screener_rows(tail, 10)
    assert len(rows) == 10 and rows[0]["Symbol"] == "S1"  # newest (last in the tail) first
    assert (rows[0]["Cross"], rows[1]["Cross"], rows[2]["Cross"]) == ("up", "down", "—")
    assert rows[2]["In trade"] == "LONG" and rows[0]["ATR %"] == "0.368%"


def test_signals_newest_first():
    sigs = [{"ts": t, "signal": "SELL", "position_side": "SHORT", "price": 1.5, "z": -2.37341} for t in (3, 1, 2)]
    assert [r["Time"] for r in vm.signal_rows(sigs, 2)] == [fm.fmt_ts(3), fm.fmt_ts(2)]
    assert vm.signal_rows(sigs)[0]["Signal"] == "SELL SHORT" and vm.signal_rows(sigs)[0]["z"] == "-2.3734"


# -- arbitrage ----------------------------------------------------------------------------------
def test_arbitrage_absent_says_not_running():
    for doc in (None, {}, "junk"):
        v = vm.arbitrage_view(doc, NOW, 5 * MIN)
        assert not v.running and "not running" in v.message


def test_arbitrage_present():
    v = vm.arbitrage_view(arbitrage_doc(NOW, MARKET), NOW, 5 * MIN)
    assert v.running and v.message == "Arbitrage engine running."
    assert v.pairs[0]["Net edge (bps)"] == "-28.48" and v.pairs[0]["Gross edge (bps)"] == "-4.73"
    assert "edge_below_min" in v.pairs[0]["Why not trading"]
    assert v.funding[0] == {
        "Venue": "binance_um",
        "Symbol": "BTCUSDT",
        "Rate": "0.009151%",
        "Next funding": fm.fmt_ts(MARKET + 3_600_000),
        "In": "60 min",
    }
    assert v.funding[1]["Rate"] == "-0.00054877%"


def test_arbitrage_stale_disabled_or_malformed():
    doc = arbitrage_doc(NOW - 10 * MIN, MARKET)
    doc["enabled"] = False
    v = vm.arbitrage_view(doc, NOW, 5 * MIN)
    assert "disabled" in v.message and "stale" in v.message
    v = vm.arbitrage_view(
        {"pairs": [{"pair": "BTC-USDT", "net_edge_bps": "x"}], "funding": [{"rate": None}]}, NOW, 5 * MIN
    )
    assert v.running and v.pairs[0]["Net edge (bps)"] == "—" and v.funding[0]["Rate"] == "—"


# -- history window and downsampling -------------------------------------------------------------
def test_range_window():
    assert vm.range_window("24h", MARKET) == (MARKET - vm.DAY_MS, MARKET)
    assert vm.range_window("30d", MARKET) == (MARKET - 30 * vm.DAY_MS, MARKET)
    assert vm.range_window("All", MARKET) == (0, MARKET)
    with pytest.raises(ValueError, match="unknown range '1y'"):
        vm.range_window("1y", MARKET)


def test_downsample_bounds_points_keeps_last_and_deepest_drawdown():
    n = 100_000
    ts = np.arange(n, dtype=np.int64) * MIN
    nav = 1000 + np.sin(np.arange(n) / 50.0)
    dd = np.zeros(n)
    dd[54_321] = 17.5  # a one-minute spike
    t2, n2, d2 = vm.downsample(ts, nav, dd, 1500)
    assert len(t2) <= 1500
    assert t2[-1] == ts[-1] and n2[-1] == nav[-1]
    assert d2.max() == 17.5
    assert set(n2).issubset(set(nav))  # only values the fund really had
    small = vm.downsample(ts[:10], nav[:10], dd[:10], 1500)
    assert len(small[0]) == 10


# -- settings -----------------------------------------------------------------------------------
def test_settings_defaults_and_errors():
    s = dsettings.load({})
    assert (s.stale_after_ms, s.refresh_s, s.cache_ttl_s, s.reserve_btc, s.default_range) == (
        5 * MIN,
        5,
        5,
        Decimal("0.013"),
        "30d",
    )
    s = dsettings.load(
        {
            "DASHBOARD_STALE_MINUTES": "2.5",
            "RESERVE_BTC": "0.02",
            "DASHBOARD_DEFAULT_RANGE": "all",
            "STATE_DIR": "/x",
            "FIRESTORE_PROJECT": "hedge-test",
        }
    )
    assert (s.stale_after_ms, s.reserve_btc, s.default_range, s.firestore_configured) == (
        150_000,
        Decimal("0.02"),
        "All",
        True,
    )
    assert ("STATE_DIR", "/x") in s.store_key
    for env, msg in [
        ({"DASHBOARD_STALE_MINUTES": "five"}, "DASHBOARD_STALE_MINUTES='five' is not a number"),
        ({"DASHBOARD_STALE_MINUTES": "0"}, "between"),
        ({"RESERVE_BTC": "-1"}, "RESERVE_BTC"),
        ({"RESERVE_BTC": "lots"}, "RESERVE_BTC='lots'"),
        ({"DASHBOARD_DEFAULT_RANGE": "1y"}, "one of"),
    ]:
        with pytest.raises(dsettings.DashboardConfigError, match=msg):
            dsettings.load(env)


def test_env_file_gives_only_dashboard_keys(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "STATE_DIR=/srv/state\nRESERVE_BTC=0.02\nBINANCE_API_SECRET=abcdef123456\n"
        "GOOGLE_APPLICATION_CREDENTIALS=/etc/hedge/executor-writer.json\n"
        "DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS=/etc/hedge/dashboard-reader.json\n"
    )
    environ = {"ENV_FILE": str(env_file), "RESERVE_BTC": "0.5"}
    taken = dsettings.load_env_file(environ)
    assert environ == {
        "ENV_FILE": str(env_file),
        "RESERVE_BTC": "0.5",
        "STATE_DIR": "/srv/state",
        "GOOGLE_APPLICATION_CREDENTIALS": "/etc/hedge/dashboard-reader.json",
    }
    assert "BINANCE_API_SECRET" not in taken
    assert dsettings.load_env_file({"ENV_FILE": str(tmp_path / "absent")}) == []
