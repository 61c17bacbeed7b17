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
from execution.exchanges.wire import Fields, rows_of
from execution.models import PositionSide, Side

#: incomeType values that move capital into or out of the futures wallet (not P&L)
TRANSFER_TYPES = frozenset(
    {"TRANSFER", "INTERNAL_TRANSFER", "CROSS_COLLATERAL_TRANSFER", "STRATEGY_UMFUTURES_TRANSFER"}
)
#: income the journal already holds from its own fills (booked with the fill, not again)
TRADE_TYPES = frozenset({"REALIZED_PNL", "COMMISSION"})
PAGE = 1000
WEEK_MS = 7 * 86_400_000


_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
#: positionSide: BOTH (one-way mode) takes the side from the trade's: buys are longs, sells shorts
_POSITION_SIDES: dict[str, PositionSide | None] = {"BOTH": None, "LONG": PositionSide.LONG, "SHORT": PositionSide.SHORT}
MAX_ID = 2**63 - 1


def parse_income(row: Mapping[str, Any], venue: str = VENUE) -> AccountEvent:
    """One income row: funding, a transfer, or other income (rebates, insurance clear, ...)."""
    f = Fields(row, venue, "income")
    kind_raw = f.text("incomeType")
    kind = "funding" if kind_raw == "FUNDING_FEE" else "transfer" if kind_raw in TRANSFER_TYPES else "other"
    info = f.text("info", "", cut=True)
    return AccountEvent(
        kind=kind,
        venue=venue,
        venue_id=f"{kind_raw}:{f.text('tranId')}",
        ts=f.ms("time"),
        symbol=f.text("symbol", ""),
        amount=f.num("income"),
        asset=f.text("asset", ""),
        detail=kind_raw + (f" {info}" if info not in ("", kind_raw) else ""),
    )


def parse_user_trade(row: Mapping[str, Any], venue: str = VENUE) -> VenueTrade:
    """One userTrades row. The docs' example shows the commission negative, the venue answers it
    positive: either way it is a cost (its magnitude is what was paid)."""
    f = Fields(row, venue, "userTrades")
    side = f.choice("side", _SIDES)
    pside = f.choice("positionSide", _POSITION_SIDES, "BOTH")
    if pside is None:  # one-way mode: buys are longs, sells shorts
        pside = PositionSide.LONG if side is Side.BUY else PositionSide.SHORT
    return VenueTrade(
        venue=venue,
        trade_id=str(f.integer("id", low=0, high=MAX_ID)),  # pages continue from the largest id
        order_id=f.text("orderId"),
        client_order_id=f.text("clientOrderId", ""),
        ts=f.ms("time"),
        symbol=f.text("symbol"),
        side=side,
        position_side=pside,
        qty=f.num("qty", positive=True),
        price=f.num("price", positive=True),
        fee=abs(f.num("commission", "0")),
        fee_asset=f.text("commissionAsset", ""),
        maker=f.flag("maker"),
        realized_pnl=f.num("realizedPnl", "0"),
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
                for row in rows_of(rows, self.name, "income"):
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
                page = self._user_trades(symbol=symbol, startTime=lo, endTime=hi, limit=PAGE)
                while page:
                    for trade in page:
                        if lo <= trade.ts <= hi:
                            out[trade.trade_id] = trade
                    if len(page) < PAGE:
                        break
                    last = max(int(t.trade_id) for t in page)
                    page = self._user_trades(symbol=symbol, fromId=last + 1, limit=PAGE)
                    if page and page[0].ts > hi:
                        break
        return sorted(out.values(), key=lambda t: (t.ts, int(t.trade_id) if t.trade_id.isdigit() else 0))

    def _user_trades(self, **params: Any) -> list[VenueTrade]:
        rows = self._call("userTrades", self.client.futures_account_trades, **params)
        return [parse_user_trade(row, self.name) for row in rows_of(rows, self.name, "userTrades")]

    def client_order_id_of(self, symbol: str, order_id: str) -> str:
        row = self._call("order:get", self.client.futures_get_order, symbol=symbol, orderId=order_id)
        return Fields(row, self.name, "order").text("clientOrderId", "")


def _windows(start_ms: int, end_ms: int, span_ms: int) -> list[tuple[int, int]]:
    """[start, end] in inclusive windows of at most `span_ms` (what the venue accepts at once)."""
    out, lo = [], start_ms
    while lo <= end_ms:
        hi = min(end_ms, lo + span_ms - 1)
        out.append((lo, hi))
        lo = hi + 1
    return out
