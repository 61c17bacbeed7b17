"""Protective orders on the venue and the stop validator, through the real engine and paper venue:
placed right after the entry fill, fired inside the bar, the sibling cancelled, missing ones
repaired and counted, orphans cancelled, a stop the venue refuses closes the position."""

from __future__ import annotations

import json
from decimal import Decimal as D

from execution.filters import round_price
from execution.models import PositionSide, Side
from execution.protection import Protection
from execution.triggers import TriggerStatus
from tests.support.engine_harness import breakout, harness, warm

LONG = PositionSide.LONG


class Wall:
    def __init__(self) -> None:
        self.ms = 1_000_000

    def __call__(self) -> int:
        return self.ms


def protection(h) -> Protection:
    [p] = [s for s in h.engine.strategies if isinstance(s, Protection)]
    return p


def opened(tmp_path, **kw):
    h = harness(tmp_path, **kw)
    wall = Wall()
    protection(h).wall_ms = wall
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})  # the entry fills at this candle's open; the stops go on right after
    return h, wall


def trades(h) -> list[dict]:
    return [json.loads(x) for x in (h.state_dir / "trade_log.jsonl").read_text().splitlines()]


def test_entry_gets_its_stop_and_take_profit_on_the_venue_right_after_the_fill(tmp_path):
    h, _ = opened(tmp_path)
    qty = h.engine.ledger.position_qty("binance_um", "BTCUSDT", LONG)
    [trade] = h.engine.strategies[-1].trades.values()
    stop, take = sorted(h.venue.open_triggers(), key=lambda t: t.stop_price is None)
    assert qty > 0 and (stop.quantity, take.quantity) == (qty, qty)
    assert {stop.side, take.side} == {Side.SELL} and {stop.position_side, take.position_side} == {LONG}
    f = h.venue.filters("BTCUSDT")
    assert stop.stop_price == round_price(D(repr(trade.levels.stop_loss)), f, Side.SELL) < D(61_200)
    assert take.take_price == round_price(D(repr(trade.levels.take_profit)), f, Side.SELL) > D(61_200)
    h.engine.publish(force=True)
    doc = json.loads((h.state_dir / "state" / "control.json").read_text())
    [status] = [s for s in doc["strategies"] if s["name"] == "protection"]
    assert status["protected_legs"] == 1 and status["stop_validator_missing_total"] == 0


def test_a_stop_reached_inside_a_bar_closes_on_the_venue_and_the_take_profit_is_cancelled(tmp_path):
    h, _ = opened(tmp_path)
    [stop] = [t for t in h.venue.open_triggers() if t.stop_price is not None]
    low = float(stop.stop_price) * 0.999
    h.candle("BTCUSDT", 61_000.0, open_=61_100.0)  # closes well above the stop: only the low reached it
    h.engine.on_event(h_low_bar(h, low))
    closes = [t for t in trades(h) if t["side"] == "SELL"]
    assert [t["reason"] for t in closes] == ["stop_loss"]
    assert closes[0]["client_order_id"] == stop.client_id
    assert not h.engine.ledger.positions and h.venue.open_triggers() == []
    assert h.engine.strategies[-1].trades == {}  # the screener knows its trade is over


def h_low_bar(h, low: float):
    from execution.feeds.events import CandleClosed
    from tests.support.engine_harness import BAR

    h.t += BAR
    return CandleClosed(h.t + BAR, "binance_um", "BTCUSDT", h.t, 61_000.0, 61_100.0, low, 61_050.0, 100.0)


def test_the_executors_own_exit_cancels_both_protective_orders(tmp_path):
    h, _ = opened(tmp_path, strategy={"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1, "max_hold_bars": 2}})
    assert len(h.venue.open_triggers()) == 2
    for _ in range(3):
        h.step({"BTCUSDT": 61_250.0})
    reasons = [t["reason"] for t in trades(h)]
    assert reasons == ["entry", "max_hold"]
    assert h.venue.open_triggers() == [] and not h.engine.ledger.positions


def test_validator_repairs_a_missing_stop_once_counts_it_and_alerts(tmp_path):
    from prometheus_client import generate_latest

    from execution.metrics import Metrics

    metrics = Metrics()
    h, wall = opened(tmp_path, env={"STOP_VALIDATOR_INTERVAL_S": "30"}, metrics=metrics)
    p = protection(h)
    [stop] = [t for t in h.venue.open_triggers() if t.stop_price is not None]
    h.venue.cancel_trigger("BTCUSDT", stop.client_id)  # gone behind the executor's back
    h.step({"BTCUSDT": 61_250.0})
    assert p.missing_total == 0  # not due yet: 30 s of wall time have not passed
    wall.ms += 30_000
    h.step({"BTCUSDT": 61_250.0})
    assert (p.missing_total, p.repaired_total) == (1, 1)
    stops = [t for t in h.venue.open_triggers() if t.stop_price is not None]
    assert len(stops) == 1 and stops[0].client_id != stop.client_id and stops[0].stop_price == stop.stop_price
    assert len(h.venue.open_triggers()) == 2  # the take-profit was replaced with it, never left alone
    wall.ms += 30_000
    h.step({"BTCUSDT": 61_250.0})
    assert (p.missing_total, p.repaired_total) == (1, 1)  # nothing more to repair
    exported = generate_latest(metrics.registry).decode().splitlines()  # the executor's /metrics say so too
    assert "stop_validator_missing_total 1.0" in exported and "stop_validator_repaired_total 1.0" in exported
    alerts = (h.state_dir / "ops_alerts.jsonl").read_text().splitlines()
    assert sum("STOP VALIDATOR" in a for a in alerts) == 1


def test_validator_cancels_our_orders_whose_position_is_gone(tmp_path):
    h, wall = opened(tmp_path)
    p = protection(h)
    qty = h.venue.positions()[0].qty
    h.venue.account.positions.clear()  # the position vanished on the venue (liquidated, closed by hand)
    h.engine.ledger.positions.clear()
    h.engine.strategies[-1].trades.clear()
    wall.ms += 60_000
    h.step({"BTCUSDT": 61_250.0})
    assert qty > 0 and h.venue.open_triggers() == [] and p.orphans_cancelled_total == 2
    assert p.missing_total == 0


def test_a_stop_refused_twice_closes_the_position_and_raises_an_incident(tmp_path):
    h = harness(tmp_path)
    warm(h)
    breakout(h)
    refused = []

    def refuse(req):
        refused.append(req.client_id)
        from execution.exchanges.errors import BadRequest

        raise BadRequest("binance_um", -2021, "Order would immediately trigger.")

    h.venue.place_trigger = refuse
    h.step({"BTCUSDT": 61_200.0})
    assert len(refused) == 2  # the stop, twice; the take-profit is never tried
    h.step({"BTCUSDT": 61_200.0})  # the close fills at the next price
    assert [t["reason"] for t in trades(h)] == ["entry", "stop_unplaceable"]
    assert not h.engine.ledger.positions
    incidents = (h.state_dir / "incidents.jsonl").read_text()
    assert "stop_unplaceable" in incidents and "-2021" in incidents
    assert protection(h).unplaceable_total == 1


def test_restart_validates_before_any_entry_and_keeps_claiming_its_orders(tmp_path):
    from execution.assembly import build_engine
    from execution.state.atomic import read_json
    from execution.state.local import LocalStore

    h, _ = opened(tmp_path)
    h.engine.publish(force=True)
    snap = read_json(h.state_dir / "synced_state.json")
    e2 = build_engine(
        h.engine.settings,
        h.engine.venues,
        LocalStore(tmp_path / "state2", durable=False),
        universe=[("binance_um", "BTCUSDT")],
        simulators=h.engine.simulators,
        snap=snap,
        publish_interval_ms=0,
    )
    p2 = protection_of(e2)  # the paper venue is restored from the snapshot too: lose the stop now
    [stop] = [t for t in h.venue.open_triggers() if t.stop_price is not None]
    h.venue.cancel_trigger("BTCUSDT", stop.client_id)  # lost while the executor was down
    from execution.feeds.events import CandleClosed

    e2.on_event(CandleClosed(h.t + 900_000, "binance_um", "BTCUSDT", h.t, 61_200.0, 61_300, 61_100, 61_250.0, 1.0))
    assert (p2.missing_total, p2.repaired_total) == (1, 1)
    assert len(h.venue.open_triggers()) == 2
    assert p2.claims(h.venue.open_triggers()[0].client_id) in ("stop_loss", "take_profit")
    assert all(t.status is TriggerStatus.OPEN for t in h.venue.open_triggers())


def protection_of(engine) -> Protection:
    [p] = [s for s in engine.strategies if isinstance(s, Protection)]
    return p


def test_a_venue_that_does_not_answer_is_not_a_refusal_the_validator_places_them_later(tmp_path):
    from execution.exchanges.errors import VenueUnavailable

    h = harness(tmp_path)
    wall = Wall()
    protection(h).wall_ms = wall
    warm(h)
    breakout(h)
    real = h.venue.place_trigger

    def down(req):
        raise VenueUnavailable("binance_um", "HTTP 503", "Service Unavailable")

    h.venue.place_trigger = down
    h.step({"BTCUSDT": 61_200.0})  # the entry fills; its protective orders cannot be placed now
    assert h.engine.ledger.positions and protection(h).unplaceable_total == 0
    h.venue.place_trigger = real
    wall.ms += 30_000
    h.step({"BTCUSDT": 61_250.0})
    p = protection(h)
    assert (p.missing_total, p.repaired_total) == (1, 1) and len(h.venue.open_triggers()) == 2
    assert [t["reason"] for t in trades(h)] == ["entry"]  # never closed for it


def test_a_partial_close_replaces_both_orders_with_the_quantity_left(tmp_path):
    from execution.models import Intent

    h, _ = opened(tmp_path)
    qty = h.engine.ledger.position_qty("binance_um", "BTCUSDT", LONG)
    before = {t.client_id for t in h.venue.open_triggers()}
    half = qty / 2
    h.engine.submit(
        Intent(
            "binance_um:BTCUSDT:partial", h.t, "binance_um", "BTCUSDT", Side.SELL, LONG, "trim", half, D(61_200), True
        ),
        purpose="trim",
        owner="screener",
    )
    h.step({"BTCUSDT": 61_250.0})  # the trim fills at this bar's open
    left = h.engine.ledger.position_qty("binance_um", "BTCUSDT", LONG)
    now = h.venue.open_triggers()
    assert left == qty - half and len(now) == 2 and {t.quantity for t in now} == {left}
    assert not before & {t.client_id for t in now}  # new client ids; the old ones are cancelled
    assert all(h.venue.get_trigger("BTCUSDT", c).status is TriggerStatus.CANCELED for c in before)
