"""OKX v5 account history: bills (funding fees, transfers) and fills, sizes converted from contracts.

    GET /api/v5/account/bills          last 7 days, 5 requests/s;  bills-archive: 3 months, 5 / 2 s
        type 8 Funding fee (subType 173 expense, 174 income: `pnl` is the payment, `sz` the position
        in contracts, `px` the mark price), type 1 Transfer (subType 11 in, 12 out; `balChg` signed,
        `from`/`to` 6 funding / 18 trading account); newest first, `after` = older than this billId
    GET /api/v5/trade/fills            last 3 days, 60 / 2 s;  fills-history: 3 months, 10 / 2 s
        {"instId","tradeId","ordId","clOrdId","billId","fillPx","fillSz"(contracts),"side","posSide",
         "execType" T|M,"fee"(charged: negative),"feeCcy","fillPnl","ts","fillTime",...}

The parsers are pure (documented shapes in tests/unit/test_history_parsers.py); `OkxHistory` is
the part of the adapter that calls them through the template's call loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from execution.exchanges.history import AccountEvent, VenueTrade
from execution.exchanges.okx_parsers import POS_SIDES, SIDES, VENUE, Contracts
from execution.exchanges.rest_venue import RestVenue
from execution.exchanges.wire import Fields
from execution.models import PositionSide, Side

BILL_FUNDING, BILL_TRANSFER = "8", "1"
PAGE = 100
BILLS_RECENT_MS = 7 * 86_400_000
FILLS_RECENT_MS = 3 * 86_400_000
RECENT_MARGIN_MS = 3_600_000  # ask the archive when the window starts within an hour of the recent limit
MAX_PAGES = 50


def parse_bill(row: Mapping[str, Any], ct_val: Decimal | None = None, venue: str = VENUE) -> AccountEvent:
    """One bill: funding (type 8), a transfer (type 1), or other."""
    f = Fields(row, venue, "bill")
    bill_type, sub = f.text("type", ""), f.text("subType", "")
    kind = "funding" if bill_type == BILL_FUNDING else "transfer" if bill_type == BILL_TRANSFER else "other"
    amount = f.num("balChg", "0")
    qty, mark = Decimal(0), Decimal(0)
    if kind == "funding":
        if f.has("pnl"):
            amount = f.num("pnl")  # the docs: "refer to pnl for the fee payment"
        mark = f.num("px", "0", nonneg=True)
        if ct_val is not None and f.has("sz"):
            qty = Contracts(ct_val).to_base(f.num("sz"))
    route = f" from {f.text('from')} to {f.text('to', '')}" if kind == "transfer" and f.has("from") else ""
    return AccountEvent(
        kind=kind,
        venue=venue,
        venue_id=f.text("billId"),
        ts=f.ms("ts"),
        symbol=f.text("instId", ""),
        amount=amount,
        asset=f.text("ccy", ""),
        detail=f"type {bill_type} subType {sub}{route}",
        qty=qty,
        mark_price=mark,
    )


def parse_fill(row: Mapping[str, Any], ct_val: Decimal, venue: str = VENUE) -> VenueTrade:
    """One fills row (sizes in contracts, the fee negative when charged)."""
    f = Fields(row, venue, "fill")
    side = f.choice("side", SIDES)
    pside = f.choice("posSide", POS_SIDES, "net")
    if pside is None:  # net mode: buys are longs, sells shorts
        pside = PositionSide.LONG if side is Side.BUY else PositionSide.SHORT
    return VenueTrade(
        venue=venue,
        trade_id=f.text("billId"),
        order_id=f.text("ordId", ""),
        client_order_id=f.text("clOrdId", ""),
        ts=f.ms("fillTime", 0) or f.ms("ts"),
        symbol=f.text("instId"),
        side=side,
        position_side=pside,
        qty=Contracts(ct_val).to_base(f.num("fillSz", positive=True)),
        price=f.num("fillPx", positive=True),
        fee=Decimal(0) - f.num("fee", "0"),
        fee_asset=f.text("feeCcy", ""),
        maker=f.text("execType", "") == "M",
        realized_pnl=f.num("fillPnl", "0"),
    )


class OkxHistory(RestVenue):
    """OkxPerp's history calls: the template's `_call` checks `code`/`sCode`, throttles and signs."""

    if TYPE_CHECKING:
        account: Any
        trade: Any

    def _ct_val(self, inst: str) -> Decimal | None:
        try:
            return self.filters(inst).contract_value if inst else None
        except Exception:  # noqa: BLE001 - an instrument no longer listed: the size stays unknown
            return None

    def _pages(self, endpoint: str, path: str, params: dict[str, Any], start_ms: int) -> list[Mapping[str, Any]]:
        """Newest-first pages until rows older than `start_ms` (or no more)."""
        out: list[Mapping[str, Any]] = []
        after = ""
        for _ in range(MAX_PAGES):
            query = {**params, "limit": str(PAGE), **({"after": after} if after else {})}
            rows = [
                Fields(r, self.name, endpoint)
                for r in self._call(endpoint, self.account._request_with_params, "GET", path, query)
            ]
            out.extend(r.row for r in rows)
            if len(rows) < PAGE or min(r.ms("ts") for r in rows) < start_ms:
                break
            after = rows[-1].text("billId")
        return out

    def account_events(self, start_ms: int, end_ms: int) -> list[AccountEvent]:
        archive = self.venue_now_ms() - start_ms > BILLS_RECENT_MS - RECENT_MARGIN_MS
        endpoint, path = (
            ("account/bills-archive", "/api/v5/account/bills-archive")
            if archive
            else ("account/bills", "/api/v5/account/bills")
        )
        out: dict[str, AccountEvent] = {}
        for bill_type in (BILL_FUNDING, BILL_TRANSFER):
            params = {"ccy": "USDT", "type": bill_type, "begin": str(start_ms), "end": str(end_ms)}
            for row in self._pages(endpoint, path, params, start_ms):
                event = parse_bill(row, self._ct_val(Fields(row, self.name, "bill").text("instId", "")), self.name)
                if start_ms <= event.ts <= end_ms:
                    out[event.venue_id] = event
        return sorted(out.values(), key=lambda e: (e.ts, e.venue_id))

    def trades(self, start_ms: int, end_ms: int, symbols: Iterable[str] = ()) -> list[VenueTrade]:
        archive = self.venue_now_ms() - start_ms > FILLS_RECENT_MS - RECENT_MARGIN_MS
        endpoint, path = (
            ("trade/fills-history", "/api/v5/trade/fills-history")
            if archive
            else ("trade/fills", "/api/v5/trade/fills")
        )
        params = {"instType": "SWAP", "begin": str(start_ms), "end": str(end_ms)}
        out: dict[str, VenueTrade] = {}
        for row in self._pages(endpoint, path, params, start_ms):
            ct_val = self._ct_val(Fields(row, self.name, "fill").text("instId"))
            if ct_val is None:
                continue
            fill = parse_fill(row, ct_val, self.name)
            if start_ms <= Fields(row, self.name, "fill").ms("ts") <= end_ms:
                out[fill.trade_id] = fill
        return sorted(out.values(), key=lambda t: (t.ts, t.trade_id))

    def client_order_id_of(self, symbol: str, order_id: str) -> str:
        rows = self._call("trade/order:get", self.trade.get_order, instId=symbol, ordId=order_id)
        return Fields(rows[0], self.name, "order").text("clOrdId", "") if rows else ""
