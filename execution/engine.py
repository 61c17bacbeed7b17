"""The trading loop's core: market events in, orders out, books kept, state published.

    candle -> paper venue sees the next price -> fills booked -> marks -> SL/TP exits
           -> screener -> decision (vetoes) -> sizing -> risk gate -> router -> venue
    funding -> venue exchanges funding -> payments booked
    end of each timestamp ("cycle") -> NAV, peak/drawdown, breakers, NAV history, state docs

No clock is read for trading decisions: time comes from the events. The wall clock is used
only to pace document publication (`publish_interval_ms`) and the periodic account line.
Idempotent on restart: every journal record has an id derived from what it records, and
records already journaled (found on resume) are not written again.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from execution import clock, control, control_log, ids, logs
from execution.control import ControlState
from execution.decision import Decision, candidate_signal, decide
from execution.exchanges.base import Venue
from execution.exchanges.errors import UnknownOutcome, VenueError
from execution.exchanges.paper import PaperVenue
from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, FundingSettled, MarkUpdate, Tick
from execution.filters import derive_filters, round_qty
from execution.ledger import Ledger, position_record
from execution.models import (
    Fill, FundingPayment, Intent, OrderRequest, OrderStatus, OrderType, PositionSide, Side,
)
from execution.portfolio import Performance
from execution.reconcile import Difference, reconcile_venue
from execution.risk import ExposureView, RateWindow, account_trips, breaker_trips, entry_rejections
from execution.rules_sl_tp import Levels, exit_reason, levels
from execution.screener import Reading, SymbolScreener, screener_line
from execution.settings import Settings
from execution.state.store import StateSink

CONTROL_POLL_MS = 200

SymbolKey = tuple[str, str]
RECOVERY_BARS = 2  # good candles needed after bad data before a symbol may open risk again
NAV_POINT_MIN_MS = 60_000
SCREENER_TAIL = 10
SIGNALS_KEPT = 20


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


@dataclass(slots=True)
class OpenTrade:
    venue: str
    symbol: str
    position_side: PositionSide
    intent_id: str
    entry_ts: int
    levels: Levels | None
    bars_held: int = 0
    exit_pending: str = ""  # client order id of the exit in flight

    def to_doc(self) -> dict:
        return {
            "venue": self.venue, "symbol": self.symbol, "position_side": self.position_side.value,
            "intent_id": self.intent_id, "entry_ts": self.entry_ts, "bars_held": self.bars_held,
            "stop_loss": self.levels.stop_loss if self.levels else None,
            "take_profit": self.levels.take_profit if self.levels else None, "exit_pending": self.exit_pending,
        }

    @classmethod
    def from_doc(cls, d: dict) -> "OpenTrade":
        lv = Levels(d["stop_loss"], d["take_profit"]) if d.get("stop_loss") is not None else None
        return cls(d["venue"], d["symbol"], PositionSide(d["position_side"]), d["intent_id"], d["entry_ts"], lv,
                   d.get("bars_held", 0), d.get("exit_pending", ""))


@dataclass(slots=True)
class InFlight:
    request: OrderRequest
    purpose: str
    sent_ts: int
    meta: dict = field(default_factory=dict)
    unknown: bool = False


class Engine:
    def __init__(
        self,
        settings: Settings,
        venues: dict[str, Venue],
        sink: StateSink,
        *,
        universe: Iterable[SymbolKey],
        ledger: Ledger | None = None,
        control_state: ControlState | None = None,
        wall_ms: Callable[[], int] = clock.wall_ms,
        publish_interval_ms: int = 1000,
        run_label: str = "",
    ):
        self.s = settings
        self.venues = venues
        self.sink = sink
        self.log = logs.get()
        self.wall_ms = wall_ms
        self.publish_interval_ms = publish_interval_ms
        self.run_label = run_label
        self.ledger = ledger or Ledger(settings.initial_capital_usdt)
        self.control = control_state or ControlState()
        self.perf = Performance(self.ledger.nav(), settings.risk.day_boundary_tz)
        self.universe: set[SymbolKey] = set(universe)
        self.screeners: dict[SymbolKey, SymbolScreener] = {}
        for venue, symbol in self.universe:
            self.screeners[(venue, symbol)] = SymbolScreener(venue, symbol, settings.symbol_config(symbol, venue).strategy)
        self.trades: dict[SymbolKey, OpenTrade] = {}
        self.in_flight: dict[str, InFlight] = {}
        self.cooldown: dict[SymbolKey, int] = {}
        self.bad_data: dict[SymbolKey, int] = {}
        self.last_data_ts: dict[SymbolKey, int] = {}
        self.screener_tail: list[dict] = []
        self.signals_tail: list[dict] = []
        self.leaderboard: dict[str, dict] = {}
        self.order_rate = RateWindow(settings.risk.max_orders_per_min)
        self.cancel_rate = RateWindow(settings.risk.max_cancels_per_min)
        self.cycle_ts = 0
        self.cycle_attempted = 0
        self.cycle_emitted = 0
        self.last_cycle = {"ts": 0, "attempted": 0, "emitted": 0}
        self.bars = 0
        self.fills = 0
        self.orders_sent = 0
        self.orders_rejected = 0
        self.seq = 0
        self.already_journaled: set[str] = set()
        self.warming_until_ts = 0  # on resume: events up to here only warm indicators
        self._last_nav_point_ts = 0
        self._last_publish_wall = 0
        self._last_account_wall = 0
        self.started_wall_ms = wall_ms()
        self.stale: set[SymbolKey] = set()
        self.commands: control_log.CommandReader | None = None
        self._last_control_poll = 0
        self.notify: Callable[[str], None] = lambda text: None  # ops alerts out (Telegram), never blocking
        self.alert_sender = None  # what `notify` belongs to, closed at shutdown
        self.reconciliation: list[dict] = []
        self.restored_control_offset = 0
        self.arb = None  # execution.arb.loop.ArbitrageLoop when configured (set by the app)
        self.market: dict[SymbolKey, dict] = {}  # latest live book top / mark / funding per symbol

    # ------------------------------------------------------------------------------------------
    # event entry
    def on_event(self, ev: Event) -> None:
        if self.commands is not None:
            now = self.wall_ms()
            if now - self._last_control_poll >= CONTROL_POLL_MS:
                self._last_control_poll = now
                self.poll_control()
        if ev.ts > self.cycle_ts:
            if self.cycle_ts:
                self.end_cycle()
            self.cycle_ts = ev.ts
        if isinstance(ev, CandleClosed):
            self.on_candle(ev)
        elif isinstance(ev, FundingSettled):
            self.on_funding(ev)
        elif isinstance(ev, FeedIssue):
            self.on_issue(ev)
        elif isinstance(ev, BookUpdate):
            self.on_book(ev)
        elif isinstance(ev, MarkUpdate):
            self.on_mark_update(ev)
        elif isinstance(ev, Tick):
            for venue in self.venues.values():  # fills an account stream reported meanwhile
                if venue.is_exchange:
                    self._drain(venue)

    def run(self, events: Iterable[Event], should_stop: Callable[[], bool] = lambda: False) -> None:
        for ev in events:
            self.on_event(ev)
            if should_stop():
                break
        if self.cycle_ts:
            self.end_cycle()

    # ------------------------------------------------------------------------------------------
    def on_candle(self, c: CandleClosed) -> None:
        key = (c.venue, c.symbol)
        venue = self.venues.get(c.venue)
        warming = c.ts <= self.warming_until_ts
        close = _dec(c.close)
        filled = False
        if isinstance(venue, PaperVenue):
            if not venue.has_filters(c.symbol):
                self._add_derived_filters(venue, c)
            if not warming and venue.has_working_orders:
                venue.on_price(c.symbol, c.open_time, _dec(c.open))
                filled = True
            venue.on_mark(c.symbol, c.ts, close)
        elif venue is not None:
            filled = True  # a live venue reports fills whenever it has them
        self.last_data_ts[key] = c.ts
        if not warming:
            self.bars += 1
            if filled:
                self._drain(venue)
        self.ledger.mark(c.venue, c.symbol, close)
        if self.arb is not None:
            self.arb.on_candle(c, trade=not warming)
        screener = self.screeners.get(key)
        if screener is None:
            return  # a series we mark to market but do not screen (e.g. OKX for arbitrage)
        bad_left = self.bad_data.get(key, 0)
        if bad_left:
            self.bad_data[key] = bad_left - 1
            if bad_left == 1:
                self.log.info("[feed] %s %s recovered: %d good candle(s) since bad data", c.venue, c.symbol,
                              RECOVERY_BARS)
        reading = screener.update(c)
        if warming:
            return
        trade = self.trades.get(key)
        if trade is not None:
            trade.bars_held += 1
            self._check_exit(trade, c)
        if self.cooldown.get(key):
            self.cooldown[key] -= 1
        if reading is not None:
            self._on_reading(reading, screener, trade)

    def _on_reading(self, r: Reading, screener: SymbolScreener, trade: OpenTrade | None) -> None:
        key = (r.venue, r.symbol)
        in_trade = trade is not None or (bool(self.in_flight) and any(
            f.request.symbol == r.symbol and f.request.venue == r.venue for f in self.in_flight.values()))
        side = trade.position_side.value if trade else "-"
        self.cycle_attempted += 1
        self.log.info(screener_line(r, in_trade, side))
        tail = self.screener_tail
        tail.append((r, in_trade, side))
        if len(tail) > 4 * SCREENER_TAIL:
            del tail[:-SCREENER_TAIL]
        params = screener.params
        if candidate_signal(r, params) is None:
            return
        d = decide(
            r, params, in_trade=in_trade, open_positions=len(self.ledger.positions),
            max_positions=self.s.risk.max_positions, cooldown_left=self.cooldown.get(key, 0),
            symbol_ok=not self.bad_data.get(key, 0) and key not in self.stale,
            hold_reason=self.control.reason if self.control.holding else None,
        )
        venue = self.venues[r.venue]
        price = _dec(r.close)
        cfg = self.s.symbol_config(r.symbol, r.venue)
        notional_target = params.capital_per_trade * params.leverage
        filters = venue.filters(r.symbol)
        qty = round_qty(notional_target / price, filters, OrderType.MARKET)
        notional = qty * price
        if qty <= 0:
            d.veto.append(f"size_rounds_to_zero(step {filters.step_size})")
        if cfg.min_notional is not None and qty > 0 and notional < cfg.min_notional:
            d.veto.append(f"below_config_min_notional({notional:.2f}<{cfg.min_notional})")
        if not d.veto:
            view = ExposureView(
                nav=self.ledger.nav(), gross_notional=self.ledger.gross_notional(),
                symbol_notional=sum((p.notional for p in self.ledger.positions.values() if p.symbol == r.symbol),
                                    Decimal(0)),
                open_positions=len(self.ledger.positions),
            )
            d.veto.extend(f"risk:{x}" for x in entry_rejections(self.s.risk, view, notional))
        self.log.info("[decision] %s", json.dumps(self._decision_doc(d, r, qty, notional), separators=(",", ":")))
        if not d.go:
            return
        pside = d.position_side
        lv = levels(pside, r.close, r.atr, params.sl_atr, params.tp_atr)
        intent = Intent(
            intent_id=ids.intent_id(r.venue, r.symbol, r.ts, "entry"), ts=r.ts, venue=r.venue, symbol=r.symbol,
            side=d.candidate, position_side=pside, reason="entry", quantity=qty, ref_price=price,
            meta={"stop_loss": lv.stop_loss, "take_profit": lv.take_profit, "z": r.z, "rsi": r.rsi, "atr": r.atr},
        )
        signal = {
            "id": intent.intent_id, "ts": r.ts, "venue": r.venue, "symbol": r.symbol, "signal": d.candidate.value,
            "position_side": pside.value, "intent_id": intent.intent_id, "price": r.close, "qty": str(qty),
            "notional_usdt": round(float(notional), 2), "z": round(r.z, 4), "rsi": round(r.rsi, 2),
            "atr": r.atr, "stop_loss": lv.stop_loss, "take_profit": lv.take_profit, "leverage": params.leverage,
        }
        self.log.info("[screener->executor] %s", json.dumps(signal, separators=(",", ":")))
        self.cycle_emitted += 1
        self._journal("signals", signal)
        self.signals_tail.append(signal)
        del self.signals_tail[:-SIGNALS_KEPT]
        self.submit(intent, purpose="entry", leverage=params.leverage)

    def _decision_doc(self, d: Decision, r: Reading, qty: Decimal, notional: Decimal) -> dict:
        return {
            "ts": d.ts, "venue": d.venue, "symbol": d.symbol, "candidate": d.candidate.value if d.candidate else None,
            "z": round(r.z, 4), "rsi": round(r.rsi, 2), "cross_up": r.cross_up, "cross_down": r.cross_down,
            "qty": str(qty), "notional_usdt": round(float(notional), 2), "veto": d.veto,
            "action": "send" if d.go else "skip",
        }

    def _check_exit(self, trade: OpenTrade, c: CandleClosed) -> None:
        if trade.exit_pending:
            return
        params = self.s.symbol_config(c.symbol, c.venue).strategy
        reason = None
        if trade.levels is not None:
            reason = exit_reason(trade.position_side, trade.levels, c.close, trade.bars_held, params.max_hold_bars)
        if reason is None:
            return
        self.close_position(c.venue, c.symbol, trade.position_side, reason, c.ts)

    def _own_qty(self, venue: str, symbol: str, pside: PositionSide) -> Decimal:
        """What this loop's own strategy holds: the hedge-mode position minus the arbitrage legs."""
        qty = self.ledger.position_qty(venue, symbol, pside)
        if self.arb is not None:
            qty = max(qty - self.arb.owned_qty(venue, symbol, pside), Decimal(0))
        return qty

    def close_position(self, venue: str, symbol: str, pside: PositionSide, reason: str, ts: int,
                       note: str = "") -> None:
        """Close what the screener holds on one side (arbitrage legs are the arbitrage loop's)."""
        qty = self._own_qty(venue, symbol, pside)
        if qty <= 0:
            return
        mark = self.ledger.marks.get((venue, symbol), Decimal(0))
        intent = Intent(
            intent_id=ids.intent_id(venue, symbol, ts, f"{reason}-{pside.value}"), ts=ts, venue=venue, symbol=symbol,
            side=pside.closing_side, position_side=pside, reason=reason, quantity=qty, ref_price=mark,
            reduce_only=True,
        )
        cid = self.submit(intent, purpose=reason)
        trade = self.trades.get((venue, symbol))
        if cid and trade is not None and trade.position_side is pside:
            trade.exit_pending = cid

    # ------------------------------------------------------------------------------------------
    # the router
    def submit(self, intent: Intent, purpose: str, leverage: int | None = None) -> str | None:
        """Send one order for an intent; returns its client order id, or None if nothing was sent."""
        venue = self.venues[intent.venue]
        self.log.info("[executor] INTENT %s", json.dumps({
            "intent_id": intent.intent_id, "venue": intent.venue, "symbol": intent.symbol, "side": intent.side.value,
            "position_side": intent.position_side.value, "reason": intent.reason, "qty": str(intent.quantity),
            "ref_price": str(intent.ref_price), "reduce_only": intent.reduce_only}, separators=(",", ":")))
        if not intent.reduce_only and self.control.holding:
            self.log.info("[risk] refused %s: HOLD (%s)", intent.intent_id, self.control.reason)
            return None
        if not self.order_rate.allow(intent.ts):
            detail = f"order {intent.intent_id} would exceed MAX_ORDERS_PER_MIN {self.s.risk.max_orders_per_min}"
            self.log.warning("[risk] refused %s", detail)
            self.trip("order_rate", detail, intent.ts)
            return None
        cid = ids.client_order_id(intent.intent_id)
        req = OrderRequest(
            venue=intent.venue, symbol=intent.symbol, side=intent.side, position_side=intent.position_side,
            order_type=OrderType.MARKET, quantity=intent.quantity, client_order_id=cid, intent_id=intent.intent_id,
            reduce_only=intent.reduce_only,
        )
        self.log.info("[executor] SEND_ORDER %s %s %s positionSide=%s qty=%s type=%s reduceOnly=%s cid=%s",
                      req.venue, req.symbol, req.side.value, req.position_side.value, req.quantity,
                      req.order_type.value, req.reduce_only, cid)
        self.log.info("[executor] ORDER_REQ %s", json.dumps({
            "venue": req.venue, "symbol": req.symbol, "side": req.side.value, "positionSide": req.position_side.value,
            "type": req.order_type.value, "quantity": str(req.quantity), "newClientOrderId": cid,
            "intent_id": req.intent_id}, separators=(",", ":")))
        self.orders_sent += 1
        try:
            order = venue.place_order(req)
        except UnknownOutcome as exc:
            self.log.error("[executor] ORDER_ERR code=%s %s %s cid=%s outcome unknown: %s", exc.code, req.venue,
                           req.symbol, cid, exc.message)
            self.in_flight[cid] = InFlight(req, purpose, intent.ts, dict(intent.meta), unknown=True)
            return cid
        except VenueError as exc:
            self.orders_rejected += 1
            self.log.error("[executor] ORDER_ERR code=%s %s %s %s positionSide=%s qty=%s cid=%s: %s", exc.code,
                           req.venue, req.symbol, req.side.value, req.position_side.value, req.quantity, cid,
                           exc.message)
            return None
        self.log.info("[executor] ORDER_ACK %s %s cid=%s status=%s orderId=%s", req.venue, req.symbol, cid,
                      order.status.value, order.venue_order_id)
        if order.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.CANCELED):
            self.orders_rejected += 1
            self.log.error("[executor] ORDER_ERR code=%s %s %s cid=%s status=%s: %s", order.reject_code or "-",
                           req.venue, req.symbol, cid, order.status.value, order.reject_reason)
            return None
        meta = dict(intent.meta)
        if leverage:
            meta["leverage"] = leverage
        self.in_flight[cid] = InFlight(req, purpose, intent.ts, meta)
        self._drain(venue)  # a live venue may have filled already
        return cid

    # ------------------------------------------------------------------------------------------
    def _drain(self, venue: Venue | None) -> None:
        if venue is None:
            return
        for fill in venue.drain_fills():
            self._on_fill(fill)
        for payment in venue.drain_funding():
            self._on_funding_payment(payment)

    def _on_fill(self, fill: Fill) -> None:
        flight = self.in_flight.get(fill.client_order_id)
        leverage = int(flight.meta.get("leverage", 1)) if flight else 1
        arb_purpose = self.arb.purpose(fill.client_order_id) if self.arb is not None and flight is None else None
        if arb_purpose:
            leverage = self.arb.leverage_for(fill.venue, fill.symbol)
        booked = self.ledger.apply_fill(fill, leverage=leverage)
        self.fills += 1
        record = booked.record()
        record["reason"] = flight.purpose if flight else (arb_purpose or "unknown")
        self._journal("trades", record)
        self.log.info("[executor] FILL %s %s %s positionSide=%s qty=%s price=%s fee=%s realized=%s cid=%s",
                      fill.venue, fill.symbol, fill.side.value, fill.position_side.value, fill.qty, fill.price,
                      booked.fee_usdt, booked.realized_pnl_usdt, fill.client_order_id)
        if arb_purpose:
            self.log.info("[arb] FILL %s %s %s positionSide=%s qty=%s price=%s cid=%s (%s)", fill.venue, fill.symbol,
                          fill.side.value, fill.position_side.value, fill.qty, fill.price, fill.client_order_id,
                          arb_purpose)
            return  # the arbitrage book keeps its own pairs; nothing below is about them
        key = (fill.venue, fill.symbol)
        if flight is not None:
            order = self.venues[fill.venue].get_order(fill.symbol, fill.client_order_id)
            if order is None or order.status.is_final:
                del self.in_flight[fill.client_order_id]
        held = self._own_qty(fill.venue, fill.symbol, fill.position_side)
        if fill.side is fill.position_side.opening_side:
            if key not in self.trades and flight is not None and flight.meta.get("stop_loss") is not None:
                lv = Levels(flight.meta["stop_loss"], flight.meta["take_profit"])
                self.trades[key] = OpenTrade(fill.venue, fill.symbol, fill.position_side, fill.intent_id, fill.ts, lv)
        elif held == 0:
            trade = self.trades.get(key)
            if trade is not None and trade.position_side is fill.position_side:
                del self.trades[key]
                params = self.s.symbol_config(fill.symbol, fill.venue).strategy
                self.cooldown[key] = params.cooldown_bars
            self._score(fill.symbol, booked.realized_pnl_usdt - booked.fee_usdt)

    def _score(self, symbol: str, pnl: Decimal) -> None:
        row = self.leaderboard.setdefault(symbol, {"symbol": symbol, "closed_trades": 0, "wins": 0, "pnl_usdt": 0.0})
        row["closed_trades"] += 1
        row["wins"] += 1 if pnl > 0 else 0
        row["pnl_usdt"] = round(row["pnl_usdt"] + float(pnl), 8)

    def on_funding(self, f: FundingSettled) -> None:
        venue = self.venues.get(f.venue)
        if self.arb is not None:
            self.arb.on_funding(f)
        if f.ts <= self.warming_until_ts:
            return
        if isinstance(venue, PaperVenue):
            venue.on_funding(f.symbol, f.ts, _dec(f.rate))
            self._drain(venue)

    def _on_funding_payment(self, p: FundingPayment) -> None:
        self.ledger.apply_funding_payment(p)
        self._journal("funding", p.record())
        self.log.info("[executor] FUNDING %s %s positionSide=%s rate=%s amount_usdt=%s", p.venue, p.symbol,
                      p.position_side.value, p.rate, p.amount_usdt)

    def on_issue(self, i: FeedIssue) -> None:
        key = (i.venue, i.symbol)
        if i.kind == "stale":
            self.log.warning("[feed] %s %s stale: %s (no new risk on it; exits still allowed)", i.venue, i.symbol,
                             i.detail)
            self.stale.add(key)
            screened = {k for k in self.screeners}
            if screened and screened <= self.stale:
                self.trip("stale_data", "market data stale on every screened symbol", i.ts)
            return
        if i.kind == "recovered":
            self.log.info("[feed] %s %s recovered: %s", i.venue, i.symbol, i.detail)
            self.stale.discard(key)
            return
        if i.kind == "clock_skew":
            self.trip("clock_skew", f"{i.venue}: {i.detail}", i.ts)
            return
        if i.kind == "unit":
            self.log.warning("[feed] %s %s %s: %s", i.venue, i.symbol, i.kind, i.detail)
            return
        self.log.warning("[feed] %s %s %s: %s%s", i.venue, i.symbol, i.kind, i.detail,
                         " (indicators re-warm)" if i.reset else "")
        if key in self.screeners and i.kind != "duplicate":
            self.bad_data[key] = RECOVERY_BARS
            if i.reset:
                self.screeners[key].reset()

    def on_book(self, b: BookUpdate) -> None:
        venue = self.venues.get(b.venue)
        key = (b.venue, b.symbol)
        self.last_data_ts[key] = b.ts
        mid = _dec((b.bid + b.ask) / 2)
        if isinstance(venue, PaperVenue):
            if venue.has_working_orders:
                venue.on_book(b.symbol, b.ts, _dec(b.bid), _dec(b.ask))
            venue.on_mark(b.symbol, b.ts, mid)
        self._drain(venue)
        self.ledger.mark(b.venue, b.symbol, mid)
        row = self.market.setdefault(key, {"venue": b.venue, "symbol": b.symbol})
        row.update(bid=b.bid, ask=b.ask, book_ts=b.ts, recv_ts=b.recv_ts or b.ts)
        if self.arb is not None:
            self.arb.on_book(b, trade=b.ts > self.warming_until_ts)

    def on_mark_update(self, m: MarkUpdate) -> None:
        """Live mark price / funding information: shown in state, and the paper venue's funding info."""
        row = self.market.setdefault((m.venue, m.symbol), {"venue": m.venue, "symbol": m.symbol})
        if m.mark is not None:
            row["mark"] = m.mark
        if m.funding_rate is not None:
            row["funding_rate"] = m.funding_rate
        if m.next_funding_ms:
            row["next_funding_time_ms"] = m.next_funding_ms
        row["mark_ts"] = m.ts

    def _add_derived_filters(self, venue: PaperVenue, c: CandleClosed) -> None:
        f = derive_filters(c.venue, c.symbol, c.close)
        venue.add_filters(f)
        self.log.warning("[feed] %s %s no configured filters; derived tick=%s step=%s min_notional=%s", c.venue,
                         c.symbol, f.tick_size, f.step_size, f.min_notional)

    # ------------------------------------------------------------------------------------------
    def trip(self, breaker: str, detail: str, ts: int) -> None:
        if control.trip(self.control, breaker, detail, ts):
            self.log.warning("[risk] BREAKER %s tripped: %s -> HOLD", breaker, detail)
            self.alert(f"breaker:{breaker}:{ts}", ts, "breaker", f"BREAKER {breaker}: {detail} -> HOLD", name=breaker)

    def alert(self, alert_id: str, ts: int, kind: str, text: str, **fields) -> None:
        """Ops alert: journaled (local, then Firestore) and handed to the notifier (Telegram)."""
        record = {"id": alert_id, "ts": ts, "kind": kind, "text": text, **fields}
        if alert_id in self.already_journaled:
            return
        self._journal("alerts", record)
        try:
            self.notify(f"[{self.s.hedge_env}] {text}")
        except Exception as exc:  # noqa: BLE001 - an alert channel must never stop trading
            self.log.warning("[control] alert not sent: %s", exc.__class__.__name__)

    # ------------------------------------------------------------------------------------------
    # operator commands (control log) and flattening
    def poll_control(self) -> None:
        assert self.commands is not None
        for rec, raw in self.commands.poll():
            if rec is None:
                self.log.warning("[control] unreadable command line ignored: %.200s", raw)
                continue
            try:
                cmd = control_log.parse(rec)
            except control_log.BadCommand as exc:
                self._ack(rec.get("id", "?"), str(rec.get("cmd", "?")), str(rec.get("operator", "")), False, str(exc))
                continue
            self.apply_command(cmd)

    def apply_command(self, cmd: control_log.Command) -> None:
        st, now = self.control, cmd.ts
        if cmd.cmd == "hold":
            answer = control.hold(st, cmd.args["reason"], cmd.operator, now)
        elif cmd.cmd == "resume-request":
            answer = control.request_resume(st, cmd.operator, cmd.args["reason"], now)
        elif cmd.cmd == "resume-confirm":
            token = self.s.secret("APPROVE_TOKEN")
            expected = control_log.approval_proof(token, cmd.id) if token else ""
            answer = control.confirm_resume(st, cmd.operator, cmd.args["proof"], expected, now)
        elif cmd.cmd == "resume":
            answer = control.resume(st, cmd.operator, now)
        elif cmd.cmd == "kill":
            answer = control.kill(st, cmd.args["reason"], cmd.operator, now)
            self.flatten_all(f"kill by {cmd.operator}")
        elif cmd.cmd == "flatten":
            answer = control.Answer(True, f"flatten by {cmd.operator}: closing {len(self.ledger.positions)} position(s)")
            self.flatten_all(f"flatten by {cmd.operator}")
        else:
            answer, result = self._arb_command(cmd)
            self._ack(cmd.id, cmd.cmd, cmd.operator, answer.ok, answer.message, result)
            return
        self._ack(cmd.id, cmd.cmd, cmd.operator, answer.ok, answer.message)

    def _arb_command(self, cmd: control_log.Command) -> tuple[control.Answer, dict | None]:
        """edge / preview / execute / flatten of the arbitrage engine, through its own gates."""
        if self.arb is None:
            return control.Answer(False, "the arbitrage engine is not running (config/arbitrage.json)"), None
        from execution.arb import ops

        try:
            if cmd.cmd == "arb-edge":
                return control.Answer(True, "current edges"), ops.edge(self.arb)
            if cmd.cmd == "arb-preview":
                return control.Answer(True, f"preview {cmd.args['pair']}"), ops.preview(
                    self.arb, cmd.args["pair"], cmd.args.get("size"))
            if cmd.cmd == "arb-execute":
                if self.control.holding:
                    return control.Answer(False, f"HOLD ({self.control.reason}): no new risk"), None
                result = ops.execute(self.arb, cmd.args["pair"], cmd.args.get("size"))
                if not result.get("accepted"):
                    return control.Answer(False, "refused: " + "; ".join(map(str, result.get("reasons", [])))), result
                return control.Answer(True, f"execute {cmd.args['pair']} started: {result.get('attempt_id')}"), result
            result = ops.flatten(self.arb)
            return control.Answer(True, f"closing {len(result['open_pairs_before'])} arbitrage pair(s)"), result
        except ops.OpsError as exc:
            return control.Answer(False, str(exc)), None

    def _ack(self, command_id: str, name: str, operator: str, ok: bool, message: str,
             result: dict | None = None) -> None:
        now = self.wall_ms()
        self.log.info("[control] %s %s by %s: %s", name, "OK" if ok else "REFUSED", operator or "?", message)
        self.publish(now, force=True)  # state first: a CLI that sees the ack then reads the new mode
        ack = {"id": f"ack:{command_id}", "command_id": command_id, "cmd": name, "operator": operator, "ok": ok,
               "message": message, "ts": now, "market_ts": self.cycle_ts, "mode": self.control.mode}
        if result is not None:
            ack["result"] = json.loads(json.dumps(result, default=str))
        self._journal("acks", ack)
        self.alert(f"op:{command_id}", now, "operator", f"{name} by {operator or '?'}: "
                   f"{'done' if ok else 'REFUSED'} - {message}", command=name, ok=ok)

    def flatten_all(self, reason: str) -> None:
        """Close every position with the right position side; cancel resting entries."""
        for cid, flight in list(self.in_flight.items()):
            if not flight.request.reduce_only:
                venue = self.venues[flight.request.venue]
                if not self.cancel_rate.allow(self.cycle_ts):
                    self.trip("cancel_rate", f"cancel of {cid} would exceed MAX_CANCELS_PER_MIN", self.cycle_ts)
                    break
                try:
                    venue.cancel_order(flight.request.symbol, cid)
                    del self.in_flight[cid]
                except VenueError as exc:
                    self.log.error("[executor] ORDER_ERR code=%s cancel %s: %s", exc.code, cid, exc.message)
        if self.arb is not None:
            self.arb.flatten(self.cycle_ts, reason=reason)
        for (venue, symbol, pside) in list(self.ledger.positions):
            trade = self.trades.get((venue, symbol))
            if trade is not None and trade.exit_pending:
                continue
            self.close_position(venue, symbol, pside, "flatten", self.cycle_ts, note=reason)
        self.control.flatten_pending = bool(self.ledger.positions) or any(
            f.request.reduce_only for f in self.in_flight.values())

    def reconcile(self, ts: int) -> list[Difference]:
        """Compare books with every venue; journal and show differences; change nothing."""
        diffs: list[Difference] = []
        ours_open = {cid for cid, f in self.in_flight.items()}
        for name, venue in self.venues.items():
            for cid, flight in list(self.in_flight.items()):
                if flight.unknown and flight.request.venue == name:
                    self._resolve_unknown(venue, cid, flight)
            diffs.extend(reconcile_venue(venue, self.ledger.positions,
                                         {c for c in ours_open if self.in_flight.get(c) and
                                          self.in_flight[c].request.venue == name}))
        self.reconciliation = [d.record(ts) for d in diffs]
        for d, rec in zip(diffs, self.reconciliation):
            self.log.warning("[state] RECONCILE %s %s %s: %s", d.kind, d.venue, d.symbol or "-", d.detail)
            self._journal("incidents", rec)
        self.log.info("[state] reconciliation done: %d difference(s) across %d venue(s)", len(diffs),
                      len(self.venues))
        return diffs

    def _resolve_unknown(self, venue: Venue, cid: str, flight: InFlight) -> None:
        try:
            order = venue.get_order(flight.request.symbol, cid)
        except VenueError as exc:
            self.log.error("[executor] ORDER_ERR code=%s query %s: %s", exc.code, cid, exc.message)
            return
        if order is None:
            self.log.warning("[state] RECONCILE %s never reached %s: safe to decide again", cid, venue.name)
            del self.in_flight[cid]
        else:
            flight.unknown = False
            self.log.info("[state] RECONCILE %s found on %s: status=%s filled=%s", cid, venue.name,
                          order.status.value, order.filled_qty)
            if order.status.is_final and order.filled_qty == 0:
                del self.in_flight[cid]

    def end_cycle(self) -> None:
        ts = self.cycle_ts
        if ts <= self.warming_until_ts:
            return
        if self.arb is not None:
            self.arb.on_cycle_end(ts)
        nav = self.ledger.nav()
        self.perf.update(ts, nav)
        dd = self.perf.drawdown_pct(nav)
        led = self.ledger
        for name, detail in breaker_trips(self.s.risk, nav=nav, peak_nav=self.perf.peak_nav,
                                          day_start_nav=self.perf.day_start_nav) + (
                account_trips(self.s.risk, nav=nav, positions=led.positions.values()) if led.positions else []):
            self.trip(name, detail, ts)
        if self.control.flatten_pending and not led.positions and not self.in_flight:
            self.control.flatten_pending = False
            self.log.info("[control] flatten complete: no open positions")
        if ts - self._last_nav_point_ts >= NAV_POINT_MIN_MS:
            self.sink.nav_point(ts, float(nav), dd)
            self._last_nav_point_ts = ts
        if self.cycle_attempted:
            self.log.info("[screener] attempted=%d emitted=%d", self.cycle_attempted, self.cycle_emitted)
            self.last_cycle = {"ts": ts, "attempted": self.cycle_attempted, "emitted": self.cycle_emitted}
        self.cycle_attempted = self.cycle_emitted = 0
        now = self.wall_ms()
        if now - self._last_publish_wall >= self.publish_interval_ms:
            self.publish(now)
        if now - self._last_account_wall >= self.s.account_log_interval_s * 1000:
            self.account_line()
            self._last_account_wall = now

    # ------------------------------------------------------------------------------------------
    # state out
    def _journal(self, collection: str, record: dict) -> None:
        if record.get("id") in self.already_journaled:
            return
        self.seq += 1
        record["seq"] = self.seq
        self.sink.append(collection, record)

    def account_line(self) -> None:
        bal = self.ledger.wallet
        testnet = self.s.profile == "testnet"
        self.log.info("[executor] account OK — futures=True testnet=%s dry_run=%s balances: [USDT wallet=%.2f "
                      "upnl=%.2f nav=%.2f] positions: %d", testnet, self.s.dry_run or self.s.profile == "paper",
                      bal, self.ledger.unrealized(), self.ledger.nav(), len(self.ledger.positions))

    def nav_doc(self, now: int) -> dict:
        led, perf = self.ledger, self.perf
        nav = led.nav()
        d_abs, d_pct, ref = perf.change_24h()
        return {
            "env": self.s.hedge_env, "profile": self.s.profile, "safe_mode": self.s.safe_mode, "dry_run": self.s.dry_run,
            "mode": self.control.mode, "nav": nav, "wallet_balance": led.wallet, "unrealized_pnl": led.unrealized(),
            "initial_capital": led.initial_wallet, "realized_pnl_total": led.realized_total,
            "fees_total": led.fees_total, "funding_total": led.funding_total, "peak_nav": perf.peak_nav,
            "drawdown_pct": round(perf.drawdown_pct(nav), 6), "max_drawdown_pct": round(perf.max_dd_pct, 6),
            "day": perf.day, "day_start_nav": perf.day_start_nav,
            "daily_pnl_pct": round(float((nav - perf.day_start_nav) / perf.day_start_nav * 100), 6)
            if perf.day_start_nav else 0.0,
            "nav_24h_ago": ref, "change_24h_abs": d_abs, "change_24h_pct": round(d_pct, 6),
            "reserve_btc": self.s.reserve_btc, "reserve_included_in_nav": False,
            "open_positions": len(led.positions), "bars": self.bars, "fills": self.fills,
            "orders_sent": self.orders_sent, "orders_rejected": self.orders_rejected,
            "market_ts": self.cycle_ts, "updated_at_ms": now, "started_at_ms": self.started_wall_ms,
            "run": self.run_label,
        }

    def positions_doc(self, now: int) -> dict:
        led = self.ledger
        per_venue = {}
        for v in sorted({p.venue for p in led.positions.values()}):
            per_venue[v] = {"gross_notional": led.gross_notional(v), "net_notional": led.net_notional(v)}
        rows = []
        for p in sorted(led.positions.values(), key=lambda p: (p.symbol, p.position_side.value, p.venue)):
            row = position_record(p)
            trade = self.trades.get((p.venue, p.symbol))
            if trade is not None and trade.position_side is p.position_side:
                row.update(stop_loss=trade.levels.stop_loss if trade.levels else None,
                           take_profit=trade.levels.take_profit if trade.levels else None,
                           bars_held=trade.bars_held, intent_id=trade.intent_id)
            rows.append(row)
        return {"positions": rows, "gross_notional": led.gross_notional(), "net_notional": led.net_notional(),
                "per_venue": per_venue, "market": [dict(v, age_ms=now - v.get("recv_ts", v.get("mark_ts", now)))
                                                   for _, v in sorted(self.market.items())],
                "market_ts": self.cycle_ts, "updated_at_ms": now}

    def control_doc(self, now: int) -> dict:
        doc = self.control.to_doc()
        doc.update(safe_mode=self.s.safe_mode, dry_run=self.s.dry_run, profile=self.s.profile,
                   limits={"KILL_DD_PCT": self.s.risk.kill_dd_pct, "KILL_DAILY_LOSS_PCT": self.s.risk.kill_daily_loss_pct,
                           "MAX_POSITIONS": self.s.risk.max_positions, "MAX_LEVERAGE": self.s.risk.max_leverage,
                           "MAX_ORDERS_PER_MIN": self.s.risk.max_orders_per_min,
                           "MAX_CANCELS_PER_MIN": self.s.risk.max_cancels_per_min},
                   counters={"orders_last_min": self.order_rate.count(self.cycle_ts),
                             "cancels_last_min": self.cancel_rate.count(self.cycle_ts),
                             "orders_sent": self.orders_sent, "orders_rejected": self.orders_rejected},
                   stale_symbols=sorted(f"{v}:{s}" for v, s in self.stale),
                   reconciliation=self.reconciliation[-50:],
                   market_ts=self.cycle_ts, updated_at_ms=now)
        return doc

    def publish(self, now: int | None = None, force: bool = False) -> None:
        now = self.wall_ms() if now is None else now
        self._last_publish_wall = now
        sink = self.sink
        nav_doc = self.nav_doc(now)
        sink.put("nav", nav_doc)
        sink.put("positions", self.positions_doc(now))
        sink.put("control", self.control_doc(now))
        sink.put("screener", {"tail": [_reading_doc(*x) for x in self.screener_tail[-SCREENER_TAIL:]],
                              "last_cycle": self.last_cycle, "updated_at_ms": now})
        sink.put("signals", {"latest": self.signals_tail[-SIGNALS_KEPT:], "updated_at_ms": now})
        sink.put("leaderboard", {"symbols": sorted(self.leaderboard.values(), key=lambda r: -r["pnl_usdt"]),
                                 "updated_at_ms": now})
        if self.arb is not None:
            self.arb.publish(sink, now)
        sink.put_file("peak_state", {
            "peak_nav": self.perf.peak_nav, "peak_ts": self.perf.peak_ts, "nav": nav_doc["nav"],
            "drawdown_pct": nav_doc["drawdown_pct"], "max_drawdown_pct": nav_doc["max_drawdown_pct"],
            "day": self.perf.day, "day_start_nav": self.perf.day_start_nav, "market_ts": self.cycle_ts,
            "updated_at_ms": now})
        sink.put_file("synced_state", self.snapshot(now))
        sink.flush(force=force)

    # ------------------------------------------------------------------------------------------
    # restart
    def snapshot(self, now: int) -> dict:
        venues = {}
        for name, v in self.venues.items():
            if isinstance(v, PaperVenue):
                venues[name] = v.snapshot()
        return {
            "version": 1, "run": self.run_label, "market_ts": self.cycle_ts, "seq": self.seq,
            "ledger": self.ledger.snapshot(), "perf": self.perf.snapshot(), "control": self.control.to_doc(),
            "trades": [t.to_doc() for t in self.trades.values()],
            "in_flight": [{"cid": cid, "purpose": f.purpose, "sent_ts": f.sent_ts, "meta": f.meta,
                           "unknown": f.unknown, "request": _request_doc(f.request)}
                          for cid, f in self.in_flight.items()],
            "cooldown": [[v, s, n] for (v, s), n in self.cooldown.items() if n],
            "bad_data": [[v, s, n] for (v, s), n in self.bad_data.items() if n],
            "leaderboard": self.leaderboard, "signals_tail": self.signals_tail[-SIGNALS_KEPT:],
            "counters": {"bars": self.bars, "fills": self.fills, "orders_sent": self.orders_sent,
                         "orders_rejected": self.orders_rejected},
            "last_nav_point_ts": self._last_nav_point_ts, "paper_venues": venues, "updated_at_ms": now,
            "control_offset": self.commands.offset if self.commands is not None else 0,
            "arbitrage": self.arb.snapshot() if self.arb is not None else None,
        }

    def restore(self, snap: dict, journaled_ids: set[str]) -> None:
        """Resume from a snapshot: events up to its market time only warm the indicators."""
        self.ledger = Ledger.restore(snap["ledger"])
        self.perf.restore(snap["perf"])
        self.control = ControlState.from_doc(snap["control"])
        self.trades = {(t["venue"], t["symbol"]): OpenTrade.from_doc(t) for t in snap.get("trades", [])}
        self.in_flight = {
            f["cid"]: InFlight(_request_from_doc(f["request"]), f["purpose"], f["sent_ts"], f.get("meta", {}),
                               f.get("unknown", False)) for f in snap.get("in_flight", [])}
        self.cooldown = {(v, s): n for v, s, n in snap.get("cooldown", [])}
        self.bad_data = {(v, s): n for v, s, n in snap.get("bad_data", [])}
        self.leaderboard = snap.get("leaderboard", {})
        self.signals_tail = snap.get("signals_tail", [])
        c = snap.get("counters", {})
        self.bars, self.fills = c.get("bars", 0), c.get("fills", 0)
        self.orders_sent, self.orders_rejected = c.get("orders_sent", 0), c.get("orders_rejected", 0)
        self.seq = snap.get("seq", 0)
        self._last_nav_point_ts = snap.get("last_nav_point_ts", 0)
        self.warming_until_ts = snap["market_ts"]
        self.already_journaled = journaled_ids
        self.restored_control_offset = int(snap.get("control_offset", 0))
        for name, vs in snap.get("paper_venues", {}).items():
            venue = self.venues.get(name)
            if isinstance(venue, PaperVenue):
                venue.restore(vs)
        if self.arb is not None and snap.get("arbitrage"):
            self.arb.restore(snap["arbitrage"])


def _reading_doc(r: Reading, in_trade: bool, side: str) -> dict:
    return {
        "ts": r.ts, "venue": r.venue, "symbol": r.symbol, "timeframe": r.timeframe, "close": r.close,
        "z": round(r.z, 4), "rsi": round(r.rsi, 2), "atr": r.atr, "atr_pct": round(r.atr_pct, 6),
        "cross_up": r.cross_up, "cross_down": r.cross_down, "in_trade": in_trade, "side": side,
    }


def _request_doc(r: OrderRequest) -> dict:
    return {"venue": r.venue, "symbol": r.symbol, "side": r.side.value, "position_side": r.position_side.value,
            "order_type": r.order_type.value, "quantity": str(r.quantity), "client_order_id": r.client_order_id,
            "intent_id": r.intent_id, "price": str(r.price) if r.price is not None else None,
            "reduce_only": r.reduce_only}


def _request_from_doc(d: dict) -> OrderRequest:
    return OrderRequest(
        venue=d["venue"], symbol=d["symbol"], side=Side(d["side"]), position_side=PositionSide(d["position_side"]),
        order_type=OrderType(d["order_type"]), quantity=Decimal(d["quantity"]), client_order_id=d["client_order_id"],
        intent_id=d["intent_id"], price=Decimal(d["price"]) if d.get("price") else None,
        reduce_only=d.get("reduce_only", False))
