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
from execution.exchanges.wire import dec, retry_after_s
from execution.margin import NOTIONAL, MarginSchedule, MarginTier, schedule
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    FundingInfo,
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
        tick_size=dec(price["tickSize"]),
        step_size=dec(lot["stepSize"]),
        min_qty=dec(lot["minQty"]),
        max_qty=dec(lot["maxQty"]),
        min_notional=dec(notional.get("notional", notional.get("minNotional"))),
        market_step_size=dec(market["stepSize"]) if market.get("stepSize") else None,
        market_max_qty=dec(market["maxQty"]) if market.get("maxQty") else None,
        min_price=dec(price.get("minPrice")),
        max_price=dec(price.get("maxPrice")),
        source="venue",
    )


def parse_exchange_info(payload: Mapping[str, Any], venue: str = VENUE) -> dict[str, SymbolFilters]:
    return {s["symbol"]: parse_filters(s, venue) for s in payload.get("symbols", [])}


def parse_leverage_brackets(payload: Any, venue: str = VENUE) -> dict[str, MarginSchedule]:
    """Notional brackets per symbol: maintenance = notional x maintMarginRatio - cum. The answer is
    a list of {symbol, brackets: [...]} (one object when a symbol was asked for)."""
    rows = payload if isinstance(payload, list) else [payload]
    out: dict[str, MarginSchedule] = {}
    for row in rows:
        symbol = row["symbol"]
        tiers = [
            MarginTier(
                floor=dec(b["notionalFloor"]),
                cap=dec(b["notionalCap"]),
                maint_rate=dec(b["maintMarginRatio"]),
                max_leverage=int(b["initialLeverage"]),
                cum=dec(b.get("cum")),
            )
            for b in row["brackets"]
        ]
        out[symbol] = schedule(venue, symbol, NOTIONAL, tiers, "venue")
    return out


def parse_fees(payload: Mapping[str, Any]) -> FeeSchedule:
    return FeeSchedule(maker_rate=dec(payload["makerCommissionRate"]), taker_rate=dec(payload["takerCommissionRate"]))


def parse_funding(payload: Mapping[str, Any], venue: str = VENUE) -> FundingInfo:
    """GET /fapi/v1/premiumIndex (markPrice, lastFundingRate, nextFundingTime) or one row of
    GET /fapi/v1/fundingRate (fundingRate, fundingTime; markPrice absent or "" on older rows:
    mark_price 0 = not known)."""
    payload = _one(payload)
    rate = payload.get("lastFundingRate", payload.get("fundingRate"))
    return FundingInfo(
        venue=venue,
        symbol=payload["symbol"],
        mark_price=dec(payload.get("markPrice")),
        funding_rate=dec(rate),
        next_funding_time_ms=int(payload.get("nextFundingTime") or 0),
        funding_time_ms=int(payload.get("fundingTime") or 0),
    )


def parse_funding_history(rows: list[Mapping[str, Any]], venue: str = VENUE) -> list[FundingInfo]:
    """GET /fapi/v1/fundingRate: one FundingInfo per settlement, oldest first."""
    return sorted((parse_funding(r, venue) for r in rows), key=lambda f: f.funding_time_ms)


def parse_book_top(payload: Mapping[str, Any], venue: str = VENUE) -> BookTop:
    return BookTop(
        venue=venue,
        symbol=payload["symbol"],
        bid=dec(payload["bidPrice"]),
        bid_qty=dec(payload["bidQty"]),
        ask=dec(payload["askPrice"]),
        ask_qty=dec(payload["askQty"]),
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
    amt = dec(row["positionAmt"])
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
        entry_price=dec(row.get("entryPrice")),
        mark_price=dec(row.get("markPrice")),
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
    price = dec(payload.get("price"))
    return Order(
        venue=venue,
        symbol=payload["symbol"],
        client_order_id=payload.get("clientOrderId", ""),
        status=_STATUS.get(payload.get("status", ""), OrderStatus.UNKNOWN),
        side=side,
        position_side=pside,
        order_type=OrderType.MARKET if otype.endswith("MARKET") else OrderType.LIMIT,
        quantity=dec(payload.get("origQty")),
        filled_qty=dec(payload.get("executedQty")),
        avg_price=dec(payload.get("avgPrice")),
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
                wallet_balance=dec(row.get("balance", row.get("walletBalance"))),
                available_balance=dec(row.get("availableBalance")),
                unrealized_pnl=dec(row.get("crossUnPnl", row.get("unrealizedProfit"))),
            )
    return Balance(asset, Decimal(0), Decimal(0))


_BANNED_UNTIL = re.compile(r"banned until (\d{13})")
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
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _int_code(raw: Any) -> int | None:
    try:
        return int(raw) if raw is not None else None
    except (TypeError, ValueError):
        return None


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
    msg = str(payload.get("msg") or (body if isinstance(body, str) else "") or f"HTTP {status}")[:300]
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
