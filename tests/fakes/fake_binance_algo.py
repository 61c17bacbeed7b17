"""Binance USD-M's Algo Service on the loopback fake: conditional orders as Binance documents them
since 2025-12-09 (New / Query / Cancel Algo Order, Current All Algo Open Orders, ALGO_UPDATE).

    POST   /fapi/v1/algoOrder        algoType=CONDITIONAL, STOP_MARKET | TAKE_PROFIT_MARKET, triggerPrice,
                                     workingType, clientAlgoId; hedge rules as orders (-4061, -1106)
    GET    /fapi/v1/algoOrder        by clientAlgoId or algoId (-2013 unknown)
    DELETE /fapi/v1/algoOrder        {"algoId", "clientAlgoId", "code": "200", "msg": "success"} (-2011)
    GET    /fapi/v1/openAlgoOrders   the NEW ones (symbol optional)
    DELETE /fapi/v1/algoOpenOrders   cancel a symbol's

When the fake's mark crosses a trigger (`fire_algos`, run whenever the book moves) the order goes
TRIGGERED, the Algo Service places a MARKET order in the matching engine (`actualOrderId`) and the
algo order is FINISHED, or REJECTED when there is nothing left to close. The countdown
cancel-all (`FakeBinance.expire_countdowns`) cancels matching-engine orders only, as documented:
algo orders are the Algo Service's. Both working types compare the fake's mark (it keeps no
separate last trade price).
"""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

from tests.fakes.matching import D, Engine, FakeOrder, Instrument, Reject

ALGO_TYPES = ("STOP_MARKET", "TAKE_PROFIT_MARKET")


def _s(x: Decimal) -> str:
    return format(x.normalize(), "f") if x else "0"


class AlgoError(Exception):
    def __init__(self, status: int, code: int, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg


class AlgoService:
    engine: Engine
    algo_updates: list[dict]

    def _algo_init(self) -> None:
        self.algos: dict[int, dict[str, Any]] = {}
        self._algo_ids = itertools.count(2_146_760)
        self.algo_updates = []  # ALGO_UPDATE events, in order (a test may push them to a user stream)

    def now(self) -> int:  # pragma: no cover - FakeBinance's
        raise NotImplementedError

    def _inst(self, p: dict) -> Instrument:  # pragma: no cover - FakeBinance's
        raise NotImplementedError

    # -- REST ------------------------------------------------------------------------------------
    def _post_v1_algoOrder(self, p: dict) -> dict:
        if p.get("algoType") != "CONDITIONAL":
            raise AlgoError(400, -1102, "Mandatory parameter 'algoType' was not sent, was empty/null, or malformed.")
        inst = self._inst(p)
        otype = p.get("type", "")
        if otype not in ALGO_TYPES:
            raise AlgoError(400, -1116, "Invalid orderType.")
        side = p.get("side", "")
        if side not in ("BUY", "SELL"):
            raise AlgoError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.")
        pside = p.get("positionSide", "BOTH").upper()
        dual = self.engine.acct.dual_side
        if (dual and pside not in ("LONG", "SHORT")) or (not dual and pside != "BOTH"):
            raise AlgoError(400, -4061, "Order's position side does not match user's setting.")
        if dual and "reduceOnly" in p:
            raise AlgoError(400, -1106, "Parameter 'reduceonly' sent when not required.")
        qty, trigger = (
            self._number(p, "quantity", inst.qty_precision),
            self._number(p, "triggerPrice", inst.price_precision),
        )
        if qty % inst.step != 0 or qty < inst.min_qty or qty > inst.max_qty:
            raise AlgoError(400, -1013, "Filter failure: LOT_SIZE")
        if trigger % inst.tick != 0:
            raise AlgoError(400, -4014, "Price not increased by tick size.")
        working = p.get("workingType", "CONTRACT_PRICE")
        if working not in ("MARK_PRICE", "CONTRACT_PRICE"):
            raise AlgoError(400, -1102, "Parameter 'workingType' is invalid.")
        cid = p.get("clientAlgoId", "")
        if not re.fullmatch(r"[.A-Z:/a-z0-9_-]{1,36}", cid):
            raise AlgoError(400, -1100, "Illegal characters found in parameter 'clientAlgoId'.")
        if any(a["clientAlgoId"] == cid and a["algoStatus"] == "NEW" for a in self.algos.values()):
            raise AlgoError(400, -4116, "ClientOrderId is duplicated.")
        mark = self.engine.mark.get(inst.symbol)
        if mark is not None and self._crossed(otype, side, trigger, mark):
            raise AlgoError(400, -2021, "Order would immediately trigger.")
        now = self.now()
        algo = {
            "algoId": next(self._algo_ids),
            "clientAlgoId": cid,
            "algoType": "CONDITIONAL",
            "orderType": otype,
            "symbol": inst.symbol,
            "side": side,
            "positionSide": pside,
            "timeInForce": "GTC",
            "quantity": _s(qty),
            "algoStatus": "NEW",
            "actualOrderId": "",
            "actualPrice": "0.00000",
            "triggerPrice": _s(trigger),
            "price": "0.000",
            "icebergQuantity": None,
            "tpTriggerPrice": "0.000",
            "tpPrice": "0.000",
            "slTriggerPrice": "0.000",
            "slPrice": "0.000",
            "tpOrderType": "",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "workingType": working,
            "priceMatch": "NONE",
            "closePosition": False,
            "priceProtect": False,
            "reduceOnly": p.get("reduceOnly", "false") == "true",
            "createTime": now,
            "updateTime": now,
            "triggerTime": 0,
            "goodTillDate": 0,
        }
        self.algos[algo["algoId"]] = algo
        self._algo_event(algo)
        return dict(algo)

    def _number(self, p: dict, name: str, precision: int) -> Decimal:
        text = p.get(name) or ""
        try:
            value = D(text)
        except ArithmeticError:
            raise AlgoError(
                400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
            ) from None
        if "." in text and len(text.split(".")[1].rstrip("0")) > precision:
            raise AlgoError(400, -1111, "Precision is over the maximum defined for this asset.")
        if value <= 0:
            raise AlgoError(400, -4003 if name == "quantity" else -4014, f"{name} less than or equal to zero.")
        return value

    def _algo(self, p: dict) -> dict[str, Any] | None:
        if p.get("algoId"):
            return self.algos.get(int(p["algoId"]))
        if p.get("clientAlgoId"):
            found = [a for a in self.algos.values() if a["clientAlgoId"] == p["clientAlgoId"]]
            return found[-1] if found else None
        raise AlgoError(400, -1102, "Param 'algoId' or 'clientAlgoId' must be sent, but both were empty/null!")

    def _get_v1_algoOrder(self, p: dict) -> dict:
        algo = self._algo(p)
        if algo is None:
            raise AlgoError(400, -2013, "Order does not exist.")
        return dict(algo)

    def _delete_v1_algoOrder(self, p: dict) -> dict:
        algo = self._algo(p)
        if algo is None or algo["algoStatus"] != "NEW":
            raise AlgoError(400, -2011, "Unknown order sent.")
        self._set(algo, "CANCELED")
        return {"algoId": algo["algoId"], "clientAlgoId": algo["clientAlgoId"], "code": "200", "msg": "success"}

    def _get_v1_openAlgoOrders(self, p: dict) -> list:
        sym = p.get("symbol")
        return [dict(a) for a in self.algos.values() if a["algoStatus"] == "NEW" and sym in (None, a["symbol"])]

    def _delete_v1_algoOpenOrders(self, p: dict) -> dict:
        inst = self._inst(p)
        for a in self.algos.values():
            if a["symbol"] == inst.symbol and a["algoStatus"] == "NEW":
                self._set(a, "CANCELED")
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    # -- the Algo Service at work ----------------------------------------------------------------
    @staticmethod
    def _crossed(otype: str, side: str, trigger: Decimal, mark: Decimal) -> bool:
        falls = (side == "SELL") == (otype == "STOP_MARKET")  # sell stop / buy take-profit: a falling price
        return mark <= trigger if falls else mark >= trigger

    def fire_algos(self, symbol: str) -> list[dict[str, Any]]:
        """Fire every NEW algo order of `symbol` its price has crossed; returns them."""
        mark = self.engine.mark.get(symbol)
        fired = []
        for a in sorted(self.algos.values(), key=lambda a: a["orderType"] != "STOP_MARKET"):
            if a["symbol"] != symbol or a["algoStatus"] != "NEW" or mark is None:
                continue
            if not self._crossed(a["orderType"], a["side"], D(a["triggerPrice"]), mark):
                continue
            now = self.now()
            a["triggerTime"] = now
            self._set(a, "TRIGGERED")
            order = FakeOrder(
                0,
                "",
                symbol,
                a["side"],
                a["positionSide"],
                "MARKET",
                "GTC",
                D(a["quantity"]),
                None,
                a["reduceOnly"],
                now,
            )
            try:
                self.engine.check(order)
            except Reject as r:
                self._set(a, "REJECTED", rm="Reduce Only reject" if r.kind != "margin" else "Margin is insufficient.")
                fired.append(a)
                continue
            self.engine.submit(order, now)
            a["actualOrderId"] = str(order.oid)
            a["actualPrice"] = f"{order.avg:.5f}"
            self._set(a, "FINISHED", aq=_s(order.filled), ap=f"{order.avg:.5f}", ai=str(order.oid))
            fired.append(a)
        return fired

    def _set(self, algo: dict[str, Any], status: str, **stream: str) -> None:
        algo["algoStatus"] = status
        algo["updateTime"] = self.now()
        self._algo_event(algo, **stream)

    def _algo_event(self, a: dict[str, Any], **stream: str) -> None:
        now = self.now()
        self.algo_updates.append(
            {
                "e": "ALGO_UPDATE",
                "T": now,
                "E": now,
                "o": {
                    "caid": a["clientAlgoId"],
                    "aid": a["algoId"],
                    "at": "CONDITIONAL",
                    "o": a["orderType"],
                    "s": a["symbol"],
                    "S": a["side"],
                    "ps": a["positionSide"],
                    "f": "GTC",
                    "q": a["quantity"],
                    "X": a["algoStatus"],
                    "ai": stream.get("ai", a["actualOrderId"]),
                    "ap": stream.get("ap", "0.00000"),
                    "aq": stream.get("aq", "0.00000"),
                    "act": "MARKET" if a["actualOrderId"] else "0",
                    "tp": a["triggerPrice"],
                    "p": "0",
                    "V": "EXPIRE_MAKER",
                    "wt": a["workingType"],
                    "pm": "NONE",
                    "cp": False,
                    "pP": False,
                    "R": a["reduceOnly"],
                    "tt": a["triggerTime"],
                    "gtd": 0,
                    "rm": stream.get("rm", ""),
                },
            }
        )
