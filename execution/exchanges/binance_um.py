"""Binance USD-M futures adapter (python-binance `Client`, /fapi endpoints), hedge mode.

Hedge mode done right: every order carries positionSide LONG/SHORT and never `reduceOnly`
(Binance rejects it with -1106 in hedge mode); closing is SELL+LONG or BUY+SHORT. Only when the
account is known to be one-way (`is_dual_side()` answered False, e.g. for a panic close) are
orders sent as positionSide BOTH with reduceOnly on closes.

The call loop, the hedge-mode order fields, reconciliation after an unknown outcome (a timeout,
5xx or disconnect after sending is answered by querying the client order id, never by sending
again) and -1021's clock resync (several /fapi/v1/time samples, one retry) live in `RestVenue`;
this module says how python-binance is called, and `binance_parsers` how Binance's answers and
errors read. SAFE_MODE sends every order to POST /fapi/v1/order/test (validated by the venue,
never placed) and raises SafeModeRefused.

Protective stop-loss / take-profit orders go to the Algo Service (`binance_algo`): one
STOP_MARKET or TAKE_PROFIT_MARKET per price, queried by `clientAlgoId`, reported on the user
stream as ALGO_UPDATE; what one fills is read from the market order it placed
(`actualOrderId`) and booked under the protective order's client id. The Algo Service has no
test endpoint: under SAFE_MODE they are refused locally.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

from execution.exchanges.binance_algo import algo_params, parse_algo, parse_algo_update
from execution.exchanges.binance_history import BinanceHistory
from execution.exchanges.binance_parsers import (
    VENUE,
    parse_balance,
    parse_book_top,
    parse_error,
    parse_exchange_info,
    parse_fees,
    parse_funding,
    parse_leverage_brackets,
    parse_order,
    parse_positions,
    parse_stream_order,
)
from execution.exchanges.errors import (
    BadRequest,
    OrderNotFound,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
)
from execution.exchanges.http_deadline import mount_deadline
from execution.exchanges.rest_venue import Lost
from execution.exchanges.throttle import Throttler, binance_um_throttler
from execution.exchanges.wire import MAX_LEVERAGE, Fields, fmt, rows_of
from execution.margin import MarginSchedule
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    FundingInfo,
    Listing,
    MarginType,
    Order,
    OrderRequest,
    OrderType,
    Position,
    TimeInForce,
)
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, market_order_of

LIVE_URL = "https://fapi.binance.com/fapi"
TESTNET_URL = "https://testnet.binancefuture.com/fapi"
_MARGIN_TYPES = {m.value: m for m in MarginType}


def _not_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request provably never reached the venue (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")
    return False


class BinanceUM(BinanceHistory):
    name = VENUE
    supports_triggers = True
    order_endpoint = "/fapi/v1/order"
    HEADER_LIMITS = {
        "x-mbx-used-weight-1m": "REQUEST_WEIGHT_1M",
        "x-mbx-order-count-10s": "ORDERS_10S",
        "x-mbx-order-count-1m": "ORDERS_1M",
    }
    DUPLICATE_ID_CODES = frozenset({"-4116"})  # "ClientOrderId is duplicated."
    POST_ONLY_CROSSED_CODES = frozenset({"-5022"})  # GTX order would have traded immediately

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        base_url: str = LIVE_URL,
        *,
        safe_mode: bool = True,
        config_fees: FeeSchedule | None = None,
        recv_window_ms: int = 5000,
        timeout_s: float = 10.0,
        throttler: Throttler | None = None,
        reconcile_delays_s: tuple[float, ...] = (0.0, 0.3, 1.0),
        sleep: Callable[[float], None] | None = None,
        filters_ttl_ms: int = 3_600_000,
    ):
        super().__init__(
            safe_mode=safe_mode,
            config_fees=config_fees,
            throttler=throttler or binance_um_throttler(),
            reconcile_delays_s=reconcile_delays_s,
            sleep=sleep,
            filters_ttl_ms=filters_ttl_ms,
            secrets=(api_key, api_secret),
        )
        self.base_url = base_url.rstrip("/")
        self.client = Client(api_key or None, api_secret or None, ping=False)
        self.client.FUTURES_URL = self.base_url  # python-binance builds <FUTURES_URL>/v1/<path>
        # VENUE_TIMEOUT_S bounds each read and the whole answer (execution/exchanges/http_deadline.py)
        self.client.REQUEST_TIMEOUT = timeout_s
        mount_deadline(self.client.session, timeout_s)
        self.client.REQUEST_RECVWINDOW = recv_window_ms

    # -- the template's hooks: python-binance raises its errors -------------------------------
    def _observe_headers(self, response: requests.Response | None) -> None:
        if response is None:
            return
        for header, limit_id in self.HEADER_LIMITS.items():
            value = response.headers.get(header)
            if value is not None and value.isdigit():
                self.throttle.observe_usage(limit_id, int(value))

    def _invoke(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        self.client.response = None  # so a request that got no answer reports no status
        result = fn(*args, **kwargs)
        self._observe_headers(self.client.response)
        return result

    def _http_status(self) -> int:
        response = self.client.response
        return int(response.status_code) if response is not None else 0

    def _lost_request(self, exc: Exception) -> Lost | None:
        if not isinstance(exc, requests.exceptions.RequestException):
            return None
        return Lost(timed_out=isinstance(exc, requests.exceptions.Timeout), may_have_arrived=not _not_sent(exc))

    def _library_error(self, exc: Exception) -> VenueError | None:
        if isinstance(exc, BinanceAPIException):
            response = exc.response
            self._observe_headers(response)
            headers = dict(response.headers) if response is not None else {}
            body = response.text if response is not None else json.dumps({"code": exc.code, "msg": exc.message})
            return parse_error(exc.status_code, body, headers, self.name)
        if isinstance(exc, BinanceRequestException):  # 2xx with a body that is not JSON
            return UnknownOutcome(self.name, "BAD_RESPONSE", str(exc.message)[:200])
        if isinstance(exc, RecursionError):  # a body nested deeper than the JSON parser goes
            return UnknownOutcome(self.name, "BAD_RESPONSE", "answer nested too deep to read")
        return None

    def _time_request(self) -> tuple[str, Callable[..., Any]]:
        return "time", self.client.futures_time

    def _server_ms(self, result: Any) -> int:
        return Fields(result, self.name, "time").ms("serverTime")

    def _use_clock_offset(self, offset_ms: float) -> None:
        self.client.timestamp_offset = int(round(offset_ms))

    # -- time and reference data ---------------------------------------------------------------
    def ping(self) -> bool:
        self._call("ping", self.client.futures_ping, signed=False)
        return True

    def _fetch_filters(self) -> Listing:
        return parse_exchange_info(
            self._call("exchangeInfo", self.client.futures_exchange_info, signed=False), self.name
        )

    def _unknown_symbol(self, symbol: str) -> BadRequest:
        return BadRequest(self.name, -1121, f"Invalid symbol {symbol}.")

    def _fetch_margin_tiers(self, symbol: str) -> dict[str, MarginSchedule]:
        """GET /fapi/v1/leverageBracket (signed, weight 1): every symbol's brackets in one answer."""
        return parse_leverage_brackets(self._call("leverageBracket", self.client.futures_leverage_bracket), self.name)

    def _fetch_fees(self, symbol: str) -> FeeSchedule:
        return parse_fees(self._call("commissionRate", self.client.futures_commission_rate, symbol=symbol))

    def funding(self, symbol: str) -> FundingInfo:
        return parse_funding(
            self._call("premiumIndex", self.client.futures_mark_price, signed=False, symbol=symbol), self.name
        )

    def book_top(self, symbol: str) -> BookTop:
        return parse_book_top(
            self._call("bookTicker", self.client.futures_orderbook_ticker, signed=False, symbol=symbol), self.name
        )

    # -- account configuration -----------------------------------------------------------------
    def is_dual_side(self) -> bool:
        payload = self._call("positionSide/dual:get", self.client.futures_get_position_mode)
        self._dual_side = Fields(payload, self.name, "positionSide/dual").flag("dualSidePosition", None)
        return self._dual_side

    def set_dual_side(self, enabled: bool) -> bool:
        try:
            self._call(
                "positionSide/dual:post",
                self.client.futures_change_position_mode,
                dualSidePosition="true" if enabled else "false",
            )
        except BadRequest as exc:
            if exc.code != "-4059":  # "No need to change position side."
                raise
            self._dual_side = enabled
            return False
        self._dual_side = enabled
        return True

    def _symbol_config(self, symbol: str) -> Fields:
        rows = self._call("symbolConfig", self.client.futures_symbol_config, symbol=symbol)
        for row in rows if isinstance(rows, list) else [rows]:
            config = Fields(row, self.name, "symbolConfig")
            if config.get("symbol") == symbol:
                return config
        raise BadRequest(self.name, -1121, f"no symbol config for {symbol}")

    def margin_type(self, symbol: str) -> MarginType:
        return self._symbol_config(symbol).choice("marginType", _MARGIN_TYPES)

    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool:
        try:
            self._call(
                "marginType", self.client.futures_change_margin_type, symbol=symbol, marginType=margin_type.value
            )
        except BadRequest as exc:
            if exc.code != "-4046":  # "No need to change margin type."
                raise
            return False
        return True

    def leverage(self, symbol: str) -> int:
        return self._symbol_config(symbol).integer("leverage", low=1, high=MAX_LEVERAGE)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        if self.leverage(symbol) == leverage:
            return False
        answer = self._call("leverage", self.client.futures_change_leverage, symbol=symbol, leverage=leverage)
        venue_set = Fields(answer, self.name, "leverage").integer("leverage", leverage, low=1, high=MAX_LEVERAGE)
        if venue_set != leverage:
            raise BadRequest(self.name, "LEVERAGE", f"asked {leverage}x on {symbol}, venue set {venue_set}x")
        return True

    # -- orders --------------------------------------------------------------------------------
    def order_params(self, request: OrderRequest) -> dict[str, Any]:
        """The exact /fapi/v1/order parameters for a request (hedge mode unless known one-way)."""
        params: dict[str, Any] = {
            "symbol": request.symbol,
            "side": request.side.value,
            "type": request.order_type.value,
            "quantity": fmt(request.quantity),
            "newClientOrderId": request.client_order_id,
            "newOrderRespType": "RESULT",
        }
        position_side, reduce_only = self._position_fields(request)
        params["positionSide"] = position_side.value if position_side is not None else "BOTH"
        if reduce_only:
            params["reduceOnly"] = "true"
        if request.order_type is OrderType.LIMIT:
            if request.price is None:
                raise BadRequest(self.name, -1102, "LIMIT order without a price")
            params["price"] = fmt(request.price)
            params["timeInForce"] = (request.time_in_force or TimeInForce.GTC).value
        elif request.price is not None:
            raise BadRequest(self.name, -1106, "MARKET order with a price")
        return params

    def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        return self.order_params(request)

    def _safe_mode_refusal(self, request: OrderRequest, body: dict[str, Any]) -> SafeModeRefused:
        self._call("order/test", self.client.futures_create_test_order, mutating=False, **body)
        self.log.warning(
            "[executor] SAFE_MODE %s %s %s positionSide=%s qty=%s cid=%s: validated by "
            "POST /fapi/v1/order/test, not sent",
            self.name,
            request.symbol,
            request.side.value,
            body["positionSide"],
            body["quantity"],
            request.client_order_id,
        )
        return SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: validated by the test endpoint, not sent")

    def _submit(self, body: dict[str, Any]) -> Any:
        return self._call("order:post", self.client.futures_create_order, mutating=True, **body)

    def _placed(self, request: OrderRequest, answer: Any) -> Order:
        return self._observe(parse_order(answer, self.name))  # newOrderRespType=RESULT: the order's state

    def on_stream_order(self, o: Mapping[str, Any]) -> Order:
        """An ORDER_TRADE_UPDATE from the user data stream (execution/feeds/account_stream.py)."""
        return self._observe(parse_stream_order(o, self.name))

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        payload = self._call(
            "order:delete",
            self.client.futures_cancel_order,
            mutating=True,
            symbol=symbol,
            origClientOrderId=client_order_id,
        )
        return self._observe(parse_order(payload, self.name))

    def cancel_all(self, symbol: str) -> int:
        open_now = self.open_orders(symbol)
        if open_now:
            self._call("allOpenOrders", self.client.futures_cancel_all_open_orders, mutating=True, symbol=symbol)
        return len(open_now)

    def _fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        payload = self._call(
            "order:get", self.client.futures_get_order, symbol=symbol, origClientOrderId=client_order_id
        )
        return self._observe(parse_order(payload, self.name))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is None:
            rows = self._call("openOrders:all", self.client.futures_get_open_orders)
        else:
            rows = self._call("openOrders", self.client.futures_get_open_orders, symbol=symbol)
        return [self._observe(parse_order(r, self.name)) for r in rows_of(rows, self.name, "openOrders")]

    # -- protective orders: the Algo Service ---------------------------------------------------
    def place_trigger(self, request: TriggerRequest) -> TriggerOrder:
        try:
            params = algo_params(request, self._dual_side)
        except ValueError as exc:
            raise BadRequest(self.name, -1102, str(exc)) from None
        if self.safe_mode:
            self.log.warning(
                "[executor] SAFE_MODE %s %s %s %s positionSide=%s qty=%s trigger=%s cid=%s: not sent (the Algo "
                "Service has no test endpoint)",
                self.name,
                request.symbol,
                params["type"],
                params["side"],
                params["positionSide"],
                params["quantity"],
                params["triggerPrice"],
                request.client_id,
            )
            raise SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: protective orders are not sent")
        answer, found = self._submit_trigger(
            request,
            lambda: self._call("algoOrder:post", self.client.futures_create_algo_order, mutating=True, **params),
        )
        return found if found is not None else self._seen_trigger(parse_algo(answer, self.name))

    def cancel_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        try:
            self._call("algoOrder:delete", self.client.futures_cancel_algo_order, mutating=True, clientAlgoId=client_id)
        except OrderNotFound:
            return None
        return self.get_trigger(symbol, client_id)

    def get_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        try:
            payload = self._call("algoOrder:get", self.client.futures_get_algo_order, clientAlgoId=client_id)
        except OrderNotFound:
            return None
        return self._seen_trigger(parse_algo(payload, self.name))

    def open_triggers(self, symbol: str | None = None) -> list[TriggerOrder]:
        if symbol:
            rows = self._call("openAlgoOrders", self.client.futures_get_open_algo_orders, symbol=symbol)
        else:
            rows = self._call("openAlgoOrders:all", self.client.futures_get_open_algo_orders)
        return [parse_algo(r, self.name) for r in rows_of(rows, self.name, "openAlgoOrders")]

    def track_trigger(self, client_id: str, intent_id: str) -> None:
        self._tracker.track(client_id, intent_id)

    def on_stream_algo(self, o: Mapping[str, Any], event_ms: int = 0) -> TriggerOrder:
        """An ALGO_UPDATE from the user data stream: a fired order's fills are booked from aq / ap."""
        order = parse_algo_update(o, event_ms, self.name)
        if order.status.fired and order.filled_qty > 0:
            self._observe(market_order_of(order, order.filled_qty, order.avg_price, order.update_ms))
        return order

    def _seen_trigger(self, order: TriggerOrder) -> TriggerOrder:
        """A fired one of ours: read its market order (by actualOrderId) and book what it filled."""
        if not (order.status.fired and order.actual_order_id and self._tracker.is_tracked(order.client_id)):
            return order
        try:
            payload = self._call(
                "order:get", self.client.futures_get_order, symbol=order.symbol, orderId=order.actual_order_id
            )
        except OrderNotFound:
            return order
        market = parse_order(payload, self.name)
        order.filled_qty, order.avg_price = market.filled_qty, market.avg_price
        final = market.status.is_final or order.status is TriggerStatus.FINISHED
        self._observe(market_order_of(order, market.filled_qty, market.avg_price, market.update_ms, final))
        return order

    # -- account -------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        return parse_positions(self._call("positionRisk", self.client.futures_position_information), self.name)

    def balance(self) -> Balance:
        return parse_balance(self._call("balance", self.client.futures_account_balance))

    def _arm_countdown(self, symbol: str, timeout_ms: int) -> None:
        """POST /fapi/v1/countdownCancelAll: cancel the symbol's orders unless re-armed in time (0 disarms)."""
        self._call(
            "countdownCancelAll",
            self.client.futures_countdown_cancel_all,
            mutating=True,
            symbol=symbol,
            countdownTime=int(timeout_ms),
        )

    def close(self) -> None:
        self.client.session.close()
