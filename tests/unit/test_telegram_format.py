from telegram.bot_api import split_message
from telegram.format import (
    DAY_MS, base_asset, build_payload, closing_trades, delta_24h, group_positions, render_text, trend_of,
    worst_daily_loss_pct,
)

T = 1_767_225_600_000


def pos(venue, symbol, side, qty, upnl, notional):
    return {"venue": venue, "symbol": symbol, "position_side": side, "qty": qty, "unrealized_pnl": upnl,
            "notional": notional}


def test_trend_thresholds_are_a_quarter_percent():
    assert (trend_of(0.26), trend_of(0.25), trend_of(-0.25), trend_of(-0.26), trend_of(None)) == \
        ("up", "flat", "flat", "down", "flat")


def test_delta_24h_uses_the_newest_point_at_least_a_day_old():
    hist = [(T, 10_000.0, 0), (T + 3_600_000, 10_100.0, 0), (T + DAY_MS + 7_200_000, 10_300.0, 0)]
    abs_, pct = delta_24h(10_403.0, T + DAY_MS + 3_600_000, hist)
    assert abs_ == 303.0 and round(pct, 4) == 3.0


def test_hedged_pairs_are_one_line_and_groups_sorted_by_abs_upnl():
    rows = group_positions([
        pos("binance_um", "BTCUSDT", "SHORT", 0.01, -3.0, 600), pos("okx_perp", "BTC-USDT-SWAP", "LONG", 0.01, 4.0, 601),
        pos("binance_um", "SOLUSDT", "LONG", 4, 8.8, 600), pos("binance_um", "ETHUSDT", "SHORT", 0.3, -0.5, 900),
        pos("binance_um", "ETHUSDT", "SHORT", 0.2, -0.25, 600)])
    assert [r["kind"] for r in rows] == ["single", "hedged", "single"]
    hedged = rows[1]
    assert hedged["base"] == "BTC" and hedged["unrealized_pnl"] == 1.0 and hedged["net_delta_usdt"] == 1.0
    eth = rows[2]
    assert eth["qty"] == 0.5 and eth["unrealized_pnl"] == -0.75  # grouped by (symbol, side)
    assert base_asset("BTC-USDT-SWAP") == base_asset("BTCUSDT") == "BTC"


def test_message_layout_and_escaping():
    nav = {"nav": 12345.674, "drawdown_pct": 3.21, "max_drawdown_pct": 7.5, "market_ts": T + DAY_MS}
    trades = [{"ts": T, "venue": "binance_um", "symbol": "SOL<x>&USDT", "side": "SELL", "position_side": "LONG",
               "qty": 4, "price": 150.0, "realized_pnl_usdt": 12.5, "fee_usdt": 0.2},
              {"ts": T, "venue": "binance_um", "symbol": "BTCUSDT", "side": "BUY", "position_side": "LONG",
               "qty": 1, "price": 1, "realized_pnl_usdt": 0, "fee_usdt": 0.1}]
    p = build_payload(env="prod", now_ms=T + DAY_MS, nav_doc=nav, positions=[pos("binance_um", "SOLUSDT", "LONG", 4, 8.8, 600)],
                      trades=trades, history=[(T, 12222.22, 0.0)], screener={"last_cycle": {"attempted": 4, "emitted": 1}},
                      source="firestore", reserve_btc=0.013)
    assert p["nav_24h_delta_abs"] == 123.45 and p["trend"] == "up"
    assert [t["pnl_usdt"] for t in p["recent_trades"]] == [12.3]  # opening fills are not trades' PnL
    text = render_text(p, "UTC")
    lines = text.split("\n")
    assert lines[0] == "<b>HEDGE — 8h Update (prod)</b>" and lines[1].endswith("UTC")
    assert lines[2] == "NAV: 12,345.67 USDT  (Δ24h: +123.45, +1.01%)"
    assert lines[3] == "Drawdown: 3.2%  |  Trend: ↑"
    assert "SOL&lt;x&gt;&amp;USDT" in text and "<x>" not in text
    assert "Reserve: 0.013 BTC (not included in NAV)" in text
    assert "Screener last cycle: attempted=4, emitted=1" in text
    assert set(p) >= {"env", "timestamp", "nav", "nav_24h_delta_abs", "nav_24h_delta_pct", "drawdown_pct", "trend",
                      "reserve_btc", "positions", "recent_trades", "screener", "kpis"}
    assert p["kpis"] == {"max_dd_pct": 7.5, "max_daily_loss_pct": 0.0}


def test_worst_daily_loss_and_long_message_split():
    hist = [(T, 100.0, 0), (T + DAY_MS, 95.0, 0), (T + 2 * DAY_MS, 99.0, 0)]
    assert worst_daily_loss_pct(hist) == 5.0
    parts = split_message("\n".join(f"line {i:05d} " + "x" * 50 for i in range(200)), 4096)
    assert len(parts) == 4 and all(len(p) <= 4096 for p in parts)  # 62 chars a line: 66 lines a part
    assert "\n".join(parts).count("line ") == 200
    assert split_message("y" * 9000, 4096) == ["y" * 4096, "y" * 4096, "y" * 808]
    assert closing_trades([], 5) == []
