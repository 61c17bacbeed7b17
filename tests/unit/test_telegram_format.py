"""telegram/format.py on hand-built state: the fund's layout line by line, the rules (Δ24h, trend,
grouping, hedged pairs, trades), escaping, malformed input and the size bound."""

from __future__ import annotations

from datetime import UTC
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from telegram.format import render_text
from telegram.nav_history import DAY_MS, delta_24h, trend_of, worst_daily_loss_pct
from telegram.payload import build_payload, closing_trades
from tests.support.fake_telegram import parse_html, utf16_len

T = 1_767_225_600_000  # 2026-01-01 00:00 UTC
MIN = 60_000


def pos(venue, symbol, side, qty, upnl, notional):
    return {
        "venue": venue,
        "symbol": symbol,
        "position_side": side,
        "qty": qty,
        "unrealized_pnl": upnl,
        "notional": notional,
    }


def fill(ts, symbol, side, pside, realized, fee, seq=0, qty=1.0, venue="binance_um"):
    return {
        "kind": "fill",
        "ts": ts,
        "seq": seq,
        "venue": venue,
        "symbol": symbol,
        "side": side,
        "position_side": pside,
        "qty": qty,
        "price": 100.0,
        "realized_pnl_usdt": realized,
        "fee_usdt": fee,
    }


NAV_DOC = {"nav": 12345.674, "drawdown_pct": 3.21, "max_drawdown_pct": 7.5, "market_ts": T, "reserve_btc": 0.013}
HISTORY = [(T - DAY_MS - 15 * MIN, 12100.0, 0.0), (T - DAY_MS, 12222.22, 0.0), (T - 60 * MIN, 12300.0, 0.0)]
POSITIONS = [
    pos("binance_um", "BTCUSDT", "SHORT", 0.01, -3.0, 600.0),
    pos("okx_perp", "BTC-USDT-SWAP", "LONG", 0.01, 4.0, 601.0),
    pos("binance_um", "SOLUSDT", "LONG", 4, 8.8, 600.0),
    pos("binance_um", "ETHUSDT", "SHORT", 0.3, -0.5, 900.0),
    pos("binance_um", "ETHUSDT", "SHORT", 0.2, -0.25, 600.0),
]
TRADES = [
    fill(T - 30 * MIN, "SOLUSDT", "BUY", "LONG", 0.0, 0.2, seq=1),  # an opening fill: not a trade's PnL
    fill(T - 15 * MIN, "SOLUSDT", "SELL", "LONG", 12.5, 0.2, seq=2),
]
SCREENER = {"last_cycle": {"ts": T, "attempted": 4, "emitted": 1}}


def payload(**over):
    args = dict(
        env="prod",
        now_ms=T,
        nav_doc=NAV_DOC,
        positions=POSITIONS,
        trades=TRADES,
        history=HISTORY,
        screener=SCREENER,
        control={"mode": "RUN"},
        source="local",
        reserve_btc=0.013,
        updated_at_ms=T - MIN,
    )
    args.update(over)
    return build_payload(**args)


def test_the_funds_layout_line_by_line():
    p = payload()
    assert render_text(p, UTC).split("\n") == [
        "<b>HEDGE — 8h Update (prod)</b>",
        "Time: 2026-01-01 00:00 UTC",
        "",
        "NAV: 12,345.67 USDT  (Δ24h: +123.45, +1.01%)",
        "Drawdown: 3.2%  |  Trend: ↑",
        "",
        "Open Positions (top 5):",
        "• SOLUSDT  LONG  4  uPnL +8.80",
        "• BTC hedged: LONG okx_perp 0.01 / SHORT binance_um 0.01  uPnL +1.00  net +1.00 USDT",
        "• ETHUSDT  SHORT 0.5  uPnL -0.75",
        "",
        "Recent PnL (last 5 trades):",
        "• SOLUSDT +12.30  (SELL/LONG 12-31 23:45)",
        "",
        "Notes:",
        "• Reserve: 0.013 BTC (not included in NAV)",
        "• Screener: attempted=4, emitted=1 (last cycle)",
    ]


def test_local_time_with_its_zone():
    text = render_text(payload(), ZoneInfo("Asia/Tokyo"))
    assert text.split("\n")[1] == "Time: 2026-01-01 09:00 JST"
    assert "• SOLUSDT +12.30  (SELL/LONG 01-01 08:45)" in text  # trade times in the same zone


def test_payload_fields_and_values():
    p = payload()
    assert {
        "env",
        "timestamp",
        "nav",
        "nav_24h_delta_abs",
        "nav_24h_delta_pct",
        "drawdown_pct",
        "trend",
        "reserve_btc",
        "positions",
        "recent_trades",
        "screener",
        "kpis",
    } <= set(p)
    assert (p["env"], p["timestamp"], p["timestamp_ms"], p["nav"]) == ("prod", "2026-01-01T00:00:00Z", T, 12345.67)
    assert (p["nav_24h_delta_abs"], p["nav_24h_delta_pct"], p["nav_24h_ref_ts"]) == (123.45, 1.0101, T - DAY_MS)
    assert (p["drawdown_pct"], p["trend"], p["reserve_btc"]) == (3.21, "up", 0.013)
    assert p["screener"] == {"attempted": 4, "emitted": 1}
    assert p["kpis"] == {"max_dd_pct": 7.5, "max_daily_loss_pct": 0.0}  # the history only rose
    # the runbook's schema: one {symbol, side, qty, uPnl} per (symbol, position side) of the top groups
    assert [(x["symbol"], x["side"], x["qty"], x["uPnl"]) for x in p["positions"]] == [
        ("SOLUSDT", "LONG", 4.0, 8.8),
        ("BTC-USDT-SWAP", "LONG", 0.01, 4.0),
        ("BTCUSDT", "SHORT", 0.01, -3.0),
        ("ETHUSDT", "SHORT", 0.5, -0.75),
    ]
    hedged = p["position_groups"][1]
    assert hedged["kind"] == "hedged" and hedged["pair"] == "BTC-USDT" and hedged["unrealized_pnl"] == 1.0
    assert [(leg["symbol"], leg["venue"], leg["position_side"]) for leg in hedged["legs"]] == [
        ("BTC-USDT-SWAP", "okx_perp", "LONG"),
        ("BTCUSDT", "binance_um", "SHORT"),
    ]
    assert p["recent_trades"] == [
        {
            "ts": T - 15 * MIN,
            "venue": "binance_um",
            "symbol": "SOLUSDT",
            "side": "SELL",
            "position_side": "LONG",
            "qty": 1.0,
            "price": 100.0,
            "realized_pnl_usdt": 12.5,
            "fee_usdt": 0.2,
            "pnl_usdt": 12.3,
            "pnl": 12.3,
        }
    ]


@pytest.mark.parametrize(
    "pct,trend",
    [("0.26", "up"), ("0.25", "flat"), ("0", "flat"), ("-0.25", "flat"), ("-0.2501", "down"), (None, "flat")],
)
def test_trend_is_a_quarter_percent_either_way(pct, trend):
    assert trend_of(pct) == trend


def test_trend_follows_delta_in_the_message():
    down = payload(nav_doc={**NAV_DOC, "nav": 12222.22 * (1 - 0.0026)})
    flat = payload(nav_doc={**NAV_DOC, "nav": 12222.22 * (1 + 0.0024)})
    assert (down["trend"], flat["trend"]) == ("down", "flat")
    assert "Trend: ↓" in render_text(down) and "Trend: →" in render_text(flat)


def test_delta_24h_reference_is_the_newest_point_a_day_old():
    hist = [(T, 100.0, 0), (T + 3_600_000, 101.0, 0), (T + DAY_MS + 7_200_000, 103.0, 0)]
    abs_, pct, ref = delta_24h(Decimal("104"), T + DAY_MS + 3_600_000, hist)
    assert (abs_, round(pct, 6), ref) == (3, Decimal("2.970297"), T + 3_600_000)
    assert delta_24h(Decimal("1"), T, []) is None


def test_short_history_and_gaps_are_said_not_hidden():
    short = payload(history=[(T - 6 * 3_600_000, 12000.0, 0)])
    assert short["nav_24h_delta_abs"] == 345.67
    assert "Δ24h measured over 6.0h (NAV history shorter than a day)" in render_text(short)
    gap = payload(history=[(T - 3 * DAY_MS, 12000.0, 0), (T - 60 * MIN, 12300.0, 0)])
    assert "Δ24h measured over 3.0 days (gap in NAV history)" in render_text(gap)
    executor = payload(history=[], nav_doc={**NAV_DOC, "change_24h_abs": -5.0, "change_24h_pct": -0.04})
    assert "(Δ24h: -5.00, -0.04%)" in render_text(executor) and executor["trend"] == "flat"
    assert "Δ24h as the executor computed it" in render_text(executor)
    none = payload(history=[])
    assert "(Δ24h: n/a)" in render_text(none) and none["nav_24h_delta_abs"] is None and none["trend"] == "flat"


def test_grouping_top5_and_hedged_pairs():
    many = [pos("binance_um", f"S{i}USDT", "LONG", 1, float(i), 10.0) for i in range(1, 9)]
    same_venue = [
        pos("binance_um", "XRPUSDT", "LONG", 10, 50.0, 5.0),
        pos("binance_um", "XRPUSDT", "SHORT", 10, -49.0, 5.0),
    ]
    p = payload(positions=many + same_venue)
    groups = [(g["kind"], g.get("symbol")) for g in p["position_groups"]]
    # a LONG and a SHORT of one symbol on one venue: one "(hedged)" group, ranked by its net uPnL (+1)
    assert groups == [
        ("single", "S8USDT"),
        ("single", "S7USDT"),
        ("single", "S6USDT"),
        ("single", "S5USDT"),
        ("single", "S4USDT"),
    ]
    assert (
        p["open_positions"] == 10
        and sum(ln.startswith("• S") and "USDT  LONG" in ln for ln in render_text(p).split("\n")) == 5
    )
    assert "Open Positions (top 5 of 9):" in render_text(p)
    pair = payload(positions=many[:2] + same_venue)
    assert [g["kind"] for g in pair["position_groups"]] == ["single", "same_symbol", "single"]
    text = render_text(pair)
    assert "• XRPUSDT  LONG  10  uPnL +50.00  |  SHORT 10 uPnL -49.00 (hedged)" in text
    assert text.count("XRPUSDT") == 1
    assert [(x["symbol"], x["side"]) for x in pair["positions"]] == [
        ("S2USDT", "LONG"),
        ("XRPUSDT", "LONG"),
        ("XRPUSDT", "SHORT"),
        ("S1USDT", "LONG"),
    ]


def test_last_trades_newest_first_net_of_the_closing_fee():
    trades = [
        fill(T + i * MIN, f"S{i}USDT", "SELL" if i % 2 else "BUY", "LONG" if i % 2 else "SHORT", float(i), 0.5, seq=i)
        for i in range(1, 9)
    ]
    trades += [fill(T + 99 * MIN, "OPENUSDT", "BUY", "LONG", 0.0, 0.5, seq=99), {"kind": "funding", "ts": T}, "junk"]
    got = closing_trades(trades)
    assert [t["symbol"] for t in got] == ["S8USDT", "S7USDT", "S6USDT", "S5USDT", "S4USDT"]
    assert [t["pnl_usdt"] for t in got] == [7.5, 6.5, 5.5, 4.5, 3.5]


def test_worst_daily_loss_is_within_a_day_from_its_start():
    hist = [
        (T - 60 * MIN, 100.0, 0),
        (T + 60 * MIN, 97.0, 0),
        (T + 120 * MIN, 99.0, 0),
        (T + DAY_MS + 60 * MIN, 95.0, 0),
        (T + DAY_MS + 120 * MIN, 100.0, 0),
    ]
    assert float(worst_daily_loss_pct(hist)) == pytest.approx(4.0404, abs=1e-4)  # 99 -> 95 on the second day
    assert worst_daily_loss_pct([]) is None


def test_special_characters_are_escaped_and_telegram_can_parse_it():
    p = payload(
        env="test<env>&co",
        positions=[pos("binance_um", "A<B>&C", "LONG", 1, 1.0, 1.0)],
        trades=[fill(T, "X&Y", "SELL", "LONG", 1.0, 0.0)],
        notes=["<script>&"],
    )
    text = render_text(p)
    assert "HEDGE — 8h Update (test&lt;env&gt;&amp;co)" in text
    assert "• A&lt;B&gt;&amp;C  LONG  1" in text and "X&amp;Y" in text and "&lt;script&gt;&amp;" in text
    visible, error = parse_html(text)
    assert error == "" and "A<B>&C" in visible and "test<env>&co" in visible


def test_malformed_state_is_skipped_with_a_note_never_raised():
    bad_positions = [
        {"symbol": "NOVENUE", "position_side": "LONG", "qty": 1},
        "junk",
        None,
        pos("binance_um", "ZEROUSDT", "LONG", 0, 1.0, 1.0),
        pos("binance_um", "OKUSDT", "SIDEWAYS", 1, 1.0, 1.0),
        pos("binance_um", "GOODUSDT", "LONG", "2", "nan", None),
    ]
    p = payload(
        positions=bad_positions,
        trades="not a list",
        history=[("x", 1), (T - DAY_MS, "abc", 0)],
        screener={"last_cycle": "?"},
        control=[],
        nav_doc={**NAV_DOC, "drawdown_pct": "n/a", "peak_nav": None},
    )
    text = render_text(p)
    assert "5 malformed position records skipped" in text
    assert "• GOODUSDT  LONG  2  uPnL +0.00" in text
    assert (
        "Drawdown: n/a" in text
        and "• Screener: n/a (last cycle)" in text
        and "Recent PnL (last 5 trades): none" in text
    )
    unavailable = payload(nav_doc={"nav": "abc"}, positions=None, trades=None)
    lines = render_text(unavailable).split("\n")
    assert (
        lines[3] == "NAV: unavailable (no readable NAV in state and no venue answered)" and unavailable["nav"] is None
    )
    assert "• Reserve: 0.013 BTC (not included in NAV)" in lines and not any(
        ln.startswith("Open Positions") for ln in lines
    )
    still_readable = render_text(payload(nav_doc={}, history=[]))  # no NAV, but positions and trades were read
    assert "NAV: unavailable" in still_readable and "• SOLUSDT  LONG  4  uPnL +8.80" in still_readable
    assert "• SOLUSDT +12.30  (SELL/LONG 12-31 23:45)" in still_readable and "Drawdown" not in still_readable


def test_stale_state_mode_and_market_time_notes():
    stale = render_text(payload(updated_at_ms=T - 3 * 3_600_000))
    assert "⚠ State last written 3.0h ago: is the executor running?" in stale
    held = render_text(payload(control={"mode": "HOLD", "reason": "BREAKER drawdown"}))
    assert "Mode: HOLD (BREAKER drawdown)" in held
    replayed = render_text(payload(now_ms=T + 400 * DAY_MS, updated_at_ms=T + 400 * DAY_MS))
    assert "Figures as of 2026-01-01 00:00 UTC (market time of the state)" in replayed


def test_message_size_is_bounded_whatever_the_state_holds():
    huge = [pos("binance_um", "Z" * 500 + f"{i}USDT", "LONG", 1, float(i), 1.0) for i in range(2000)]
    trades = [fill(T + i, "&" * 500, "SELL", "LONG", 1.0, 0.0, seq=i) for i in range(500)]
    p = payload(env="<" * 300, positions=huge, trades=trades, notes=["&" * 1000] * 50)
    text = render_text(p)
    assert utf16_len(text) < 4096 and parse_html(text)[1] == ""
    notes = 2 + len(p["notes"])  # reserve, screener, then at most MAX_NOTES of the caller's
    assert len(p["notes"]) <= 8 and text.count("\n• ") == 10 + notes  # 5 positions, 5 trades and the notes


def test_health_is_in_the_payload_and_a_note_when_not_healthy():
    ok = payload(control={"mode": "RUN"})
    assert ok["health_state"] == 0 and not any(n.startswith("Health") for n in ok["notes"])
    guard = {"name": "depeg", "active": True, "reason": "depeg: binance_um:USDCUSDT +80.0 bps from 1"}
    degraded = payload(control={"mode": "RUN", "guards": [guard]})
    assert degraded["health_state"] == 1 and degraded["health_reasons"] == [f"guard depeg: {guard['reason']}"]
    assert "Health: DEGRADED (guard depeg: depeg: binance_um:USDCUSDT +80.0 bps from 1)" in render_text(degraded)
    held = render_text(payload(control={"mode": "HOLD", "reason": "BREAKER drawdown"}))
    assert "• Health: HALTED" in held.split("\n") and "Mode: HOLD (BREAKER drawdown)" in held  # the reason once
