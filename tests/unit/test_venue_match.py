"""The pure comparisons behind venue truth: which venue trades the journal lacks (per order, the
journal's quantity covering the oldest trades first), which journal fills the venue does not know,
the drift at the venues' marks, the tolerance; capital flows in the ledger and the peak/day refs."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.exchanges.history import VenueTrade
from execution.guards.daily_stop import DailyStop
from execution.ledger import Ledger
from execution.models import Fill, Position, PositionSide, Side
from execution.portfolio import Performance
from execution.venue_match import JournalFill, Reading, beyond, drift, missing_trades, unknown_fills

LONG, SHORT = PositionSide.LONG, PositionSide.SHORT


def trade(tid: str, order: str, qty: str, ts: int, cid: str = "", fee: str = "0.3") -> VenueTrade:
    return VenueTrade(
        "binance_um", tid, order, cid, ts, "BTCUSDT", Side.BUY, LONG, D(qty), D(60000), D(fee), "USDT", False
    )


def journal(rid: str, qty: str, order: str = "", cid: str = "", ts: int = 10) -> JournalFill:
    return JournalFill(rid, "binance_um", "BTCUSDT", cid, order, D(qty), ts)


def test_the_journal_covers_an_orders_oldest_trades_first():
    trades = [trade("t1", "o1", "0.004", 1), trade("t2", "o1", "0.006", 2), trade("t3", "o2", "0.002", 3)]
    assert missing_trades(trades, [journal("j1", "0.010", "o1"), journal("j2", "0.002", "o2")]) == []
    [m] = missing_trades(trades, [journal("j1", "0.004", "o1"), journal("j2", "0.002", "o2")])
    assert (m.trade.trade_id, m.qty, m.fee) == ("t2", D("0.006"), D("0.3"))
    [part] = missing_trades(trades, [journal("j1", "0.007", "o1"), journal("j2", "0.002", "o2")])
    assert (part.trade.trade_id, part.qty, part.fee) == ("t2", D("0.003"), D("0.15"))  # half the trade: half its fee
    lost = missing_trades(trades, [])
    assert [(m.trade.trade_id, m.qty) for m in lost] == [("t1", D("0.004")), ("t2", D("0.006")), ("t3", D("0.002"))]


def test_orders_are_matched_by_client_id_when_the_journal_has_no_venue_order_id():
    trades = [trade("t1", "o1", "0.004", 1), trade("t2", "o2", "0.004", 2, cid="hfB")]
    held = [journal("j1", "0.004", cid="hfA"), journal("j2", "0.004", cid="hfB")]
    assert missing_trades(trades, held, {"o1": "hfA"}) == []
    [m] = missing_trades(trades, held[1:], {"o1": "hfA"})
    assert (m.trade.trade_id, m.client_order_id) == ("t1", "hfA")


def test_journal_fills_the_venue_does_not_know():
    trades = [trade("t1", "o1", "0.004", 1)]
    assert unknown_fills(trades, [journal("j1", "0.004", "o1")]) == []
    [(fill, qty)] = unknown_fills(trades, [journal("j1", "0.004", "o1"), journal("j9", "0.001", "o9")])
    assert (fill.record_id, qty) == ("j9", D("0.001"))
    [(fill, qty)] = unknown_fills(trades, [journal("j1", "0.005", "o1")])
    assert (fill.record_id, qty) == ("j1", D("0.001"))


def test_journal_fill_records():
    rec = {"kind": "fill", "id": "x", "venue": "okx_perp", "symbol": "S", "qty": 0.5, "ts": 3, "status": "filled"}
    assert JournalFill.from_record(rec) == JournalFill("x", "okx_perp", "S", "", "", D("0.5"), 3)
    assert JournalFill.from_record({**rec, "status": "simulated"}) is None  # a dry run's fill is not the venue's
    assert JournalFill.from_record({"kind": "funding"}) is None


def test_drift_uses_the_venues_marks_and_leaves_off_venue_cash_aside():
    led = Ledger(D(10_000))
    led.apply_fill(
        Fill(1, "binance_um", "BTCUSDT", Side.BUY, LONG, D("0.1"), D(60_000), D(3), D(0), "c", "i", simulated=False)
    )
    led.mark("binance_um", "BTCUSDT", D(61_000))  # the ledger's mid
    led.apply_capital_flow(D(500), off_venue=True)
    venue_pos = Position("binance_um", "BTCUSDT", LONG, D("0.1"), D(60_000), mark_price=D(60_500))
    same = Reading("binance_um", D(9_997), (venue_pos,), 0)
    assert drift(led, [same]) == 0  # marks differ, money does not
    assert led.nav() == D(9_997) + D(100) + D(500)
    assert drift(led, [Reading("binance_um", D(9_397), (venue_pos,), 0)]) == D(600)  # 600 gone behind our back


def test_tolerance_is_the_wider_of_the_two_bounds():
    assert not beyond(D(40), D(10_000), D(10), D("0.5"))  # 0.5 % of 10,000 = 50
    assert beyond(D(51), D(10_000), D(10), D("0.5"))
    assert beyond(D(-11), D(1_000), D(10), D("0.5")) and not beyond(D(9), D(1_000), D(10), D("0.5"))


def test_capital_flows_in_the_ledger_survive_a_restart():
    led = Ledger(D(10_000))
    led.apply_capital_flow(D("2500.123456789"), off_venue=False)
    led.apply_capital_flow(D(-300), off_venue=True)
    assert (led.wallet, led.off_venue_cash, led.nav(), led.net_contributed, led.flow_count) == (
        D("12500.12345679"),
        D(-300),
        D("12200.12345679"),
        D("12200.12345679"),
        2,
    )
    back = Ledger.restore(led.snapshot())
    assert (back.flows_total, back.off_venue_cash, back.flow_count, back.nav()) == (
        led.flows_total,
        led.off_venue_cash,
        2,
        led.nav(),
    )
    old = {k: v for k, v in led.snapshot().items() if k not in ("flows_total", "off_venue_cash", "flow_count")}
    assert Ledger.restore(old).flows_total == 0  # a snapshot from before capital flows


def test_a_flow_moves_neither_drawdown_nor_the_days_pnl():
    perf = Performance(D(10_000))
    perf.update(1, 10_000.0)
    perf.update(2, 9_000.0)  # 10 % down, -1,000 today
    perf.on_flow(D(9_000), nav_before=D(9_000))
    assert perf.drawdown_pct(D(18_000)) == pytest.approx(10.0)
    assert 18_000.0 - perf.day_start_nav == pytest.approx(-1_000.0)
    delta, pct, _ = perf.change_24h()
    assert delta == pytest.approx(-1_000.0)


def test_a_redemption_is_no_drawdown_for_the_breaker_either():
    """The drawdown breaker measures from its own reference (re-based by an approved resume): a
    flow scales it like the peak, so redeeming half the fund trips nothing."""
    from execution.risk import drawdown_pct

    perf = Performance(D(10_000))
    perf.update(1, 10_000.0)
    perf.update(2, 9_500.0)  # 5 % down
    perf.rebase(3, 9_500.0, requested_by="alice", confirmed_by="bob")  # an approved resume
    perf.on_flow(D(-4_750), nav_before=D(9_500))  # half redeemed
    perf.update(4, 4_750.0)
    assert perf.dd_ref_nav == pytest.approx(4_750.0) and drawdown_pct(4_750.0, perf.dd_ref_nav) == 0.0
    assert perf.drawdown_pct(4_750.0) == pytest.approx(5.0)  # investors' drawdown: unchanged by the redemption


class _GuardCtx:
    """What the daily stop reads and writes: the performance figures, the journal, the alerts."""

    def __init__(self, perf: Performance):
        self.perf = perf
        self.incidents: list[dict] = []

    def journal(self, kind: str, record: dict) -> None:
        self.incidents.append(record)

    def alert(self, *args: object, **fields: object) -> None:
        pass


def _day(stop: DailyStop, perf: Performance, ctx: _GuardCtx, ts: int, nav: float) -> None:
    perf.update(ts, nav)
    stop.on_cycle_end(ts, ctx)  # type: ignore[arg-type]


def test_the_daily_stop_fires_from_the_day_start_a_deposit_moved():
    """KILL_DAILY_LOSS_PCT is measured from the day's start as capital flows moved it: after a
    deposit doubles the fund, a 5.5 % loss of the new start stops new risk."""
    perf, stop = Performance(D(10_000)), DailyStop(5.0, "UTC")
    ctx = _GuardCtx(perf)
    _day(stop, perf, ctx, 1, 10_000.0)
    perf.on_flow(D(10_000), nav_before=D(10_000))  # day start 20,000: the stop is at 19,000 now
    _day(stop, perf, ctx, 2, 19_400.0)  # -3 %
    assert stop.holds_new_risk() == ""
    _day(stop, perf, ctx, 3, 18_900.0)  # -5.5 %
    assert stop.stopped_loss == pytest.approx(5.5)
    assert "daily stop" in stop.holds_new_risk()


def test_a_withdrawal_is_not_a_daily_loss():
    perf, stop = Performance(D(10_000)), DailyStop(5.0, "UTC")
    ctx = _GuardCtx(perf)
    _day(stop, perf, ctx, 1, 10_000.0)
    perf.on_flow(D(-5_000), nav_before=D(10_000))
    _day(stop, perf, ctx, 2, 4_900.0)  # -100 since the (moved) start: 2 %
    assert stop.holds_new_risk() == ""
    assert stop.loss_pct == pytest.approx(2.0)
