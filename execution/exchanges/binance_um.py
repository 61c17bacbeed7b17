"""Binance USD-M futures adapter (python-binance `Client`, /fapi endpoints), hedge mode.

Pure parsers, from the venue's JSON payloads to the unified model (feed them recorded payloads):
    parse_exchange_info(payload) -> {symbol: SymbolFilters}   GET /fapi/v1/exchangeInfo
    parse_filters(symbol_info)   -> SymbolFilters             one entry of exchangeInfo["symbols"]
    parse_fees(payload)          -> FeeSchedule               GET /fapi/v1/commissionRate
    parse_funding(payload)       -> FundingInfo               GET /fapi/v1/premiumIndex
    parse_book_top(payload)      -> BookTop                   GET /fapi/v1/ticker/bookTicker
    parse_position(row)          -> Position | None           GET /fapi/v3 (or v2) /positionRisk row
    parse_positions(rows)        -> [Position]                the whole positionRisk answer, flat rows dropped
    parse_order(payload)         -> Order                     POST/GET/DELETE /fapi/v1/order, openOrders rows
    parse_stream_order(o)        -> Order                     user data stream ORDER_TRADE_UPDATE "o"
    parse_balance(rows, asset)   -> Balance                   GET /fapi/v3/balance
    parse_error(status, body, headers) -> VenueError          any error answer (or parse_error(body))

Hedge mode done right: every order carries positionSide LONG/SHORT and never `reduceOnly`
(Binance rejects it with -1106 in hedge mode); closing is SELL+LONG or BUY+SHORT. Only when the
account is known to be one-way (`is_dual_side()` answered False, e.g. for a panic close) are
orders sent as positionSide BOTH with reduceOnly on closes.

Orders are idempotent: the client order id comes from the intent; a timeout, 5xx or disconnect
after sending is reconciled by querying that id, never by sending again. -1021 resyncs the clock
offset from several /fapi/v1/time samples and retries once. SAFE_MODE sends every order to
POST /fapi/v1/order/test (validated by the venue, never placed) and raises SafeModeRefused.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import requests
from binance.client import Client
from binance.exceptions import BinanceAPIException, BinanceRequestException

from execution import clock, logs
from execution.exchanges.clock_sync import ClockOffset
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    FilterFailure,
    InsufficientMargin,
    OrderNotFound,
    PositionSideMismatch,
    RateLimited,
    ReduceOnlyRejected,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
)
from execution.exchanges.fill_tracker import FillTracker
from execution.exchanges.rest_venue import RestVenue
from execution.exchanges.throttle import Throttler, binance_um_throttler
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    FundingInfo,
    MarginType,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    SymbolFilters,
    TimeInForce,
)

VENUE = "binance_um"
LIVE_URL = "https://fapi.binance.com/fapi"
TESTNET_URL = "https://testnet.binancefuture.com/fapi"
NO_FEES = FeeSchedule(Decimal(0), Decimal(0))


def _d(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def fmt(value: Decimal) -> str:
    """A Decimal as the venue wants it: plain digits, no exponent, no trailing zeros."""
    return format(value.normalize(), "f")


# ---------------------------------------------------------------------------------------------
# parsers (pure)
def parse_filters(info: Mapping[str, Any], venue: str = VENUE) -> SymbolFilters:
    by_type = {f["filterType"]: f for f in info.get("filters", [])}
    price = by_type.get("PRICE_FILTER")
    lot = by_type.get("LOT_SIZE")
    if price is None or lot is None:
        raise ValueError(f"{venue} {info.get('symbol')}: exchangeInfo entry has no PRICE_FILTER/LOT_SIZE")
    market = by_type.get("MARKET_LOT_SIZE", {})
    notional = by_type.get("MIN_NOTIONAL", {})
    return SymbolFilters(
        venue=venue,
        symbol=info["symbol"],
        tick_size=_d(price["tickSize"]),
        step_size=_d(lot["stepSize"]),
        min_qty=_d(lot["minQty"]),
        max_qty=_d(lot["maxQty"]),
        min_notional=_d(notional.get("notional", notional.get("minNotional"))),
        market_step_size=_d(market["stepSize"]) if market.get("stepSize") else None,
        market_max_qty=_d(market["maxQty"]) if market.get("maxQty") else None,
        min_price=_d(price.get("minPrice")),
        max_price=_d(price.get("maxPrice")),
        source="venue",
    )


def parse_exchange_info(payload: Mapping[str, Any], venue: str = VENUE) -> dict[str, SymbolFilters]:
    return {s["symbol"]: parse_filters(s, venue) for s in payload.get("symbols", [])}


def parse_fees(payload: Mapping[str, Any]) -> FeeSchedule:
    return FeeSchedule(maker_rate=_d(payload["makerCommissionRate"]), taker_rate=_d(payload["takerCommissionRate"]))


def parse_funding(payload: Mapping[str, Any], venue: str = VENUE) -> FundingInfo:
    return FundingInfo(
        venue=venue,
        symbol=payload["symbol"],
        mark_price=_d(payload["markPrice"]),
        funding_rate=_d(payload.get("lastFundingRate")),
        next_funding_time_ms=int(payload.get("nextFundingTime") or 0),
    )


def parse_book_top(payload: Mapping[str, Any], venue: str = VENUE) -> BookTop:
    return BookTop(
        venue=venue,
        symbol=payload["symbol"],
        bid=_d(payload["bidPrice"]),
        bid_qty=_d(payload["bidQty"]),
        ask=_d(payload["askPrice"]),
        ask_qty=_d(payload["askQty"]),
        ts=int(payload.get("time") or 0),
    )


def _one(payload: Any) -> Mapping[str, Any]:
    if isinstance(payload, list):
        if len(payload) != 1:
            raise ValueError(f"expected one row, got {len(payload)}: use the plural parser")
        return payload[0]
    return payload


def parse_position(row: Mapping[str, Any], venue: str = VENUE) -> Position | None:
    """One positionRisk row; None for a flat row. One-way rows (BOTH) take their side from the sign."""
    row = _one(row)
    amt = _d(row["positionAmt"])
    if amt == 0:
        return None
    side = row.get("positionSide", "BOTH")
    if side == "BOTH":
        pside = PositionSide.LONG if amt > 0 else PositionSide.SHORT
    else:
        pside = PositionSide(side)
    leverage = row.get("leverage")
    return Position(
        venue=venue,
        symbol=row["symbol"],
        position_side=pside,
        qty=abs(amt),
        entry_price=_d(row.get("entryPrice")),
        mark_price=_d(row.get("markPrice")),
        leverage=int(leverage) if leverage not in (None, "") else 1,
        opened_ts=int(row.get("updateTime") or 0),
    )


def parse_positions(rows: list[Mapping[str, Any]], venue: str = VENUE) -> list[Position]:
    return [p for p in (parse_position(r, venue) for r in rows) if p is not None]


_STATUS = {
    "NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,
    "NEW_INSURANCE": OrderStatus.NEW,
    "NEW_ADL": OrderStatus.NEW,
}


def parse_order(payload: Mapping[str, Any], venue: str = VENUE) -> Order:
    payload = _one(payload)
    side = Side(payload["side"])
    pside_raw = payload.get("positionSide", "BOTH")
    if pside_raw == "BOTH":  # one-way: a reduce-only order shrinks the opposite side
        reduce = bool(payload.get("reduceOnly"))
        pside = PositionSide.SHORT if (side is Side.BUY) == reduce else PositionSide.LONG
    else:
        pside = PositionSide(pside_raw)
    otype = payload.get("type") or payload.get("origType") or "LIMIT"
    price = _d(payload.get("price"))
    return Order(
        venue=venue,
        symbol=payload["symbol"],
        client_order_id=payload.get("clientOrderId", ""),
        status=_STATUS.get(payload.get("status", ""), OrderStatus.UNKNOWN),
        side=side,
        position_side=pside,
        order_type=OrderType.MARKET if otype.endswith("MARKET") else OrderType.LIMIT,
        quantity=_d(payload.get("origQty")),
        filled_qty=_d(payload.get("executedQty")),
        avg_price=_d(payload.get("avgPrice")),
        price=price if price > 0 else None,
        venue_order_id=str(payload.get("orderId", "")),
        update_ms=int(payload.get("updateTime") or payload.get("time") or 0),
    )


def parse_stream_order(o: Mapping[str, Any], venue: str = VENUE) -> Order:
    """The `o` object of a user-data-stream ORDER_TRADE_UPDATE event, in the REST order's terms."""
    return parse_order(
        {
            "symbol": o["s"],
            "clientOrderId": o.get("c", ""),
            "side": o["S"],
            "positionSide": o.get("ps", "BOTH"),
            "type": o.get("o", "LIMIT"),
            "status": o.get("X", ""),
            "origQty": o.get("q"),
            "executedQty": o.get("z"),
            "avgPrice": o.get("ap"),
            "price": o.get("p"),
            "orderId": o.get("i", ""),
            "updateTime": o.get("T", 0),
            "reduceOnly": o.get("R", False),
        },
        venue,
    )


def parse_balance(rows: list[Mapping[str, Any]], asset: str = "USDT") -> Balance:
    for row in rows:
        if row.get("asset") == asset:
            return Balance(
                asset=asset,
                wallet_balance=_d(row.get("balance", row.get("walletBalance"))),
                available_balance=_d(row.get("availableBalance")),
                unrealized_pnl=_d(row.get("crossUnPnl", row.get("unrealizedProfit"))),
            )
    return Balance(asset, Decimal(0), Decimal(0))


_BANNED_UNTIL = re.compile(r"banned until (\d{13})")
_FILTER_CODES = {-1013, -1111, -4003, -4004, -4005, -4013, -4014, -4015, -4016, -4023, -4024, -4131, -4164}
_AUTH_CODES = {-1002, -1022, -2014, -2015}
_REDUCE_CODES = {-1106, -2022, -4118}
_MARGIN_CODES = {-2018, -2019}
_NOT_FOUND_CODES = {-2011, -2013}
_UNKNOWN_CODES = {-1000, -1006, -1007}  # the venue may or may not have acted
_UNAVAILABLE_CODES = {-1001, -1008, -1016}  # refused before acting: safe to retry later


def retry_after_s(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    raw = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def parse_error(  # noqa: C901 - one table of documented error codes
    status: int | str | Mapping[str, Any],
    body: str | Mapping[str, Any] = "",
    headers: Mapping[str, str] | None = None,
    venue: str = VENUE,
    now_ms: int | None = None,
) -> VenueError:
    """Map an error answer (HTTP status, body, headers) to the typed error the core reacts to.
    `parse_error(body)` alone reads the body as a 400 answer."""
    if not isinstance(status, int):
        status, body = 400, status
    payload: Mapping[str, Any] = {}
    if isinstance(body, Mapping):
        payload = body
    else:
        try:
            parsed = json.loads(body) if body else {}
            payload = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            payload = {}
    code = payload.get("code")
    msg = str(payload.get("msg") or (body if isinstance(body, str) else "") or f"HTTP {status}")[:300]
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    if status in (418, 429) or code == -1003:
        wait = retry_after_s(headers)
        if wait is None:
            m = _BANNED_UNTIL.search(msg)
            if m:
                wait = max(1.0, (int(m.group(1)) - (now_ms if now_ms is not None else clock.wall_ms())) / 1000)
        return RateLimited(
            venue, code if code is not None else f"HTTP {status}", msg, retry_after_s=wait if wait is not None else 1.0
        )
    if code is None:
        if status >= 500:
            if "Service Unavailable" in msg or "Internal error; unable to process" in msg:
                return VenueUnavailable(venue, f"HTTP {status}", msg)
            return UnknownOutcome(venue, f"HTTP {status}", msg)
        if status in (401, 403):
            return AuthError(venue, f"HTTP {status}", msg)
        return BadRequest(venue, f"HTTP {status}", msg)
    if code == -1021:
        return ClockSkew(venue, code, msg)
    if code in _AUTH_CODES:
        return AuthError(venue, code, msg)
    if code in _FILTER_CODES:
        return FilterFailure(venue, code, msg)
    if code == -4061:
        return PositionSideMismatch(venue, code, msg)
    if code in _REDUCE_CODES:
        return ReduceOnlyRejected(venue, code, msg)
    if code in _MARGIN_CODES:
        return InsufficientMargin(venue, code, msg)
    if code in _NOT_FOUND_CODES:
        return OrderNotFound(venue, code, msg)
    if code in _UNAVAILABLE_CODES:
        return VenueUnavailable(venue, code, msg)
    if code in _UNKNOWN_CODES or status >= 500:
        return UnknownOutcome(venue, code, msg)
    return BadRequest(venue, code, msg)


# ---------------------------------------------------------------------------------------------
def _not_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request provably never reached the venue (no connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(exc, requests.exceptions.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return type(reason).__name__ in ("NewConnectionError", "NameResolutionError")
    return False


class BinanceUM(RestVenue):
    name = VENUE
    is_exchange = True
    HEADER_LIMITS = {
        "x-mbx-used-weight-1m": "REQUEST_WEIGHT_1M",
        "x-mbx-order-count-10s": "ORDERS_10S",
        "x-mbx-order-count-1m": "ORDERS_1M",
    }

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
        self.base_url = base_url.rstrip("/")
        self.safe_mode = safe_mode
        self.config_fees = config_fees
        self.client = Client(api_key or None, api_secret or None, ping=False)
        self.client.FUTURES_URL = self.base_url  # python-binance builds <FUTURES_URL>/v1/<path>
        self.client.REQUEST_TIMEOUT = timeout_s
        self.client.REQUEST_RECVWINDOW = recv_window_ms
        self.throttle = throttler or binance_um_throttler()
        self.clock = ClockOffset()
        self._clock_synced = False
        self.reconcile_delays_s = reconcile_delays_s
        self._sleep = sleep or time.sleep
        self._secrets = tuple(s for s in (api_key, api_secret) if s)
        self.log = logs.get()
        self._filters: dict[str, SymbolFilters] = {}
        self._filters_ms = 0
        self._filters_ttl_ms = filters_ttl_ms
        self._fees: dict[str, FeeSchedule] = {}
        self._dual_side: bool | None = None
        self._tracker = FillTracker(self.name)

    # -- plumbing ------------------------------------------------------------------------------
    def _observe_headers(self, response: requests.Response | None) -> None:
        if response is None:
            return
        for header, limit_id in self.HEADER_LIMITS.items():
            value = response.headers.get(header)
            if value is not None and value.isdigit():
                self.throttle.observe_usage(limit_id, int(value))

    def _call(
        self, endpoint: str, fn: Callable[..., Any], *, mutating: bool = False, signed: bool = True, **params: Any
    ) -> Any:
        if signed and not self._clock_synced:
            self.sync_clock()
        for attempt in (0, 1):
            self.throttle.acquire(endpoint)
            try:
                result = fn(**dict(params))
            except BinanceAPIException as exc:
                response = exc.response
                self._observe_headers(response)
                headers = dict(response.headers) if response is not None else {}
                body = response.text if response is not None else json.dumps({"code": exc.code, "msg": exc.message})
                err = parse_error(exc.status_code, body, headers, self.name)
                if isinstance(err, RateLimited):
                    # the venue's Retry-After, else a ban's end parsed from the message, else our back-off
                    hint = retry_after_s(headers) or (err.retry_after_s if "banned until" in err.message else None)
                    err.retry_after_s = max(err.retry_after_s, self.throttle.on_rate_limited(hint))
                    self.log.warning(
                        "[executor] RATE_LIMIT %s code=%s: backing off %.1fs", self.name, err.code, err.retry_after_s
                    )
                elif isinstance(err, ClockSkew) and attempt == 0:
                    offset = self.sync_clock()
                    self.log.warning(
                        "[executor] CLOCK %s code=-1021 on %s: resynced offset %.0fms, retrying once",
                        self.name,
                        endpoint,
                        offset,
                    )
                    continue
                if isinstance(err, UnknownOutcome) and not mutating:
                    err = VenueUnavailable(self.name, err.code, err.message)  # a read changes nothing
                raise err from None
            except requests.exceptions.RequestException as exc:
                kind = "TIMEOUT" if isinstance(exc, requests.exceptions.Timeout) else "DISCONNECTED"
                detail = logs.redact(f"{endpoint}: {type(exc).__name__}", self._secrets)
                if mutating and not _not_sent(exc):
                    raise UnknownOutcome(self.name, kind, f"{detail}; the venue may have acted") from None
                raise VenueUnavailable(self.name, kind, detail) from None
            except BinanceRequestException as exc:  # 2xx with a body that is not JSON
                err_cls = UnknownOutcome if mutating else VenueUnavailable
                raise err_cls(self.name, "BAD_RESPONSE", str(exc.message)[:200]) from None
            self.throttle.on_success()
            self._observe_headers(self.client.response)
            return result
        raise AssertionError("unreachable")

    def sync_clock(self, samples: int = 5) -> float:
        """Resync the offset to the venue's clock from `samples` round trips; returns it in ms."""

        def sample() -> tuple[float, float, float]:
            self.throttle.acquire("time")
            sent = clock.wall_ms()
            try:
                server = self.client.futures_time()["serverTime"]
            except BinanceAPIException as exc:
                raise parse_error(
                    exc.status_code, exc.response.text if exc.response is not None else "", None, self.name
                ) from None
            except requests.exceptions.RequestException as exc:
                raise VenueUnavailable(self.name, "TIMEOUT", f"time: {type(exc).__name__}") from None
            return sent, float(server), clock.wall_ms()

        offset = self.clock.resync(sample, n=samples)
        self.client.timestamp_offset = int(round(offset))
        self._clock_synced = True
        return offset

    # -- time and reference data ---------------------------------------------------------------
    def server_time_ms(self) -> int:
        return int(self._call("time", self.client.futures_time, signed=False)["serverTime"])

    def ping(self) -> bool:
        self._call("ping", self.client.futures_ping, signed=False)
        return True

    def refresh_filters(self) -> dict[str, SymbolFilters]:
        payload = self._call("exchangeInfo", self.client.futures_exchange_info, signed=False)
        self._filters = parse_exchange_info(payload, self.name)
        self._filters_ms = clock.wall_ms()
        return self._filters

    def _unknown_symbol(self, symbol: str) -> BadRequest:
        return BadRequest(self.name, -1121, f"Invalid symbol {symbol}.")

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
        self._dual_side = bool(payload["dualSidePosition"])
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

    def _symbol_config(self, symbol: str) -> Mapping[str, Any]:
        rows = self._call("symbolConfig", self.client.futures_symbol_config, symbol=symbol)
        for row in rows if isinstance(rows, list) else [rows]:
            if row.get("symbol") == symbol:
                return row
        raise BadRequest(self.name, -1121, f"no symbol config for {symbol}")

    def margin_type(self, symbol: str) -> MarginType:
        return MarginType(self._symbol_config(symbol)["marginType"])

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
        return int(self._symbol_config(symbol)["leverage"])

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        if self.leverage(symbol) == leverage:
            return False
        answer = self._call("leverage", self.client.futures_change_leverage, symbol=symbol, leverage=leverage)
        if int(answer.get("leverage", leverage)) != leverage:
            raise BadRequest(
                self.name, "LEVERAGE", f"asked {leverage}x on {symbol}, venue set {answer.get('leverage')}x"
            )
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
        if self._dual_side is False:
            params["positionSide"] = "BOTH"
            if request.is_closing or request.reduce_only:
                params["reduceOnly"] = "true"
        else:
            params["positionSide"] = request.position_side.value  # closes are SELL+LONG / BUY+SHORT, no reduceOnly
        if request.order_type is OrderType.LIMIT:
            if request.price is None:
                raise BadRequest(self.name, -1102, "LIMIT order without a price")
            params["price"] = fmt(request.price)
            params["timeInForce"] = (request.time_in_force or TimeInForce.GTC).value
        elif request.price is not None:
            raise BadRequest(self.name, -1106, "MARKET order with a price")
        return params

    def place_order(self, request: OrderRequest) -> Order:
        params = self.order_params(request)
        if self.safe_mode:
            self._call("order/test", self.client.futures_create_test_order, mutating=False, **params)
            self.log.warning(
                "[executor] SAFE_MODE %s %s %s positionSide=%s qty=%s cid=%s: validated by "
                "POST /fapi/v1/order/test, not sent",
                self.name,
                request.symbol,
                request.side.value,
                params["positionSide"],
                params["quantity"],
                request.client_order_id,
            )
            raise SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: validated by the test endpoint, not sent")
        post_only = request.time_in_force is TimeInForce.POST_ONLY
        self._tracker.track(request.client_order_id, request.intent_id, "maker" if post_only else "taker")
        try:
            payload = self._call("order:post", self.client.futures_create_order, mutating=True, **params)
        except UnknownOutcome as exc:
            return self._reconcile(request, exc)
        except BadRequest as exc:
            if exc.code == "-5022":  # post-only would have matched: expired, like the paper venue
                return Order(
                    self.name,
                    request.symbol,
                    request.client_order_id,
                    OrderStatus.EXPIRED,
                    request.side,
                    request.position_side,
                    request.order_type,
                    request.quantity,
                    price=request.price,
                    reject_code=exc.code,
                    reject_reason=exc.message,
                )
            if exc.code == "-4116":  # duplicated client id: the order exists, report it instead
                found = self.get_order(request.symbol, request.client_order_id)
                if found is not None:
                    return found
            raise
        order = self._seen(parse_order(payload, self.name))
        if not order.status.is_final and request.order_type is OrderType.LIMIT:
            self._tracker.set_liquidity(order.client_order_id, "maker")  # what rests on the book now is maker
        return order

    def on_stream_order(self, o: Mapping[str, Any]) -> Order:
        """An ORDER_TRADE_UPDATE from the user data stream (execution/feeds/account_stream.py)."""
        return self._seen(parse_stream_order(o, self.name))

    def _seen(self, order: Order) -> Order:
        """Every order snapshot passes here: fills of orders this process placed are booked once."""
        if self._tracker.is_tracked(order.client_order_id):
            fees = self.fees(order.symbol) if order.filled_qty > 0 else NO_FEES
            self._tracker.observe(order, fees)
        return order

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        payload = self._call(
            "order:delete",
            self.client.futures_cancel_order,
            mutating=True,
            symbol=symbol,
            origClientOrderId=client_order_id,
        )
        return self._seen(parse_order(payload, self.name))

    def cancel_all(self, symbol: str) -> int:
        open_now = self.open_orders(symbol)
        if open_now:
            self._call("allOpenOrders", self.client.futures_cancel_all_open_orders, mutating=True, symbol=symbol)
        return len(open_now)

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        try:
            payload = self._call(
                "order:get", self.client.futures_get_order, symbol=symbol, origClientOrderId=client_order_id
            )
        except OrderNotFound:
            return None
        return self._seen(parse_order(payload, self.name))

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        if symbol is None:
            rows = self._call("openOrders:all", self.client.futures_get_open_orders)
        else:
            rows = self._call("openOrders", self.client.futures_get_open_orders, symbol=symbol)
        return [self._seen(parse_order(r, self.name)) for r in rows]

    # -- account -------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        return parse_positions(self._call("positionRisk", self.client.futures_position_information), self.name)

    def balance(self) -> Balance:
        return parse_balance(self._call("balance", self.client.futures_account_balance))

    def arm_cancel_all_after(self, symbol: str, timeout_ms: int) -> bool:
        """POST /fapi/v1/countdownCancelAll: cancel the symbol's orders unless re-armed in time (0 disarms)."""
        if timeout_ms < 0:
            raise ValueError(f"timeout_ms must be >= 0, got {timeout_ms}")
        self._call(
            "countdownCancelAll",
            self.client.futures_countdown_cancel_all,
            mutating=True,
            symbol=symbol,
            countdownTime=int(timeout_ms),
        )
        return True

    def close(self) -> None:
        self.client.session.close()
