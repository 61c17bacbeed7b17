"""OKX algo orders on the loopback fake, as the v5 docs describe them (sizes in contracts).

    POST /api/v5/trade/order-algo          ordType conditional | oco, posSide in long/short mode,
                                           slTriggerPx/slOrdPx, tpTriggerPx/tpOrdPx (-1 = market),
                                           *TriggerPxType last | mark, algoClOrdId, tag
    GET  /api/v5/trade/order-algo          by algoClOrdId or algoId (51603 unknown)
    GET  /api/v5/trade/orders-algo-pending ordType required, instId optional
    POST /api/v5/trade/cancel-algos        [{instId, algoId}]

When the book moves past a trigger (`fire_algos`) the order becomes `effective`: a market order
closes the position (its rows carry the algo's `algoClOrdId` and `algoId`), `actualSide` says
which price fired and, for `oco`, the other price is gone with it; with nothing left to close
the state is `order_failed`. The fake's cancel-all-after (`expire_cancel_all_after`) cancels
pending order-book orders (only those with the armed tag when one was given), never algo orders.
Both trigger price types compare the fake's mark.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from tests.fakes.matching import D, Engine, FakeOrder, Instrument, Reject


def _s(x: Decimal) -> str:
    return format(x.normalize(), "f") if x else "0"


class OkxAlgoError(Exception):
    def __init__(self, code: str, msg: str, data: list | None = None):
        super().__init__(msg)
        self.code, self.msg, self.data = code, msg, data


class OkxAlgoService:
    engine: Engine
    long_short: bool

    def _algo_init(self) -> None:
        self.algos: dict[int, dict[str, Any]] = {}
        self._algo_ids = itertools.count(1_836_487_817_828_872_192)

    def now(self) -> int:  # pragma: no cover - FakeOkx's
        raise NotImplementedError

    def _inst(self, inst_id: str) -> Instrument:  # pragma: no cover - FakeOkx's
        raise NotImplementedError

    @staticmethod
    def _env(code: str, msg: str, data: list | None = None) -> dict:
        return {"code": code, "msg": msg, "data": data or []}

    def _fail(self, code: str, msg: str, cid: str = "") -> OkxAlgoError:
        return OkxAlgoError(
            "1", "Operation failed.", [{"algoClOrdId": cid, "algoId": "", "sCode": code, "sMsg": msg, "tag": ""}]
        )

    # -- REST ------------------------------------------------------------------------------------
    def _post_trade_order_algo(self, p: dict, b: dict) -> dict:
        cid = b.get("algoClOrdId") or ""
        inst = self._inst(b.get("instId", ""))
        if (b.get("tdMode") or "") not in ("cross", "isolated"):
            raise self._fail("51000", "Parameter tdMode error", cid)
        side = b.get("side")
        if side not in ("buy", "sell"):
            raise self._fail("51000", "Parameter side error", cid)
        pos_side = b.get("posSide") or ""
        if self.long_short and pos_side not in ("long", "short"):
            raise self._fail("51000", "Parameter posSide error", cid)
        if not self.long_short and pos_side not in ("", "net"):
            raise self._fail("51000", "Parameter posSide error", cid)
        ord_type = b.get("ordType")
        sl, tp = self._px(b, "slTriggerPx", inst, cid), self._px(b, "tpTriggerPx", inst, cid)
        if ord_type == "oco" and (sl is None or tp is None):
            raise self._fail("51000", "Parameter slTriggerPx error", cid)
        if ord_type == "conditional" and sl is None and tp is None:
            raise self._fail("51000", "Parameter tpTriggerPx error", cid)
        if ord_type not in ("oco", "conditional"):
            raise self._fail("51000", "Parameter ordType error", cid)
        for name in ("slOrdPx", "tpOrdPx"):
            if b.get(name) not in (None, "", "-1"):
                raise self._fail("51000", f"Parameter {name} error (the fake knows market execution only)", cid)
        for name in ("slTriggerPxType", "tpTriggerPxType"):
            if b.get(name) not in (None, "", "last", "mark", "index"):
                raise self._fail("51000", f"Parameter {name} error", cid)
        try:
            sz = D(b.get("sz") or "0")
        except ArithmeticError:
            raise self._fail("51000", "Parameter sz error", cid) from None
        if sz <= 0 or sz % inst.step != 0:
            raise self._fail("51121", f"Order quantity must be a multiple of the lot size ({_s(inst.step)}).", cid)
        if cid and any(a["algoClOrdId"] == cid and a["state"] == "live" for a in self.algos.values()):
            raise self._fail("51016", "Duplicated clOrdId", cid)
        mark = self.engine.mark.get(inst.symbol)
        closing_long = side == "sell"
        if mark is not None and sl is not None and (sl >= mark if closing_long else sl <= mark):
            raise self._fail(
                "51278",
                "SL trigger price cannot be higher than the last price"
                if closing_long
                else "SL trigger price cannot be lower than the last price",
                cid,
            )
        if mark is not None and tp is not None and (tp <= mark if closing_long else tp >= mark):
            raise self._fail(
                "51277",
                "TP trigger price cannot be lower than the last price"
                if closing_long
                else "TP trigger price cannot be higher than the last price",
                cid,
            )
        now = self.now()
        algo = {
            "instType": "SWAP",
            "instId": inst.symbol,
            "ordId": "",
            "ordIdList": [],
            "algoId": str(next(self._algo_ids)),
            "clOrdId": "",
            "sz": _s(sz),
            "closeFraction": "",
            "ordType": ord_type,
            "side": side,
            "posSide": pos_side or "net",
            "tdMode": b["tdMode"],
            "tgtCcy": "",
            "state": "live",
            "lever": "20",
            "tpTriggerPx": _s(tp) if tp is not None else "",
            "tpTriggerPxType": b.get("tpTriggerPxType") or "last" if tp is not None else "",
            "tpOrdPx": "-1" if tp is not None else "",
            "slTriggerPx": _s(sl) if sl is not None else "",
            "slTriggerPxType": b.get("slTriggerPxType") or "last" if sl is not None else "",
            "slOrdPx": "-1" if sl is not None else "",
            "triggerPx": "",
            "triggerPxType": "",
            "ordPx": "",
            "actualSz": "",
            "actualPx": "",
            "actualSide": "",
            "triggerTime": "",
            "tag": b.get("tag") or "",
            "reduceOnly": "true" if b.get("reduceOnly") in (True, "true") else "false",
            "failCode": "",
            "algoClOrdId": cid,
            "amendPxOnTriggerType": "0",
            "attachAlgoOrds": [],
            "cTime": str(now),
            "uTime": str(now),
        }
        self.algos[int(algo["algoId"])] = algo
        return self._env(
            "0",
            "",
            [
                {
                    "algoClOrdId": cid,
                    "algoId": algo["algoId"],
                    "clOrdId": "",
                    "sCode": "0",
                    "sMsg": "",
                    "tag": algo["tag"],
                }
            ],
        )

    def _px(self, b: dict, name: str, inst: Instrument, cid: str) -> Decimal | None:
        raw = b.get(name)
        if raw in (None, ""):
            return None
        try:
            px = D(str(raw))
        except ArithmeticError:
            raise self._fail("51000", f"Parameter {name} error", cid) from None
        if px <= 0 or px % inst.tick != 0:
            raise self._fail("51000", f"Parameter {name} error", cid)
        return px

    def _get_trade_order_algo(self, p: dict, b: Any) -> dict:
        found = [
            a
            for a in self.algos.values()
            if (p.get("algoClOrdId") and a["algoClOrdId"] == p["algoClOrdId"])
            or (p.get("algoId") and a["algoId"] == p["algoId"])
        ]
        if not found:
            raise OkxAlgoError("51603", "Order does not exist")
        return self._env("0", "", [dict(found[-1])])

    def _get_trade_orders_algo_pending(self, p: dict, b: Any) -> dict:
        types = (p.get("ordType") or "").split(",")
        if not types or types == [""]:
            raise OkxAlgoError("51000", "Parameter ordType error")
        inst = p.get("instId") or None
        rows = [
            dict(a)
            for a in self.algos.values()
            if a["state"] == "live" and a["ordType"] in types and inst in (None, a["instId"])
        ]
        return self._env("0", "", rows)

    def _post_trade_cancel_algos(self, p: dict, b: Any) -> dict:
        if not isinstance(b, list) or not b or len(b) > 10:
            raise OkxAlgoError("51000", "Parameter algoId error")
        out = []
        for item in b:
            a = self.algos.get(int(item.get("algoId") or 0))
            if a is None or a["instId"] != item.get("instId") or a["state"] != "live":
                out.append(
                    {
                        "algoClOrdId": "",
                        "algoId": item.get("algoId", ""),
                        "sCode": "51400",
                        "sMsg": "Cancellation failed as the order has been filled, canceled or does not exist",
                    }
                )
                continue
            a["state"], a["uTime"] = "canceled", str(self.now())
            out.append({"algoClOrdId": a["algoClOrdId"], "algoId": a["algoId"], "sCode": "0", "sMsg": ""})
        failed = sum(1 for r in out if r["sCode"] != "0")
        if failed == len(out):
            raise OkxAlgoError("1", "Operation failed.", out)
        return self._env("0" if not failed else "2", "", out)

    # -- OKX at work -------------------------------------------------------------------------------
    def fire_algos(self, symbol: str) -> list[dict[str, Any]]:
        mark = self.engine.mark.get(symbol)
        fired = []
        for a in list(self.algos.values()):
            if a["instId"] != symbol or a["state"] != "live" or mark is None:
                continue
            closing_long = a["side"] == "sell"
            hit = ""
            if a["slTriggerPx"] and (mark <= D(a["slTriggerPx"]) if closing_long else mark >= D(a["slTriggerPx"])):
                hit = "sl"
            elif a["tpTriggerPx"] and (mark >= D(a["tpTriggerPx"]) if closing_long else mark <= D(a["tpTriggerPx"])):
                hit = "tp"
            if not hit:
                continue
            now = self.now()
            pside = a["posSide"].upper() if a["posSide"] in ("long", "short") else "BOTH"
            order = FakeOrder(
                0, "", symbol, a["side"].upper(), pside, "MARKET", "GTC", D(a["sz"]), None, pside == "BOTH", now
            )
            order.algo_cl_ord_id = a["algoClOrdId"]  # type: ignore[attr-defined]
            order.algo_id = a["algoId"]  # type: ignore[attr-defined]
            a["triggerTime"], a["uTime"], a["actualSide"] = str(now), str(now), hit
            try:
                self.engine.check(order)
            except Reject:
                a["state"], a["failCode"] = "order_failed", "51169"
                fired.append(a)
                continue
            self.engine.submit(order, now)
            if order.status == "EXPIRED":
                order.status = "CANCELED"
            a["state"], a["ordId"], a["ordIdList"] = "effective", str(order.oid), [str(order.oid)]
            a["actualSz"], a["actualPx"] = _s(order.filled), _s(order.avg) if order.filled else ""
            fired.append(a)
        return fired
