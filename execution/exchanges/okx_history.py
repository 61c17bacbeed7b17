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
from execution.exchanges.okx_parsers import VENUE, Contracts
from execution.exchanges.rest_venue import RestVenue
from execution.exchanges.wire import dec
from execution.models import PositionSide, Side

BILL_FUNDING, BILL_TRANSFER = "8", "1"
PAGE = 100
BILLS_RECENT_MS = 7 * 86_400_000
FILLS_RECENT_MS = 3 * 86_400_000
RECENT_MARGIN_MS = 3_600_000  # ask the archive when the window starts within an hour of the recent limit
MAX_PAGES = 50


def parse_bill(row: Mapping[str, Any], ct_val: Decimal | None = None, venue: str = VENUE) -> AccountEvent:
    """One bill: funding (type 8), a transfer (type 1), or other."""
    bill_type, sub = str(row.get("type", "")), str(row.get("subType", ""))
    kind = "funding" if bill_type == BILL_FUNDING else "transfer" if bill_type == BILL_TRANSFER else "other"
    amount = dec(row.get("balChg"))
    qty, mark = Decimal(0), Decimal(0)
    if kind == "funding":
        if row.get("pnl") not in (None, ""):
            amount = dec(row["pnl"])  # the docs: "refer to pnl for the fee payment"
        mark = dec(row.get("px"))
        if ct_val is not None and row.get("sz") not in (None, ""):
            qty = Contracts(ct_val).to_base(row["sz"])
    route = f" from {row.get('from')} to {row.get('to')}" if kind == "transfer" and row.get("from") else ""
    return AccountEvent(
        kind=kind,
        venue=venue,
        venue_id=str(row["billId"]),
        ts=int(row["ts"]),
        symbol=str(row.get("instId") or ""),
        amount=amount,
        asset=str(row.get("ccy") or ""),
        detail=f"type {bill_type} subType {sub}{route}",
        qty=qty,
        mark_price=mark,
    )


def parse_fill(row: Mapping[str, Any], ct_val: Decimal, venue: str = VENUE) -> VenueTrade:
    """One fills row (sizes in contracts, the fee negative when charged)."""
    side = Side.BUY if row["side"] == "buy" else Side.SELL
    pos = row.get("posSide", "net")
    if pos in ("long", "short"):
        pside = PositionSide.LONG if pos == "long" else PositionSide.SHORT
    else:  # net mode: buys are longs, sells shorts
        pside = PositionSide.LONG if side is Side.BUY else PositionSide.SHORT
    return VenueTrade(
        venue=venue,
        trade_id=str(row["billId"]),
        order_id=str(row.get("ordId") or ""),
        client_order_id=str(row.get("clOrdId") or ""),
        ts=int(row.get("fillTime") or row["ts"]),
        symbol=str(row["instId"]),
        side=side,
        position_side=pside,
        qty=Contracts(ct_val).to_base(row["fillSz"]),
        price=dec(row["fillPx"]),
        fee=-dec(row.get("fee")),
        fee_asset=str(row.get("feeCcy") or ""),
        maker=row.get("execType") == "M",
        realized_pnl=dec(row.get("fillPnl")),
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
            rows = self._call(endpoint, self.account._request_with_params, "GET", path, query)
            out.extend(rows)
            if len(rows) < PAGE or min(int(r["ts"]) for r in rows) < start_ms:
                break
            after = str(rows[-1]["billId"])
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
                if start_ms <= int(row["ts"]) <= end_ms:
                    event = parse_bill(row, self._ct_val(str(row.get("instId") or "")), self.name)
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
            ct_val = self._ct_val(str(row["instId"]))
            if ct_val is None or not start_ms <= int(row["ts"]) <= end_ms:
                continue
            fill = parse_fill(row, ct_val, self.name)
            out[fill.trade_id] = fill
        return sorted(out.values(), key=lambda t: (t.ts, t.trade_id))

    def client_order_id_of(self, symbol: str, order_id: str) -> str:
        rows = self._call("trade/order:get", self.trade.get_order, instId=symbol, ordId=order_id)
        return str(rows[0].get("clOrdId") or "") if rows else ""
