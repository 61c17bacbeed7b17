"""OKX protective orders: algo orders placed, queried, cancelled and listed through the
template's call loop. One `oco` algo order carries both the stop and the take-profit, so when one
fires OKX removes the other itself; a fired one of ours has its market order's fills booked as
its own. Bodies and rows are built and read by `okx_algo` (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from execution.exchanges.errors import BadRequest, FilterFailure, OrderNotFound, SafeModeRefused, VenueError
from execution.exchanges.okx_algo import algo_body, parse_algo
from execution.exchanges.okx_history import OkxHistory
from execution.exchanges.okx_parsers import TD_MODE, contracts_of, one_row, parse_order, parse_order_fee
from execution.exchanges.wire import Fields
from execution.models import MarginType
from execution.triggers import TriggerOrder, TriggerRequest, TriggerStatus, market_order_of, order_of


class OkxTriggers(OkxHistory):
    """OkxPerp's protective-order calls (a layer of the adapter, as OkxHistory is)."""

    if TYPE_CHECKING:
        trade: Any
        margin: MarginType
        _dual_side: bool | None

    def place_trigger(self, request: TriggerRequest) -> TriggerOrder:
        f = self.filters(request.symbol)
        try:
            sz = contracts_of(f).from_base(request.quantity)
        except ValueError as exc:
            raise FilterFailure(self.name, "51121", str(exc)) from None
        long_short = self._dual_side if self._dual_side is not None else True
        body = algo_body(request, sz, TD_MODE[self.margin], long_short)
        if self.safe_mode:
            self.log.warning(
                "[executor] SAFE_MODE %s %s %s %s posSide=%s sz=%s sl=%s tp=%s cid=%s: refused, OKX has no "
                "test-order endpoint; nothing sent",
                self.name,
                request.symbol,
                body["ordType"],
                body["side"],
                body.get("posSide", "net"),
                body["sz"],
                body.get("slTriggerPx", "-"),
                body.get("tpTriggerPx", "-"),
                request.client_id,
            )
            raise SafeModeRefused(self.name, "SAFE_MODE", "SAFE_MODE=true: protective orders are not sent")
        ack, found = self._submit_trigger(
            request, lambda: self._call("trade/order-algo:post", self.trade.place_algo_order, mutating=True, **body)
        )
        if found is not None:
            return found
        try:
            found = self.get_trigger(request.symbol, request.client_id)
        except VenueError:
            found = None  # accepted; its state comes with the next query
        ack_row = Fields(one_row(ack, self.name, "order-algo"), self.name, "order-algo")
        return found or order_of(request, TriggerStatus.OPEN, venue_id=ack_row.text("algoId", ""))

    def get_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        try:
            data = self._call("trade/order-algo:get", self.trade.get_algo_order_details, algoClOrdId=client_id)
        except OrderNotFound:
            return None
        return self._seen_trigger(one_row(data, self.name, "order-algo")) if data else None

    def cancel_trigger(self, symbol: str, client_id: str) -> TriggerOrder | None:
        now = self.get_trigger(symbol, client_id)
        if now is None or not now.status.is_open:
            return None
        try:
            self._call(
                "trade/cancel-algos",
                self.trade.cancel_algo_order,
                [{"instId": symbol, "algoId": now.venue_id}],
                mutating=True,
            )
        except (OrderNotFound, BadRequest):
            return None  # final already (filled, cancelled)
        return self.get_trigger(symbol, client_id)

    def open_triggers(self, symbol: str | None = None) -> list[TriggerOrder]:
        out: list[TriggerOrder] = []
        for ord_type in ("oco", "conditional"):
            rows = self._call(
                "trade/orders-algo-pending",
                self.trade.order_algos_list,
                ordType=ord_type,
                instType="SWAP",
                instId=symbol or "",
            )
            out.extend(parse_algo(r, self._ct_val_of(r, "orders-algo-pending"), self.name) for r in rows)
        return out

    def track_trigger(self, client_id: str, intent_id: str) -> None:
        self._tracker.track(client_id, intent_id)

    def _ct_val_of(self, row: Any, what: str) -> Decimal:
        """The ctVal of the instrument an answer's row names (its sizes are contracts)."""
        return self.filters(Fields(row, self.name, what).text("instId")).contract_value

    def _seen_trigger(self, row: Mapping[str, Any]) -> TriggerOrder:
        """An algo order; a fired one of ours: its market order's fills are booked as its own."""
        t = parse_algo(row, self._ct_val_of(row, "order-algo"), self.name)
        if t.status.fired and t.actual_order_id and self._tracker.is_tracked(t.client_id):
            data = self._call("trade/order:get", self.trade.get_order, instId=t.symbol, ordId=t.actual_order_id)
            if data:
                market_row = one_row(data, self.name, "order")
                market = parse_order(market_row, self.filters(t.symbol).contract_value, self.name)
                t.filled_qty, t.avg_price = market.filled_qty, market.avg_price
                final = market.status.is_final
                self._observe(
                    market_order_of(t, market.filled_qty, market.avg_price, market.update_ms, final),
                    parse_order_fee(market_row),
                )
        return t
