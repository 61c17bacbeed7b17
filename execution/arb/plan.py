"""The dry plan of an arbitrage entry: both legs as they would be sent, and the rescue."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from execution.arb.book import OpenPair, PairLeg
from execution.arb.edge import Edge
from execution.arb.rescue import plan_rescue
from execution.exchanges.errors import describe
from execution.models import BPS_PER_UNIT, PositionSide

if TYPE_CHECKING:
    from execution.arb.loop import ArbitrageLoop

ZERO = Decimal(0)


def entry_plan(loop: ArbitrageLoop, edge: Edge) -> dict:
    """What an entry would send and what the rescue would do if the second leg failed (for the
    operator's `preview` and refused `execute`; nothing is sent)."""
    long_leg = PairLeg(edge.long_venue, edge.long_symbol, PositionSide.LONG, edge.size, edge.long_price)
    short_leg = PairLeg(edge.short_venue, edge.short_symbol, PositionSide.SHORT, edge.size, edge.short_price)
    rescue: dict[str, dict[str, Any]] = {}
    for failed, kept in (("short", long_leg), ("long", short_leg)):
        empty = PairLeg(
            edge.short_venue if failed == "short" else edge.long_venue,
            edge.short_symbol if failed == "short" else edge.long_symbol,
            PositionSide.SHORT if failed == "short" else PositionSide.LONG,
        )
        pair = OpenPair(
            "plan",
            edge.pair,
            kept if failed == "short" else empty,
            empty if failed == "short" else kept,
            edge.ts,
            edge.size,
        )
        try:
            filters = {
                "long": loop.filters(edge.long_venue, edge.long_symbol),
                "short": loop.filters(edge.short_venue, edge.short_symbol),
            }
            rp = plan_rescue(pair, filters, loop.cfg.partial_fill_policy)
            fee = loop.fees(kept.venue, kept.symbol).taker_rate
        except Exception as exc:  # noqa: BLE001
            rescue[f"if_{failed}_leg_fails"] = {"error": describe(exc)}
            continue
        half = loop.half_spread.get(kept.venue, ZERO) * BPS_PER_UNIT
        slip = loop.cfg.expected_slippage_bps.get(kept.venue, ZERO)
        cost_bps = fee * BPS_PER_UNIT * 2 + slip * 2 + half * 2
        rescue[f"if_{failed}_leg_fails"] = {
            "orders": [o.doc(pair) for o in rp.orders],
            "residual": list(rp.residual),
            "estimated_cost_bps": float(round(cost_bps, 4)),
            "estimated_cost_usdt": float((cost_bps / BPS_PER_UNIT * edge.notional_usdt).quantize(Decimal("0.0001"))),
        }
    return {
        "pair": edge.pair,
        "direction": edge.direction,
        "dry_run": loop.dry_run,
        "legs": [
            {
                "venue": edge.long_venue,
                "symbol": edge.long_symbol,
                "side": "BUY",
                "position_side": "LONG",
                "type": "MARKET",
                "qty": str(edge.size),
                "expected_price": str(edge.long_price),
            },
            {
                "venue": edge.short_venue,
                "symbol": edge.short_symbol,
                "side": "SELL",
                "position_side": "SHORT",
                "type": "MARKET",
                "qty": str(edge.size),
                "expected_price": str(edge.short_price),
            },
        ],
        "leg_mode": loop.cfg.leg_mode,
        "edge": edge.to_doc(),
        "expected_pnl_usdt": float(edge.expected_pnl_usdt.quantize(Decimal("0.0001"))),
        "rescue_plan": rescue,
    }
