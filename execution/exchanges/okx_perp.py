"""OKX perpetual swaps adapter (python-okx, v5 REST), long/short (hedge) position mode.

python-okx returns error answers as data instead of raising: every call goes through
`RestVenue._call` (throttle, clock resync once, back-off, unknown outcomes), whose `_invoke` here
checks `code` and every `sCode` (`okx_parsers.parse_error`). Sizes go out in contracts, converted
from base units by `okx_parsers.Contracts` only. python-okx defaults to demo trading (flag "1");
this adapter always passes the flag explicitly: "0" live, "1" demo (x-simulated-trading).
SAFE_MODE: OKX has no test-order endpoint, so orders are refused locally with a log line.

Protective orders are OKX algo orders (`okx_triggers`, the adapter's layer for them; bodies and
rows in `okx_algo`): one `oco` order carries both the stop and the take-profit, so when one fires
OKX removes the other itself. Every order-book order carries
the tag ORDER_TAG and the dead-man switch (cancel-all-after) is armed for that tag only: it can
cancel nothing else (docs/RISK_AND_GUARDS.md, "Dead-man switch and protective orders").
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from okx import Account, MarketData, PublicData, Trade

from execution import clock
from execution.exchanges.errors import (
    BadRequest,
    FilterFailure,
    MalformedAnswer,
    OrderNotFound,
    RateLimited,
    SafeModeRefused,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
)
from execution.exchanges.httpx_deadline import DeadlineClient
from execution.exchanges.okx_parsers import (
    TD_MODE,
    VENUE,
    contracts_of,
    one_row,
    parse_balance,
    parse_book_top,
    parse_error,
    parse_fees,
    parse_funding,
    parse_instruments,
    parse_order,
    parse_order_fee,
    parse_position,
    parse_position_tiers,
)
from execution.exchanges.okx_triggers import OkxTriggers
from execution.exchanges.rest_venue import Lost, can_rest
from execution.exchanges.throttle import Throttler, okx_perp_throttler
from execution.exchanges.wire import MAX_LEVERAGE, Fields, fmt, rows_of, sketch
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
    OrderStatus,
    OrderType,
    Position,
    TimeInForce,
)

LIVE_URL = "https://www.okx.com"
FLAG_LIVE, FLAG_DEMO = "0", "1"
ORDER_TAG = "hfbot"  # on every order-book order: the dead-man switch cancels this tag only


# ---------------------------------------------------------------------------------------------
class _VenueClock:
    """python-okx stamps requests with the local clock; with `use_server_time` on it asks
    `_get_timestamp()` instead, which here is the local clock plus our measured offset (no request)."""

    offset_ms: float = 0.0

    def _get_timestamp(self) -> str:
        ms = clock.wall_ms() + self.offset_ms
        t = datetime.fromtimestamp(ms / 1000.0, tz=UTC)
        return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Trade(_VenueClock, Trade.TradeAPI, DeadlineClient): ...


class _Account(_VenueClock, Account.AccountAPI, DeadlineClient): ...


class _Public(_VenueClock, PublicData.PublicAPI, DeadlineClient): ...


class _Market(_VenueClock, MarketData.MarketAPI, DeadlineClient): ...


_ORD_TYPE = {
    None: "limit",
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}


class OkxPerp(OkxTriggers):
    name = VENUE
    supports_triggers = True
    native_oco = True
    order_endpoint = "/api/v5/trade/order"
    DUPLICATE_ID_CODES = frozenset({"51016"})  # "Duplicated clOrdId"

    def __init__(
        self,
        api_key: str,
        api_secret: str,
        passphrase: str,
        *,
        demo: bool,
        domain: str = LIVE_URL,
        safe_mode: bool = True,
        margin_type: MarginType = MarginType.ISOLATED,
        config_fees: FeeSchedule | None = None,
        timeout_s: float = 10.0,
        throttler: Throttler | None = None,
        reconcile_delays_s: tuple[float, ...] = (0.0, 0.3, 1.0),
        fill_poll_delays_s: tuple[float, ...] = (0.0, 0.1, 0.3, 0.6),
        sleep: Callable[[float], None] | None = None,
        filters_ttl_ms: int = 3_600_000,
    ):
        super().__init__(
            safe_mode=safe_mode,
            config_fees=config_fees,
            throttler=throttler or okx_perp_throttler(),
            reconcile_delays_s=reconcile_delays_s,
            sleep=sleep,
            filters_ttl_ms=filters_ttl_ms,
            secrets=(api_key, api_secret, passphrase),
        )
        self.flag = FLAG_DEMO if demo else FLAG_LIVE  # explicit: python-okx would default to demo
        self.domain = domain.rstrip("/")
        self.margin = margin_type
        self.fill_poll_delays_s = fill_poll_delays_s
        args = dict(
            api_key=api_key or "-1",
            api_secret_key=api_secret or "-1",
            passphrase=passphrase or "-1",
            flag=self.flag,
            domain=self.domain,
            debug=False,
        )
        self.trade = _Trade(**args)
        self.account = _Account(**args)
        self.public = _Public(**args)
        self.market = _Market(**args)
        self._last: dict[str, Any] = {}
        for api in self._apis:
            api.use_server_time = True  # -> _VenueClock._get_timestamp (no request to OKX)
            # VENUE_TIMEOUT_S bounds each read and the whole answer (execution/exchanges/http_deadline.py)
            api.timeout = httpx.Timeout(timeout_s)
            api.deadline_transport.total_s = timeout_s
            api.event_hooks = {"request": [], "response": [self._on_response]}

    @property
    def _apis(self) -> tuple[Any, ...]:
        return (self.trade, self.account, self.public, self.market)

    # -- the template's hooks: python-okx hands error payloads back as data --------------------
    def _on_response(self, response: httpx.Response) -> None:
        self._last = {"status": response.status_code, "headers": dict(response.headers), "text": ""}
        if response.status_code >= 400:
            response.read()
            self._last["text"] = response.text[:500]

    def _invoke(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Returns the answer's `data` rows after checking `code` and every `sCode`."""
        self._last = {"status": 0, "headers": {}, "text": ""}
        payload = fn(*args, **kwargs)
        err = parse_error(int(self._last.get("status") or 200), payload, self._last.get("headers") or {}, self.name)
        if err is not None:
            raise err
        if not isinstance(payload, Mapping):  # a success is an envelope: text that reads as one is not
            raise MalformedAnswer(self.name, "answer", f"expected an object, got {sketch(payload)}")
        data = payload.get("data")
        return rows_of(data, self.name, "answer.data") if data is not None else []

    def _http_status(self) -> int:
        return int(self._last.get("status") or 0)

    def _lost_request(self, exc: Exception) -> Lost | None:
        if not isinstance(exc, httpx.TransportError):
            return None
        not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
        return Lost(timed_out=isinstance(exc, httpx.TimeoutException), may_have_arrived=not not_sent)

    def _library_error(self, exc: Exception) -> VenueError | None:
        if isinstance(exc, RecursionError):  # a body nested deeper than the JSON parser goes
            return UnknownOutcome(self.name, "BAD_RESPONSE", "answer nested too deep to read")
        if not isinstance(exc, ValueError):
            return None
        status = int(self._last.get("status") or 0)  # not JSON: an HTML 5xx page, an empty body
        err = parse_error(status or 502, self._last.get("text", ""), self._last.get("headers"), self.name)
        return err or UnknownOutcome(self.name, f"HTTP {status}", "answer is not JSON")

    def _time_request(self) -> tuple[str, Callable[..., Any]]:
        return "public/time", self.public.get_system_time

    def _server_ms(self, result: Any) -> int:
        return Fields(one_row(result, self.name, "public/time"), self.name, "public/time").ms("ts")

    def _use_clock_offset(self, offset_ms: float) -> None:
        for api in self._apis:
            api.offset_ms = offset_ms

    # -- reference data ------------------------------------------------------------------------
    def _fetch_filters(self) -> Listing:
        data = self._call("public/instruments", self.public.get_instruments, signed=False, instType="SWAP")
        return parse_instruments(data, self.name)

    def _unknown_symbol(self, symbol: str) -> BadRequest:
        return BadRequest(self.name, "51001", f"Instrument ID {symbol} does not exist (or is not a linear swap)")

    def _fetch_margin_tiers(self, symbol: str) -> dict[str, MarginSchedule]:
        """GET /api/v5/public/position-tiers (public) for the swap's instrument family in our
        margin mode; sizes come in contracts and are converted with the instrument's ctVal."""
        data = self._call(
            "public/position-tiers",
            self.public.get_position_tiers,
            signed=False,
            instType="SWAP",
            tdMode=TD_MODE[self.margin],
            instFamily=symbol.removesuffix("-SWAP"),
        )
        return {symbol: parse_position_tiers(data, symbol, self.filters(symbol).contract_value, self.name)}

    def _fetch_fees(self, symbol: str) -> FeeSchedule:
        family = symbol.rsplit("-", 1)[0] if symbol.endswith("-SWAP") else symbol
        return parse_fees(
            self._call("account/trade-fee", self.account.get_fee_rates, instType="SWAP", instFamily=family)
        )

    def funding(self, symbol: str) -> FundingInfo:
        rate = self._call("public/funding-rate", self.public.get_funding_rate, signed=False, instId=symbol)
        mark = self._call("public/mark-price", self.public.get_mark_price, signed=False, instType="SWAP", instId=symbol)
        return parse_funding(rate, mark, self.name)

    def book_top(self, symbol: str) -> BookTop:
        data = self._call("market/ticker", self.market.get_ticker, signed=False, instId=symbol)
        return parse_book_top(data, self.filters(symbol).contract_value, self.name)

    # -- account configuration -----------------------------------------------------------------
    def is_dual_side(self) -> bool:
        data = self._call("account/config", self.account.get_account_config)
        self._dual_side = one_row(data, self.name, "account/config").get("posMode") == "long_short_mode"
        return self._dual_side

    def set_dual_side(self, enabled: bool) -> bool:
        if self.is_dual_side() == enabled:
            return False
        self._call(
            "account/set-position-mode",
            self.account.set_position_mode,
            mutating=True,
            posMode="long_short_mode" if enabled else "net_mode",
        )
        self._dual_side = enabled
        return True

    def margin_type(self, symbol: str) -> MarginType:
        """OKX has no per-instrument margin setting: each order carries tdMode, this adapter's mode."""
        return self.margin

    def set_margin_type(self, symbol: str, margin_type: MarginType) -> bool:
        changed = margin_type is not self.margin
        self.margin = margin_type
        return changed

    def _leverage_rows(self, symbol: str) -> list[Mapping[str, Any]]:
        return self._call(
            "account/leverage-info", self.account.get_leverage, mgnMode=TD_MODE[self.margin], instId=symbol
        )

    def _lever(self, row: Any) -> int:
        return Fields(row, self.name, "account/leverage-info").integer("lever", low=1, high=MAX_LEVERAGE)

    def leverage(self, symbol: str) -> int:
        rows = self._leverage_rows(symbol)
        if not rows:
            raise BadRequest(self.name, "51000", f"no leverage info for {symbol}")
        return max(self._lever(r) for r in rows)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        rows = self._leverage_rows(symbol)
        if rows and all(self._lever(r) == leverage for r in rows):
            return False
        mode = TD_MODE[self.margin]
        long_short = self._dual_side if self._dual_side is not None else self.is_dual_side()
        sides = ("long", "short") if mode == "isolated" and long_short else ("",)
        for pos_side in sides:  # isolated long/short mode keeps one leverage per side
            self._call(
                "account/set-leverage",
                self.account.set_leverage,
                mutating=True,
                lever=str(leverage),
                mgnMode=mode,
                instId=symbol,
                posSide=pos_side,
            )
        return True

    # -- orders --------------------------------------------------------------------------------
    def order_body(self, request: OrderRequest) -> dict[str, Any]:
        """The exact POST /api/v5/trade/order body for a request (long/short mode unless known net)."""
        f = self.filters(request.symbol)
        try:
            sz = contracts_of(f).from_base(request.quantity)
        except ValueError as exc:
            raise FilterFailure(self.name, "51121", str(exc)) from None
        body: dict[str, Any] = {
            "instId": request.symbol,
            "tdMode": TD_MODE[self.margin],
            "side": request.side.value.lower(),
            "sz": fmt(sz),
            "clOrdId": request.client_order_id,
            "tag": ORDER_TAG,
        }
        position_side, reduce_only = self._position_fields(request)
        if reduce_only:
            body["reduceOnly"] = "true"
        if position_side is not None:
            body["posSide"] = position_side.value.lower()
        if request.order_type is OrderType.MARKET:
            if request.price is not None:
                raise BadRequest(self.name, "51000", "Parameter px error: MARKET order with a price")
            body["ordType"] = "market"
        else:
            if request.price is None:
                raise BadRequest(self.name, "51000", "Parameter px error: LIMIT order without a price")
            body["ordType"] = _ORD_TYPE[request.time_in_force]
            body["px"] = fmt(request.price)
        return body

    def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        return self.order_body(request)

    def _safe_mode_refusal(self, request: OrderRequest, body: dict[str, Any]) -> SafeModeRefused:
        self.log.warning(
            "[executor] SAFE_MODE %s %s %s posSide=%s sz=%s cid=%s: refused, OKX has no test-order "
            "endpoint; nothing sent",
            self.name,
            request.symbol,
            body["side"],
            body.get("posSide", "net"),
            body["sz"],
            request.client_order_id,
        )
        return SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: OKX orders are refused (no test endpoint)")

    def _submit(self, body: dict[str, Any]) -> Any:
        return self._call("trade/order:post", self.trade.place_order, mutating=True, **body)

    def _placed(self, request: OrderRequest, answer: Any) -> Order:
        """The ack carries no state: query the order, until final for market/IOC/FOK orders."""
        immediate = not can_rest(request)  # market, ioc, fok: final within moments of the ack
        delays = self.fill_poll_delays_s if immediate else self.fill_poll_delays_s[:1]
        order = None
        for delay in delays:
            if delay:
                self._sleep(delay)
            try:
                order = self.get_order(request.symbol, request.client_order_id)
            except (VenueUnavailable, RateLimited):
                continue
            if order is not None and (order.status.is_final or not immediate):
                break
        if order is not None:
            return order
        ack_row = Fields(one_row(answer, self.name, "order"), self.name, "order")  # accepted; state comes later
        return Order(
            self.name,
            request.symbol,
            request.client_order_id,
            OrderStatus.NEW,
            request.side,
            request.position_side,
            request.order_type,
            request.quantity,
            price=request.price,
            venue_order_id=ack_row.text("ordId", ""),
            update_ms=ack_row.ms("ts", 0),
        )

    def on_stream_order(self, row: Mapping[str, Any]) -> Order:
        """A row of the private `orders` channel (same fields as the REST order): sizes in contracts."""
        return self._seen(row)

    def _seen(self, row: Mapping[str, Any]) -> Order:
        fields = Fields(row, self.name, "order")
        order = parse_order(row, self.filters(fields.text("instId")).contract_value, self.name)
        if not order.client_order_id:  # placed by one of our algo orders
            order.client_order_id = fields.text("algoClOrdId", "")
        return self._observe(order, parse_order_fee(row))

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        self._call("trade/cancel-order", self.trade.cancel_order, mutating=True, instId=symbol, clOrdId=client_order_id)
        order = self.get_order(symbol, client_order_id)
        if order is None:
            raise OrderNotFound(self.name, "51603", f"order {client_order_id} not found after cancel")
        return order

    def cancel_all(self, symbol: str) -> int:
        """OKX has no cancel-all for plain orders: cancel the pending ones in batches of 20."""
        pending = self._call("trade/orders-pending", self.trade.get_order_list, instType="SWAP", instId=symbol)
        ids = [{"instId": symbol, "ordId": Fields(r, self.name, "orders-pending").text("ordId")} for r in pending]
        for i in range(0, len(ids), 20):
            self._call("trade/cancel-batch-orders", self.trade.cancel_multiple_orders, ids[i : i + 20], mutating=True)
        return len(ids)

    def _fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        data = self._call("trade/order:get", self.trade.get_order, instId=symbol, clOrdId=client_order_id)
        return self._seen(one_row(data, self.name, "order")) if data else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        rows = self._call("trade/orders-pending", self.trade.get_order_list, instType="SWAP", instId=symbol or "")
        return [self._seen(r) for r in rows]

    # -- account -------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        rows = self._call("account/positions", self.account.get_positions, instType="SWAP")
        out = []
        for r in rows:
            p = parse_position(r, self._ct_val_of(r, "positions"), self.name)
            if p is not None:
                out.append(p)
        return out

    def balance(self) -> Balance:
        return parse_balance(self._call("account/balance", self.account.get_account_balance, ccy="USDT"))

    def _arm_countdown(self, symbol: str, timeout_ms: int) -> None:
        """POST /api/v5/trade/cancel-all-after. OKX's timer is account-wide (every instrument, not only
        `symbol`), in whole seconds, 10..120 (0 disarms): shorter asks are raised to 10 s."""
        seconds = 0 if timeout_ms == 0 else min(120, max(10, math.ceil(timeout_ms / 1000)))
        self._call(
            "trade/cancel-all-after",
            self.trade._request_with_params,
            "POST",
            "/api/v5/trade/cancel-all-after",
            {"timeOut": str(seconds), "tag": ORDER_TAG},  # tag level: only our order-book orders
            mutating=True,
        )

    def close(self) -> None:
        for api in self._apis:
            api.close()
