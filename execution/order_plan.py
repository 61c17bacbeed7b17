"""How one intent's quantity is carried out completely (pure): split above the venue's market
maximum, the remainder of a partially filled market order, the size cut-back after a margin or
position-limit rejection. The router (execution/router.py) sends what these say.

- A market order above the venue's market max quantity (Binance MARKET_LOT_SIZE maxQty, OKX
  maxMktSz) is refused by the venue; it goes as children of at most that size, each with its own
  client order id. A last child below the minimum quantity is merged into the one before, and
  the two are split evenly.
- A market (or IOC) order that ends partially filled leaves a remainder: sent again a bounded
  number of times (ORDER_REMAINDER_RETRIES), then reported.
- An entry refused for margin or a position limit is halved and sent again, at most
  ORDER_CUTBACK_MAX times, never below the minimum quantity or notional (the runbook's "venue
  auto size-cutback"), with an ops alert.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from execution.models import SymbolFilters


def _down(qty: Decimal, step: Decimal) -> Decimal:
    return (qty / step).to_integral_value(rounding=ROUND_DOWN) * step if step > 0 else qty


def market_step(f: SymbolFilters) -> Decimal:
    return f.market_step_size or f.step_size


def split_quantity(qty: Decimal, f: SymbolFilters) -> list[Decimal]:
    """Children of `qty` no larger than the market max quantity (one child when it fits)."""
    step = market_step(f)
    cap = _down(f.market_max_qty, step) if f.market_max_qty else Decimal(0)
    if not cap or qty <= cap:
        return [qty]
    whole, rest = divmod(qty, cap)
    children = [cap] * int(whole)
    rest = _down(rest, step)
    if rest > 0:
        if rest >= f.min_qty:
            children.append(rest)
        else:  # too small alone: share the last two evenly
            pair = children.pop() + rest
            first = _down(pair / 2, step)
            children.extend([first, pair - first])
    return children


def remainder(ordered: Decimal, filled: Decimal, f: SymbolFilters) -> Decimal:
    """What is left to send of a partially filled order (0 when it cannot be sent as an order)."""
    left = _down(ordered - filled, market_step(f))
    return left if left >= f.min_qty and left > 0 else Decimal(0)


def cut_back(qty: Decimal, f: SymbolFilters, ref_price: Decimal) -> Decimal:
    """Half of `qty` rounded down to the step, or 0 when that would be below the minimum quantity
    or notional (then there is nothing smaller to try)."""
    half = _down(qty / 2, market_step(f))
    if half <= 0 or half < f.min_qty:
        return Decimal(0)
    if ref_price > 0 and half * ref_price < f.min_notional:
        return Decimal(0)
    return half
