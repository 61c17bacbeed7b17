"""Binance USD-M futures answers read into the unified model: pure functions of the venue's JSON
(feed them recorded payloads), used by the adapter in `binance_um.py`.

    parse_exchange_info(payload) -> {symbol: SymbolFilters}   GET /fapi/v1/exchangeInfo
    parse_filters(symbol_info)   -> SymbolFilters             one entry of exchangeInfo["symbols"]
    parse_fees(payload)          -> FeeSchedule               GET /fapi/v1/commissionRate
    parse_leverage_brackets(payload) -> {symbol: MarginSchedule} GET /fapi/v1/leverageBracket
    parse_funding(payload)       -> FundingInfo               GET /fapi/v1/premiumIndex, or a /fapi/v1/fundingRate row
    parse_funding_history(rows)  -> [FundingInfo]             GET /fapi/v1/fundingRate (markPrice may be absent or "")
    parse_book_top(payload)      -> BookTop                   GET /fapi/v1/ticker/bookTicker
    parse_position(row)          -> Position | None           GET /fapi/v3 (or v2) /positionRisk row
    parse_positions(rows)        -> [Position]                the whole positionRisk answer, flat rows dropped
    parse_order(payload)         -> Order                     POST/GET/DELETE /fapi/v1/order, openOrders rows
    parse_stream_order(o)        -> Order                     user data stream ORDER_TRADE_UPDATE "o"
    parse_balance(rows, asset)   -> Balance                   GET /fapi/v3/balance
    parse_error(status, body, headers) -> VenueError          any error answer (or parse_error(body))

Errors are read from one table of Binance's documented codes, by meaning.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from execution import clock
from execution.exchanges.errors import (
    AuthError,
    BadRequest,
    ClockSkew,
    FilterFailure,
    InsufficientMargin,
    MalformedAnswer,
    OrderNotFound,
    PositionLimitExceeded,
    PositionSideMismatch,
    RateLimited,
    ReduceOnlyRejected,
    UnknownOutcome,
    VenueError,
    VenueUnavailable,
    code_table,
    http_error,
)
from execution.exchanges.wire import MAX_LEVERAGE, Fields, listing_of, retry_after_s, rows_of, sketch
from execution.margin import NOTIONAL, MarginSchedule, MarginTier, schedule
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    FundingInfo,
    Listing,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    SymbolFilters,
)

VENUE = "binance_um"


# ---------------------------------------------------------------------------------------------
# parsers (pure): every field is read through `wire.Fields`, so a field that is missing, null, not
# a finite number, of the wrong sign or an unknown enum value raises MalformedAnswer naming it
_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
#: positionSide: BOTH (one-way mode) leaves the side to the amount's sign or the order's reduceOnly
_POSITION_SIDES: dict[str, PositionSide | None] = {"BOTH": None, "LONG": PositionSide.LONG, "SHORT": PositionSide.SHORT}


def parse_filters(info: Mapping[str, Any], venue: str = VENUE) -> SymbolFilters:
    entry = Fields(info, venue, "exchangeInfo symbol")
    symbol = entry.text("symbol")
    entry.what = f"exchangeInfo {symbol}"
    by_type: dict[str, Fields] = {}
    for i, raw in enumerate(entry.rows("filters", required=False)):
        one = Fields(raw, venue, f"{entry.what} filters[{i}]")
        by_type[one.text("filterType")] = one
    price = by_type.get("PRICE_FILTER")
    lot = by_type.get("LOT_SIZE")
    if price is None or lot is None:
        raise MalformedAnswer(venue, entry.what, "exchangeInfo entry has no PRICE_FILTER/LOT_SIZE")
    market = by_type.get("MARKET_LOT_SIZE")
    notional = by_type.get("MIN_NOTIONAL")
    return SymbolFilters(
        venue=venue,
        symbol=symbol,
        tick_size=price.num("tickSize", positive=True),
        step_size=lot.num("stepSize", positive=True),
        min_qty=lot.num("minQty", nonneg=True),
        max_qty=lot.num("maxQty", positive=True),
        min_notional=(
            notional.num("notional" if "notional" in notional.row else "minNotional", "0", nonneg=True)
            if notional is not None
            else Decimal(0)
        ),
        market_step_size=market.num("stepSize", positive=True) if market and market.has("stepSize") else None,
        market_max_qty=market.num("maxQty", positive=True) if market and market.has("maxQty") else None,
        min_price=price.num("minPrice", "0", nonneg=True),
        max_price=price.num("maxPrice", "0", nonneg=True),
        source="venue",
    )


def parse_exchange_info(payload: Mapping[str, Any], venue: str = VENUE) -> Listing:
    """Every symbol that reads; one that does not is in `skipped` (MalformedAnswer when none reads)."""
    symbols = Fields(payload, venue, "exchangeInfo").rows("symbols")
    return listing_of(
        symbols, lambda entry: parse_filters(entry, venue), "symbol", venue, "exchangeInfo.symbols", "symbol"
    )


def parse_leverage_brackets(payload: Any, venue: str = VENUE) -> dict[str, MarginSchedule]:
    """Notional brackets per symbol: maintenance = notional x maintMarginRatio - cum. The answer is
    a list of {symbol, brackets: [...]} (one object when a symbol was asked for)."""
    rows = payload if isinstance(payload, list) else [payload]
    out: dict[str, MarginSchedule] = {}
    for row in rows:
        entry = Fields(row, venue, "leverageBracket")
        symbol = entry.text("symbol")
        entry.what = f"leverageBracket {symbol}"
        tiers = []
        for i, raw in enumerate(entry.rows("brackets")):
            b = Fields(raw, venue, f"{entry.what} brackets[{i}]")
            tiers.append(
                MarginTier(
                    floor=b.num("notionalFloor", nonneg=True),
                    cap=b.num("notionalCap", nonneg=True),
                    maint_rate=b.num("maintMarginRatio", nonneg=True),
                    max_leverage=b.integer("initialLeverage", low=1, high=MAX_LEVERAGE),
                    cum=b.num("cum", "0", nonneg=True),
                )
            )
        try:
            out[symbol] = schedule(venue, symbol, NOTIONAL, tiers, "venue")
        except ValueError as exc:  # overlapping brackets, a rate of 1 or more...
            raise MalformedAnswer(venue, entry.what, str(exc)) from None
    return out


def parse_fees(payload: Mapping[str, Any]) -> FeeSchedule:
    f = Fields(payload, VENUE, "commissionRate")
    return FeeSchedule(maker_rate=f.num("makerCommissionRate"), taker_rate=f.num("takerCommissionRate"))


def parse_funding(payload: Mapping[str, Any], venue: str = VENUE) -> FundingInfo:
    """GET /fapi/v1/premiumIndex (markPrice, lastFundingRate, nextFundingTime) or one row of
    GET /fapi/v1/fundingRate (fundingRate, fundingTime; markPrice absent or "" on older rows:
    mark_price 0 = not known)."""
    f = Fields(_one(payload, venue, "funding"), venue, "funding")
    return FundingInfo(
        venue=venue,
        symbol=f.text("symbol"),
        mark_price=f.num("markPrice", "0", nonneg=True),
        funding_rate=f.num("lastFundingRate" if "lastFundingRate" in f.row else "fundingRate"),
        next_funding_time_ms=f.ms("nextFundingTime", 0),
        funding_time_ms=f.ms("fundingTime", 0),
    )


def parse_funding_history(rows: list[Mapping[str, Any]], venue: str = VENUE) -> list[FundingInfo]:
    """GET /fapi/v1/fundingRate: one FundingInfo per settlement, oldest first."""
    return sorted(
        (parse_funding(r, venue) for r in rows_of(rows, venue, "fundingRate")), key=lambda f: f.funding_time_ms
    )


def parse_book_top(payload: Mapping[str, Any], venue: str = VENUE) -> BookTop:
    f = Fields(payload, venue, "bookTicker")
    return BookTop(
        venue=venue,
        symbol=f.text("symbol"),
        bid=f.num("bidPrice", positive=True),
        bid_qty=f.num("bidQty", nonneg=True),
        ask=f.num("askPrice", positive=True),
        ask_qty=f.num("askQty", nonneg=True),
        ts=f.ms("time", 0),
    )


def _one(payload: Any, venue: str = VENUE, what: str = "answer") -> Any:
    if isinstance(payload, list):
        if len(payload) != 1:
            raise MalformedAnswer(venue, what, f"expected one row, got {len(payload)}: use the plural parser")
        return payload[0]
    return payload


def parse_position(row: Mapping[str, Any], venue: str = VENUE) -> Position | None:
    """One positionRisk row; None for a flat row. One-way rows (BOTH) take their side from the sign."""
    f = Fields(_one(row, venue, "positionRisk"), venue, "positionRisk")
    amt = f.num("positionAmt")
    if amt == 0:
        return None
    pside = f.choice("positionSide", _POSITION_SIDES, "BOTH")
    if pside is None:
        pside = PositionSide.LONG if amt > 0 else PositionSide.SHORT
    return Position(
        venue=venue,
        symbol=f.text("symbol"),
        position_side=pside,
        qty=abs(amt),
        entry_price=f.num("entryPrice", "0", nonneg=True),
        mark_price=f.num("markPrice", "0", nonneg=True),
        leverage=f.integer("leverage", 1, low=1, high=MAX_LEVERAGE),
        opened_ts=f.ms("updateTime", 0),
    )


def parse_positions(rows: list[Mapping[str, Any]], venue: str = VENUE) -> list[Position]:
    return [p for p in (parse_position(r, venue) for r in rows_of(rows, venue, "positionRisk")) if p is not None]


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


def _order(f: Fields, venue: str) -> Order:
    """An order in the REST answer's field names (a stream event is read with `aliases`)."""
    side = f.choice("side", _SIDES)
    pside = f.choice("positionSide", _POSITION_SIDES, "BOTH")
    if pside is None:  # one-way: a reduce-only order shrinks the opposite side
        reduce = f.flag("reduceOnly")
        pside = PositionSide.SHORT if (side is Side.BUY) == reduce else PositionSide.LONG
    otype = f.text("type", "") or f.text("origType", "") or "LIMIT"
    price = f.num("price", "0", nonneg=True)
    return Order(
        venue=venue,
        symbol=f.text("symbol"),
        client_order_id=f.text("clientOrderId", ""),
        status=_STATUS.get(f.text("status", ""), OrderStatus.UNKNOWN),  # unknown: in flight until reconciled
        side=side,
        position_side=pside,
        order_type=OrderType.MARKET if otype.endswith("MARKET") else OrderType.LIMIT,
        quantity=f.num("origQty", "0", nonneg=True),
        filled_qty=f.num("executedQty", "0", nonneg=True),
        avg_price=f.num("avgPrice", "0", nonneg=True),
        price=price if price > 0 else None,
        venue_order_id=f.text("orderId", ""),
        update_ms=f.ms("updateTime", 0) or f.ms("time", 0),
    )


def parse_order(payload: Mapping[str, Any], venue: str = VENUE) -> Order:
    return _order(Fields(_one(payload, venue, "order"), venue, "order"), venue)


#: ORDER_TRADE_UPDATE "o" fields by the REST order's names
_STREAM_ORDER_KEYS = {
    "symbol": "s",
    "clientOrderId": "c",
    "side": "S",
    "positionSide": "ps",
    "type": "o",
    "origType": "ot",
    "status": "X",
    "origQty": "q",
    "executedQty": "z",
    "avgPrice": "ap",
    "price": "p",
    "orderId": "i",
    "updateTime": "T",
    "reduceOnly": "R",
}


def parse_stream_order(o: Mapping[str, Any], venue: str = VENUE) -> Order:
    """The `o` object of a user-data-stream ORDER_TRADE_UPDATE event, in the REST order's terms."""
    event = Fields(o, venue, "ORDER_TRADE_UPDATE.o")
    rest = {name: event.row[key] for name, key in _STREAM_ORDER_KEYS.items() if key in event.row}
    return _order(Fields(rest, venue, event.what, aliases=_STREAM_ORDER_KEYS), venue)


def parse_balance(rows: list[Mapping[str, Any]], asset: str = "USDT") -> Balance:
    for i, row in enumerate(rows_of(rows, VENUE, "balance")):
        f = Fields(row, VENUE, f"balance[{i}]")
        if f.get("asset") == asset:
            return Balance(
                asset=asset,
                wallet_balance=f.num("balance" if "balance" in f.row else "walletBalance", "0"),
                available_balance=f.num("availableBalance", "0"),
                unrealized_pnl=f.num("crossUnPnl" if "crossUnPnl" in f.row else "unrealizedProfit", "0"),
            )
    return Balance(asset, Decimal(0), Decimal(0))


_BANNED_UNTIL = re.compile(r"banned until (\d{13})")
MAX_MESSAGE = 200  # characters of a venue's error message kept
_CODE = re.compile(r"-?[0-9]{1,12}")
_REFUSED_5XX = ("Service Unavailable", "Internal error; unable to process")  # refused before acting
# Binance's documented codes by meaning (-1003, rate limited, is read first: it carries a wait)
_BY_CODE = code_table(
    {
        ClockSkew: {-1021},
        AuthError: {-1002, -1022, -2014, -2015},
        FilterFailure: {-1013, -1111, -4003, -4004, -4005, -4013, -4014, -4015, -4016, -4023, -4024, -4131, -4164},
        PositionSideMismatch: {-4061},
        ReduceOnlyRejected: {-1106, -2022, -4118},
        InsufficientMargin: {-2018, -2019, -2028},
        PositionLimitExceeded: {-2027},  # above the leverage bracket's maximum position
        OrderNotFound: {-2011, -2013},
        VenueUnavailable: {-1001, -1008, -1016},  # refused before acting: safe to retry later
        UnknownOutcome: {-1000, -1006, -1007},  # the venue may or may not have acted
    }
)


def _payload(body: str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(body, Mapping):
        return body
    try:
        parsed = json.loads(body) if body else {}
    except (ValueError, TypeError, RecursionError):  # not JSON, not text, nested beyond the parser
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _int_code(raw: Any) -> int | None:
    """Binance's code: a JSON integer (or its text); anything else (a float that is not whole, a
    5,000-digit number, a list) is no code."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        return int(raw) if raw.is_integer() and abs(raw) < 2**53 else None
    if isinstance(raw, str):
        return int(raw) if _CODE.fullmatch(raw.strip()) else None
    if isinstance(raw, int) and raw.bit_length() <= 63:
        return raw
    return None


def _message(raw: Any) -> str:
    """The venue's message as text: at most MAX_MESSAGE characters of it."""
    if raw is None or raw == "":
        return ""
    return (raw if isinstance(raw, str) else sketch(raw))[:MAX_MESSAGE]


def _rate_limited(
    status: int, code: int | None, msg: str, headers: Mapping[str, str] | None, venue: str, now_ms: int | None
) -> RateLimited:
    """-1003 / HTTP 429 / 418 (banned): wait for Retry-After, else until the ban's end in the message."""
    header = retry_after_s(headers)
    wait = header
    if wait is None:
        m = _BANNED_UNTIL.search(msg)
        if m:
            wait = max(1.0, (int(m.group(1)) - (now_ms if now_ms is not None else clock.wall_ms())) / 1000)
    retry = wait if wait is not None else 1.0
    return RateLimited(
        venue,
        code if code is not None else f"HTTP {status}",
        msg,
        retry_after_s=retry,
        venue_wait_s=header or (retry if "banned until" in msg else None),
    )


def parse_error(
    status: int | str | Mapping[str, Any],
    body: str | Mapping[str, Any] = "",
    headers: Mapping[str, str] | None = None,
    venue: str = VENUE,
    now_ms: int | None = None,
) -> VenueError:
    """Map an error answer (HTTP status, body, headers) to the typed error the core reacts to.
    `parse_error(body)` alone reads the body as a 400 answer."""
    if not isinstance(status, int):
        return parse_error(400, status, headers, venue, now_ms)
    payload = _payload(body)
    code = _int_code(payload.get("code"))
    msg = _message(payload.get("msg")) or _message(body if isinstance(body, str) else "") or f"HTTP {status}"
    if status in (418, 429) or code == -1003:
        return _rate_limited(status, code, msg, headers, venue, now_ms)
    if code is None:
        return http_error(venue, status, msg, refused=any(m in msg for m in _REFUSED_5XX))
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(venue, code, msg)
    if status >= 500:
        return UnknownOutcome(venue, code, msg)
    return BadRequest(venue, code, msg)
