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
from decimal import Decimal

from execution import clock, control, control_log, ids, logs
from execution.control import ControlState
from execution.decision import Decision, candidate_signal, decide
from execution.engine_commands import OperatorCommands
from execution.engine_state import SCREENER_TAIL, SIGNALS_KEPT, StatePublisher
from execution.exchanges.base import Venue
from execution.exchanges.errors import UnknownOutcome, VenueError
from execution.exchanges.paper import PaperVenue
from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, FundingSettled, MarkUpdate, Tick
from execution.filters import derive_filters, round_qty
from execution.ledger import Ledger
from execution.models import (
    Fill,
    FundingPayment,
    Intent,
    OrderRequest,
    OrderStatus,
    OrderType,
    PositionSide,
)
from execution.portfolio import Performance
from execution.risk import ExposureView, RateWindow, account_trips, breaker_trips, entry_rejections
from execution.rules_sl_tp import Levels, exit_reason, levels
from execution.screener import Reading, SymbolScreener, screener_line
from execution.settings import Settings
from execution.state.store import StateSink
from execution.trades import InFlight, OpenTrade

CONTROL_POLL_MS = 200

SymbolKey = tuple[str, str]
RECOVERY_BARS = 2  # good candles needed after bad data before a symbol may open risk again
NAV_POINT_MIN_MS = 60_000
UNKNOWN_RECHECK_MS = 5_000  # how often an order whose outcome is unknown is looked up again


def _dec(x: float) -> Decimal:
    return Decimal(repr(x))


class Engine(OperatorCommands, StatePublisher):
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
            self.screeners[(venue, symbol)] = SymbolScreener(
                venue, symbol, settings.symbol_config(symbol, venue).strategy
            )
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
        self._last_unknown_check = 0
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
                self.log.info(
                    "[feed] %s %s recovered: %d good candle(s) since bad data", c.venue, c.symbol, RECOVERY_BARS
                )
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
        in_trade = trade is not None or (
            bool(self.in_flight)
            and any(f.request.symbol == r.symbol and f.request.venue == r.venue for f in self.in_flight.values())
        )
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
            r,
            params,
            in_trade=in_trade,
            open_positions=len(self.ledger.positions),
            max_positions=self.s.risk.max_positions,
            cooldown_left=self.cooldown.get(key, 0),
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
                nav=self.ledger.nav(),
                gross_notional=self.ledger.gross_notional(),
                symbol_notional=sum(
                    (p.notional for p in self.ledger.positions.values() if p.symbol == r.symbol), Decimal(0)
                ),
                open_positions=len(self.ledger.positions),
            )
            d.veto.extend(f"risk:{x}" for x in entry_rejections(self.s.risk, view, notional))
        self.log.info("[decision] %s", json.dumps(self._decision_doc(d, r, qty, notional), separators=(",", ":")))
        if not d.go:
            return
        pside = d.position_side
        lv = levels(pside, r.close, r.atr, params.sl_atr, params.tp_atr)
        intent = Intent(
            intent_id=ids.intent_id(r.venue, r.symbol, r.ts, "entry"),
            ts=r.ts,
            venue=r.venue,
            symbol=r.symbol,
            side=d.candidate,
            position_side=pside,
            reason="entry",
            quantity=qty,
            ref_price=price,
            meta={"stop_loss": lv.stop_loss, "take_profit": lv.take_profit, "z": r.z, "rsi": r.rsi, "atr": r.atr},
        )
        signal = {
            "id": intent.intent_id,
            "ts": r.ts,
            "venue": r.venue,
            "symbol": r.symbol,
            "signal": d.candidate.value,
            "position_side": pside.value,
            "intent_id": intent.intent_id,
            "price": r.close,
            "qty": str(qty),
            "notional_usdt": round(float(notional), 2),
            "z": round(r.z, 4),
            "rsi": round(r.rsi, 2),
            "atr": r.atr,
            "stop_loss": lv.stop_loss,
            "take_profit": lv.take_profit,
            "leverage": params.leverage,
        }
        self.log.info("[screener->executor] %s", json.dumps(signal, separators=(",", ":")))
        self.cycle_emitted += 1
        self._journal("signals", signal)
        self.signals_tail.append(signal)
        del self.signals_tail[:-SIGNALS_KEPT]
        self.submit(intent, purpose="entry", leverage=params.leverage)

    def _decision_doc(self, d: Decision, r: Reading, qty: Decimal, notional: Decimal) -> dict:
        return {
            "ts": d.ts,
            "venue": d.venue,
            "symbol": d.symbol,
            "candidate": d.candidate.value if d.candidate else None,
            "z": round(r.z, 4),
            "rsi": round(r.rsi, 2),
            "cross_up": r.cross_up,
            "cross_down": r.cross_down,
            "qty": str(qty),
            "notional_usdt": round(float(notional), 2),
            "veto": d.veto,
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

    def close_position(
        self, venue: str, symbol: str, pside: PositionSide, reason: str, ts: int, note: str = ""
    ) -> None:
        """Close what the screener holds on one side (arbitrage legs are the arbitrage loop's)."""
        qty = self._own_qty(venue, symbol, pside)
        if qty <= 0:
            return
        mark = self.ledger.marks.get((venue, symbol), Decimal(0))
        intent = Intent(
            intent_id=ids.intent_id(venue, symbol, ts, f"{reason}-{pside.value}"),
            ts=ts,
            venue=venue,
            symbol=symbol,
            side=pside.closing_side,
            position_side=pside,
            reason=reason,
            quantity=qty,
            ref_price=mark,
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
        self.log.info(
            "[executor] INTENT %s",
            json.dumps(
                {
                    "intent_id": intent.intent_id,
                    "venue": intent.venue,
                    "symbol": intent.symbol,
                    "side": intent.side.value,
                    "position_side": intent.position_side.value,
                    "reason": intent.reason,
                    "qty": str(intent.quantity),
                    "ref_price": str(intent.ref_price),
                    "reduce_only": intent.reduce_only,
                },
                separators=(",", ":"),
            ),
        )
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
            venue=intent.venue,
            symbol=intent.symbol,
            side=intent.side,
            position_side=intent.position_side,
            order_type=OrderType.MARKET,
            quantity=intent.quantity,
            client_order_id=cid,
            intent_id=intent.intent_id,
            reduce_only=intent.reduce_only,
        )
        self.log.info(
            "[executor] SEND_ORDER %s %s %s positionSide=%s qty=%s type=%s reduceOnly=%s cid=%s",
            req.venue,
            req.symbol,
            req.side.value,
            req.position_side.value,
            req.quantity,
            req.order_type.value,
            req.reduce_only,
            cid,
        )
        self.log.info(
            "[executor] ORDER_REQ %s",
            json.dumps(
                {
                    "venue": req.venue,
                    "symbol": req.symbol,
                    "side": req.side.value,
                    "positionSide": req.position_side.value,
                    "type": req.order_type.value,
                    "quantity": str(req.quantity),
                    "newClientOrderId": cid,
                    "intent_id": req.intent_id,
                },
                separators=(",", ":"),
            ),
        )
        self.orders_sent += 1
        try:
            order = venue.place_order(req)
        except UnknownOutcome as exc:
            self.log.error(
                "[executor] ORDER_ERR code=%s %s %s cid=%s outcome unknown: %s",
                exc.code,
                req.venue,
                req.symbol,
                cid,
                exc.message,
            )
            self.in_flight[cid] = InFlight(req, purpose, intent.ts, dict(intent.meta), unknown=True)
            return cid
        except VenueError as exc:
            self.orders_rejected += 1
            self.log.error(
                "[executor] ORDER_ERR code=%s %s %s %s positionSide=%s qty=%s cid=%s: %s",
                exc.code,
                req.venue,
                req.symbol,
                req.side.value,
                req.position_side.value,
                req.quantity,
                cid,
                exc.message,
            )
            return None
        self.log.info(
            "[executor] ORDER_ACK %s %s cid=%s status=%s orderId=%s",
            req.venue,
            req.symbol,
            cid,
            order.status.value,
            order.venue_order_id,
        )
        if order.status in (OrderStatus.REJECTED, OrderStatus.EXPIRED, OrderStatus.CANCELED):
            self.orders_rejected += 1
            self.log.error(
                "[executor] ORDER_ERR code=%s %s %s cid=%s status=%s: %s",
                order.reject_code or "-",
                req.venue,
                req.symbol,
                cid,
                order.status.value,
                order.reject_reason,
            )
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
        self.log.info(
            "[executor] FILL %s %s %s positionSide=%s qty=%s price=%s fee=%s realized=%s cid=%s",
            fill.venue,
            fill.symbol,
            fill.side.value,
            fill.position_side.value,
            fill.qty,
            fill.price,
            booked.fee_usdt,
            booked.realized_pnl_usdt,
            fill.client_order_id,
        )
        if arb_purpose:
            self.log.info(
                "[arb] FILL %s %s %s positionSide=%s qty=%s price=%s cid=%s (%s)",
                fill.venue,
                fill.symbol,
                fill.side.value,
                fill.position_side.value,
                fill.qty,
                fill.price,
                fill.client_order_id,
                arb_purpose,
            )
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
        self.log.info(
            "[executor] FUNDING %s %s positionSide=%s rate=%s amount_usdt=%s",
            p.venue,
            p.symbol,
            p.position_side.value,
            p.rate,
            p.amount_usdt,
        )

    def on_issue(self, i: FeedIssue) -> None:
        key = (i.venue, i.symbol)
        if i.kind == "stale":
            self.log.warning(
                "[feed] %s %s stale: %s (no new risk on it; exits still allowed)", i.venue, i.symbol, i.detail
            )
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
        self.log.warning(
            "[feed] %s %s %s: %s%s", i.venue, i.symbol, i.kind, i.detail, " (indicators re-warm)" if i.reset else ""
        )
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
        self.log.warning(
            "[feed] %s %s no configured filters; derived tick=%s step=%s min_notional=%s",
            c.venue,
            c.symbol,
            f.tick_size,
            f.step_size,
            f.min_notional,
        )

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
        for name, detail in breaker_trips(
            self.s.risk, nav=nav, peak_nav=self.perf.peak_nav, day_start_nav=self.perf.day_start_nav
        ) + (account_trips(self.s.risk, nav=nav, positions=led.positions.values()) if led.positions else []):
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
        if now - self._last_unknown_check >= UNKNOWN_RECHECK_MS and any(f.unknown for f in self.in_flight.values()):
            self._last_unknown_check = now  # outcome unknown: ask the venue again; nothing new on that symbol meanwhile
            for cid, flight in list(self.in_flight.items()):
                if flight.unknown:
                    venue = self.venues[flight.request.venue]
                    self._resolve_unknown(venue, cid, flight)
                    self._drain(venue)  # a fill the lookup found is booked now
        if now - self._last_publish_wall >= self.publish_interval_ms:
            self.publish(now)
        if now - self._last_account_wall >= self.s.account_log_interval_s * 1000:
            self.account_line()
            self._last_account_wall = now
