"""The unified trading model shared by the core, the venue adapters and the state sink.

Quantities are always in base units (BTC, ETH, ...) whatever the venue: OKX contracts are
converted with ctVal inside the OKX adapter only. Prices and quantities that reach a venue are
`Decimal`; indicator maths elsewhere stays in float. Times are UTC epoch milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from execution import ids

#: Basis points, one meaning everywhere: a rate of 1 (100 %) is 10,000 bps, so
#: bps = rate * BPS_PER_UNIT and rate = bps / BPS_PER_UNIT = bps * ONE_BP.
BPS_PER_UNIT = Decimal(10_000)
ONE_BP = Decimal("0.0001")  # one basis point as a rate


class Side(str, Enum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class PositionSide(str, Enum):
    """Hedge-mode book: LONG and SHORT are separate positions on the same symbol."""

    LONG = "LONG"
    SHORT = "SHORT"

    @property
    def opening_side(self) -> Side:
        return Side.BUY if self is PositionSide.LONG else Side.SELL

    @property
    def closing_side(self) -> Side:
        return Side.SELL if self is PositionSide.LONG else Side.BUY

    @property
    def sign(self) -> int:
        return 1 if self is PositionSide.LONG else -1


class OrderType(str, Enum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"


class TimeInForce(str, Enum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    POST_ONLY = "GTX"  # Binance's name for post-only; OKX maps it to ordType=post_only


class OrderStatus(str, Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    UNKNOWN = "UNKNOWN"  # outcome not known yet: stays in flight until reconciled

    @property
    def is_final(self) -> bool:
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED, OrderStatus.EXPIRED)


class MarginType(str, Enum):
    ISOLATED = "ISOLATED"
    CROSS = "CROSSED"


@dataclass(frozen=True, slots=True)
class SymbolFilters:
    """A venue's trading rules for one instrument, in base units.

    For OKX, `contract_value` is ctVal (base units per contract) and step/min quantities are
    lotSz/minSz already multiplied by ctVal, so the core never sees contracts.
    """

    venue: str
    symbol: str
    tick_size: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    min_notional: Decimal
    market_step_size: Decimal | None = None
    market_max_qty: Decimal | None = None
    contract_value: Decimal = Decimal(1)
    min_price: Decimal = Decimal(0)
    max_price: Decimal = Decimal(0)  # 0 = no upper bound
    source: str = "venue"  # venue | config | derived


class Listing(dict[str, SymbolFilters]):
    """A venue's instruments as read from one exchangeInfo / instruments answer. `skipped`: the
    entries that did not read (symbol -> why), left out so that one odd listing (a new filter type,
    a delisted contract with zero ticks) does not take every symbol's rules away; asking for a
    skipped symbol then says why it is not there."""

    def __init__(self, parsed: Mapping[str, SymbolFilters] | None = None, skipped: Mapping[str, str] | None = None):
        super().__init__(parsed or {})
        self.skipped: dict[str, str] = dict(skipped or {})


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    maker_rate: Decimal
    taker_rate: Decimal


@dataclass(frozen=True, slots=True)
class OrderRequest:
    venue: str
    symbol: str
    side: Side
    position_side: PositionSide
    order_type: OrderType
    quantity: Decimal
    client_order_id: str
    intent_id: str
    price: Decimal | None = None
    time_in_force: TimeInForce | None = None
    reduce_only: bool = False  # intent: this order may only shrink a position

    @property
    def is_closing(self) -> bool:
        return self.side is self.position_side.closing_side

    def to_doc(self) -> dict[str, Any]:
        """Every field as JSON-safe values (Decimals as text, enums by value): journals and state."""
        return {
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side.value,
            "position_side": self.position_side.value,
            "order_type": self.order_type.value,
            "quantity": str(self.quantity),
            "client_order_id": self.client_order_id,
            "intent_id": self.intent_id,
            "price": str(self.price) if self.price is not None else None,
            "time_in_force": self.time_in_force.value if self.time_in_force else None,
            "reduce_only": self.reduce_only,
        }

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OrderRequest:
        """The request `to_doc` wrote; optional fields absent from older documents take their
        defaults. A missing required field or a bad value raises ValueError naming it."""
        try:
            return cls(
                venue=doc["venue"],
                symbol=doc["symbol"],
                side=Side(doc["side"]),
                position_side=PositionSide(doc["position_side"]),
                order_type=OrderType(doc["order_type"]),
                quantity=Decimal(doc["quantity"]),
                client_order_id=doc["client_order_id"],
                intent_id=doc["intent_id"],
                price=Decimal(doc["price"]) if doc.get("price") else None,
                time_in_force=TimeInForce(doc["time_in_force"]) if doc.get("time_in_force") else None,
                reduce_only=doc.get("reduce_only", False),
            )
        except KeyError as exc:
            raise ValueError(f"order request document lacks {exc.args[0]!r}: {doc}") from None
        except (ArithmeticError, ValueError) as exc:
            raise ValueError(f"order request document has a bad value ({exc}): {doc}") from None


@dataclass(slots=True)
class Order:
    venue: str
    symbol: str
    client_order_id: str
    status: OrderStatus
    side: Side
    position_side: PositionSide
    order_type: OrderType
    quantity: Decimal
    filled_qty: Decimal = Decimal(0)
    avg_price: Decimal = Decimal(0)
    price: Decimal | None = None
    venue_order_id: str = ""
    update_ms: int = 0
    reject_code: str = ""
    reject_reason: str = ""
    endpoint: str = ""  # where the order went, as operators grep it (/fapi/v1/order, paper:binance_um)
    http_status: int = 0  # the venue's HTTP answer to the request (0: none, e.g. simulated)


@dataclass(frozen=True, slots=True)
class Fill:
    ts: int
    venue: str
    symbol: str
    side: Side
    position_side: PositionSide
    qty: Decimal
    price: Decimal
    fee_usdt: Decimal
    realized_pnl_usdt: Decimal
    client_order_id: str
    intent_id: str
    liquidity: str = "taker"
    simulated: bool = True
    venue_order_id: str = ""  # the venue's order id (live fills): trades are matched by it

    def record(self) -> dict:
        rec = {
            "kind": "fill",
            "id": f"{self.venue}:{self.client_order_id}:{self.ts}:{self.qty}",
            "ts": self.ts,
            "venue": self.venue,
            "symbol": self.symbol,
            "side": self.side.value,
            "position_side": self.position_side.value,
            "qty": self.qty,
            "price": self.price,
            "fee_usdt": self.fee_usdt,
            "realized_pnl_usdt": self.realized_pnl_usdt,
            "client_order_id": self.client_order_id,
            "intent_id": self.intent_id,
            "liquidity": self.liquidity,
            "status": "simulated" if self.simulated else "filled",
        }
        if self.venue_order_id:
            rec["venue_order_id"] = self.venue_order_id
        return rec


@dataclass(frozen=True, slots=True)
class FundingPayment:
    ts: int
    venue: str
    symbol: str
    position_side: PositionSide
    qty: Decimal
    mark_price: Decimal
    rate: Decimal
    amount_usdt: Decimal  # positive = received, negative = paid

    def record(self) -> dict:
        return {
            "kind": "funding",
            "id": f"{self.venue}:{self.symbol}:{self.position_side.value}:{self.ts}",
            "ts": self.ts,
            "venue": self.venue,
            "symbol": self.symbol,
            "position_side": self.position_side.value,
            "qty": self.qty,
            "mark_price": self.mark_price,
            "rate": self.rate,
            "amount_usdt": self.amount_usdt,
        }


@dataclass(slots=True)
class Position:
    venue: str
    symbol: str
    position_side: PositionSide
    qty: Decimal  # base units, always >= 0; the side says the direction
    entry_price: Decimal
    mark_price: Decimal = Decimal(0)
    leverage: int = 1
    opened_ts: int = 0

    @property
    def unrealized_pnl(self) -> Decimal:
        if not self.qty or not self.mark_price:
            return Decimal(0)
        return (self.mark_price - self.entry_price) * self.qty * self.position_side.sign

    @property
    def notional(self) -> Decimal:
        return self.qty * (self.mark_price or self.entry_price)


@dataclass(frozen=True, slots=True)
class Balance:
    asset: str
    wallet_balance: Decimal
    available_balance: Decimal
    unrealized_pnl: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class FundingInfo:
    venue: str
    symbol: str
    mark_price: Decimal  # 0: not known (older funding-history rows carry none)
    funding_rate: Decimal
    next_funding_time_ms: int
    funding_time_ms: int = 0  # a history row: when that rate settled


@dataclass(frozen=True, slots=True)
class BookTop:
    venue: str
    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    ts: int

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2


@dataclass(frozen=True, slots=True)
class Intent:
    """What the strategy wants, before risk and rounding: the unit every order derives from."""

    intent_id: str
    ts: int
    venue: str
    symbol: str
    side: Side
    position_side: PositionSide
    reason: str  # entry | stop_loss | take_profit | flatten | ...
    quantity: Decimal
    ref_price: Decimal
    reduce_only: bool = False
    meta: dict = field(default_factory=dict)

    @classmethod
    def closing(
        cls,
        venue: str,
        symbol: str,
        pside: PositionSide,
        qty: Decimal,
        ts: int,
        reason: str,
        tag: str,
        mark: Decimal,
        meta: dict | None = None,
    ) -> Intent:
        """Reduce-only close of `qty` on one position side, its id derived from the instant and `tag`
        (so a replayed instant makes the same order id)."""
        return cls(
            intent_id=ids.intent_id(venue, symbol, ts, f"{tag}-{pside.value}"),
            ts=ts,
            venue=venue,
            symbol=symbol,
            side=pside.closing_side,
            position_side=pside,
            reason=reason,
            quantity=qty,
            ref_price=mark,
            reduce_only=True,
            meta=dict(meta or {}),
        )
