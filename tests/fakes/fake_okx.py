"""A loopback OKX v5 REST server speaking the real wire format (sizes in contracts).

What it checks as OKX does: OK-ACCESS-KEY (50111), OK-ACCESS-PASSPHRASE (50105), timestamp
within 30 s of server time (50102), OK-ACCESS-SIGN = base64(HMAC-SHA256(timestamp + METHOD +
requestPath(+query) + body)) (50113), x-simulated-trading matching the key's environment
(50101); long/short mode rules (posSide required: 51000 "Parameter posSide error"; reduceOnly
refused in long/short mode: 51205), lot size (51121), min size (51020), market max (51202), tick
(51000 "Parameter px error"), margin (51008), closing more than held (51169/51112), duplicated
clOrdId (51016), unknown order (51603), cancel of a final order (51400); per-endpoint counts per
2 s answered with HTTP 429 + code 50011. Errors come back as data with `code` and `sCode`, as
python-okx expects. Faults come from `LoopbackVenue.inject`. Algo orders (the protective `oco` /
`conditional` orders) are in tests/fakes/fake_okx_algo.py and fire when the book moves.

Account history as the venue keeps it, newest first with `after`/`before` billId paging and
`begin`/`end`: GET /api/v5/account/bills (7 days) and bills-archive (3 months) with funding-fee
(type 8, subType 173/174), transfer (type 1, subType 11/12) and trade (type 2) bills; GET
/api/v5/trade/fills (3 days) and fills-history (3 months); POST /api/v5/asset/transfer between
the funding (6) and trading (18) accounts. Tests make funding happen with `pay_funding` and move
money behind the executor's back with `wallet_change`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.fake_okx_algo import OkxAlgoError, OkxAlgoService
from tests.fakes.loopback import LoopbackVenue, Reply, Request
from tests.fakes.matching import Account, D, Engine, FakeOrder, Instrument, Reject

PUBLIC_PREFIXES = ("/api/v5/public/", "/api/v5/market/")
ZERO = Decimal(0)


def default_instruments() -> list[Instrument]:
    # ctVal/lotSz/minSz/tickSz as OKX lists these linear swaps (sizes in contracts)
    # (the values config/venue_filters.json ships, from GET /api/v5/public/instruments?instType=SWAP)
    return [
        Instrument("BTC-USDT-SWAP", D("0.1"), D("0.01"), D("0.01"), D("100000000"), D("35000"), ct_val=D("0.01")),
        Instrument("ETH-USDT-SWAP", D("0.01"), D("0.01"), D("0.01"), D("100000000"), D("90000"), ct_val=D("0.1")),
        Instrument("SOL-USDT-SWAP", D("0.01"), D("0.01"), D("0.01"), D("100000000"), D("10000"), ct_val=D("1")),
    ]


def _s(x: Decimal) -> str:
    return format(x.normalize(), "f") if x else "0"


def instrument_row(i: Instrument) -> dict[str, Any]:
    """One linear swap as GET /api/v5/public/instruments lists it (sizes in contracts)."""
    base = i.symbol.split("-")[0]
    return {
        "alias": "",
        "auctionEndTime": "",
        "baseCcy": "",
        "category": "1",
        "ctMult": "1",
        "ctType": "linear",
        "ctVal": _s(i.ct_val),
        "ctValCcy": base,
        "expTime": "",
        "instFamily": f"{base}-USDT",
        "instId": i.symbol,
        "instType": "SWAP",
        "lever": "100",
        "listTime": "1611916828000",
        "lotSz": _s(i.step),
        "maxIcebergSz": "100000000",
        "maxLmtAmt": "20000000",
        "maxLmtSz": _s(i.max_qty),
        "maxMktAmt": "",
        "maxMktSz": _s(i.market_max_qty),
        "maxStopSz": _s(i.market_max_qty),
        "maxTriggerSz": _s(i.max_qty),
        "maxTwapSz": _s(i.max_qty),
        "minSz": _s(i.min_qty),
        "optType": "",
        "quoteCcy": "",
        "settleCcy": "USDT",
        "state": "live",
        "stk": "",
        "tickSz": _s(i.tick),
        "uly": f"{base}-USDT",
        "ruleType": "normal",
    }


class FakeOkx(OkxAlgoService, LoopbackVenue):
    def __init__(
        self,
        api_key: str = "test-key-okx",
        api_secret: str = "test-secret-okx",
        passphrase: str = "test-pass-okx",
        demo: bool = True,
        wallet: str = "10000",
        instruments: list[Instrument] | None = None,
        limits_per_2s: dict[str, int] | None = None,
    ):
        super().__init__()
        self.api_key, self.api_secret, self.passphrase = api_key, api_secret, passphrase
        self.demo = demo
        self.engine = Engine(instruments or default_instruments(), Account(D(wallet)))
        self.long_short = True
        self.clock_offset_ms = 0
        self.limits_per_2s = limits_per_2s or {}
        self._counts: dict[str, list[float]] = defaultdict(list)
        self.candles: dict[str, list[tuple]] = {}  # instId -> [(open_time, o, h, l, c, v)] for history-candles
        self.refuse_all: tuple[str, str] | None = None  # (sCode, sMsg) for every signed call
        self.refuse_orders: tuple[str, str] | None = None  # (sCode, sMsg) for every new order
        self.cancel_all_after_s: int | None = None
        self.cancel_all_after_tag: str | None = None
        self._algo_init()
        self.funding_rate = D("0.0001")
        self.fee_rates = ("-0.0002", "-0.0005")
        self.leverage: dict[tuple[str, str, str], int] = {}  # (instId, mgnMode, posSide) -> lever
        self.td_modes: list[str] = []  # tdMode of every order received
        # GET /api/v5/public/position-tiers: instFamily -> [(minSz, maxSz contracts, mmr, maxLever)]
        self.tiers: dict[str, list[tuple[str, str, str, str]]] = {
            i.symbol.removesuffix("-SWAP"): [
                ("0", "5000", "0.004", "100"),
                ("5001", "10000", "0.005", "75"),
                ("10001", "20000", "0.008", "50"),
            ]
            for i in self.engine.instruments.values()
        }
        self.tier_requests: list[dict[str, str]] = []
        self.bills: list[dict[str, Any]] = []  # funding and transfer bills (trade bills are derived)
        self._bill_ids = itertools.count(623_950_854_533_513_219)

    @property
    def url(self) -> str:
        return self.root

    def now(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def set_book(self, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        with self._lock:
            self.engine.set_book(symbol, bids, asks, self.now())
            self.fire_algos(symbol)  # OKX's algo engine watches the price

    def give_position(self, symbol: str, pside: str, contracts: str, entry: str) -> None:
        with self._lock:
            self.engine.give_position(symbol, pside, contracts, entry)

    def expire_cancel_all_after(self) -> int:
        """As if the armed cancel-all-after ran out: pending order-book orders (with its tag, when one
        was armed) are cancelled; algo orders are not order-book orders and stay."""
        with self._lock:
            if not self.cancel_all_after_s:
                return 0
            tag = self.cancel_all_after_tag
            gone = [o for o in self.engine.open_orders() if tag is None or getattr(o, "tag", "") == tag]
            for o in gone:
                self.engine.cancel(o, self.now())
            self.cancel_all_after_s = 0
            return len(gone)

    def pay_funding(self, inst: str, amount: str, pside: str = "LONG", ts: int | None = None) -> dict[str, Any]:
        """A funding settlement on the `pside` position: the wallet moves, a type-8 bill is kept."""
        with self._lock:
            pos = self.engine.pos(inst, pside)
            mark = self.engine.mark.get(inst, pos.entry)
            return self._bill("8", "174" if D(amount) > 0 else "173", D(amount), ts, inst=inst, sz=pos.qty, px=mark)

    def transfer(self, amount: str, ts: int | None = None) -> dict[str, Any]:
        """Money moved between the funding (6) and the trading (18) account: a type-1 bill."""
        with self._lock:
            a = D(amount)
            route = ("6", "18") if a > 0 else ("18", "6")
            return self._bill("1", "11" if a > 0 else "12", a, ts, route=route)

    def wallet_change(self, amount: str) -> None:
        """The balance changes with no bill the executor could read (behind its back)."""
        with self._lock:
            self.engine.acct.wallet += D(amount)

    def _bill(
        self,
        kind: str,
        sub: str,
        amount: Decimal,
        ts: int | None,
        inst: str = "",
        sz: Decimal = ZERO,
        px: Decimal = ZERO,
        route: tuple[str, str] = ("", ""),
    ) -> dict[str, Any]:
        self.engine.acct.wallet += amount
        row = {
            "bal": _s(self.engine.acct.wallet),
            "balChg": _s(amount),
            "billId": str(next(self._bill_ids)),
            "ccy": "USDT",
            "clOrdId": "",
            "execType": "",
            "fee": "0",
            "fillTime": "",
            "from": route[0],
            "instId": inst,
            "instType": "SWAP" if inst else "",
            "interest": "0",
            "mgnMode": "isolated" if inst else "",
            "notes": "",
            "ordId": "",
            "pnl": _s(amount) if kind == "8" else "0",
            "posBal": "0",
            "posBalChg": "0",
            "px": _s(px) if px else "",
            "subType": sub,
            "sz": _s(sz) if kind == "8" else _s(abs(amount)),
            "tag": "",
            "to": route[1],
            "tradeId": "",
            "ts": str(ts if ts is not None else self.now()),
            "type": kind,
        }
        self.bills.append(row)
        return row

    def position_contracts(self, symbol: str, pside: str) -> Decimal:
        with self._lock:
            return self.engine.pos(symbol, pside).qty

    # -- wire --------------------------------------------------------------------------------------
    @staticmethod
    def _env(code: str, msg: str, data: list | None = None) -> dict:
        return {"code": code, "msg": msg, "data": data or []}

    def route(self, req: Request) -> Reply:
        key = req.path + (":" + req.method.lower() if req.path == "/api/v5/trade/order" else "")
        limit = self.limits_per_2s.get(key) or self.limits_per_2s.get(req.path)
        now_mono = time.monotonic()
        if limit:
            stamps = [t for t in self._counts[key] if t > now_mono - 2]
            self._counts[key] = stamps
            if len(stamps) >= limit:
                return Reply(429, {"msg": "Too Many Requests", "code": "50011"})
            stamps.append(now_mono)
        public = req.path.startswith(PUBLIC_PREFIXES)
        if not public:
            denied = self._auth(req)
            if denied is not None:
                return denied
        params = dict(parse_qsl(req.query, keep_blank_values=True))
        body: Any = {}
        if req.body:
            try:
                body = json.loads(req.body)
            except ValueError:
                return Reply(400, self._env("50002", "Json data format error"))
        if not public and self.refuse_all is not None:
            code, msg = self.refuse_all
            return Reply(
                200,
                self._env(
                    "1",
                    "Operation failed.",
                    [{"sCode": code, "sMsg": msg, "clOrdId": "", "ordId": "", "tag": "", "ts": str(self.now())}],
                ),
            )
        name = "_" + req.method.lower() + "_" + req.path.replace("/api/v5/", "").replace("/", "_").replace("-", "_")
        handler = getattr(self, name, None)
        if handler is None:
            return Reply(404, {"msg": "Not Found", "code": "404"})
        try:
            return Reply(200, handler(params, body))
        except _Err as e:
            return Reply(e.status, self._env(e.code, e.msg, e.data))
        except OkxAlgoError as e:
            return Reply(200, self._env(e.code, e.msg, e.data))

    def _auth(self, req: Request) -> Reply | None:
        key = req.header("OK-ACCESS-KEY")
        if not key:
            return Reply(401, self._env("50103", "Request header OK-ACCESS-KEY cannot be empty."))
        if key != self.api_key:
            return Reply(401, self._env("50111", "Invalid OK-ACCESS-KEY."))
        if req.header("OK-ACCESS-PASSPHRASE") != self.passphrase:
            return Reply(401, self._env("50105", "Invalid OK-ACCESS-PASSPHRASE."))
        stamp = req.header("OK-ACCESS-TIMESTAMP")
        try:
            ts = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp() * 1000
        except ValueError:
            return Reply(401, self._env("50112", "Invalid OK-ACCESS-TIMESTAMP."))
        if abs(ts - self.now()) > 30_000:
            return Reply(401, self._env("50102", "Timestamp request expired."))
        prehash = stamp + req.method.upper() + req.raw_path + req.body.decode()
        expected = base64.b64encode(hmac.new(self.api_secret.encode(), prehash.encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(req.header("OK-ACCESS-SIGN").encode(), expected):
            return Reply(401, self._env("50113", "Invalid Sign."))
        flag = req.header("x-simulated-trading", "0") or "0"
        if (flag == "1") != self.demo:
            return Reply(401, self._env("50101", "APIKey does not match current environment."))
        return None

    def _inst(self, inst_id: str) -> Instrument:
        inst = self.engine.instruments.get(inst_id)
        if inst is None:
            raise _Err("51001", "Instrument ID, Instrument ID code, or Spread ID doesn't exist.")
        return inst

    # -- public ------------------------------------------------------------------------------------
    def _get_market_history_candles(self, p: dict, b: Any) -> dict:
        after, limit = int(p.get("after", 2**62)), int(p.get("limit", 100))
        rows = [r for r in self.candles.get(p["instId"], []) if r[0] < after][-limit:]
        return {
            "code": "0",
            "msg": "",
            "data": [
                [str(t), str(o), str(h), str(low), str(c), str(v), "1", "1", "1"]
                for t, o, h, low, c, v in reversed(rows)
            ],
        }

    def _get_public_time(self, p: dict, b: Any) -> dict:
        return self._env("0", "", [{"ts": str(self.now())}])

    def _get_public_instruments(self, p: dict, b: Any) -> dict:
        if p.get("instType") != "SWAP":
            raise _Err("51000", "Parameter instType error")
        rows = [instrument_row(i) for i in self.engine.instruments.values() if p.get("instId") in (None, "", i.symbol)]
        rows.append(
            {  # an inverse swap, as the real listing has: ctVal is in USD, not in base units
                "alias": "",
                "baseCcy": "",
                "category": "1",
                "ctMult": "1",
                "ctType": "inverse",
                "ctVal": "100",
                "ctValCcy": "USD",
                "expTime": "",
                "instFamily": "BTC-USD",
                "instId": "BTC-USD-SWAP",
                "instType": "SWAP",
                "lever": "125",
                "listTime": "1611916828000",
                "lotSz": "1",
                "maxLmtSz": "100000000",
                "maxMktSz": "4000",
                "minSz": "1",
                "optType": "",
                "quoteCcy": "",
                "settleCcy": "BTC",
                "state": "live",
                "stk": "",
                "tickSz": "0.1",
                "uly": "BTC-USD",
            }
        )
        return self._env("0", "", rows)

    def _get_public_position_tiers(self, p: dict, b: Any) -> dict:
        """Public; SWAP needs instFamily (or uly) and tdMode, as OKX requires."""
        self.tier_requests.append(dict(p))
        if p.get("instType") != "SWAP":
            raise _Err("51000", "Parameter instType error")
        if p.get("tdMode") not in ("cross", "isolated"):
            raise _Err("51000", "Parameter tdMode error")
        family = p.get("instFamily") or p.get("uly") or ""
        if not family:
            raise _Err("51000", "Parameter instFamily error")
        rows = [
            {
                "baseMaxLoan": "",
                "imr": str(1 / Decimal(lever)),
                "instId": "",
                "instFamily": family,
                "maxLever": lever,
                "maxSz": hi,
                "minSz": lo,
                "mmr": mmr,
                "optMgnFactor": "0",
                "quoteMaxLoan": "",
                "tier": str(n + 1),
                "uly": family,
            }
            for n, (lo, hi, mmr, lever) in enumerate(self.tiers.get(family, []))
        ]
        return self._env("0", "", rows)

    def _get_public_funding_rate(self, p: dict, b: Any) -> dict:
        inst = self._inst(p.get("instId", ""))
        now = self.now()
        nxt = (now // 28_800_000 + 1) * 28_800_000
        return self._env(
            "0",
            "",
            [
                {
                    "formulaType": "noRate",
                    "fundingRate": _s(self.funding_rate),
                    "fundingTime": str(nxt),
                    "impactValue": "",
                    "instId": inst.symbol,
                    "instType": "SWAP",
                    "interestRate": "",
                    "maxFundingRate": "0.00375",
                    "method": "current_period",
                    "minFundingRate": "-0.00375",
                    "nextFundingRate": "",
                    "nextFundingTime": str(nxt + 28_800_000),
                    "premium": "0.0001",
                    "settFundingRate": "0.0001",
                    "settState": "settled",
                    "ts": str(now),
                }
            ],
        )

    def _get_public_mark_price(self, p: dict, b: Any) -> dict:
        inst = self._inst(p.get("instId", ""))
        return self._env(
            "0",
            "",
            [
                {
                    "instId": inst.symbol,
                    "instType": "SWAP",
                    "markPx": _s(self.engine.mark.get(inst.symbol, D(0))),
                    "ts": str(self.now()),
                }
            ],
        )

    def _get_market_ticker(self, p: dict, b: Any) -> dict:
        inst = self._inst(p.get("instId", ""))
        (bp, bq), (ap, aq) = self.engine.bids[inst.symbol][0], self.engine.asks[inst.symbol][0]
        return self._env(
            "0",
            "",
            [
                {
                    "instType": "SWAP",
                    "instId": inst.symbol,
                    "last": _s(bp),
                    "lastSz": "1",
                    "askPx": _s(ap),
                    "askSz": _s(aq),
                    "bidPx": _s(bp),
                    "bidSz": _s(bq),
                    "open24h": _s(bp),
                    "high24h": _s(ap),
                    "low24h": _s(bp),
                    "volCcy24h": "0",
                    "vol24h": "0",
                    "sodUtc0": _s(bp),
                    "sodUtc8": _s(bp),
                    "ts": str(self.now()),
                }
            ],
        )

    # -- account -------------------------------------------------------------------------------------
    def _get_account_config(self, p: dict, b: Any) -> dict:
        return self._env(
            "0",
            "",
            [
                {
                    "acctLv": "2",
                    "autoLoan": False,
                    "ctIsoMode": "automatic",
                    "greeksType": "PA",
                    "level": "Lv1",
                    "levelTmp": "",
                    "mgnIsoMode": "automatic",
                    "posMode": "long_short_mode" if self.long_short else "net_mode",
                    "uid": "44705892343619584",
                    "label": "hedge-fund-bot",
                    "perm": "read_only,trade",
                }
            ],
        )

    def _post_account_set_position_mode(self, p: dict, b: dict) -> dict:
        mode = b.get("posMode")
        if mode not in ("long_short_mode", "net_mode"):
            raise _Err("51000", "Parameter posMode error")
        want = mode == "long_short_mode"
        if want != self.long_short and self.engine.has_exposure():
            raise _Err("59000", "Settings failed. Close any open positions or orders before modifying settings.")
        self.long_short = want
        return self._env("0", "", [{"posMode": mode}])

    def _get_account_leverage_info(self, p: dict, b: Any) -> dict:
        inst = self._inst(p.get("instId", ""))
        mode = p.get("mgnMode", "")
        if mode not in ("cross", "isolated"):
            raise _Err("51000", "Parameter mgnMode error")
        sides = ("long", "short") if mode == "isolated" and self.long_short else ("",)
        rows = [
            {
                "instId": inst.symbol,
                "mgnMode": mode,
                "posSide": s or "net",
                "lever": str(self.leverage.get((inst.symbol, mode, s), self.engine.acct.default_leverage)),
            }
            for s in sides
        ]
        return self._env("0", "", rows)

    def _post_account_set_leverage(self, p: dict, b: dict) -> dict:
        inst = self._inst(b.get("instId", ""))
        mode, side = b.get("mgnMode", ""), b.get("posSide", "")
        lever = int(Decimal(b.get("lever") or "0"))
        if not 1 <= lever <= 100:
            raise _Err("51000", "Parameter lever error")
        if mode == "isolated" and self.long_short and side not in ("long", "short"):
            raise _Err("51000", "Parameter posSide error")
        if mode == "cross":
            side = ""
        self.leverage[(inst.symbol, mode, side)] = lever
        self.engine.acct.leverage[inst.symbol] = lever
        return self._env(
            "0", "", [{"lever": str(lever), "mgnMode": mode, "instId": inst.symbol, "posSide": side or "net"}]
        )

    def _get_account_trade_fee(self, p: dict, b: Any) -> dict:
        if p.get("instType") != "SWAP":
            raise _Err("51000", "Parameter instType error")
        maker, taker = self.fee_rates
        return self._env(
            "0",
            "",
            [
                {
                    "category": "1",
                    "delivery": "",
                    "exercise": "",
                    "instType": "SWAP",
                    "level": "Lv1",
                    "maker": "",
                    "makerU": maker,
                    "makerUSDC": maker,
                    "taker": "",
                    "takerU": taker,
                    "takerUSDC": taker,
                    "ruleType": "normal",
                    "ts": str(self.now()),
                    "fiat": [],
                }
            ],
        )

    def _get_account_positions(self, p: dict, b: Any) -> dict:
        rows = []
        for (sym, pside), pos in self.engine.acct.positions.items():
            if not pos.qty:
                continue
            inst = self.engine.instruments[sym]
            mark = self.engine.mark.get(sym, pos.entry)
            sign = 1 if pside == "LONG" else -1
            upl = (mark - pos.entry) * pos.qty * inst.ct_val * sign
            rows.append(
                {
                    "adl": "1",
                    "availPos": _s(pos.qty),
                    "avgPx": _s(pos.entry),
                    "baseBal": "",
                    "bePx": _s(pos.entry),
                    "cTime": str(pos.opened),
                    "ccy": "USDT",
                    "deltaBS": "",
                    "deltaPA": "",
                    "fee": "0",
                    "fundingFee": "0",
                    "gammaBS": "",
                    "gammaPA": "",
                    "idxPx": _s(mark),
                    "imr": "",
                    "instId": sym,
                    "instType": "SWAP",
                    "interest": "",
                    "last": _s(mark),
                    "lever": str(self.engine.lev(sym)),
                    "liab": "",
                    "liabCcy": "",
                    "liqPenalty": "0",
                    "liqPx": "",
                    "margin": "",
                    "markPx": _s(mark),
                    "mgnMode": "isolated",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": _s(pos.qty * inst.ct_val * mark),
                    "optVal": "",
                    "pendingCloseOrdLiabVal": "",
                    "pnl": "0",
                    "pos": _s(pos.qty * (1 if self.long_short else sign)),
                    "posCcy": "",
                    "posId": "1",
                    "posSide": pside.lower() if self.long_short else "net",
                    "quoteBal": "",
                    "realizedPnl": "0",
                    "spotInUseAmt": "",
                    "spotInUseCcy": "",
                    "thetaBS": "",
                    "thetaPA": "",
                    "tradeId": "1",
                    "uTime": str(pos.opened),
                    "upl": _s(upl),
                    "uplLastPx": _s(upl),
                    "uplRatio": "0",
                    "uplRatioLastPx": "0",
                    "usdPx": "",
                    "vegaBS": "",
                    "vegaPA": "",
                    "closeOrderAlgo": [],
                }
            )
        return self._env("0", "", rows)

    def _get_account_balance(self, p: dict, b: Any) -> dict:
        e = self.engine
        wallet, upl, avail = e.acct.wallet, e.upl(), e.available()
        return self._env(
            "0",
            "",
            [
                {
                    "adjEq": "",
                    "borrowFroz": "",
                    "imr": "",
                    "isoEq": "0",
                    "mgnRatio": "",
                    "mmr": "",
                    "notionalUsd": "",
                    "ordFroz": "",
                    "totalEq": _s(wallet + upl),
                    "uTime": str(self.now()),
                    "upl": _s(upl),
                    "details": [
                        {
                            "availBal": _s(avail),
                            "availEq": _s(avail),
                            "borrowFroz": "",
                            "cashBal": _s(wallet),
                            "ccy": "USDT",
                            "crossLiab": "",
                            "disEq": _s(wallet + upl),
                            "eq": _s(wallet + upl),
                            "eqUsd": _s(wallet + upl),
                            "fixedBal": "0",
                            "frozenBal": "0",
                            "imr": "",
                            "interest": "",
                            "isoEq": "0",
                            "isoLiab": "",
                            "isoUpl": "0",
                            "liab": "",
                            "maxLoan": "",
                            "mgnRatio": "",
                            "mmr": "",
                            "notionalLever": "",
                            "ordFrozen": "0",
                            "spotInUseAmt": "",
                            "stgyEq": "0",
                            "twap": "0",
                            "uTime": str(self.now()),
                            "upl": _s(upl),
                            "uplLiab": "",
                        }
                    ],
                }
            ],
        )

    # -- trade ---------------------------------------------------------------------------------------
    def _s_err(self, code: str, msg: str, cid: str = "") -> _Err:
        return _Err(
            "1",
            "All operations failed",
            [{"clOrdId": cid, "ordId": "", "sCode": code, "sMsg": msg, "tag": "", "ts": str(self.now())}],
        )

    def _post_trade_order(self, p: dict, b: dict) -> dict:
        inst_id = b.get("instId", "")
        cid = b.get("clOrdId") or ""
        if self.refuse_orders is not None:
            raise self._s_err(*self.refuse_orders, cid)
        inst = self._inst(inst_id)
        td_mode = b.get("tdMode") or ""
        self.td_modes.append(td_mode)
        if td_mode not in ("cross", "isolated"):
            raise self._s_err("51000", "Parameter tdMode error", cid)
        side = b.get("side")
        if side not in ("buy", "sell"):
            raise self._s_err("51000", "Parameter side error", cid)
        pos_side = b.get("posSide") or ""
        reduce_only = str(b.get("reduceOnly") or "false").lower() == "true"
        if self.long_short:
            if pos_side not in ("long", "short"):
                raise self._s_err("51000", "Parameter posSide error", cid)
            if reduce_only:
                raise self._s_err("51205", "Reduce Only is not available.", cid)
        elif pos_side not in ("", "net"):
            raise self._s_err("51000", "Parameter posSide error", cid)
        ord_type = b.get("ordType")
        tif = {"market": "GTC", "limit": "GTC", "post_only": "GTX", "ioc": "IOC", "fok": "FOK"}.get(ord_type or "")
        if tif is None:
            raise self._s_err("51000", "Parameter ordType error", cid)
        try:
            sz = D(b.get("sz") or "0")
        except ArithmeticError:
            raise self._s_err("51000", "Parameter sz error", cid) from None
        if sz <= 0:
            raise self._s_err("51000", "Parameter sz error", cid)
        if sz % inst.step != 0:
            raise self._s_err("51121", f"Order quantity must be a multiple of the lot size ({_s(inst.step)}).", cid)
        if sz < inst.min_qty:
            raise self._s_err("51020", "Your order should meet or exceed the minimum order amount.", cid)
        if ord_type == "market" and sz > inst.market_max_qty:
            raise self._s_err("51202", "Market order amount exceeds the maximum amount.", cid)
        price = None
        if ord_type != "market":
            try:
                price = D(b.get("px") or "0")
            except ArithmeticError:
                price = D(0)
            if price <= 0 or price % inst.tick != 0:
                raise self._s_err("51000", "Parameter px error", cid)
        if cid and any(o.cid == cid for o in self.engine.acct.orders.values() if o.symbol == inst.symbol):
            raise self._s_err("51016", "Duplicated clOrdId", cid)
        pside = pos_side.upper() if pos_side in ("long", "short") else "BOTH"
        order = FakeOrder(
            0,
            cid,
            inst.symbol,
            side.upper(),
            pside,
            "MARKET" if ord_type == "market" else "LIMIT",
            tif,
            sz,
            price,
            reduce_only,
            self.now(),
        )
        try:
            self.engine.check(order)
        except Reject as r:
            if r.kind == "margin":
                raise self._s_err("51008", "Order failed. Insufficient USDT margin in account", cid) from None
            if r.kind == "no_position":
                raise self._s_err(
                    "51169",
                    "Order failed because you don't have any positions in this direction "
                    "for this contract to reduce or close.",
                    cid,
                ) from None
            raise self._s_err("51112", "Close order size exceeds your available size.", cid) from None
        order.td_mode = td_mode  # type: ignore[attr-defined]
        order.tag = b.get("tag") or ""  # type: ignore[attr-defined]
        if tif == "GTX" and self.engine.crosses(order):
            order.oid = next(self.engine._ids)
            order.status = "CANCELED"  # OKX accepts a crossing post-only order, then cancels it
            self.engine.acct.orders[order.oid] = order
        else:
            self.engine.submit(order, self.now())
            if order.status == "EXPIRED":
                order.status = "CANCELED"  # IOC / market remainder: OKX says canceled
        return self._env(
            "0",
            "",
            [
                {
                    "clOrdId": cid,
                    "ordId": str(order.oid),
                    "sCode": "0",
                    "sMsg": "Order placed",
                    "tag": "",
                    "ts": str(self.now()),
                }
            ],
        )

    _STATE = {
        "NEW": "live",
        "PARTIALLY_FILLED": "partially_filled",
        "FILLED": "filled",
        "CANCELED": "canceled",
        "EXPIRED": "canceled",
    }

    def _order_row(self, o: FakeOrder) -> dict:
        ord_type = (
            "market" if o.otype == "MARKET" else {"GTX": "post_only", "IOC": "ioc", "FOK": "fok"}.get(o.tif, "limit")
        )
        return {
            "accFillSz": _s(o.filled),
            "algoClOrdId": getattr(o, "algo_cl_ord_id", ""),
            "algoId": getattr(o, "algo_id", ""),
            "attachAlgoClOrdId": "",
            "attachAlgoOrds": [],
            "avgPx": _s(o.avg) if o.filled else "",
            "cTime": str(o.created),
            "cancelSource": "",
            "cancelSourceReason": "",
            "category": "normal",
            "ccy": "",
            "clOrdId": o.cid,
            "fee": _s(-o.fee),
            "feeCcy": "USDT",
            "fillPx": _s(o.last_fill_px) if o.filled else "",
            "fillSz": _s(o.last_fill_qty),
            "fillTime": str(o.updated) if o.filled else "",
            "instId": o.symbol,
            "instType": "SWAP",
            "isTpLimit": "false",
            "lever": str(self.engine.lev(o.symbol)),
            "linkedAlgoOrd": {"algoId": ""},
            "ordId": str(o.oid),
            "ordType": ord_type,
            "pnl": "0",
            "posSide": o.pside.lower() if o.pside != "BOTH" else "net",
            "px": _s(o.price) if o.price else "",
            "pxType": "",
            "pxUsd": "",
            "pxVol": "",
            "quickMgnType": "",
            "rebate": "0",
            "rebateCcy": "USDT",
            "reduceOnly": "true" if o.reduce_only else "false",
            "side": o.side.lower(),
            "slOrdPx": "",
            "slTriggerPx": "",
            "slTriggerPxType": "",
            "source": "",
            "state": self._STATE[o.status],
            "stpId": "",
            "stpMode": "cancel_maker",
            "sz": _s(o.qty),
            "tag": "",
            "tdMode": getattr(o, "td_mode", "isolated"),
            "tgtCcy": "",
            "tpOrdPx": "",
            "tpTriggerPx": "",
            "tpTriggerPxType": "",
            "tradeId": "1",
            "uTime": str(o.updated),
        }

    def _get_trade_order(self, p: dict, b: Any) -> dict:
        inst = self._inst(p.get("instId", ""))
        o = None
        if p.get("clOrdId"):
            o = self.engine.by_cid(inst.symbol, p["clOrdId"])
        elif p.get("ordId"):
            o = self.engine.acct.orders.get(int(p["ordId"]))
        if o is None:
            raise _Err("51603", "Order does not exist")
        return self._env("0", "", [self._order_row(o)])

    def _cancel_one(self, item: dict) -> dict:
        inst = self._inst(item.get("instId", ""))
        o = None
        if item.get("clOrdId"):
            o = self.engine.by_cid(inst.symbol, item["clOrdId"])
        elif item.get("ordId"):
            o = self.engine.acct.orders.get(int(item["ordId"]))
        if o is None or not o.open:
            return {
                "clOrdId": item.get("clOrdId", ""),
                "ordId": item.get("ordId", ""),
                "sCode": "51400",
                "sMsg": "Order cancellation failed as the order has been filled, canceled or does not exist",
                "ts": str(self.now()),
            }
        self.engine.cancel(o, self.now())
        return {"clOrdId": o.cid, "ordId": str(o.oid), "sCode": "0", "sMsg": "", "ts": str(self.now())}

    def _post_trade_cancel_order(self, p: dict, b: dict) -> dict:
        row = self._cancel_one(b)
        if row["sCode"] != "0":
            raise _Err("1", "All operations failed", [row])
        return self._env("0", "", [row])

    def _post_trade_cancel_batch_orders(self, p: dict, b: Any) -> dict:
        if not isinstance(b, list) or len(b) > 20:
            raise _Err("51000", "Parameter orders error")
        rows = [self._cancel_one(item) for item in b]
        failed = sum(1 for r in rows if r["sCode"] != "0")
        code = "0" if not failed else ("1" if failed == len(rows) else "2")
        return self._env(code, "" if code == "0" else "Bulk operation partially succeeded.", rows)

    def _get_trade_orders_pending(self, p: dict, b: Any) -> dict:
        sym = p.get("instId") or None
        return self._env("0", "", [self._order_row(o) for o in self.engine.open_orders(sym)])

    # -- account history -----------------------------------------------------------------------------
    def _fill_rows(self) -> list[dict[str, Any]]:
        rows = []
        for t in self.engine.trades:
            o = t.order
            closing = self.engine.is_closing(o)
            sub = {("BUY", False): "3", ("SELL", False): "4", ("SELL", True): "5", ("BUY", True): "6"}[
                (o.side, closing)
            ]
            if o.pside == "BOTH":
                sub = "1" if o.side == "BUY" else "2"
            rows.append(
                {
                    "side": o.side.lower(),
                    "fillSz": _s(t.qty),
                    "fillPx": _s(t.price),
                    "fillPxVol": "",
                    "fillFwdPx": "",
                    "fee": _s(-t.fee),
                    "fillPnl": _s(t.realized),
                    "ordId": str(o.oid),
                    "feeRate": "",
                    "instType": "SWAP",
                    "fillPxUsd": "",
                    "instId": o.symbol,
                    "clOrdId": o.cid,
                    "posSide": o.pside.lower() if o.pside != "BOTH" else "net",
                    "billId": str(700_000_000_000_000_000 + t.trade_id),
                    "subType": sub,
                    "fillMarkVol": "",
                    "tag": "",
                    "fillTime": str(t.ts),
                    "execType": "M" if t.maker else "T",
                    "fillIdxPx": _s(t.price),
                    "tradeId": str(t.trade_id),
                    "fillMarkPx": _s(self.engine.mark.get(o.symbol, t.price)),
                    "feeCcy": "USDT",
                    "ts": str(t.ts),
                }
            )
        return rows

    def _trade_bills(self) -> list[dict[str, Any]]:
        return [
            {
                **{k: "" for k in ("fillFwdPx", "fillMarkVol", "fillPxUsd", "fillPxVol", "from", "to", "notes", "tag")},
                "bal": "",
                "balChg": _s(D(f["fillPnl"]) + D(f["fee"])),
                "billId": f["billId"],
                "ccy": "USDT",
                "clOrdId": f["clOrdId"],
                "execType": f["execType"],
                "fee": f["fee"],
                "fillIdxPx": f["fillIdxPx"],
                "fillMarkPx": f["fillMarkPx"],
                "fillTime": f["fillTime"],
                "instId": f["instId"],
                "instType": "SWAP",
                "interest": "0",
                "mgnMode": "isolated",
                "ordId": f["ordId"],
                "pnl": f["fillPnl"],
                "posBal": "0",
                "posBalChg": "0",
                "px": f["fillPx"],
                "subType": f["subType"],
                "sz": f["fillSz"],
                "tradeId": f["tradeId"],
                "ts": f["ts"],
                "type": "2",
            }
            for f in self._fill_rows()
        ]

    def _page(self, rows: list[dict[str, Any]], p: dict, keep_ms: int) -> dict:
        """Newest first; `after`: older than that billId, `before`: newer; begin/end on ts; limit <= 100."""
        now = self.now()
        rows = [r for r in rows if int(r["ts"]) >= now - keep_ms]
        rows.sort(key=lambda r: (int(r["ts"]), int(r["billId"])), reverse=True)
        if p.get("begin"):
            rows = [r for r in rows if int(r["ts"]) >= int(p["begin"])]
        if p.get("end"):
            rows = [r for r in rows if int(r["ts"]) <= int(p["end"])]
        ids = [r["billId"] for r in rows]
        if p.get("after") in ids:
            rows = rows[ids.index(p["after"]) + 1 :]
        elif p.get("before") in ids:
            rows = rows[: ids.index(p["before"])]
        try:
            limit = min(int(p.get("limit") or 100), 100)
        except ValueError:
            raise _Err("51000", "Parameter limit error") from None
        return self._env("0", "", rows[:limit])

    def _bills(self, p: dict, keep_ms: int) -> dict:
        rows = [
            r
            for r in self.bills + self._trade_bills()
            if p.get("ccy") in (None, "", r["ccy"])
            and p.get("type") in (None, "", r["type"])
            and p.get("subType") in (None, "", r["subType"])
            and p.get("instType") in (None, "", r["instType"])
        ]
        return self._page(rows, p, keep_ms)

    def _get_account_bills(self, p: dict, b: Any) -> dict:
        return self._bills(p, 7 * 86_400_000)

    def _get_account_bills_archive(self, p: dict, b: Any) -> dict:
        return self._bills(p, 92 * 86_400_000)

    def _fills(self, p: dict, keep_ms: int) -> dict:
        rows = [
            r
            for r in self._fill_rows()
            if p.get("instId") in (None, "", r["instId"]) and p.get("ordId") in (None, "", r["ordId"])
        ]
        return self._page(rows, p, keep_ms)

    def _get_trade_fills(self, p: dict, b: Any) -> dict:
        return self._fills(p, 3 * 86_400_000)

    def _get_trade_fills_history(self, p: dict, b: Any) -> dict:
        if not p.get("instType"):
            raise _Err("51000", "Parameter instType error")
        return self._fills(p, 92 * 86_400_000)

    def _post_asset_transfer(self, p: dict, b: dict) -> dict:
        ccy, src, dst = b.get("ccy"), str(b.get("from", "")), str(b.get("to", ""))
        try:
            amt = D(b.get("amt") or "0")
        except ArithmeticError:
            amt = D(0)
        if ccy != "USDT" or amt <= 0 or {src, dst} != {"6", "18"}:
            raise _Err("51000", "Parameter amt error" if amt <= 0 else "Parameter from error")
        if src == "18" and amt > self.engine.available():
            raise _Err("58350", "Insufficient balance")
        row = self.transfer(str(amt if dst == "18" else -amt))
        return self._env(
            "0", "", [{"transId": row["billId"], "ccy": "USDT", "clientId": "", "from": src, "amt": _s(amt), "to": dst}]
        )

    def _post_trade_cancel_all_after(self, p: dict, b: dict) -> dict:
        try:
            sec = int(b.get("timeOut", ""))
        except ValueError:
            raise _Err("51000", "Parameter timeOut error") from None
        if sec != 0 and not 10 <= sec <= 120:
            raise _Err("51000", "Parameter timeOut error")
        self.cancel_all_after_s = sec
        self.cancel_all_after_tag = b.get("tag") or None
        now = self.now()
        return self._env("0", "", [{"triggerTime": str(now + sec * 1000) if sec else "0", "tag": "", "ts": str(now)}])


class _Err(Exception):
    def __init__(self, code: str, msg: str, data: list | None = None, status: int = 200):
        super().__init__(msg)
        self.code, self.msg, self.data, self.status = code, msg, data, status
