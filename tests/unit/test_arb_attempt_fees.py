"""The fees an arbitrage attempt books are the rates in force when its legs were sent, also when
the legs fill inside the send (a dry-run venue, a live market order answered FILLED): the real
loop on paper venues, the pair book's fees and the P&L it reports on close checked against the
venues' own fee schedules."""

from __future__ import annotations

from decimal import Decimal

from execution.models import FeeSchedule
from tests.support.arb_harness import BIN, BIN_SYM, OKX, OKX_SYM, Harness

WIDE = (60000, 60300)  # OKX 50 bps rich: long Binance / short OKX clears every cost


def test_legs_filled_inside_the_send_book_the_taker_fees_of_the_send(tmp_path):
    h = Harness(tmp_path, dry_run=True)  # the dry-run venue answers every order FILLED at once
    try:
        h.warm()
        h.market(*WIDE)
        [pair] = h.loop.open_pairs.values()  # filled and settled inside the send: no later step
        assert not h.loop.attempts
        rate = {BIN: h.paper[BIN].fees(BIN_SYM).taker_rate, OKX: h.paper[OKX].fees(OKX_SYM).taker_rate}
        assert all(r > 0 for r in rate.values())
        for leg in (pair.long, pair.short):
            assert leg.qty > 0 and leg.fees_usdt > 0, f"{leg.venue} leg booked no fee"
            assert leg.fees_usdt == leg.qty * leg.avg_price * rate[leg.venue]
        entry_fees = pair.long.fees_usdt + pair.short.fees_usdt

        h.market(60000, 60000)  # converged: the exit also fills inside its send
        assert not h.loop.open_pairs and h.loop.metrics.closed_pairs == 1
        exit_trades = [r for c, r in h.records if c == "trades" and r["reason"] == "arb_exit"]
        exit_fees = sum(
            (Decimal(str(t["qty"])) * Decimal(str(t["price"])) * rate[t["venue"]] for t in exit_trades), Decimal(0)
        )
        assert pair.long.fees_usdt + pair.short.fees_usdt == entry_fees + exit_fees
        price_pnl = pair.long.cost_closed + pair.short.cost_closed
        assert pair.realised_pnl_usdt() == price_pnl - entry_fees - exit_fees  # what CLOSED reports
    finally:
        h.close()


def test_the_rates_booked_are_those_read_before_the_send(tmp_path, monkeypatch):
    """A fee schedule that changes while the legs are out (a tier change read by the next
    refresh) does not rewrite what the attempt booked."""
    h = Harness(tmp_path, dry_run=True)
    try:
        h.warm()
        before = {v: h.loop.fees(v, s) for v, s in ((BIN, BIN_SYM), (OKX, OKX_SYM))}
        sends = []
        for name, venue in h.loop.order_venues.items():
            place = venue.place_order

            def placed(request, _place=place, _name=name):
                sends.append(_name)
                h.loop.ref.fees_cache[(request.venue, request.symbol)] = FeeSchedule(Decimal("0.01"), Decimal("0.02"))
                return _place(request)

            monkeypatch.setattr(venue, "place_order", placed)
        h.market(*WIDE)
        assert sorted(sends) == [BIN, OKX]
        [pair] = h.loop.open_pairs.values()
        for leg in (pair.long, pair.short):
            assert leg.fees_usdt == leg.qty * leg.avg_price * before[leg.venue].taker_rate
    finally:
        h.close()
