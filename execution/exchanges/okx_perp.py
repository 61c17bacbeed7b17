"""OKX perpetual swaps adapter (python-okx, v5 REST), long/short (hedge) position mode.

Pure parsers, from one row of the venue's `data` array (the `{"code","msg","data"}` envelope is
accepted too and unwrapped) to the unified model; OKX sizes are contracts, so the parsers that
see sizes take the instrument's ctVal:
    parse_instruments(payload)          -> {instId: SymbolFilters}   GET /api/v5/public/instruments (linear only)
    parse_filters(instrument)           -> SymbolFilters             one linear SWAP instrument
    parse_fees(row)                     -> FeeSchedule               GET /api/v5/account/trade-fee
    parse_funding(funding_row, mark_row)-> FundingInfo               GET /public/funding-rate (+ /public/mark-price)
    parse_book_top(ticker_row, ct_val)  -> BookTop                   GET /api/v5/market/ticker
    parse_position(row, ct_val)         -> Position | None           GET /api/v5/account/positions
    parse_positions(payload, ct_vals)   -> [Position]                the whole answer; ct_vals {instId: ctVal}
    parse_order(row, ct_val)            -> Order                     GET /api/v5/trade/order, orders-pending
    parse_order_fee(row)                -> Decimal | None            cumulative fee of an order in USDT
    parse_balance(row, ccy)             -> Balance                   GET /api/v5/account/balance
    parse_error(status, body, headers)  -> VenueError | None         checks `code` and every `sCode` (or parse_error(body))
Contracts <-> base units happen in exactly one place: `Contracts`.

python-okx returns error answers as data instead of raising: every call goes through `_call`,
which checks `code` and every `sCode`. python-okx defaults to demo trading (flag "1"); this
adapter always passes the flag explicitly: "0" live, "1" demo (x-simulated-trading).
SAFE_MODE: OKX has no test-order endpoint, so orders are refused locally with a log line.
"""

from __future__ import annotations

import json
import math
import time as _time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
from okx import Account, MarketData, PublicData, Trade

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
from execution.exchanges.throttle import Throttler, okx_perp_throttler
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

VENUE = "okx_perp"
LIVE_URL = "https://www.okx.com"
FLAG_LIVE, FLAG_DEMO = "0", "1"
NO_FEES = FeeSchedule(Decimal(0), Decimal(0))


def _d(value: Any, default: str = "0") -> Decimal:
    if value is None or value == "":
        return Decimal(default)
    return Decimal(str(value))


def fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _row(payload: Any) -> Mapping[str, Any]:
    """Accept a data row, the `{"code","data":[...]}` envelope, or a one-row list."""
    if isinstance(payload, Mapping) and "data" in payload and isinstance(payload["data"], list):
        payload = payload["data"]
    if isinstance(payload, list):
        if not payload:
            raise ValueError("empty OKX data array")
        payload = payload[0]
    return payload


def _rows(payload: Any) -> list[Mapping[str, Any]]:
    if isinstance(payload, Mapping) and isinstance(payload.get("data"), list):
        return payload["data"]
    return list(payload) if isinstance(payload, list) else [payload]


class Contracts:
    """The one place where OKX contracts and base units meet: base = contracts x ctVal."""

    def __init__(self, ct_val: Decimal, lot_size: Decimal = Decimal(0)):
        if ct_val <= 0:
            raise ValueError(f"ctVal must be > 0, got {ct_val}")
        self.ct_val = ct_val
        self.lot_size = lot_size

    def to_base(self, contracts: Any) -> Decimal:
        return _d(contracts) * self.ct_val

    def from_base(self, qty: Decimal) -> Decimal:
        """Exact contracts for a base quantity; refuses a quantity that is not a whole number of lots."""
        contracts = qty / self.ct_val
        if self.lot_size and contracts % self.lot_size != 0:
            raise ValueError(
                f"{qty} is {contracts} contracts (ctVal {self.ct_val}): not a multiple of lotSz "
                f"{self.lot_size}; round with execution.filters first"
            )
        return contracts


# ---------------------------------------------------------------------------------------------
# parsers (pure)
def parse_filters(inst: Mapping[str, Any], venue: str = VENUE) -> SymbolFilters:
    inst = _row(inst)
    if inst.get("instType") not in (None, "SWAP", "FUTURES"):
        raise ValueError(f"{inst.get('instId')}: instType {inst.get('instType')} is not a swap")
    if inst.get("ctType") == "inverse":
        raise ValueError(
            f"{inst.get('instId')}: inverse contract (ctVal {inst.get('ctVal')} "
            f"{inst.get('ctValCcy')}) is not supported: sizes would not be in base units"
        )
    c = Contracts(_d(inst["ctVal"]) * _d(inst.get("ctMult"), "1"))
    lot, min_sz = _d(inst["lotSz"]), _d(inst["minSz"])
    max_lmt = _d(inst.get("maxLmtSz"))
    max_mkt = _d(inst.get("maxMktSz"))
    return SymbolFilters(
        venue=venue,
        symbol=inst["instId"],
        tick_size=_d(inst["tickSz"]),
        step_size=c.to_base(lot),
        min_qty=c.to_base(min_sz),
        max_qty=c.to_base(max_lmt),
        min_notional=Decimal(0),
        market_step_size=c.to_base(lot),
        market_max_qty=c.to_base(max_mkt) if max_mkt else None,
        contract_value=c.ct_val,
        source="venue",
    )


def parse_instruments(payload: Any, venue: str = VENUE) -> dict[str, SymbolFilters]:
    """Linear swaps only (USDT-margined); inverse instruments are skipped."""
    return {i["instId"]: parse_filters(i, venue) for i in _rows(payload) if i.get("ctType", "linear") == "linear"}


def contracts_of(filters: SymbolFilters) -> Contracts:
    return Contracts(filters.contract_value, filters.step_size / filters.contract_value)


def parse_fees(row: Any) -> FeeSchedule:
    """OKX quotes fees as negative numbers (-0.0005 = you pay 5 bps); USDT-margined swaps use makerU/takerU."""
    row = _row(row)
    maker = row.get("makerU") or row.get("maker")
    taker = row.get("takerU") or row.get("taker")
    return FeeSchedule(maker_rate=-_d(maker), taker_rate=-_d(taker))


def parse_funding(funding_row: Any, mark_row: Any | None = None, venue: str = VENUE) -> FundingInfo:
    f = _row(funding_row)
    mark = _d(_row(mark_row).get("markPx")) if mark_row is not None else _d(f.get("markPx"))
    return FundingInfo(
        venue=venue,
        symbol=f["instId"],
        mark_price=mark,
        funding_rate=_d(f.get("fundingRate")),
        next_funding_time_ms=int(f.get("fundingTime") or 0),
    )


def parse_book_top(row: Any, ct_val: Decimal, venue: str = VENUE) -> BookTop:
    t = _row(row)
    c = Contracts(ct_val)
    return BookTop(
        venue=venue,
        symbol=t["instId"],
        bid=_d(t["bidPx"]),
        bid_qty=c.to_base(t.get("bidSz")),
        ask=_d(t["askPx"]),
        ask_qty=c.to_base(t.get("askSz")),
        ts=int(t.get("ts") or 0),
    )


def parse_position(row: Any, ct_val: Decimal, venue: str = VENUE) -> Position | None:
    p = _row(row)
    pos = _d(p.get("pos"))
    if pos == 0:
        return None
    pos_side = p.get("posSide", "net")
    if pos_side in ("long", "short"):
        pside = PositionSide.LONG if pos_side == "long" else PositionSide.SHORT
    else:
        pside = PositionSide.LONG if pos > 0 else PositionSide.SHORT
    lever = p.get("lever")
    return Position(
        venue=venue,
        symbol=p["instId"],
        position_side=pside,
        qty=Contracts(ct_val).to_base(abs(pos)),
        entry_price=_d(p.get("avgPx")),
        mark_price=_d(p.get("markPx")),
        leverage=int(Decimal(lever)) if lever not in (None, "") else 1,
        opened_ts=int(p.get("cTime") or 0),
    )


def parse_positions(payload: Any, ct_vals: Mapping[str, Decimal], venue: str = VENUE) -> list[Position]:
    out = []
    for row in _rows(payload):
        if row.get("instId") not in ct_vals:
            raise ValueError(f"no ctVal for {row.get('instId')}: its size in contracts cannot be converted")
        p = parse_position(row, ct_vals[row["instId"]], venue)
        if p is not None:
            out.append(p)
    return out


_STATE = {
    "live": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}


def parse_order(row: Any, ct_val: Decimal, venue: str = VENUE) -> Order:
    o = _row(row)
    c = Contracts(ct_val)
    side = Side.BUY if o["side"] == "buy" else Side.SELL
    pos_side = o.get("posSide", "net")
    if pos_side in ("long", "short"):
        pside = PositionSide.LONG if pos_side == "long" else PositionSide.SHORT
    else:  # net mode: a reduce-only order shrinks the opposite side
        reduce = str(o.get("reduceOnly", "false")).lower() == "true"
        pside = PositionSide.SHORT if (side is Side.BUY) == reduce else PositionSide.LONG
    px = _d(o.get("px"))
    return Order(
        venue=venue,
        symbol=o["instId"],
        client_order_id=o.get("clOrdId", ""),
        status=_STATE.get(o.get("state", ""), OrderStatus.UNKNOWN),
        side=side,
        position_side=pside,
        order_type=OrderType.MARKET if o.get("ordType") in ("market", "optimal_limit_ioc") else OrderType.LIMIT,
        quantity=c.to_base(o.get("sz")),
        filled_qty=c.to_base(o.get("accFillSz")),
        avg_price=_d(o.get("avgPx")),
        price=px if px > 0 else None,
        venue_order_id=str(o.get("ordId", "")),
        update_ms=int(o.get("uTime") or o.get("cTime") or 0),
    )


def parse_order_fee(row: Any) -> Decimal | None:
    """Cumulative fee paid on an order in USDT (OKX reports it negative); None if charged in another ccy."""
    o = _row(row)
    if o.get("feeCcy") not in ("USDT", None, "") or o.get("fee") in (None, ""):
        return None
    return -_d(o.get("fee"))


def parse_balance(row: Any, ccy: str = "USDT") -> Balance:
    acct = _row(row)
    for d in acct.get("details", []):
        if d.get("ccy") == ccy:
            avail = d.get("availEq") or d.get("availBal")
            return Balance(
                asset=ccy,
                wallet_balance=_d(d.get("cashBal")),
                available_balance=_d(avail),
                unrealized_pnl=_d(d.get("upl")),
            )
    return Balance(ccy, Decimal(0), Decimal(0))


_RATE = {"50011", "50040", "50061"}
_AUTH = {
    "50100",
    "50101",
    "50103",
    "50104",
    "50105",
    "50106",
    "50107",
    "50110",
    "50111",
    "50112",
    "50113",
    "50114",
    "50119",
    "50120",
    "50030",
}
_MARGIN = {"51008", "51119", "51127", "51131"}
_FILTER = {"51020", "51121", "51201", "51202", "51004", "51005", "51006", "51120", "51204"}
_REDUCE = {"51169", "51170", "51112", "51205", "51178"}
_NOT_FOUND = {"51603", "51400", "51401", "51402"}
_UNKNOWN = {"50004", "50026"}
_UNAVAILABLE = {"50001", "50005", "50013", "50156"}


def parse_error(  # noqa: C901 - one table of documented error codes
    status: Any, body: Any = None, headers: Mapping[str, str] | None = None, venue: str = VENUE
) -> VenueError | None:
    """The typed error of an answer, or None when it is a success: checks `code` and every `sCode`.
    `parse_error(body)` alone reads the body as an HTTP 200 answer (python-okx hands back only bodies)."""
    if not isinstance(status, int):
        status, body = 200, status
    payload: Any = body
    if isinstance(body, (str, bytes)):
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
    if not isinstance(payload, Mapping):
        payload = {}
    code = str(payload.get("code", "")) if payload.get("code") is not None else ""
    msg = str(payload.get("msg") or "")
    failed = [d for d in payload.get("data") or [] if isinstance(d, Mapping) and str(d.get("sCode", "0")) != "0"]
    if failed:  # the per-item code says what went wrong; the top code only says "operation failed"
        code, msg = str(failed[0]["sCode"]), str(failed[0].get("sMsg") or msg)
    elif code == "0" and status < 400:
        return None
    if not code:
        if status == 429:
            return RateLimited(
                venue, "HTTP 429", msg or "Too Many Requests", retry_after_s=_retry_after(headers) or 1.0
            )
        text = msg or (body if isinstance(body, str) else "") or f"HTTP {status}"
        if status == 503:
            return VenueUnavailable(venue, f"HTTP {status}", text[:300])
        if status >= 500:
            return UnknownOutcome(venue, f"HTTP {status}", text[:300])
        if status in (401, 403):
            return AuthError(venue, f"HTTP {status}", text[:300])
        return BadRequest(venue, f"HTTP {status}", text[:300])
    if code in _RATE or status == 429:
        return RateLimited(venue, code, msg, retry_after_s=_retry_after(headers) or 1.0)
    if code == "50102":
        return ClockSkew(venue, code, msg)
    if code in _AUTH:
        return AuthError(venue, code, msg)
    if code in _MARGIN:
        return InsufficientMargin(venue, code, msg)
    if code in _FILTER:
        return FilterFailure(venue, code, msg)
    if code in _REDUCE:
        return ReduceOnlyRejected(venue, code, msg)
    if code in _NOT_FOUND:
        return OrderNotFound(venue, code, msg)
    if code in _UNKNOWN:
        return UnknownOutcome(venue, code, msg)
    if code in _UNAVAILABLE:
        return VenueUnavailable(venue, code, msg)
    if code == "51000":  # "Parameter {param} error": which parameter decides the meaning
        if "posSide" in msg:
            return PositionSideMismatch(venue, code, msg)
        if "px" in msg or "sz" in msg:
            return FilterFailure(venue, code, msg)
    return BadRequest(venue, code, msg)


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    if not headers:
        return None
    raw = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


# ---------------------------------------------------------------------------------------------
class _VenueClock:
    """python-okx stamps requests with the local clock; with `use_server_time` on it asks
    `_get_timestamp()` instead, which here is the local clock plus our measured offset (no request)."""

    offset_ms: float = 0.0

    def _get_timestamp(self) -> str:
        ms = clock.wall_ms() + self.offset_ms
        t = datetime.fromtimestamp(ms / 1000.0, tz=UTC)
        return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Trade(_VenueClock, Trade.TradeAPI): ...


class _Account(_VenueClock, Account.AccountAPI): ...


class _Public(_VenueClock, PublicData.PublicAPI): ...


class _Market(_VenueClock, MarketData.MarketAPI): ...


_ORD_TYPE = {
    None: "limit",
    TimeInForce.GTC: "limit",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.POST_ONLY: "post_only",
}
_TD_MODE = {MarginType.ISOLATED: "isolated", MarginType.CROSS: "cross"}


class OkxPerp(RestVenue):
    name = VENUE
    is_exchange = True

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
        self.flag = FLAG_DEMO if demo else FLAG_LIVE  # explicit: python-okx would default to demo
        self.domain = domain.rstrip("/")
        self.safe_mode = safe_mode
        self.margin = margin_type
        self.config_fees = config_fees
        self.throttle = throttler or okx_perp_throttler()
        self.clock = ClockOffset()
        self._clock_synced = False
        self.reconcile_delays_s = reconcile_delays_s
        self.fill_poll_delays_s = fill_poll_delays_s
        self._sleep = sleep or _time.sleep
        self._secrets = tuple(s for s in (api_key, api_secret, passphrase) if s)
        self.log = logs.get()
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
            api.timeout = httpx.Timeout(timeout_s)
            api.event_hooks = {"request": [], "response": [self._on_response]}
        self._filters: dict[str, SymbolFilters] = {}
        self._filters_ms = 0
        self._filters_ttl_ms = filters_ttl_ms
        self._fees: dict[str, FeeSchedule] = {}
        self._long_short: bool | None = None
        self._tracker = FillTracker(self.name)
        self._venue_fee: dict[str, Decimal | None] = {}

    @property
    def _apis(self) -> tuple[Any, ...]:
        return (self.trade, self.account, self.public, self.market)

    # -- plumbing ------------------------------------------------------------------------------
    def _on_response(self, response: httpx.Response) -> None:
        self._last = {"status": response.status_code, "headers": dict(response.headers), "text": ""}
        if response.status_code >= 400:
            response.read()
            self._last["text"] = response.text[:500]

    def _call(
        self,
        endpoint: str,
        fn: Callable[..., Any],
        *args: Any,
        mutating: bool = False,
        signed: bool = True,
        **kwargs: Any,
    ) -> list[Mapping[str, Any]]:
        """One request; returns `data` or raises the typed error (code and every sCode checked)."""
        if signed and not self._clock_synced:
            self.sync_clock()
        for attempt in (0, 1):
            self.throttle.acquire(endpoint)
            self._last = {"status": 0, "headers": {}, "text": ""}
            try:
                payload = fn(*args, **kwargs)
            except httpx.TransportError as exc:
                kind = "TIMEOUT" if isinstance(exc, httpx.TimeoutException) else "DISCONNECTED"
                not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
                detail = f"{endpoint}: {type(exc).__name__}"
                if mutating and not not_sent:
                    raise UnknownOutcome(self.name, kind, f"{detail}; the venue may have acted") from None
                raise VenueUnavailable(self.name, kind, detail) from None
            except ValueError:  # not JSON (an HTML 5xx page, an empty body)
                status = int(self._last.get("status") or 0)
                err = parse_error(status or 502, self._last.get("text", ""), self._last.get("headers"), self.name)
                err = err or UnknownOutcome(self.name, f"HTTP {status}", "answer is not JSON")
                if isinstance(err, UnknownOutcome) and not mutating:
                    err = VenueUnavailable(self.name, err.code, err.message)
                raise err from None
            status = int(self._last.get("status") or 200)
            headers = self._last.get("headers") or {}
            err = parse_error(status, payload, headers, self.name)
            if err is None:
                self.throttle.on_success()
                return list(payload.get("data") or [])
            if isinstance(err, RateLimited):
                waited = self.throttle.on_rate_limited(_retry_after(headers))
                err.retry_after_s = max(err.retry_after_s, waited)
                self.log.warning(
                    "[executor] RATE_LIMIT %s code=%s: backing off %.1fs", self.name, err.code, err.retry_after_s
                )
            elif isinstance(err, ClockSkew) and attempt == 0:
                offset = self.sync_clock()
                self.log.warning(
                    "[executor] CLOCK %s code=50102 on %s: resynced offset %.0fms, retrying once",
                    self.name,
                    endpoint,
                    offset,
                )
                continue
            elif isinstance(err, UnknownOutcome) and not mutating:
                err = VenueUnavailable(self.name, err.code, err.message)
            raise err
        raise AssertionError("unreachable")

    def sync_clock(self, samples: int = 5) -> float:
        def sample() -> tuple[float, float, float]:
            sent = clock.wall_ms()
            data = self._call("public/time", self.public.get_system_time, signed=False)
            return sent, float(data[0]["ts"]), clock.wall_ms()

        offset = self.clock.resync(sample, n=samples)
        for api in self._apis:
            api.offset_ms = offset
        self._clock_synced = True
        return offset

    # -- time and reference data ---------------------------------------------------------------
    def server_time_ms(self) -> int:
        return int(self._call("public/time", self.public.get_system_time, signed=False)[0]["ts"])

    def refresh_filters(self) -> dict[str, SymbolFilters]:
        data = self._call("public/instruments", self.public.get_instruments, signed=False, instType="SWAP")
        self._filters = parse_instruments(data, self.name)
        self._filters_ms = clock.wall_ms()
        return self._filters

    def _unknown_symbol(self, symbol: str) -> BadRequest:
        return BadRequest(self.name, "51001", f"Instrument ID {symbol} does not exist (or is not a linear swap)")

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
        self._long_short = _row(data).get("posMode") == "long_short_mode"
        return self._long_short

    def set_dual_side(self, enabled: bool) -> bool:
        if self.is_dual_side() == enabled:
            return False
        self._call(
            "account/set-position-mode",
            self.account.set_position_mode,
            mutating=True,
            posMode="long_short_mode" if enabled else "net_mode",
        )
        self._long_short = enabled
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
            "account/leverage-info", self.account.get_leverage, mgnMode=_TD_MODE[self.margin], instId=symbol
        )

    def leverage(self, symbol: str) -> int:
        rows = self._leverage_rows(symbol)
        if not rows:
            raise BadRequest(self.name, "51000", f"no leverage info for {symbol}")
        return max(int(Decimal(r["lever"])) for r in rows)

    def set_leverage(self, symbol: str, leverage: int) -> bool:
        rows = self._leverage_rows(symbol)
        if rows and all(int(Decimal(r["lever"])) == leverage for r in rows):
            return False
        mode = _TD_MODE[self.margin]
        long_short = self._long_short if self._long_short is not None else self.is_dual_side()
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
            "tdMode": _TD_MODE[self.margin],
            "side": request.side.value.lower(),
            "sz": fmt(sz),
            "clOrdId": request.client_order_id,
        }
        if self._long_short is False:
            if request.is_closing or request.reduce_only:
                body["reduceOnly"] = "true"
        else:
            body["posSide"] = request.position_side.value.lower()  # close = sell long / buy short, no reduceOnly
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

    def place_order(self, request: OrderRequest) -> Order:
        body = self.order_body(request)
        if self.safe_mode:
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
            raise SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: OKX orders are refused (no test endpoint)")
        post_only = body["ordType"] == "post_only"
        self._tracker.track(request.client_order_id, request.intent_id, "maker" if post_only else "taker")
        try:
            ack = self._call("trade/order:post", self.trade.place_order, mutating=True, **body)
        except UnknownOutcome as exc:
            return self._reconcile(request, exc)
        except BadRequest as exc:
            if exc.code == "51016":  # duplicated clOrdId: the order exists, report it instead
                found = self.get_order(request.symbol, request.client_order_id)
                if found is not None:
                    return found
            raise
        immediate = body["ordType"] in ("market", "ioc", "fok")  # final within moments of the ack
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
        if order is None:  # accepted; its state will come with the next query
            ack_row = _row(ack)
            order = Order(
                self.name,
                request.symbol,
                request.client_order_id,
                OrderStatus.NEW,
                request.side,
                request.position_side,
                request.order_type,
                request.quantity,
                price=request.price,
                venue_order_id=str(ack_row.get("ordId", "")),
                update_ms=int(ack_row.get("ts") or 0),
            )
        if not order.status.is_final and not immediate:
            self._tracker.set_liquidity(order.client_order_id, "maker")  # what rests on the book now is maker
        return order

    def on_stream_order(self, row: Mapping[str, Any]) -> Order:
        """A row of the private `orders` channel (same fields as the REST order): sizes in contracts."""
        return self._seen(row)

    def _seen(self, row: Mapping[str, Any]) -> Order:
        order = parse_order(row, self.filters(row["instId"]).contract_value, self.name)
        if self._tracker.is_tracked(order.client_order_id):
            fees = self.fees(order.symbol) if order.filled_qty > 0 else NO_FEES
            self._tracker.observe(order, fees, parse_order_fee(row))
        return order

    def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        self._call("trade/cancel-order", self.trade.cancel_order, mutating=True, instId=symbol, clOrdId=client_order_id)
        order = self.get_order(symbol, client_order_id)
        if order is None:
            raise OrderNotFound(self.name, "51603", f"order {client_order_id} not found after cancel")
        return order

    def cancel_all(self, symbol: str) -> int:
        """OKX has no cancel-all for plain orders: cancel the pending ones in batches of 20."""
        pending = self._call("trade/orders-pending", self.trade.get_order_list, instType="SWAP", instId=symbol)
        ids = [{"instId": symbol, "ordId": r["ordId"]} for r in pending]
        for i in range(0, len(ids), 20):
            self._call("trade/cancel-batch-orders", self.trade.cancel_multiple_orders, ids[i : i + 20], mutating=True)
        return len(ids)

    def get_order(self, symbol: str, client_order_id: str) -> Order | None:
        try:
            data = self._call("trade/order:get", self.trade.get_order, instId=symbol, clOrdId=client_order_id)
        except OrderNotFound:
            return None
        return self._seen(_row(data)) if data else None

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        rows = self._call("trade/orders-pending", self.trade.get_order_list, instType="SWAP", instId=symbol or "")
        return [self._seen(r) for r in rows]

    # -- account -------------------------------------------------------------------------------
    def positions(self) -> list[Position]:
        rows = self._call("account/positions", self.account.get_positions, instType="SWAP")
        out = []
        for r in rows:
            p = parse_position(r, self.filters(r["instId"]).contract_value, self.name)
            if p is not None:
                out.append(p)
        return out

    def balance(self) -> Balance:
        return parse_balance(self._call("account/balance", self.account.get_account_balance, ccy="USDT"))

    def arm_cancel_all_after(self, symbol: str, timeout_ms: int) -> bool:
        """POST /api/v5/trade/cancel-all-after. OKX's timer is account-wide (every instrument, not only
        `symbol`), in whole seconds, 10..120 (0 disarms): shorter asks are raised to 10 s."""
        if timeout_ms < 0:
            raise ValueError(f"timeout_ms must be >= 0, got {timeout_ms}")
        seconds = 0 if timeout_ms == 0 else min(120, max(10, math.ceil(timeout_ms / 1000)))
        self._call(
            "trade/cancel-all-after",
            self.trade._request_with_params,
            "POST",
            "/api/v5/trade/cancel-all-after",
            {"timeOut": str(seconds)},
            mutating=True,
        )
        return True

    def close(self) -> None:
        for api in self._apis:
            api.close()
