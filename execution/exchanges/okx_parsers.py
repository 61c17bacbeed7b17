"""OKX v5 answers read into the unified model: pure functions of the venue's JSON (feed them
recorded payloads), used by the adapter in `okx_perp.py`.

Each parser takes one row of the venue's `data` array (the `{"code","msg","data"}` envelope is
accepted too and unwrapped); OKX sizes are contracts, so the parsers that see sizes take the
instrument's ctVal:
    parse_instruments(payload)          -> {instId: SymbolFilters}   GET /api/v5/public/instruments (linear only)
    parse_filters(instrument)           -> SymbolFilters             one linear SWAP instrument
    parse_fees(row)                     -> FeeSchedule               GET /api/v5/account/trade-fee
    parse_position_tiers(payload, symbol, ct_val) -> MarginSchedule  GET /api/v5/public/position-tiers
    parse_funding(funding_row, mark_row)-> FundingInfo               GET /public/funding-rate (+ /public/mark-price)
    parse_book_top(ticker_row, ct_val)  -> BookTop                   GET /api/v5/market/ticker
    parse_position(row, ct_val)         -> Position | None           GET /api/v5/account/positions
    parse_positions(payload, ct_vals)   -> [Position]                the whole answer; ct_vals {instId: ctVal}
    parse_order(row, ct_val)            -> Order                     GET /api/v5/trade/order, orders-pending
    parse_order_fee(row)                -> Decimal | None            cumulative fee of an order in USDT
    parse_balance(row, ccy)             -> Balance                   GET /api/v5/account/balance (or a details row)
    parse_error(status, body, headers)  -> VenueError | None         checks `code` and every `sCode` (or parse_error(body);
                                                                     a bare `data` row is read by its own sCode)
Contracts <-> base units happen in exactly one place: `Contracts`. Errors are read from one
table of OKX's documented codes, by meaning.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

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
from execution.margin import QTY, MarginSchedule, MarginTier, schedule
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

VENUE = "okx_perp"


def one_row(payload: Any) -> Mapping[str, Any]:
    """Accept a data row, the `{"code","data":[...]}` envelope, or a one-row list."""
    if isinstance(payload, Mapping) and "data" in payload and isinstance(payload["data"], list):
        payload = payload["data"]
    if isinstance(payload, list):
        if not payload:
            raise ValueError("empty OKX data array")
        payload = payload[0]
    return payload


def all_rows(payload: Any) -> list[Mapping[str, Any]]:
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
        return dec(contracts) * self.ct_val

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
    inst = one_row(inst)
    if inst.get("instType") not in (None, "SWAP", "FUTURES"):
        raise ValueError(f"{inst.get('instId')}: instType {inst.get('instType')} is not a swap")
    if inst.get("ctType") == "inverse":
        raise ValueError(
            f"{inst.get('instId')}: inverse contract (ctVal {inst.get('ctVal')} "
            f"{inst.get('ctValCcy')}) is not supported: sizes would not be in base units"
        )
    c = Contracts(dec(inst["ctVal"]) * dec(inst.get("ctMult"), "1"))
    lot, min_sz = dec(inst["lotSz"]), dec(inst["minSz"])
    max_lmt = dec(inst.get("maxLmtSz"))
    max_mkt = dec(inst.get("maxMktSz"))
    return SymbolFilters(
        venue=venue,
        symbol=inst["instId"],
        tick_size=dec(inst["tickSz"]),
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
    return {i["instId"]: parse_filters(i, venue) for i in all_rows(payload) if i.get("ctType", "linear") == "linear"}


def contracts_of(filters: SymbolFilters) -> Contracts:
    return Contracts(filters.contract_value, filters.step_size / filters.contract_value)


def parse_position_tiers(payload: Any, symbol: str, ct_val: Decimal, venue: str = VENUE) -> MarginSchedule:
    """A swap's position tiers (asked by instFamily): sizes in contracts, kept in base units;
    maintenance = notional x mmr of the tier the whole position is in."""
    c = Contracts(ct_val)
    family = symbol.removesuffix("-SWAP")
    rows = [r for r in all_rows(payload) if r.get("instFamily", family) in (family, "") or r.get("uly") == family]
    if not rows:
        raise ValueError(f"no position tiers for {symbol} in the answer")
    tiers = [
        MarginTier(
            floor=c.to_base(r.get("minSz")),
            cap=c.to_base(r.get("maxSz")),
            maint_rate=dec(r["mmr"]),
            max_leverage=int(dec(r.get("maxLever"), "1")),
        )
        for r in rows
    ]
    return schedule(venue, symbol, QTY, tiers, "venue")


def parse_fees(row: Any) -> FeeSchedule:
    """OKX quotes fees as negative numbers (-0.0005 = you pay 5 bps); USDT-margined swaps use makerU/takerU."""
    row = one_row(row)
    maker = row.get("makerU") or row.get("maker")
    taker = row.get("takerU") or row.get("taker")
    return FeeSchedule(maker_rate=-dec(maker), taker_rate=-dec(taker))


def parse_funding(funding_row: Any, mark_row: Any | None = None, venue: str = VENUE) -> FundingInfo:
    f = one_row(funding_row)
    mark = dec(one_row(mark_row).get("markPx")) if mark_row is not None else dec(f.get("markPx"))
    return FundingInfo(
        venue=venue,
        symbol=f["instId"],
        mark_price=mark,
        funding_rate=dec(f.get("fundingRate")),
        next_funding_time_ms=int(f.get("fundingTime") or 0),
    )


def parse_book_top(row: Any, ct_val: Decimal, venue: str = VENUE) -> BookTop:
    t = one_row(row)
    c = Contracts(ct_val)
    return BookTop(
        venue=venue,
        symbol=t["instId"],
        bid=dec(t["bidPx"]),
        bid_qty=c.to_base(t.get("bidSz")),
        ask=dec(t["askPx"]),
        ask_qty=c.to_base(t.get("askSz")),
        ts=int(t.get("ts") or 0),
    )


def parse_position(row: Any, ct_val: Decimal, venue: str = VENUE) -> Position | None:
    p = one_row(row)
    pos = dec(p.get("pos"))
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
        entry_price=dec(p.get("avgPx")),
        mark_price=dec(p.get("markPx")),
        leverage=int(Decimal(lever)) if lever not in (None, "") else 1,
        opened_ts=int(p.get("cTime") or 0),
    )


def parse_positions(payload: Any, ct_vals: Mapping[str, Decimal], venue: str = VENUE) -> list[Position]:
    out = []
    for row in all_rows(payload):
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
    o = one_row(row)
    c = Contracts(ct_val)
    side = Side.BUY if o["side"] == "buy" else Side.SELL
    pos_side = o.get("posSide", "net")
    if pos_side in ("long", "short"):
        pside = PositionSide.LONG if pos_side == "long" else PositionSide.SHORT
    else:  # net mode: a reduce-only order shrinks the opposite side
        reduce = str(o.get("reduceOnly", "false")).lower() == "true"
        pside = PositionSide.SHORT if (side is Side.BUY) == reduce else PositionSide.LONG
    px = dec(o.get("px"))
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
        avg_price=dec(o.get("avgPx")),
        price=px if px > 0 else None,
        venue_order_id=str(o.get("ordId", "")),
        update_ms=int(o.get("uTime") or o.get("cTime") or 0),
    )


def parse_order_fee(row: Any) -> Decimal | None:
    """Cumulative fee paid on an order in USDT (OKX reports it negative); None if charged in another ccy."""
    o = one_row(row)
    if o.get("feeCcy") not in ("USDT", None, "") or o.get("fee") in (None, ""):
        return None
    return -dec(o.get("fee"))


def parse_balance(row: Any, ccy: str = "USDT") -> Balance:
    """An account row (with `details`), the envelope around it, or one `details` row on its own."""
    acct = one_row(row)
    details = acct.get("details") if "details" in acct else [acct] if "ccy" in acct else []
    for d in details or []:
        if d.get("ccy") == ccy:
            avail = d.get("availEq") or d.get("availBal")
            return Balance(
                asset=ccy,
                wallet_balance=dec(d.get("cashBal")),
                available_balance=dec(avail),
                unrealized_pnl=dec(d.get("upl")),
            )
    return Balance(ccy, Decimal(0), Decimal(0))


_RATE_CODES = {"50011", "50040", "50061"}  # read first: a rate limit carries a wait
# OKX's documented codes by meaning; 51000 "Parameter {param} error" is read by its parameter
_BY_CODE = code_table(
    {
        ClockSkew: {"50102"},
        AuthError: {
            "50030",
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
        },
        InsufficientMargin: {"51008", "51119", "51127", "51131"},
        FilterFailure: {"51020", "51121", "51201", "51202", "51005", "51006", "51120", "51204"},
        PositionLimitExceeded: {"51004"},  # the position tier's limit: a smaller order may go
        ReduceOnlyRejected: {"51169", "51170", "51112", "51205", "51178"},
        OrderNotFound: {"51603", "51400", "51401", "51402"},
        UnknownOutcome: {"50004", "50026"},  # the venue may or may not have acted
        VenueUnavailable: {"50001", "50005", "50013", "50156"},  # refused before acting: retry later
    }
)


def _envelope(body: Any) -> Mapping[str, Any]:
    payload = body
    if isinstance(body, (str, bytes)):
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            payload = {}
    return payload if isinstance(payload, Mapping) else {}


def _code_and_msg(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The answer's code and message; a failed item's `sCode`/`sMsg` win (the top-level code of a
    partly failed batch only says "operation failed"). A bare item row (no envelope: a `data` row
    of an order answer) is read by its own `sCode`/`sMsg`."""
    if payload.get("code") is None and payload.get("sCode") is not None:
        return str(payload["sCode"]), str(payload.get("sMsg") or "")
    code = str(payload.get("code", "")) if payload.get("code") is not None else ""
    msg = str(payload.get("msg") or "")
    failed = [d for d in payload.get("data") or [] if isinstance(d, Mapping) and str(d.get("sCode", "0")) != "0"]
    if failed:
        return str(failed[0]["sCode"]), str(failed[0].get("sMsg") or msg)
    return code, msg


def _parameter_error(venue: str, code: str, msg: str) -> VenueError:
    """51000 "Parameter {param} error": which parameter decides the meaning."""
    if "posSide" in msg:
        return PositionSideMismatch(venue, code, msg)
    if "px" in msg or "sz" in msg:
        return FilterFailure(venue, code, msg)
    return BadRequest(venue, code, msg)


def parse_error(
    status: Any, body: Any = None, headers: Mapping[str, str] | None = None, venue: str = VENUE
) -> VenueError | None:
    """The typed error of an answer, or None when it is a success: checks `code` and every `sCode`.
    `parse_error(body)` alone reads the body as an HTTP 200 answer (python-okx hands back only bodies)."""
    if not isinstance(status, int):
        status, body = 200, status
    code, msg = _code_and_msg(_envelope(body))
    if code == "0" and status < 400:
        return None
    if status == 429 or code in _RATE_CODES:
        wait = retry_after_s(headers)
        return RateLimited(
            venue,
            code or "HTTP 429",
            msg if code else msg or "Too Many Requests",
            retry_after_s=wait or 1.0,
            venue_wait_s=wait,
        )
    if not code:
        text = msg or (body if isinstance(body, str) else "") or f"HTTP {status}"
        return http_error(venue, status, text[:300], refused=status == 503)
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(venue, code, msg)
    if code == "51000":
        return _parameter_error(venue, code, msg)
    return BadRequest(venue, code, msg)
