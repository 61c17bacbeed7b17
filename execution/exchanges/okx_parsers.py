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
from execution.exchanges.wire import MAX_LEVERAGE, Fields, dec, listing_of, retry_after_s, rows_of, sketch
from execution.margin import QTY, MarginSchedule, MarginTier, schedule
from execution.models import (
    Balance,
    BookTop,
    FeeSchedule,
    FundingInfo,
    Listing,
    MarginType,
    Order,
    OrderStatus,
    OrderType,
    Position,
    PositionSide,
    Side,
    SymbolFilters,
)

VENUE = "okx_perp"


def one_row(payload: Any, venue: str = VENUE, what: str = "answer") -> Mapping[str, Any]:
    """Accept a data row, the `{"code","data":[...]}` envelope, or a one-row list."""
    if isinstance(payload, Mapping) and "data" in payload:
        payload = payload["data"]
        if not isinstance(payload, list):
            raise MalformedAnswer(venue, f"{what}.data", f"expected a list, got {sketch(payload)}")
    if isinstance(payload, list):
        if not payload:
            raise MalformedAnswer(venue, f"{what}.data", "empty OKX data array")
        payload = payload[0]
    return Fields(payload, venue, what).row


def all_rows(payload: Any, venue: str = VENUE, what: str = "answer") -> list[Any]:
    if isinstance(payload, Mapping) and "data" in payload:
        return rows_of(payload["data"], venue, f"{what}.data")
    if isinstance(payload, list):
        return payload
    return [Fields(payload, venue, what).row]


class Contracts:
    """The one place where OKX contracts and base units meet: base = contracts x ctVal."""

    def __init__(self, ct_val: Decimal, lot_size: Decimal = Decimal(0)):
        if ct_val <= 0:
            raise ValueError(f"ctVal must be > 0, got {ct_val}")
        self.ct_val = ct_val
        self.lot_size = lot_size

    def to_base(self, contracts: Any) -> Decimal:
        """`contracts` a Decimal read from the answer (`Fields.num`) or a trusted number."""
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
# parsers (pure): every field is read through `wire.Fields`, so a field that is missing, null, not
# a finite number, of the wrong sign or an unknown enum value raises MalformedAnswer naming it
SIDES = {"buy": Side.BUY, "sell": Side.SELL}
TD_MODE = {MarginType.ISOLATED: "isolated", MarginType.CROSS: "cross"}  # tdMode of every order
#: posSide: net (one-way mode) leaves the side to the size's sign or the order's side and reduceOnly
POS_SIDES: dict[str, PositionSide | None] = {"long": PositionSide.LONG, "short": PositionSide.SHORT, "net": None}


def parse_filters(inst: Mapping[str, Any], venue: str = VENUE) -> SymbolFilters:
    f = Fields(one_row(inst, venue, "instrument"), venue, "instrument")
    inst_id = f.text("instId")
    f.what = f"instrument {inst_id}"
    if f.get("instType") not in (None, "SWAP", "FUTURES"):
        raise f.bad("instType", "is not a swap", f.get("instType"))
    if f.get("ctType") == "inverse":
        raise MalformedAnswer(
            venue,
            f.what,
            f"inverse contract (ctVal {sketch(f.get('ctVal'))} {sketch(f.get('ctValCcy'))}) is not supported: "
            "sizes would not be in base units",
        )
    c = Contracts(f.num("ctVal", positive=True) * f.num("ctMult", "1", positive=True))
    lot, min_sz = f.num("lotSz", positive=True), f.num("minSz", nonneg=True)
    max_lmt = f.num("maxLmtSz", "0", nonneg=True)
    max_mkt = f.num("maxMktSz", "0", nonneg=True)
    return SymbolFilters(
        venue=venue,
        symbol=inst_id,
        tick_size=f.num("tickSz", positive=True),
        step_size=c.to_base(lot),
        min_qty=c.to_base(min_sz),
        max_qty=c.to_base(max_lmt),
        min_notional=Decimal(0),
        market_step_size=c.to_base(lot),
        market_max_qty=c.to_base(max_mkt) if max_mkt else None,
        contract_value=c.ct_val,
        source="venue",
    )


def parse_instruments(payload: Any, venue: str = VENUE) -> Listing:
    """Linear swaps only (USDT-margined); inverse instruments are left out. An instrument that
    does not read is in `skipped` (MalformedAnswer when none reads)."""

    def linear_swap(row: Any) -> SymbolFilters | None:
        if Fields(row, venue, "instrument").get("ctType", "linear") != "linear":
            return None
        return parse_filters(row, venue)

    return listing_of(
        all_rows(payload, venue, "instruments"), linear_swap, "instId", venue, "instruments", "instrument"
    )


def contracts_of(filters: SymbolFilters) -> Contracts:
    return Contracts(filters.contract_value, filters.step_size / filters.contract_value)


def parse_position_tiers(payload: Any, symbol: str, ct_val: Decimal, venue: str = VENUE) -> MarginSchedule:
    """A swap's position tiers (asked by instFamily): sizes in contracts, kept in base units;
    maintenance = notional x mmr of the tier the whole position is in."""
    c = Contracts(ct_val)
    family = symbol.removesuffix("-SWAP")
    rows = [Fields(r, venue, f"position-tiers {symbol}") for r in all_rows(payload, venue, "position-tiers")]
    rows = [r for r in rows if r.get("instFamily", family) in (family, "") or r.get("uly") == family]
    if not rows:
        raise MalformedAnswer(venue, "position-tiers", f"no position tiers for {symbol} in the answer")
    tiers = [
        MarginTier(
            floor=c.to_base(r.num("minSz", "0", nonneg=True)),
            cap=c.to_base(r.num("maxSz", "0", nonneg=True)),
            maint_rate=r.num("mmr", nonneg=True),
            max_leverage=r.integer("maxLever", 1, low=1, high=MAX_LEVERAGE),
        )
        for r in rows
    ]
    try:
        return schedule(venue, symbol, QTY, tiers, "venue")
    except ValueError as exc:  # overlapping tiers, a rate of 1 or more...
        raise MalformedAnswer(venue, f"position-tiers {symbol}", str(exc)) from None


def _paid(rate: Decimal) -> Decimal:
    """OKX's sign (negative = paid) turned to ours (positive = paid); 0 stays 0, not -0."""
    return Decimal(0) - rate


def parse_fees(row: Any) -> FeeSchedule:
    """OKX quotes fees as negative numbers (-0.0005 = you pay 5 bps); USDT-margined swaps use makerU/takerU."""
    f = Fields(one_row(row, VENUE, "trade-fee"), VENUE, "trade-fee")
    maker = f.num("makerU" if f.has("makerU") else "maker")
    taker = f.num("takerU" if f.has("takerU") else "taker")
    return FeeSchedule(maker_rate=_paid(maker), taker_rate=_paid(taker))


def parse_funding(funding_row: Any, mark_row: Any | None = None, venue: str = VENUE) -> FundingInfo:
    f = Fields(one_row(funding_row, venue, "funding-rate"), venue, "funding-rate")
    if mark_row is not None:
        mark = Fields(one_row(mark_row, venue, "mark-price"), venue, "mark-price").num("markPx", "0", nonneg=True)
    else:
        mark = f.num("markPx", "0", nonneg=True)
    return FundingInfo(
        venue=venue,
        symbol=f.text("instId"),
        mark_price=mark,
        funding_rate=f.num("fundingRate"),
        next_funding_time_ms=f.ms("fundingTime", 0),
    )


def parse_book_top(row: Any, ct_val: Decimal, venue: str = VENUE) -> BookTop:
    t = Fields(one_row(row, venue, "ticker"), venue, "ticker")
    c = Contracts(ct_val)
    return BookTop(
        venue=venue,
        symbol=t.text("instId"),
        bid=t.num("bidPx", positive=True),
        bid_qty=c.to_base(t.num("bidSz", "0", nonneg=True)),
        ask=t.num("askPx", positive=True),
        ask_qty=c.to_base(t.num("askSz", "0", nonneg=True)),
        ts=t.ms("ts", 0),
    )


def parse_position(row: Any, ct_val: Decimal, venue: str = VENUE) -> Position | None:
    p = Fields(one_row(row, venue, "positions"), venue, "positions")
    pos = p.num("pos", "0")
    if pos == 0:
        return None
    pside = p.choice("posSide", POS_SIDES, "net")
    if pside is None:
        pside = PositionSide.LONG if pos > 0 else PositionSide.SHORT
    return Position(
        venue=venue,
        symbol=p.text("instId"),
        position_side=pside,
        qty=Contracts(ct_val).to_base(abs(pos)),
        entry_price=p.num("avgPx", "0", nonneg=True),
        mark_price=p.num("markPx", "0", nonneg=True),
        leverage=p.integer("lever", 1, low=1, high=MAX_LEVERAGE),
        opened_ts=p.ms("cTime", 0),
    )


def parse_positions(payload: Any, ct_vals: Mapping[str, Decimal], venue: str = VENUE) -> list[Position]:
    out = []
    for row in all_rows(payload, venue, "positions"):
        inst = Fields(row, venue, "positions").text("instId")
        if inst not in ct_vals:
            raise MalformedAnswer(venue, "positions", f"no ctVal for {inst}: its size in contracts cannot be converted")
        p = parse_position(row, ct_vals[inst], venue)
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
    o = Fields(one_row(row, venue, "order"), venue, "order")
    c = Contracts(ct_val)
    side = o.choice("side", SIDES)
    pside = o.choice("posSide", POS_SIDES, "net")
    if pside is None:  # net mode: a reduce-only order shrinks the opposite side
        reduce = o.flag("reduceOnly")
        pside = PositionSide.SHORT if (side is Side.BUY) == reduce else PositionSide.LONG
    px = o.num("px", "0")
    return Order(
        venue=venue,
        symbol=o.text("instId"),
        client_order_id=o.text("clOrdId", ""),
        status=_STATE.get(o.text("state", ""), OrderStatus.UNKNOWN),  # unknown: in flight until reconciled
        side=side,
        position_side=pside,
        order_type=OrderType.MARKET if o.text("ordType", "") in ("market", "optimal_limit_ioc") else OrderType.LIMIT,
        quantity=c.to_base(o.num("sz", "0", nonneg=True)),
        filled_qty=c.to_base(o.num("accFillSz", "0", nonneg=True)),
        avg_price=o.num("avgPx", "0", nonneg=True),
        price=px if px > 0 else None,
        venue_order_id=o.text("ordId", ""),
        update_ms=o.ms("uTime", 0) or o.ms("cTime", 0),
    )


def parse_order_fee(row: Any) -> Decimal | None:
    """Cumulative fee paid on an order in USDT (OKX reports it negative); None if charged in another ccy."""
    o = Fields(one_row(row, VENUE, "order"), VENUE, "order")
    if o.text("feeCcy", "") not in ("USDT", "") or not o.has("fee"):
        return None
    return _paid(o.num("fee"))


def parse_balance(row: Any, ccy: str = "USDT") -> Balance:
    """An account row (with `details`), the envelope around it, or one `details` row on its own."""
    acct = Fields(one_row(row, VENUE, "balance"), VENUE, "balance")
    if "details" in acct.row:
        details = acct.rows("details", required=False)
    else:
        details = [acct.row] if "ccy" in acct.row else []
    for i, raw in enumerate(details):
        d = Fields(raw, VENUE, f"balance.details[{i}]")
        if d.get("ccy") == ccy:
            return Balance(
                asset=ccy,
                wallet_balance=d.num("cashBal", "0"),
                available_balance=d.num("availEq" if d.has("availEq") else "availBal", "0"),
                unrealized_pnl=d.num("upl", "0"),
            )
    return Balance(ccy, Decimal(0), Decimal(0))


MAX_MESSAGE = 200  # characters of a venue's error message kept
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
        except (ValueError, RecursionError):  # not JSON, or nested beyond the parser
            payload = {}
    return payload if isinstance(payload, Mapping) else {}


def _text(raw: Any) -> str:
    """A code or message as the answer wrote it, as bounded text (a number's digits; anything
    else that is not text by a short sketch)."""
    if raw is None:
        return ""
    if isinstance(raw, str):
        return raw[:MAX_MESSAGE]
    if isinstance(raw, int) and not isinstance(raw, bool) and raw.bit_length() <= 64:
        return str(raw)
    return sketch(raw)


def _code_and_msg(payload: Mapping[str, Any]) -> tuple[str, str]:
    """The answer's code and message; a failed item's `sCode`/`sMsg` win (the top-level code of a
    partly failed batch only says "operation failed"). A bare item row (no envelope: a `data` row
    of an order answer) is read by its own `sCode`/`sMsg`."""
    if payload.get("code") is None and payload.get("sCode") is not None:
        return _text(payload["sCode"]), _text(payload.get("sMsg") or "")
    code = _text(payload.get("code"))
    msg = _text(payload.get("msg") or "")
    data = payload.get("data")
    rows = data if isinstance(data, list) else []
    failed = [d for d in rows if isinstance(d, Mapping) and _text(d.get("sCode", "0")) != "0"]
    if failed:
        return _text(failed[0]["sCode"]), _text(failed[0].get("sMsg") or msg)
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
        text = msg or (body[:MAX_MESSAGE] if isinstance(body, str) else "") or f"HTTP {status}"
        return http_error(venue, status, text, refused=status == 503)
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(venue, code, msg)
    if code == "51000":
        return _parameter_error(venue, code, msg)
    return BadRequest(venue, code, msg)
