"""Venue truth on an exchange profile (testnet) against the two loopback venues, whose income, bills,
trade-history and transfer endpoints speak the venues' formats: funding paid while the executor was
down is booked once; a fill lost with the process is booked once with the venue's commission; a
deposit and a withdrawal are capital flows (NAV moves, P&L does not); a balance changed behind the
executor's back is alerted and holds new risk within one reconcile interval; a DRY_RUN run shows the
simulated ledger and the venues' equity apart."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from binance.client import Client
from okx.Funding import FundingAPI

from execution.models import Intent, PositionSide, Side
from tests.support.recompute import recompute
from tests.support.venue_truth_bench import Bench, venues

BUY, LONG = Side.BUY, PositionSide.LONG


def dec(x) -> D:
    return D(str(x))


def test_books_open_from_the_venues_and_nav_is_their_equity(tmp_path):
    with venues() as (fb, fo):
        fb.wallet_change("2345.5")  # the fund's real balance, whatever INITIAL_CAPITAL_USDT says
        fb.pay_funding("BTCUSDT", "-1.5", ts=fb.now() - 60_000)  # history the opening balance already holds
        fo.transfer("1.5", ts=fo.now() - 120_000)
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        try:
            assert bench.journal("funding_log.jsonl") == bench.journal("capital_flows.jsonl") == []
            nav = bench.nav()
            assert nav["nav_source"] == "venues" and nav["initial_capital"] == 22_345.5
            assert nav["venue_equity"] == nav["ledger_nav"] == nav["nav"] == 22_345.5
            assert nav["nav_drift_usdt"] == 0 and nav["net_contributed_capital"] == 22_345.5
            assert set(nav["venues"]) == {"binance_um", "okx_perp"}
            assert (nav["venues"]["binance_um"]["wallet"], nav["venues"]["okx_perp"]["wallet"]) == (12_344, 10_001.5)
        finally:
            bench.close()


def test_funding_paid_while_down_is_booked_once_after_restart(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        entry = Intent("i-funding-1", bench.clock(), "binance_um", "BTCUSDT", BUY, LONG, "entry", D("0.010"), D(60000))
        assert bench.engine.submit(entry, "entry", "screener", leverage=2)
        assert bench.engine.ledger.position_qty("binance_um", "BTCUSDT", LONG) == D("0.010")
        bench.tick()
        bench.close()

        fb.pay_funding("BTCUSDT", "-0.60")  # settlements while the executor is down
        fb.pay_funding("BTCUSDT", "-0.55")
        fo.pay_funding("BTC-USDT-SWAP", "0.37")

        bench.open()
        funding = bench.journal("funding_log.jsonl")
        assert sorted(f["amount_usdt"] for f in funding) == [-0.6, -0.55, 0.37]
        assert {f["source"] for f in funding} == {"venue"} and len({f["id"] for f in funding}) == 3
        binance = [f for f in funding if f["venue"] == "binance_um"]
        assert all(f["position_side"] == "LONG" and f["symbol"] == "BTCUSDT" for f in binance)
        assert bench.engine.ledger.funding_total == D("-0.78")
        # what remains is the venue's commission beyond the 0.04 % its commissionRate quotes (0.05 % charged)
        assert dec(bench.nav()["nav_drift_usdt"]) == D("0.010") * D("60000.1") * D("0.0001")
        bench.interval()  # the next reading sees the same history: nothing booked twice
        bench.interval()
        assert len(bench.journal("funding_log.jsonl")) == 3
        bench.close()

        bench.open()  # and neither does a second restart
        assert len(bench.journal("funding_log.jsonl")) == 3 and bench.engine.ledger.funding_total == D("-0.78")
        again = recompute(bench.state, float(bench.engine.ledger.initial_wallet))
        assert again["nav"] == pytest.approx(float(bench.engine.ledger.nav()), abs=1e-6)
        bench.close()


def test_a_fill_lost_with_the_process_is_booked_once_with_its_real_fee(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        bench.tick()
        binance = bench.buy("binance_um", "BTCUSDT", "0.020", "hflost0000000000000000000001")
        okx = bench.buy("okx_perp", "BTC-USDT-SWAP", "0.05", "hflost0000000000000000000002")
        bench.engine.venues["okx_perp"].place_order(okx)  # both venues, then the process dies
        bench.place_and_lose(binance)
        assert bench.journal("trade_log.jsonl") == []
        [bt] = fb.engine.trades
        [ot] = fo.engine.trades

        bench.open()
        assert bench.journal("trade_log.jsonl") == []  # the executor's own machinery has the first cycle
        bench.tick(6_000)  # then the venues' trades are compared
        trades = bench.journal("trade_log.jsonl")
        assert sorted(t["id"] for t in trades) == sorted(
            [f"binance_um:trade:{bt.trade_id}", f"okx_perp:trade:{700_000_000_000_000_000 + ot.trade_id}"]
        )
        by_venue = {t["venue"]: t for t in trades}
        b = by_venue["binance_um"]
        # the venue's commission (taker 0.05 %), not the 0.04 % its commissionRate endpoint quotes
        assert dec(b["fee_usdt"]) == D("0.020") * D("60000.1") * D("0.0005")
        assert (b["client_order_id"], b["intent_id"], b["fee_asset"], b["source"]) == (
            binance.client_order_id,
            binance.intent_id,
            "USDT",
            "venue_history",
        )
        assert b["reason"] == "entry"  # the in-flight order claimed it
        o = by_venue["okx_perp"]
        assert dec(o["qty"]) == D("0.05") and o["client_order_id"] == okx.client_order_id  # 5 contracts x 0.01
        assert dec(o["fee_usdt"]) == D("5") * D("0.01") * D("60001.1") * D("0.0005")
        assert binance.client_order_id not in bench.engine.router.in_flight  # settled
        led = bench.engine.ledger
        assert led.position_qty("binance_um", "BTCUSDT", binance.position_side) == D("0.020")
        assert led.position_qty("okx_perp", "BTC-USDT-SWAP", okx.position_side) == D("0.05")
        incidents = [i.get("difference") for i in bench.journal("incidents.jsonl")]
        assert "journal_fill_unknown_to_venue" not in incidents  # (the start-up diff saw the positions first)
        assert bench.nav()["nav_drift_usdt"] == pytest.approx(0, abs=1e-6)
        bench.truth.reconciler.request_trade_check("binance_um")  # a stream gap: compared again
        bench.interval()
        bench.close()
        bench.open()  # and a restart compares again: still one record each
        bench.tick(6_000)
        assert len(bench.journal("trade_log.jsonl")) == 2
        bench.close()


def test_a_journal_fill_the_venue_does_not_know_raises_an_incident(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        bench.tick()
        reconciler = bench.truth.reconciler
        reconciler.overlap_ms = reconciler.lag_ms = 0  # the window compared: from the last reading on
        bench.engine.journal(
            "trades",
            {
                "kind": "fill",
                "id": "binance_um:ghost:1",
                "ts": reconciler.state["binance_um"].cursor_ms,
                "venue": "binance_um",
                "symbol": "BTCUSDT",
                "side": "BUY",
                "position_side": "LONG",
                "qty": D("0.004"),
                "price": D(60000),
                "fee_usdt": D("0.1"),
                "realized_pnl_usdt": D(0),
                "client_order_id": "hfghost",
                "intent_id": "i-ghost",
                "status": "filled",
                "venue_order_id": "999",
            },
        )
        reconciler.request_trade_check("binance_um")
        bench.interval()
        [incident] = [
            i for i in bench.journal("incidents.jsonl") if i.get("difference") == "journal_fill_unknown_to_venue"
        ]
        assert incident["venue"] == "binance_um" and "hfghost" in incident["detail"]
        assert any("does not know" in a["text"] for a in bench.journal("ops_alerts.jsonl"))
        bench.close()


def test_deposit_and_withdrawal_are_capital_flows_not_pnl(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        bench.tick()
        e = bench.engine
        before = bench.nav()
        pnl = (e.ledger.realized_total, e.ledger.fees_total, e.ledger.funding_total)
        dd = e.perf.drawdown_pct(e.nav())

        client = Client(fb.api_key, fb.api_secret, ping=False)  # the venues' own transfer endpoints
        client.MARGIN_API_URL = fb.root + "/sapi"
        assert client.universal_transfer(type="MAIN_UMFUTURE", asset="USDT", amount="5000")["tranId"]
        okx = FundingAPI(fo.api_key, fo.api_secret, fo.passphrase, False, "1", domain=fo.url, debug=False)
        answer = okx.funds_transfer(ccy="USDT", amt="700", from_="18", to="6")
        assert answer["code"] == "0", answer
        bench.interval()

        after = bench.nav()
        flows = bench.journal("capital_flows.jsonl")
        assert sorted((f["venue"], f["amount_usdt"]) for f in flows) == [("binance_um", 5000.0), ("okx_perp", -700.0)]
        assert all(f["source"].startswith(f["venue"]) and f["venue_ts"] for f in flows)
        assert after["nav"] - before["nav"] == pytest.approx(4300, abs=1e-6)
        assert after["net_contributed_capital"] == before["net_contributed_capital"] + 4300
        assert (e.ledger.realized_total, e.ledger.fees_total, e.ledger.funding_total) == pnl
        assert e.perf.drawdown_pct(e.nav()) == pytest.approx(dd) and after["nav_drift_usdt"] == pytest.approx(0)
        assert e.control.mode == "RUN"
        bench.interval()  # read again: booked once
        assert len(bench.journal("capital_flows.jsonl")) == 2
        bench.close()


@pytest.mark.parametrize("hold", [True, False])
def test_a_balance_changed_behind_our_back_alerts_and_holds_within_one_interval(tmp_path, hold):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo, NAV_DRIFT_HOLD=str(hold).lower())
        bench.open()
        bench.tick()
        assert bench.engine.control.mode == "RUN"
        fb.wallet_change("-600")  # no income row says why
        bench.interval()  # the next reading sees it, and confirms it a few seconds later
        assert bench.truth.status() is not None and not bench.truth.status()["confirmed"]
        bench.tick(6_000)
        nav = bench.nav()
        assert nav["nav_drift_usdt"] == pytest.approx(600) and nav["nav_drift_pct"] == pytest.approx(600 / 19_400 * 100)
        assert nav["nav"] == pytest.approx(nav["venue_equity"]) == 19_400  # investors see the venues
        alerts = bench.journal("ops_alerts.jsonl")
        assert any("drift +600.00 USDT" in a["text"] for a in alerts)
        if hold:
            assert bench.engine.control.mode == "HOLD" and bench.engine.control.breakers[0]["name"] == "nav_drift"
        else:
            assert bench.engine.control.mode == "RUN"
        bench.interval()  # the same drift is not raised twice
        assert len([a for a in bench.journal("ops_alerts.jsonl") if "drift" in a["text"]]) == 1
        bench.close()


def test_dry_run_shows_simulated_ledger_and_venue_equity_apart(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo, DRY_RUN_MODE="true", INITIAL_CAPITAL_USDT="5000")
        bench.open()
        bench.tick()
        fb.pay_funding("BTCUSDT", "-3")  # the real account's history is not the simulated books'
        bench.interval()
        nav = bench.nav()
        assert nav["dry_run"] is True and nav["nav_source"] == "ledger (simulated)"
        assert nav["nav"] == nav["ledger_nav"] == 5000  # the simulated money
        assert nav["venue_equity"] == pytest.approx(19_997)  # the real venues, read, shown apart
        assert nav["nav_drift_usdt"] is None and bench.journal("funding_log.jsonl") == []
        assert bench.engine.control.mode == "RUN"
        bench.close()


def test_fills_journaled_after_the_last_snapshot_are_reapplied_not_booked_again(tmp_path):
    with venues() as (fb, fo):
        bench = Bench(tmp_path, fb, fo)
        bench.open()
        bench.tick()
        bench.engine.publish(force=True)  # the last snapshot before the fill
        entry = Intent("i-tail-1", bench.clock(), "binance_um", "BTCUSDT", BUY, LONG, "entry", D("0.010"), D(60000))
        assert bench.engine.submit(entry, "entry", "screener", leverage=2)  # filled, journaled ...
        bench.kill()  # ... and the process dies before the next snapshot
        [journaled] = bench.journal("trade_log.jsonl")

        bench.open()
        assert bench.engine.ledger.position_qty("binance_um", "BTCUSDT", LONG) == D("0.010")
        assert bench.journal("trade_log.jsonl") == [journaled]  # re-applied from the journal, not booked again
        assert abs(dec(bench.nav()["nav_drift_usdt"])) < D("0.1")  # only the commission beyond the quoted rate
        bench.close()
