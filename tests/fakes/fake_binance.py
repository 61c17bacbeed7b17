"""A loopback Binance USD-M futures REST server speaking the real wire format.

Account history as the venue keeps it: GET /fapi/v1/income (FUNDING_FEE, TRANSFER, and the
REALIZED_PNL / COMMISSION rows of every fill; oldest first, `page`/`limit`), GET
/fapi/v1/userTrades (one symbol, at most 7 days, `fromId`), and POST /sapi/v1/asset/transfer
(universal transfer MAIN_UMFUTURE / UMFUTURE_MAIN) for deposits and withdrawals. Tests make
funding happen with `pay_funding` and move money behind the executor's back with `wallet_change`.

What it checks as Binance does: X-MBX-APIKEY (-2014/-2015), timestamp inside recvWindow (-1021),
HMAC-SHA256 hex signature of the exact query string + body (-1022); hedge-mode rules (-4061
positionSide mismatch, -1106 reduceOnly sent in hedge mode, -2022 over-close); filters (-1111
precision, -1013 LOT_SIZE/PRICE_FILTER, -4014 tick, -4164 min notional); -2019 margin; -5022
post-only would match; -4116 duplicate client id among open orders; -2013/-2011 unknown order;
request weight per minute with 429 + Retry-After, then 418 ban (-1003) for a client that keeps
sending. Answers carry X-MBX-USED-WEIGHT-1M. Faults come from `LoopbackVenue.inject`.
Conditional orders (STOP_MARKET, TAKE_PROFIT_MARKET) are refused by the order endpoint with
-4120 and live in the Algo Service (tests/fakes/fake_binance_algo.py), fired when the book moves.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import threading
import time
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl

from tests.fakes.fake_binance_algo import AlgoError, AlgoService
from tests.fakes.loopback import LoopbackVenue, Reply, Request
from tests.fakes.matching import Account, D, Engine, FakeOrder, Instrument, Reject

PUBLIC = {
    "/fapi/v1/ping",
    "/fapi/v1/time",
    "/fapi/v1/exchangeInfo",
    "/fapi/v1/premiumIndex",
    "/fapi/v1/ticker/bookTicker",
    "/fapi/v1/klines",
}
WEIGHTS = {
    "/fapi/v1/exchangeInfo": 1,
    "/fapi/v1/ticker/bookTicker": 2,
    "/fapi/v1/commissionRate": 20,
    "/fapi/v1/positionSide/dual": 30,
    "/fapi/v3/positionRisk": 5,
    "/fapi/v3/balance": 5,
    "/fapi/v1/symbolConfig": 5,
    "/fapi/v1/countdownCancelAll": 10,
    "/fapi/v1/income": 30,
    "/fapi/v1/userTrades": 5,
    "/sapi/v1/asset/transfer": 900,
}
WEEK_MS = 7 * 86_400_000


def default_instruments() -> list[Instrument]:
    """The venue's current rules (the values config/venue_filters.json ships; its `_source` says
    where each came from): GET /fapi/v1/exchangeInfo PRICE_FILTER, LOT_SIZE, MARKET_LOT_SIZE and
    MIN_NOTIONAL of each symbol."""
    return [
        Instrument(
            "BTCUSDT",
            tick=D("0.10"),
            step=D("0.001"),
            min_qty=D("0.001"),
            max_qty=D("1000"),
            market_max_qty=D("120"),
            min_notional=D("50"),
            price_precision=2,
            qty_precision=3,
            min_price=D("556.80"),
            max_price=D("4529764"),
        ),
        Instrument(
            "ETHUSDT",
            tick=D("0.01"),
            step=D("0.001"),
            min_qty=D("0.001"),
            max_qty=D("10000"),
            market_max_qty=D("2000"),
            min_notional=D("20"),
            price_precision=2,
            qty_precision=3,
            min_price=D("39.86"),
            max_price=D("306177"),
        ),
        Instrument(
            "BNBUSDT",
            tick=D("0.010"),
            step=D("0.01"),
            min_qty=D("0.01"),
            max_qty=D("100000"),
            market_max_qty=D("2000"),
            min_notional=D("5"),
            price_precision=3,
            qty_precision=2,
            min_price=D("6.600"),
            max_price=D("100000"),
        ),
        Instrument(
            "SOLUSDT",
            tick=D("0.0100"),
            step=D("1"),
            min_qty=D("1"),
            max_qty=D("1000000"),
            market_max_qty=D("5000"),
            min_notional=D("5"),
            price_precision=4,
            qty_precision=0,
            min_price=D("0.4200"),
            max_price=D("6857"),
        ),
    ]


def default_brackets() -> list[dict[str, Any]]:
    """Notional brackets in the shape of GET /fapi/v1/leverageBracket (cum makes them continuous)."""
    rows = [(125, 50_000, 0, 0.004, 0.0), (100, 500_000, 50_000, 0.005, 50.0), (50, 8_000_000, 500_000, 0.01, 2550.0)]
    return [
        {
            "bracket": i + 1,
            "initialLeverage": lev,
            "notionalCap": cap,
            "notionalFloor": floor,
            "maintMarginRatio": rate,
            "cum": cum,
        }
        for i, (lev, cap, floor, rate, cum) in enumerate(rows)
    ]


def _s(x: Decimal) -> str:
    return format(x.normalize(), "f") if x else "0"


class FakeBinance(AlgoService, LoopbackVenue):
    def __init__(
        self,
        api_key: str = "test-key-binance",
        api_secret: str = "test-secret-binance",
        wallet: str = "10000",
        instruments: list[Instrument] | None = None,
        weight_limit: int = 2400,
        ban_after: int = 3,
    ):
        super().__init__()
        self.api_key, self.api_secret = api_key, api_secret
        self.engine = Engine(instruments or default_instruments(), Account(D(wallet)))
        self.clock_offset_ms = 0
        self.weight_limit = weight_limit
        self.ban_after = ban_after
        self.refuse_all: tuple[int, str] | None = None  # (code, msg): answer every signed call with it
        self.refuse_orders: tuple[int, int, str] | None = None  # (status, code, msg): answer new orders with it
        self._weights: list[tuple[float, int]] = []
        self.limited_until = 0.0
        self.sent_while_limited = 0
        self.banned_until = 0.0
        self.countdowns: dict[str, int] = {}
        self.candles: dict[str, list[tuple]] = {}  # symbol -> [(open_time, o, h, l, c, v)] for /fapi/v1/klines
        self.listen_key = ""
        self.listen_key_calls: list[str] = []
        self.test_orders: list[dict[str, str]] = []
        self.commission = (D("0.0002"), D("0.0004"))
        self.funding_rate = D("0.00010000")
        # GET /fapi/v1/leverageBracket: symbol -> brackets as Binance lists them (JSON numbers)
        self.brackets: dict[str, list[dict[str, Any]]] = {s: default_brackets() for s in self.engine.instruments}
        self.bracket_calls = 0
        self._tlock = threading.Lock()
        self._algo_init()
        self.income: list[dict[str, Any]] = []  # FUNDING_FEE / TRANSFER rows (fills' rows are derived)
        self._tran_ids = itertools.count(9_689_322_392)

    # -- helpers for tests -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return self.root + "/fapi"

    def now(self) -> int:
        return int(time.time() * 1000) + self.clock_offset_ms

    def set_book(self, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        with self._lock:
            self.engine.set_book(symbol, bids, asks, self.now())
            self.fire_algos(symbol)  # the Algo Service watches the price

    def pay_funding(self, symbol: str, amount: str, ts: int | None = None) -> dict[str, Any]:
        """A funding settlement on the account: the wallet moves, a FUNDING_FEE income row is kept."""
        return self._book_income("FUNDING_FEE", symbol, D(amount), ts, "FUNDING_FEE")

    def transfer(self, amount: str, ts: int | None = None) -> dict[str, Any]:
        """Money moved into (+) or out of (-) the futures wallet (what /sapi/v1/asset/transfer does)."""
        return self._book_income("TRANSFER", "", D(amount), ts, "TRANSFER")

    def wallet_change(self, amount: str) -> None:
        """The balance changes with no income row the executor could read (behind its back)."""
        with self._lock:
            self.engine.acct.wallet += D(amount)

    def _book_income(self, kind: str, symbol: str, amount: Decimal, ts: int | None, info: str) -> dict[str, Any]:
        with self._lock:
            self.engine.acct.wallet += amount
            row = {
                "symbol": symbol,
                "incomeType": kind,
                "income": f"{amount:.8f}",
                "asset": "USDT",
                "info": info,
                "time": ts if ts is not None else self.now(),
                "tranId": next(self._tran_ids),
                "tradeId": "",
            }
            self.income.append(row)
            return row

    def give_position(self, symbol: str, pside: str, qty: str, entry: str) -> None:
        with self._lock:
            self.engine.give_position(symbol, pside, qty, entry)

    def expire_countdowns(self) -> None:
        """As if every armed countdown ran out: cancel those symbols' open orders."""
        with self._lock:
            for symbol, ms in list(self.countdowns.items()):
                if ms > 0:
                    for o in self.engine.open_orders(symbol):
                        self.engine.cancel(o, self.now())
                    self.countdowns[symbol] = 0

    def position_qty(self, symbol: str, pside: str) -> Decimal:
        with self._lock:
            return self.engine.pos(symbol, pside).qty

    # -- wire --------------------------------------------------------------------------------------
    def _err(self, status: int, code: int, msg: str, extra: dict[str, str] | None = None) -> Reply:
        return Reply(status, {"code": code, "msg": msg}, self._weight_headers() | (extra or {}))

    def _weight_headers(self) -> dict[str, str]:
        now = time.monotonic()
        used = sum(w for t, w in self._weights if t > now - 60)
        return {"X-MBX-USED-WEIGHT-1M": str(used)}

    def route(self, req: Request) -> Reply:
        now_mono = time.monotonic()
        if now_mono < self.banned_until:
            return self._err(
                418,
                -1003,
                f"Way too many requests; IP banned until {int(time.time() * 1000 + (self.banned_until - now_mono) * 1000)}. Please use the websocket for live updates to avoid bans.",
                {"Retry-After": str(max(1, int(self.banned_until - now_mono)))},
            )
        if now_mono < self.limited_until:
            self.sent_while_limited += 1
            if self.sent_while_limited >= self.ban_after:
                self.banned_until = now_mono + 120
            return self._err(
                429,
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is "
                f"{self.weight_limit} requests per minute. Please use the websocket for live updates to "
                "avoid polling the API.",
                {"Retry-After": str(max(1, round(self.limited_until - now_mono)))},
            )
        self._weights = [(t, w) for t, w in self._weights if t > now_mono - 60]
        params = dict(parse_qsl(req.query, keep_blank_values=True))
        params.update(parse_qsl(req.body.decode(), keep_blank_values=True))
        weight = WEIGHTS.get(req.path, 1)
        if req.path == "/fapi/v1/openOrders" and "symbol" not in params:
            weight = 40
        if req.path == "/fapi/v1/order" and req.method == "POST":
            weight = 0
        used = sum(w for _, w in self._weights)
        if used + weight > self.weight_limit:
            self.limited_until = now_mono + 2
            self.sent_while_limited = 0
            return self._err(
                429,
                -1003,
                f"Too many requests; current limit of IP(127.0.0.1) is {self.weight_limit} requests per minute.",
                {"Retry-After": "2"},
            )
        self._weights.append((now_mono, weight))
        if req.path == "/fapi/v1/listenKey":  # user data stream keys: API key header only, no signature
            if req.header("X-MBX-APIKEY") != self.api_key:
                return self._err(401, -2015, "Invalid API-key, IP, or permissions for action.")
            self.listen_key_calls.append(req.method)
            if req.method == "POST":
                self.listen_key = f"lk{len(self.listen_key_calls):04d}" + "x" * 56
            return Reply(200, {"listenKey": self.listen_key} if req.method != "DELETE" else {}, self._weight_headers())
        if req.path not in PUBLIC:
            denied = self._auth(req, params)
            if denied is not None:
                return denied
            if self.refuse_all is not None:
                return self._err(400, *self.refuse_all)
        name = req.path.replace("/fapi/", "").replace("/sapi/", "sapi/").replace("/", "_")
        handler = getattr(self, "_" + req.method.lower() + "_" + name, None)
        if handler is None:
            return self._err(404, -5000, f"Path {req.path}, Method {req.method} is invalid")
        try:
            body = handler(params)
        except (_Err, AlgoError) as e:
            return self._err(e.status, e.code, e.msg)
        return Reply(200, body, self._weight_headers())

    def _auth(self, req: Request, params: dict[str, str]) -> Reply | None:
        key = req.header("X-MBX-APIKEY")
        if not key:
            return self._err(401, -2014, "API-key format invalid.")
        if key != self.api_key:
            return self._err(401, -2015, "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1")
        try:
            ts = int(params.get("timestamp", ""))
        except ValueError:
            return self._err(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.")
        window = int(params.get("recvWindow", "5000"))
        if window > 60000:
            return self._err(400, -1131, "recvWindow must be less than 60000")
        server = self.now()
        if ts >= server + 1000 or server - ts > window:
            return self._err(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        query, body = req.query, req.body.decode()
        sig = None
        for part in ("query", "body"):
            text = query if part == "query" else body
            m = re.search(r"(^|&)signature=([0-9a-fA-F]+)", text)
            if m:
                sig = m.group(2)
                text = text[: m.start()] + text[m.end() :]
                if part == "query":
                    query = text
                else:
                    body = text
        expected = hmac.new(self.api_secret.encode(), (query + body).encode(), hashlib.sha256).hexdigest()
        if sig is None or not hmac.compare_digest(sig.lower(), expected):
            return self._err(400, -1022, "Signature for this request is not valid.")
        return None

    # -- public ------------------------------------------------------------------------------------
    def _get_v1_ping(self, p: dict) -> dict:
        return {}

    def _get_v1_time(self, p: dict) -> dict:
        return {"serverTime": self.now()}

    def _get_v1_exchangeInfo(self, p: dict) -> dict:
        symbols = []
        for i in self.engine.instruments.values():
            symbols.append(
                {
                    "symbol": i.symbol,
                    "pair": i.symbol,
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": i.symbol[:-4],
                    "quoteAsset": "USDT",
                    "marginAsset": "USDT",
                    "pricePrecision": i.price_precision,
                    "quantityPrecision": i.qty_precision,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": [],
                    "settlePlan": 0,
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "filters": [
                        {
                            "minPrice": _s(i.min_price),
                            "maxPrice": _s(i.max_price),
                            "filterType": "PRICE_FILTER",
                            "tickSize": _s(i.tick),
                        },
                        {
                            "stepSize": _s(i.step),
                            "filterType": "LOT_SIZE",
                            "maxQty": _s(i.max_qty),
                            "minQty": _s(i.min_qty),
                        },
                        {
                            "stepSize": _s(i.step),
                            "filterType": "MARKET_LOT_SIZE",
                            "maxQty": _s(i.market_max_qty),
                            "minQty": _s(i.min_qty),
                        },
                        {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
                        {"limit": 10, "filterType": "MAX_NUM_ALGO_ORDERS"},
                        {"notional": _s(i.min_notional), "filterType": "MIN_NOTIONAL"},
                        {
                            "multiplierDown": "0.9500",
                            "multiplierUp": "1.0500",
                            "multiplierDecimal": "4",
                            "filterType": "PERCENT_PRICE",
                        },
                    ],
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                        "TRAILING_STOP_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                }
            )
        return {
            "timezone": "UTC",
            "serverTime": self.now(),
            "futuresType": "U_MARGINED",
            "rateLimits": [
                {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": self.weight_limit},
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
            ],
            "exchangeFilters": [],
            "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
            "symbols": symbols,
        }

    def _inst(self, p: dict) -> Instrument:
        sym = p.get("symbol", "")
        inst = self.engine.instruments.get(sym)
        if inst is None:
            raise _Err(400, -1121, "Invalid symbol.")
        return inst

    def _get_v1_premiumIndex(self, p: dict) -> dict:
        inst = self._inst(p)
        mark = self.engine.mark.get(inst.symbol, D(0))
        now = self.now()
        return {
            "symbol": inst.symbol,
            "markPrice": f"{mark:.8f}",
            "indexPrice": f"{mark:.8f}",
            "estimatedSettlePrice": f"{mark:.8f}",
            "lastFundingRate": f"{self.funding_rate:.8f}",
            "interestRate": "0.00010000",
            "nextFundingTime": (now // 28_800_000 + 1) * 28_800_000,
            "time": now,
        }

    def _get_v1_ticker_bookTicker(self, p: dict) -> dict:
        inst = self._inst(p)
        (bp, bq), (ap, aq) = self.engine.bids[inst.symbol][0], self.engine.asks[inst.symbol][0]
        return {
            "symbol": inst.symbol,
            "bidPrice": _s(bp),
            "bidQty": _s(bq),
            "askPrice": _s(ap),
            "askQty": _s(aq),
            "time": self.now(),
            "lastUpdateId": 1027024,
        }

    def _get_v1_leverageBracket(self, p: dict) -> Any:
        """USER_DATA (signed): every symbol's brackets, or one object when `symbol` is given."""
        self.bracket_calls += 1
        if "symbol" in p:
            inst = self._inst(p)
            return {"symbol": inst.symbol, "brackets": self.brackets[inst.symbol]}
        return [{"symbol": sym, "brackets": rows} for sym, rows in self.brackets.items()]

    # -- account configuration -----------------------------------------------------------------------
    def _get_v1_commissionRate(self, p: dict) -> dict:
        inst = self._inst(p)
        return {
            "symbol": inst.symbol,
            "makerCommissionRate": _s(self.commission[0]),
            "takerCommissionRate": _s(self.commission[1]),
        }

    def _get_v1_positionSide_dual(self, p: dict) -> dict:
        return {"dualSidePosition": self.engine.acct.dual_side}

    def _post_v1_positionSide_dual(self, p: dict) -> dict:
        want = p.get("dualSidePosition", "").lower() == "true"
        if want == self.engine.acct.dual_side:
            raise _Err(400, -4059, "No need to change position side.")
        if any(pos.qty for pos in self.engine.acct.positions.values()):
            raise _Err(400, -4068, "Position side cannot be changed if there exists position.")
        if self.engine.open_orders():
            raise _Err(400, -4067, "Position side cannot be changed if there exists open orders.")
        self.engine.acct.dual_side = want
        return {"code": 200, "msg": "success"}

    def _get_v1_symbolConfig(self, p: dict) -> list:
        inst = self._inst(p)
        return [
            {
                "symbol": inst.symbol,
                "marginType": self.engine.acct.margin_type.get(inst.symbol, "CROSSED"),
                "isAutoAddMargin": "false",
                "leverage": self.engine.lev(inst.symbol),
                "maxNotionalValue": "1000000",
            }
        ]

    def _post_v1_marginType(self, p: dict) -> dict:
        inst = self._inst(p)
        want = p.get("marginType", "").upper()
        if want not in ("ISOLATED", "CROSSED"):
            raise _Err(400, -4044, "The margin type is invalid.")
        if self.engine.acct.margin_type.get(inst.symbol, "CROSSED") == want:
            raise _Err(400, -4046, "No need to change margin type.")
        if any(pos.qty for (s, _), pos in self.engine.acct.positions.items() if s == inst.symbol):
            raise _Err(400, -4048, "Margin type cannot be changed if there exists position.")
        self.engine.acct.margin_type[inst.symbol] = want
        return {"code": 200, "msg": "success"}

    def _post_v1_leverage(self, p: dict) -> dict:
        inst = self._inst(p)
        lev = int(p.get("leverage", "0"))
        if not 1 <= lev <= 125:
            raise _Err(400, -4028, f"Leverage {lev} is not valid")
        self.engine.acct.leverage[inst.symbol] = lev
        return {"leverage": lev, "maxNotionalValue": "1000000", "symbol": inst.symbol}

    # -- orders --------------------------------------------------------------------------------------
    def _order_from(self, p: dict, validate_only: bool) -> FakeOrder:
        if self.refuse_orders is not None:
            raise _Err(*self.refuse_orders)
        inst = self._inst(p)
        acct = self.engine.acct
        for name in ("side", "type", "quantity"):
            if not p.get(name):
                raise _Err(400, -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.")
        pside = p.get("positionSide", "BOTH").upper()
        if acct.dual_side and pside not in ("LONG", "SHORT"):
            raise _Err(400, -4061, "Order's position side does not match user's setting.")
        if not acct.dual_side and pside != "BOTH":
            raise _Err(400, -4061, "Order's position side does not match user's setting.")
        if acct.dual_side and "reduceOnly" in p:
            raise _Err(400, -1106, "Parameter 'reduceonly' sent when not required.")
        otype = p["type"].upper()
        if otype in ("STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET"):
            raise _Err(
                400,
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API endpoints instead.",
            )
        if otype not in ("MARKET", "LIMIT"):
            raise _Err(400, -1116, "Invalid orderType.")
        tif = p.get("timeInForce", "GTC").upper()
        if otype == "LIMIT" and ("price" not in p or "timeInForce" not in p):
            raise _Err(
                400, -1102, "Mandatory parameter 'price' or 'timeInForce' was not sent, was empty/null, or malformed."
            )
        qty_text = p["quantity"]
        qty = D(qty_text)
        if "." in qty_text and len(qty_text.split(".")[1].rstrip("0")) > inst.qty_precision:
            raise _Err(400, -1111, "Precision is over the maximum defined for this asset.")
        if qty <= 0:
            raise _Err(400, -4003, "Quantity less than or equal to zero.")
        if qty % inst.step != 0 or qty < inst.min_qty:
            raise _Err(400, -1013, "Filter failure: LOT_SIZE")
        if qty > (inst.market_max_qty if otype == "MARKET" else inst.max_qty):
            raise _Err(
                400, -1013, "Filter failure: MARKET_LOT_SIZE" if otype == "MARKET" else "Filter failure: LOT_SIZE"
            )
        price = None
        if otype == "LIMIT":
            ptext = p["price"]
            price = D(ptext)
            if "." in ptext and len(ptext.split(".")[1].rstrip("0")) > inst.price_precision:
                raise _Err(400, -1111, "Precision is over the maximum defined for this asset.")
            if price % inst.tick != 0:
                raise _Err(400, -4014, "Price not increased by tick size.")
        cid = p.get("newClientOrderId", "")
        if not re.fullmatch(r"[.A-Z:/a-z0-9_-]{1,36}", cid or "x"):
            raise _Err(
                400,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        if cid and any(o.cid == cid for o in self.engine.open_orders()):
            raise _Err(400, -4116, "ClientOrderId is duplicated.")
        order = FakeOrder(
            0,
            cid,
            inst.symbol,
            p["side"].upper(),
            pside,
            otype,
            tif,
            qty,
            price,
            p.get("reduceOnly", "false").lower() == "true",
            self.now(),
        )
        closing = self.engine.is_closing(order)
        ref = price if price is not None else self.engine.mark.get(inst.symbol, D(0))
        if not closing and qty * ref < inst.min_notional:
            raise _Err(
                400,
                -4164,
                f"Order's notional must be no smaller than {_s(inst.min_notional)} (unless you choose reduce only).",
            )
        if otype == "LIMIT" and tif == "GTX" and self.engine.crosses(order):
            raise _Err(
                400,
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be "
                "rejected. The order will not be recorded in the order history",
            )
        try:
            self.engine.check(order)
        except Reject as r:
            if r.kind == "margin":
                raise _Err(400, -2019, "Margin is insufficient.") from None
            raise _Err(400, -2022, "ReduceOnly Order is rejected.") from None
        return order

    def _order_json(self, o: FakeOrder, with_time: bool = False) -> dict[str, Any]:
        inst = self.engine.instruments[o.symbol]
        out = {
            "orderId": o.oid,
            "symbol": o.symbol,
            "status": o.status,
            "clientOrderId": o.cid,
            "price": _s(o.price) if o.price is not None else "0",
            "avgPrice": f"{o.avg:.{inst.price_precision + 3}f}",
            "origQty": _s(o.qty),
            "executedQty": _s(o.filled),
            "cumQty": _s(o.filled),
            "cumQuote": _s(o.notional),
            "timeInForce": o.tif,
            "type": o.otype,
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": o.side,
            "positionSide": o.pside,
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": o.otype,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
            "updateTime": o.updated,
        }
        if with_time:
            out["time"] = o.created
        return out

    def _post_v1_order(self, p: dict) -> dict:
        order = self._order_from(p, validate_only=False)
        self.engine.submit(order, self.now())
        if p.get("newOrderRespType", "ACK").upper() != "RESULT":  # ACK: the state at acceptance
            ack = self._order_json(order)
            ack.update(status="NEW", executedQty="0", cumQty="0", cumQuote="0", avgPrice="0.00")
            return ack
        return self._order_json(order)

    def _post_v1_order_test(self, p: dict) -> dict:
        self._order_from(p, validate_only=True)
        self.test_orders.append(dict(p))
        return {}

    def _find(self, p: dict) -> FakeOrder | None:
        inst = self._inst(p)
        if p.get("origClientOrderId"):
            return self.engine.by_cid(inst.symbol, p["origClientOrderId"])
        if p.get("orderId"):
            o = self.engine.acct.orders.get(int(p["orderId"]))
            return o if o is not None and o.symbol == inst.symbol else None
        raise _Err(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!")

    def _get_v1_order(self, p: dict) -> dict:
        o = self._find(p)
        if o is None:
            raise _Err(400, -2013, "Order does not exist.")
        return self._order_json(o, with_time=True)

    def _delete_v1_order(self, p: dict) -> dict:
        o = self._find(p)
        if o is None or not o.open:
            raise _Err(400, -2011, "Unknown order sent.")
        self.engine.cancel(o, self.now())
        return self._order_json(o)

    def _delete_v1_allOpenOrders(self, p: dict) -> dict:
        inst = self._inst(p)
        for o in self.engine.open_orders(inst.symbol):
            self.engine.cancel(o, self.now())
        return {"code": 200, "msg": "The operation of cancel all open order is done."}

    def _get_v1_openOrders(self, p: dict) -> list:
        sym = p.get("symbol")
        if sym:
            self._inst(p)
        return [self._order_json(o, with_time=True) for o in self.engine.open_orders(sym)]

    def _get_v1_klines(self, p: dict) -> list:
        lo, hi, limit = int(p.get("startTime", 0)), int(p.get("endTime", 2**62)), int(p.get("limit", 500))
        return [
            [t, str(o), str(h), str(low), str(c), str(v), t + 900_000 - 1, "0", 1, "0", "0", "0"]
            for t, o, h, low, c, v in self.candles.get(p["symbol"], [])
            if lo <= t <= hi
        ][:limit]

    def _post_v1_countdownCancelAll(self, p: dict) -> dict:
        inst = self._inst(p)
        ms = int(p.get("countdownTime", "-1"))
        if ms < 0:
            raise _Err(400, -1102, "Mandatory parameter 'countdownTime' was not sent, was empty/null, or malformed.")
        self.countdowns[inst.symbol] = ms
        return {"symbol": inst.symbol, "countdownTime": str(ms)}

    # -- account -------------------------------------------------------------------------------------
    def _get_v3_positionRisk(self, p: dict) -> list:
        rows = []
        for (sym, pside), pos in self.engine.acct.positions.items():
            if not pos.qty or (p.get("symbol") and p["symbol"] != sym):
                continue
            mark = self.engine.mark.get(sym, pos.entry)
            signed = pos.qty if pside == "LONG" else -pos.qty
            upl = (mark - pos.entry) * signed
            rows.append(
                {
                    "symbol": sym,
                    "positionSide": pside if self.engine.acct.dual_side else "BOTH",
                    "positionAmt": _s(signed),
                    "entryPrice": _s(pos.entry),
                    "breakEvenPrice": _s(pos.entry),
                    "markPrice": f"{mark:.8f}",
                    "unRealizedProfit": f"{upl:.8f}",
                    "liquidationPrice": "0",
                    "isolatedMargin": "0",
                    "notional": f"{mark * signed:.8f}",
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": f"{abs(mark * signed) / self.engine.lev(sym):.8f}",
                    "maintMargin": "0",
                    "positionInitialMargin": "0",
                    "openOrderInitialMargin": "0",
                    "adl": 1,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": pos.opened,
                }
            )
        return rows

    # -- account history -----------------------------------------------------------------------------
    def _fill_income(self) -> list[dict[str, Any]]:
        """The REALIZED_PNL and COMMISSION rows Binance writes for every fill."""
        rows = []
        for t in self.engine.trades:
            for kind, amount in (("COMMISSION", -t.fee), ("REALIZED_PNL", t.realized)):
                if kind == "REALIZED_PNL" and not self.engine.is_closing(t.order):
                    continue
                rows.append(
                    {
                        "symbol": t.order.symbol,
                        "incomeType": kind,
                        "income": f"{amount:.8f}",
                        "asset": "USDT",
                        "info": kind,
                        "time": t.ts,
                        "tranId": 5_000_000_000 + t.trade_id * 2 + (kind == "COMMISSION"),
                        "tradeId": str(t.trade_id),
                    }
                )
        return rows

    def _get_v1_income(self, p: dict) -> list:
        limit = min(int(p.get("limit", "100")), 1000)
        page = max(int(p.get("page", "1")), 1)
        now = self.now()
        lo = int(p["startTime"]) if "startTime" in p else (0 if "endTime" in p else now - WEEK_MS)
        hi = int(p.get("endTime", now))
        rows = [
            r
            for r in self.income + self._fill_income()
            if lo <= r["time"] <= hi
            and p.get("incomeType") in (None, r["incomeType"])
            and p.get("symbol") in (None, r["symbol"])
        ]
        rows.sort(key=lambda r: (r["time"], r["tranId"]))
        return rows[(page - 1) * limit : page * limit]

    def _trade_row(self, t: Any) -> dict[str, Any]:
        o, inst = t.order, self.engine.instruments[t.order.symbol]
        return {
            "buyer": o.side == "BUY",
            "commission": f"{t.fee:.8f}",
            "commissionAsset": "USDT",
            "id": t.trade_id,
            "maker": t.maker,
            "orderId": o.oid,
            "price": f"{t.price:.{inst.price_precision}f}",
            "qty": _s(t.qty),
            "quoteQty": f"{t.qty * t.price:.8f}",
            "realizedPnl": f"{t.realized:.8f}",
            "side": o.side,
            "positionSide": o.pside,
            "symbol": o.symbol,
            "time": t.ts,
        }

    def _get_v1_userTrades(self, p: dict) -> list:
        inst = self._inst(p)
        if "fromId" in p and ("startTime" in p or "endTime" in p):
            raise _Err(400, -1128, "Combination of optional parameters invalid.")
        now = self.now()
        hi = int(p.get("endTime", now))
        lo = int(p.get("startTime", hi - WEEK_MS))
        if hi - lo > WEEK_MS:
            raise _Err(400, -1127, "More than 7 days between startTime and endTime.")
        limit = min(int(p.get("limit", "500")), 1000)
        trades = [t for t in self.engine.trades if t.order.symbol == inst.symbol]
        if "fromId" in p:
            trades = [t for t in trades if t.trade_id >= int(p["fromId"])]
        else:
            trades = [t for t in trades if lo <= t.ts <= hi]
        return [self._trade_row(t) for t in sorted(trades, key=lambda t: t.trade_id)[:limit]]

    def _post_sapi_v1_asset_transfer(self, p: dict) -> dict:
        kind, asset = p.get("type", ""), p.get("asset", "")
        if kind not in ("MAIN_UMFUTURE", "UMFUTURE_MAIN"):
            raise _Err(400, -1102, "Mandatory parameter 'type' was not sent, was empty/null, or malformed.")
        if asset != "USDT":
            raise _Err(400, -5011, "This asset is not supported.")
        amount = D(p.get("amount", "0"))
        if amount <= 0:
            raise _Err(400, -1102, "Mandatory parameter 'amount' was not sent, was empty/null, or malformed.")
        if kind == "UMFUTURE_MAIN" and amount > self.engine.available():
            raise _Err(400, -5013, "Asset transfer failed: insufficient balance")
        row = self.transfer(str(amount if kind == "MAIN_UMFUTURE" else -amount))
        return {"tranId": row["tranId"]}

    def _get_v3_balance(self, p: dict) -> list:
        acct = self.engine.acct
        return [
            {
                "accountAlias": "SgsR",
                "asset": "USDT",
                "balance": f"{acct.wallet:.8f}",
                "crossWalletBalance": f"{acct.wallet:.8f}",
                "crossUnPnl": f"{self.engine.upl():.8f}",
                "availableBalance": f"{self.engine.available():.8f}",
                "maxWithdrawAmount": f"{self.engine.available():.8f}",
                "marginAvailable": True,
                "updateTime": self.now(),
            }
        ]


class _Err(Exception):
    def __init__(self, status: int, code: int, msg: str):
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg
