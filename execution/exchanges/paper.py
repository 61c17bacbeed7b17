"""The paper venue: a hedge-mode USD-M account that fills against the market it is shown.

Behaves like Binance USD-M where it matters to the core: `positionSide` is required, orders
are checked against the instrument's filters and answered with Binance's codes (-4164 min
notional, -4004/-1111 lot size, -2019 margin, -2022 over-close, -4061 position side, -4116
duplicate client id), market orders fill at the *next* price the venue sees (never at the
price the decision was made on) with adverse slippage, resting limits fill when crossed as
maker, and funding is exchanged on open positions at each settlement.

Shown a whole bar (`on_bar`: open, high, low), it fills waiting market orders at the open with
slippage and resting limits where the range reaches them, fires resting stop-loss /
take-profit trigger orders inside the bar (`paper_triggers`), and never prices a fill outside
the bar's [low, high]. Trigger orders behave like Binance's Algo Service: one price per order,
placing one that would fire at once is refused with -2021, and one that fires with nothing
left to close is REJECTED.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from execution.exchanges.base import Venue
from execution.exchanges.errors import (
    BadRequest,
    FilterFailure,
    InsufficientMargin,
    OrderNotFound,
    PositionSideMismatch,
    ReduceOnlyRejected,
)
from execution.exchanges.paper_state import Resting, order_doc, order_from_doc, rest_doc, rest_from_doc
from execution.exchanges.paper_triggers import PaperTrigger, TriggerBook, would_fire_now
from execution.filters import FilterViolation, check_order, is_multiple
from execution.ledger import Ledger, OverClose
from execution.margin import MarginSchedule
from execution.models import (
    ONE_BP,
    Balance,
    BookTop,
    FeeSchedule,
    Fill,
    FundingInfo,
    FundingPayment,
    MarginType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    SymbolFilters,
    TimeInForce,
)
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, order_of


class PaperVenue(Venue):
    is_exchange = False
    supports_triggers = True

    def __init__(
        self,
        name: str,
        initial_balance: Decimal,
        filters: dict[str, SymbolFilters],
        fees: FeeSchedule,
        slippage_bps: Decimal = Decimal(2),
        half_spread_bps: Decimal = Decimal("0.5"),
        default_leverage: int = 1,
        leverage: dict[str, int] | None = None,
        margin_tiers: dict[str, MarginSchedule] | None = None,
    ):
        self.name = name
        self.order_endpoint = f"paper:{name}"
        self._margin_tiers = dict(margin_tiers or {})
        self.account = Ledger(initial_balance)
        self._filters = dict(filters)
        self._fees = fees
        self._slippage = slippage_bps * ONE_BP
        self._half_spread = half_spread_bps * ONE_BP
        self._default_leverage = default_leverage
        self._leverage: dict[str, int] = dict(leverage or {})
        self._margin_type: dict[str, MarginType] = {}
        self._dual_side = True
        self._last_price: dict[str, Decimal] = {}
        self._funding_rate: dict[str, Decimal] = {}
        self._next_funding: dict[str, int] = {}
        self._now = 0
        self._orders: dict[str, Order] = {}
        self._pending: list[Resting] = []  # market orders waiting for the next price
        self._resting: list[Resting] = []  # limit orders on the book
        self._fills: list[Fill] = []
        self._funding_payments: list[FundingPayment] = []
        self._next_id = 1
        self._triggers = TriggerBook()
        self._live_bar: dict[
            str, tuple[int, Decimal, Decimal]
        ] = {}  # symbol -> (open time, high, low) of the bar in progress

    # -- market data in ----------------------------------------------------------------------
    def add_filters(self, filters: SymbolFilters) -> None:
        self._filters[filters.symbol] = filters

    def has_filters(self, symbol: str) -> bool:
        return symbol in self._filters

    @property
    def has_working_orders(self) -> bool:
        """True when a next price could fill something (the engine skips work otherwise)."""
        return bool(self._pending or self._resting or self._triggers.resting)

    def works_on(self, symbol: str) -> bool:
        """An order on `symbol` waits for a price (a bar of another symbol cannot fill it)."""
        if symbol in self._triggers.symbols:
            return True
        if self._pending and any(r.request.symbol == symbol for r in self._pending):
            return True
        return bool(self._resting) and any(r.request.symbol == symbol for r in self._resting)

    def on_bar(self, symbol: str, ts: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal) -> None:
        """A bar opening at `ts`: waiting market orders fill at the open, resting limits and
        triggers where the range reaches them; every price stays inside [lo, h]. Until the bar's
        close is shown (`on_mark`) a trigger placed meanwhile is checked against the same range."""
        if ts > self._now:
            self._now = ts
        self._last_price[symbol] = o
        if self._pending:
            still = []
            for rest in self._pending:
                if rest.request.symbol == symbol and rest.placed_ts <= ts:
                    self._fill_market(rest, ts, o, bounds=(lo, h))
                else:
                    still.append(rest)
            self._pending = still
        if self._resting:
            self._match_resting_bar(symbol, ts, o, h, lo)
        if self._triggers.resting:
            for trig, kind, start in self._triggers.due_on_bar(symbol, o, h, lo):
                self._fire(trig, kind, ts, start, bounds=(lo, h))
        self._live_bar[symbol] = (ts, h, lo)

    def on_price(self, symbol: str, ts: int, price: Decimal) -> None:
        """The next traded price: pending market orders fill here, crossed limits fill too."""
        if ts > self._now:
            self._now = ts
        self._last_price[symbol] = price
        if self._pending:
            still = []
            for rest in self._pending:
                if rest.request.symbol == symbol and rest.placed_ts <= ts:
                    self._fill_market(rest, ts, price)
                else:
                    still.append(rest)
            self._pending = still
        if self._resting:
            self._match_resting(symbol, ts, price)

    def on_book(self, symbol: str, ts: int, bid: Decimal, ask: Decimal) -> None:
        """A live book top: market orders take the touch (buys the ask, sells the bid) plus slippage;
        resting limits fill when the other side reaches them."""
        if ts > self._now:
            self._now = ts
        self._last_price[symbol] = (bid + ask) / 2
        self._live_bar.pop(symbol, None)
        if self._triggers.resting:
            for trig, kind in self._triggers.due_on_mark(symbol, (bid + ask) / 2):
                self._fire(trig, kind, ts, ask if trig.order.side is Side.BUY else bid, cross_spread=False)
        if self._pending:
            still = []
            for rest in self._pending:
                if rest.request.symbol == symbol and rest.placed_ts <= ts:
                    touch = ask if rest.request.side is Side.BUY else bid
                    self._fill_market(rest, ts, touch, cross_spread=False)
                else:
                    still.append(rest)
            self._pending = still
        if self._resting:
            still = []
            for rest in self._resting:
                req, limit = rest.request, rest.limit
                crossed = req.symbol == symbol and (ask <= limit if req.side is Side.BUY else bid >= limit)
                if crossed:
                    self._book_fill(rest, ts, limit, req.quantity - rest.order.filled_qty, "maker")
                else:
                    still.append(rest)
            self._resting = still

    def on_mark(self, symbol: str, ts: int, price: Decimal) -> None:
        if ts > self._now:
            self._now = ts
        self._live_bar.pop(symbol, None)  # the bar in progress (if any) is over
        self._last_price[symbol] = price
        self.account.mark(self.name, symbol, price)

    def on_funding(self, symbol: str, ts: int, rate: Decimal, next_funding_ms: int = 0) -> None:
        self._now = max(self._now, ts)
        self._funding_rate[symbol] = rate
        self._next_funding[symbol] = next_funding_ms
        mark = self._last_price.get(symbol)
        if mark is None:
            return
        self._funding_payments.extend(self.account.apply_funding(self.name, symbol, ts, rate, mark))

    # -- Venue interface ---------------------------------------------------------------------
    def server_time_ms(self) -> int:
        return self._now

    def filters(self, symbol: str) -> SymbolFilters:
        try:
            return self._filters[symbol]
        except KeyError:
            raise BadRequest(self.name, -1121, f"Invalid symbol {symbol}.") from None

    def fees(self, symbol: str) -> FeeSchedule:
        return self._fees

    def margin_tiers(self, symbol: str) -> MarginSchedule | None:
        """The configured leverage brackets / position tiers (config/venue_filters.json)."""
        return self._margin_tiers.get(symbol)

    def funding(self, symbol: str) -> FundingInfo:
        return FundingInfo(
            venue=self.name,
            symbol=symbol,
            mark_price=self._last_price.get(symbol, Decimal(0)),
            funding_rate=self._funding_rate.get(symbol, Decimal(0)),
            next_funding_time_ms=self._next_funding.get(symbol, 0),
        )

    def book_top(self, symbol: str) -> BookTop:
        price = self._last_price.get(symbol)
        if price is None:
            raise BadRequest(self.name, -1121, f"no price yet for {symbol}")
        f = self._filters.get(symbol)
        bid, ask = price * (1 - self._half_spread), price * (1 + self._half_spread)
        if f is not None:
            bid = (bid / f.tick_size).to_integral_value(ROUND_FLOOR) * f.tick_size
            ask = (ask / f.tick_size).to_integral_value(ROUND_CEILING) * f.tick_size
        return BookTop(self.name, symbol, bid, Decimal(0), ask, Decimal(0), self._now)

    def is_dual_side(self) -> bool:
        return self._dual_side

    def set_dual_side(self, enabled: bool) -> bool:
        changed = self._dual_side != enabled
        if changed and self.account.positions:
            raise BadRequest(self.name, -4068, "Position side cannot be changed if there exists position.")
        self._dual_side = enabled
        return changed

    def margin_type(self, symbol: str) -> MarginType:
        return self._margin_type.get(symbol, MarginType.CROSS)

    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool:
        changed = self.margin_type(symbol) is not margin_type
        self._margin_type[symbol] = margin_type
        return changed

    def leverage(self, symbol: str) -> int:
        return self._leverage.get(symbol, self._default_leverage)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        changed = self.leverage(symbol) != leverage
        self._leverage[symbol] = leverage
        return changed

    def place_order(self, request: OrderRequest) -> Order:
        if request.client_order_id in self._orders:
            raise BadRequest(self.name, -4116, "ClientOrderId is duplicated.")
        if not self._dual_side:
            raise PositionSideMismatch(self.name, -4061, "Order's position side does not match user's setting.")
        filters = self.filters(request.symbol)
        ref = request.price if request.price is not None else self._last_price.get(request.symbol)
        if ref is None:
            raise BadRequest(self.name, -1121, f"no market for {request.symbol} yet")
        try:
            check_order(
                filters, request.order_type, request.quantity, request.price, ref, reduce_only=request.is_closing
            )
        except FilterViolation as exc:
            raise FilterFailure(self.name, exc.code, str(exc)) from None
        if request.is_closing:
            pending_close = sum(
                (
                    r.request.quantity - r.order.filled_qty
                    for r in self._pending + self._resting
                    if r.request.symbol == request.symbol
                    and r.request.position_side is request.position_side
                    and r.request.is_closing
                ),
                Decimal(0),
            )
            try:
                self.account.check_close(
                    self.name, request.symbol, request.position_side, request.quantity + pending_close
                )
            except OverClose:
                raise ReduceOnlyRejected(self.name, -2022, "ReduceOnly Order is rejected.") from None
        else:
            needed = request.quantity * ref / self.leverage(request.symbol)
            if needed > self._available_margin():
                raise InsufficientMargin(self.name, -2019, "Margin is insufficient.")
        order = Order(
            venue=self.name,
            symbol=request.symbol,
            client_order_id=request.client_order_id,
            status=OrderStatus.NEW,
            side=request.side,
            position_side=request.position_side,
            order_type=request.order_type,
            quantity=request.quantity,
            price=request.price,
            venue_order_id=str(self._next_id),
            update_ms=self._now,
        )
        self._next_id += 1
        self._forget_old_orders()
        self._orders[request.client_order_id] = order
        rest = Resting(request, order, self._now)
        if request.order_type is OrderType.MARKET:
            self._pending.append(rest)
            return order
        top = self.book_top(request.symbol)
        crosses = rest.limit >= top.ask if request.side is Side.BUY else rest.limit <= top.bid
        if request.time_in_force is TimeInForce.POST_ONLY and crosses:
            order.status = OrderStatus.EXPIRED
            order.reject_code = "-5022"
            order.reject_reason = "Post Only order will be rejected as it would immediately match."
            return order
        if crosses:
            fill_price = top.ask if request.side is Side.BUY else top.bid
            self._book_fill(rest, self._now, fill_price, request.quantity, "taker")
            return order
        if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK):
            order.status = OrderStatus.EXPIRED
            return order
        self._resting.append(rest)
        return order

    def _forget_old_orders(self) -> None:
        if len(self._orders) > 4 * self.FINAL_ORDERS_KEPT:
            live = {id(r.order) for r in self._pending + self._resting}
            keep = [o for o in self._orders.values() if id(o) not in live][-self.FINAL_ORDERS_KEPT :]
            keep += [r.order for r in self._pending + self._resting]
            self._orders = {o.client_order_id: o for o in keep}

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        order = self._orders.get(client_order_id)
        if order is None or order.symbol != symbol:
            raise OrderNotFound(self.name, -2011, "Unknown order sent.")
        if order.status.is_final:
            raise OrderNotFound(self.name, -2011, "Unknown order sent.")
        order.status = OrderStatus.CANCELED
        order.update_ms = self._now
        self._pending = [r for r in self._pending if r.order is not order]
        self._resting = [r for r in self._resting if r.order is not order]
        return order

    def cancel_all(self, symbol: str) -> int:
        live = [o for o in self.open_orders(symbol)]
        for order in live:
            self.cancel_order(symbol, order.client_order_id)
        return len(live)

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        order = self._orders.get(client_order_id)
        return order if order is not None and order.symbol == symbol else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [r.order for r in self._pending + self._resting if symbol in (None, r.request.symbol)]

    # -- trigger orders (Binance Algo Service semantics) ---------------------------------------
    def place_trigger(self, request: TriggerRequest) -> TriggerOrder:
        if self._triggers.find(request.client_id) is not None:
            raise BadRequest(self.name, -4116, "ClientOrderId is duplicated.")
        if request.kind == "oco":
            raise BadRequest(self.name, -1102, "one trigger price per algo order (no OCO on this venue)")
        f = self.filters(request.symbol)
        price = request.stop_price if request.stop_price is not None else request.take_price
        assert price is not None  # TriggerRequest has one
        if not is_multiple(request.quantity, f.step_size):
            raise FilterFailure(self.name, -1111, "Precision is over the maximum defined for this asset.")
        if price <= 0 or not is_multiple(price, f.tick_size):
            raise FilterFailure(self.name, -4014, "Price not increased by tick size.")
        now = self._last_price.get(request.symbol)
        if now is not None and would_fire_now(request.side, request.kind, price, now):
            raise BadRequest(self.name, -2021, "Order would immediately trigger.")
        order = order_of(request, TriggerStatus.OPEN, venue_id=str(self._next_id), update_ms=self._now)
        self._next_id += 1
        trig = PaperTrigger(order, request.intent_id, self._now)
        self._triggers.add(trig)
        bar = self._live_bar.get(request.symbol)
        if bar is not None:  # placed inside a bar after its open: the rest of the bar may reach it
            bar_ts, high, low = bar
            for t, kind, start in self._triggers.due_on_bar(request.symbol, None, high, low, only=trig):
                self._fire(t, kind, bar_ts, start, bounds=(low, high))
        return order

    def cancel_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        trig = self._triggers.find(client_id)
        if trig is None or trig.order.symbol != symbol or not trig.order.status.is_open:
            return None
        self._triggers.retire(trig, TriggerStatus.CANCELED, self._now)
        return trig.order

    def get_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        trig = self._triggers.find(client_id)
        return trig.order if trig is not None and trig.order.symbol == symbol else None

    def open_triggers(self, symbol: str | None = None) -> list[TriggerOrder]:
        return [t.order for t in self._triggers.resting if symbol in (None, t.order.symbol)]

    def _fire(
        self,
        trig: PaperTrigger,
        kind: str,
        ts: int,
        start: Decimal,
        bounds: tuple[Decimal, Decimal] | None = None,
        cross_spread: bool = True,
    ) -> None:
        """The trigger is crossed: its market order closes the position from `start` (or is
        rejected when nothing is left to close, as the venue's reduce check does)."""
        t = trig.order
        if trig not in self._triggers.resting:
            return
        t.fired = kind
        try:
            self.account.check_close(self.name, t.symbol, t.position_side, t.quantity)
        except OverClose:
            self._triggers.retire(trig, TriggerStatus.REJECTED, ts, "-2022 ReduceOnly Order is rejected.")
            return
        request = OrderRequest(
            venue=self.name,
            symbol=t.symbol,
            side=t.position_side.closing_side,
            position_side=t.position_side,
            order_type=OrderType.MARKET,
            quantity=t.quantity,
            client_order_id=t.client_id,
            intent_id=trig.intent_id,
        )
        market = Order(
            self.name,
            t.symbol,
            t.client_id,
            OrderStatus.NEW,
            request.side,
            t.position_side,
            OrderType.MARKET,
            t.quantity,
            venue_order_id=str(self._next_id),
        )
        self._next_id += 1
        self._fill_market(Resting(request, market, ts), ts, start, cross_spread=cross_spread, bounds=bounds)
        t.actual_order_id, t.filled_qty, t.avg_price = market.venue_order_id, market.filled_qty, market.avg_price
        self._triggers.retire(trig, TriggerStatus.FINISHED, ts)

    def positions(self) -> list[Position]:
        return [p for p in self.account.positions.values() if p.qty > 0]

    def balance(self) -> Balance:
        return Balance("USDT", self.account.wallet, self._available_margin(), self.account.unrealized())

    def drain_fills(self) -> list[Fill]:
        out, self._fills = self._fills, []
        return out

    def drain_funding(self) -> list[FundingPayment]:
        out, self._funding_payments = self._funding_payments, []
        return out

    # -- persistence (the paper "exchange" survives an executor restart) ---------------------
    FINAL_ORDERS_KEPT = 500

    def snapshot(self) -> dict:
        live = {id(r.order) for r in self._pending + self._resting}
        final = [o for o in self._orders.values() if id(o) not in live][-self.FINAL_ORDERS_KEPT :]
        return {
            "account": self.account.snapshot(),
            "now": self._now,
            "dual_side": self._dual_side,
            "last_price": {k: str(v) for k, v in self._last_price.items()},
            "funding_rate": {k: str(v) for k, v in self._funding_rate.items()},
            "leverage": self._leverage,
            "margin_type": {k: v.value for k, v in self._margin_type.items()},
            "pending": [rest_doc(r) for r in self._pending],
            "resting": [rest_doc(r) for r in self._resting],
            "final_orders": [order_doc(o) for o in final],
            "next_id": self._next_id,
            "triggers": self._triggers.snapshot(),
        }

    def restore(self, snap: dict) -> None:
        self.account = Ledger.restore(snap["account"])
        self._now = snap["now"]
        self._dual_side = snap["dual_side"]
        self._last_price = {k: Decimal(v) for k, v in snap["last_price"].items()}
        self._funding_rate = {k: Decimal(v) for k, v in snap["funding_rate"].items()}
        self._leverage = dict(snap["leverage"])
        self._margin_type = {k: MarginType(v) for k, v in snap["margin_type"].items()}
        self._orders = {d["client_order_id"]: order_from_doc(d) for d in snap["final_orders"]}
        self._pending = [self._rest_from_doc(d) for d in snap["pending"]]
        self._resting = [self._rest_from_doc(d) for d in snap["resting"]]
        self._next_id = int(snap["next_id"])
        self._triggers = TriggerBook.restore(snap.get("triggers"))

    def _rest_from_doc(self, d: dict) -> Resting:
        rest = rest_from_doc(d, self.name)
        self._orders[rest.order.client_order_id] = rest.order
        return rest

    # -- internals ---------------------------------------------------------------------------
    def _available_margin(self) -> Decimal:
        used = sum((p.notional / p.leverage for p in self.account.positions.values()), Decimal(0))
        reserved = sum(
            (
                r.request.quantity
                * (r.request.price or self._last_price.get(r.request.symbol, Decimal(0)))
                / self.leverage(r.request.symbol)
                for r in self._pending + self._resting
                if not r.request.is_closing
            ),
            Decimal(0),
        )
        return self.account.nav() - used - reserved

    def _fill_market(
        self,
        rest: Resting,
        ts: int,
        price: Decimal,
        cross_spread: bool = True,
        bounds: tuple[Decimal, Decimal] | None = None,
    ) -> None:
        """At `price` against us by the slippage, and by half the spread when `price` is a mid;
        never outside `bounds` (the bar's low, high): nothing traded beyond them."""
        f = self._filters[rest.request.symbol]
        half = self._half_spread if cross_spread else 0
        if rest.request.side is Side.BUY:
            raw = price * (1 + half + self._slippage)
            fill_price = (raw / f.tick_size).to_integral_value(ROUND_CEILING) * f.tick_size
        else:
            raw = price * (1 - half - self._slippage)
            fill_price = (raw / f.tick_size).to_integral_value(ROUND_FLOOR) * f.tick_size
        if bounds is not None:
            fill_price = min(max(fill_price, bounds[0]), bounds[1])
        self._book_fill(rest, ts, fill_price, rest.request.quantity - rest.order.filled_qty, "taker")

    def _match_resting_bar(self, symbol: str, ts: int, o: Decimal, h: Decimal, lo: Decimal) -> None:
        """A resting limit the bar trades through fills at its limit, or at the open when the bar
        opened beyond it: inside the bar's range either way."""
        still = []
        for rest in self._resting:
            req, limit = rest.request, rest.limit
            if req.symbol == symbol and req.side is Side.BUY and lo < limit:
                self._book_fill(rest, ts, min(limit, o), req.quantity - rest.order.filled_qty, "maker")
            elif req.symbol == symbol and req.side is Side.SELL and h > limit:
                self._book_fill(rest, ts, max(limit, o), req.quantity - rest.order.filled_qty, "maker")
            else:
                still.append(rest)
        self._resting = still

    def _match_resting(self, symbol: str, ts: int, price: Decimal) -> None:
        still = []
        for rest in self._resting:
            req, limit = rest.request, rest.limit
            crossed = req.symbol == symbol and (price < limit if req.side is Side.BUY else price > limit)
            if crossed:
                self._book_fill(rest, ts, limit, req.quantity - rest.order.filled_qty, "maker")
            else:
                still.append(rest)
        self._resting = still

    def _book_fill(self, rest: Resting, ts: int, price: Decimal, qty: Decimal, liquidity: str) -> None:
        req, order = rest.request, rest.order
        rate = self._fees.maker_rate if liquidity == "maker" else self._fees.taker_rate
        fill = Fill(
            ts=ts,
            venue=self.name,
            symbol=req.symbol,
            side=req.side,
            position_side=req.position_side,
            qty=qty,
            price=price,
            fee_usdt=qty * price * rate,
            realized_pnl_usdt=Decimal(0),
            client_order_id=req.client_order_id,
            intent_id=req.intent_id,
            liquidity=liquidity,
            simulated=True,
        )
        booked = self.account.apply_fill(fill, leverage=self.leverage(req.symbol))
        total = order.filled_qty + qty
        order.avg_price = (order.avg_price * order.filled_qty + price * qty) / total
        order.filled_qty = total
        order.status = OrderStatus.FILLED if total >= order.quantity else OrderStatus.PARTIALLY_FILLED
        order.update_ms = ts
        self._fills.append(booked)
