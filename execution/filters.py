"""Rounding to a venue's filters: the one place where prices and quantities are made legal.

Quantities round *down* to the step (never buy more than was sized), prices round to the tick
in the direction that does not make the order more aggressive than asked. `check_order` answers
what the venue would say about an order, so the paper venue rejects exactly like the real one.
"""

from __future__ import annotations

import math
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, Decimal

from execution.models import OrderType, Side, SymbolFilters


def round_qty(qty: Decimal, filters: SymbolFilters, order_type: OrderType = OrderType.LIMIT) -> Decimal:
    step = filters.step_size
    if order_type is OrderType.MARKET and filters.market_step_size:
        step = filters.market_step_size
    if qty <= 0:
        return Decimal(0)
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step


def round_price(price: Decimal, filters: SymbolFilters, side: Side) -> Decimal:
    """Buy prices round down, sell prices round up: never more aggressive than asked."""
    mode = ROUND_FLOOR if side is Side.BUY else ROUND_CEILING
    return (price / filters.tick_size).to_integral_value(rounding=mode) * filters.tick_size


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step == 0 or (value % step) == 0


class FilterViolation(Exception):
    """An order the venue would refuse; `code` is the Binance-style code the venue would answer."""

    def __init__(self, code: int, filter_name: str, message: str):
        super().__init__(message)
        self.code = code
        self.filter_name = filter_name


def check_order(
    filters: SymbolFilters,
    order_type: OrderType,
    qty: Decimal,
    price: Decimal | None,
    ref_price: Decimal,
    reduce_only: bool = False,
) -> None:
    """Raise FilterViolation with the code Binance USD-M would return for this order."""
    if qty <= 0:
        raise FilterViolation(-4003, "LOT_SIZE", "Quantity less than or equal to zero.")
    step = filters.step_size
    max_qty = filters.max_qty
    if order_type is OrderType.MARKET:
        step = filters.market_step_size or step
        max_qty = filters.market_max_qty or max_qty
    if not is_multiple(qty, step):
        raise FilterViolation(-1111, "LOT_SIZE", "Precision is over the maximum defined for this asset.")
    if qty < filters.min_qty:
        raise FilterViolation(-4004, "LOT_SIZE", f"Quantity less than minimum quantity ({qty} < {filters.min_qty}).")
    if max_qty and qty > max_qty:
        raise FilterViolation(-4005, "LOT_SIZE", f"Quantity greater than max quantity ({qty} > {max_qty}).")
    if price is not None:
        if price <= 0:
            raise FilterViolation(-4014, "PRICE_FILTER", "Price not increased by tick size.")
        if not is_multiple(price, filters.tick_size):
            raise FilterViolation(-4014, "PRICE_FILTER", "Price not increased by tick size.")
        if filters.min_price and price < filters.min_price:
            raise FilterViolation(-4016, "PRICE_FILTER", f"Limit price can't be lower than {filters.min_price}.")
        if filters.max_price and price > filters.max_price:
            raise FilterViolation(-4016, "PRICE_FILTER", f"Limit price can't be higher than {filters.max_price}.")
    notional = qty * (price if price is not None else ref_price)
    if not reduce_only and notional < filters.min_notional:
        raise FilterViolation(
            -4164,
            "MIN_NOTIONAL",
            f"Order's notional must be no smaller than {filters.min_notional} (unless you choose reduce only).",
        )


def derive_filters(venue: str, symbol: str, price: float) -> SymbolFilters:
    """Conservative filters for an instrument nobody configured, so a replay of any market runs.

    Tick = 5 significant digits of the price; step so that one step is worth about 1 USDT;
    min notional 5 USDT as on Binance USD-M.
    """
    if not (price > 0 and math.isfinite(price)):
        raise ValueError(f"cannot derive filters for {venue}:{symbol} from price {price!r}")
    magnitude = math.floor(math.log10(price))
    tick = Decimal(1).scaleb(magnitude - 4)
    step = Decimal(1).scaleb(-magnitude)  # step * price ~ 1..10 USDT
    if step > 1:
        step = Decimal(1)
    return SymbolFilters(
        venue=venue,
        symbol=symbol,
        tick_size=tick,
        step_size=step,
        min_qty=step,
        max_qty=Decimal(10) ** 9,
        min_notional=Decimal(5),
        source="derived",
    )
