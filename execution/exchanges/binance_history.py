"""Binance USD-M account history: income (funding, transfers) and the account's trade list.

    GET /fapi/v1/income      weight 30; rows oldest first: {"symbol","incomeType","income","asset",
                             "info","time","tranId","tradeId"}; tranId is unique per incomeType;
                             3 months kept; up to 1000 rows a page (`page`)
    GET /fapi/v1/userTrades  weight 5; one symbol; startTime..endTime at most 7 days; up to 1000
                             rows, then `fromId`: {"buyer","commission","commissionAsset","id","maker",
                             "orderId","price","qty","quoteQty","realizedPnl","side","positionSide",
                             "symbol","time"} (no client order id: GET /fapi/v1/order by orderId gives it)

The parsers are pure (documented shapes in tests/unit/test_history_parsers.py); `BinanceHistory` is
the part of the adapter that calls them through the template's call loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from execution.exchanges.binance_parsers import VENUE
from execution.exchanges.history import AccountEvent, VenueTrade
from execution.exchanges.rest_venue import RestVenue
from execution.exchanges.wire import dec
from execution.models import PositionSide, Side

#: incomeType values that move capital into or out of the futures wallet (not P&L)
TRANSFER_TYPES = frozenset(
    {"TRANSFER", "INTERNAL_TRANSFER", "CROSS_COLLATERAL_TRANSFER", "STRATEGY_UMFUTURES_TRANSFER"}
)
#: income the journal already holds from its own fills (booked with the fill, not again)
TRADE_TYPES = frozenset({"REALIZED_PNL", "COMMISSION"})
PAGE = 1000
WEEK_MS = 7 * 86_400_000


def parse_income(row: Mapping[str, Any], venue: str = VENUE) -> AccountEvent:
    """One income row: funding, a transfer, or other income (rebates, insurance clear, ...)."""
    kind_raw = str(row["incomeType"])
    kind = "funding" if kind_raw == "FUNDING_FEE" else "transfer" if kind_raw in TRANSFER_TYPES else "other"
    return AccountEvent(
        kind=kind,
        venue=venue,
        venue_id=f"{kind_raw}:{row['tranId']}",
        ts=int(row["time"]),
        symbol=str(row.get("symbol") or ""),
        amount=dec(row["income"]),
        asset=str(row.get("asset") or ""),
        detail=f"{kind_raw}" + (f" {row['info']}" if row.get("info") not in (None, "", kind_raw) else ""),
    )


def parse_user_trade(row: Mapping[str, Any], venue: str = VENUE) -> VenueTrade:
    """One userTrades row. The docs' example shows the commission negative, the venue answers it
    positive: either way it is a cost (its magnitude is what was paid)."""
    side = Side(row["side"])
    pside_raw = row.get("positionSide", "BOTH")
    if pside_raw == "BOTH":  # one-way mode: buys are longs, sells shorts
        pside = PositionSide.LONG if side is Side.BUY else PositionSide.SHORT
    else:
        pside = PositionSide(pside_raw)
    return VenueTrade(
        venue=venue,
        trade_id=str(row["id"]),
        order_id=str(row["orderId"]),
        client_order_id=str(row.get("clientOrderId") or ""),
        ts=int(row["time"]),
        symbol=str(row["symbol"]),
        side=side,
        position_side=pside,
        qty=dec(row["qty"]),
        price=dec(row["price"]),
        fee=abs(dec(row.get("commission"))),
        fee_asset=str(row.get("commissionAsset") or ""),
        maker=bool(row.get("maker")),
        realized_pnl=dec(row.get("realizedPnl")),
    )


class BinanceHistory(RestVenue):
    """BinanceUM's history calls: the template's `_call` does the throttling, signing and errors."""

    if TYPE_CHECKING:
        from binance.client import Client

        client: Client

    def account_events(self, start_ms: int, end_ms: int) -> list[AccountEvent]:
        out: dict[str, AccountEvent] = {}
        for lo, hi in _windows(start_ms, end_ms, WEEK_MS):
            page = 1
            while True:
                rows = self._call(
                    "income",
                    self.client.futures_income_history,
                    startTime=lo,
                    endTime=hi,
                    limit=PAGE,
                    page=page,
                )
                for row in rows:
                    event = parse_income(row, self.name)
                    out[event.venue_id] = event
                if len(rows) < PAGE:
                    break
                page += 1
        return sorted(out.values(), key=lambda e: (e.ts, e.venue_id))

    def trades(self, start_ms: int, end_ms: int, symbols: Iterable[str]) -> list[VenueTrade]:
        out: dict[str, VenueTrade] = {}
        for symbol in sorted(set(symbols)):
            for lo, hi in _windows(start_ms, end_ms, WEEK_MS):
                rows = self._call(
                    "userTrades",
                    self.client.futures_account_trades,
                    symbol=symbol,
                    startTime=lo,
                    endTime=hi,
                    limit=PAGE,
                )
                while rows:
                    for row in rows:
                        if lo <= int(row["time"]) <= hi:
                            trade = parse_user_trade(row, self.name)
                            out[trade.trade_id] = trade
                    if len(rows) < PAGE:
                        break
                    last = max(int(r["id"]) for r in rows)
                    rows = self._call(
                        "userTrades", self.client.futures_account_trades, symbol=symbol, fromId=last + 1, limit=PAGE
                    )
                    if rows and int(rows[0]["time"]) > hi:
                        break
        return sorted(out.values(), key=lambda t: (t.ts, int(t.trade_id) if t.trade_id.isdigit() else 0))

    def client_order_id_of(self, symbol: str, order_id: str) -> str:
        row = self._call("order:get", self.client.futures_get_order, symbol=symbol, orderId=order_id)
        return str(row.get("clientOrderId") or "")


def _windows(start_ms: int, end_ms: int, span_ms: int) -> list[tuple[int, int]]:
    """[start, end] in inclusive windows of at most `span_ms` (what the venue accepts at once)."""
    out, lo = [], start_ms
    while lo <= end_ms:
        hi = min(end_ms, lo + span_ms - 1)
        out.append((lo, hi))
        lo = hi + 1
    return out
