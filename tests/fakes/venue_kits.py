"""The two loopback exchanges side by side, for the adapter tests and the venue contract suite.

A kit starts its fake with the books the adapter tests use, builds the real adapter against it,
and reads or sets what only its fake knows in its own units (OKX positions and books are in
contracts), so a test written once in base units runs on both venues. What differs between the
venues by design (codes, the status of an IOC remainder, ...) is data on the kit.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.exchanges.rest_venue import RestVenue
from execution.exchanges.throttle import Throttler, binance_um_throttler, okx_perp_throttler
from execution.models import OrderRequest, OrderStatus, OrderType, PositionSide, Side, TimeInForce
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx

_OPEN: list[RestVenue] = []


def close_venues() -> None:
    """Close every adapter a kit built (call it from an autouse fixture)."""
    while _OPEN:
        _OPEN.pop().close()


@dataclass(frozen=True)
class FilterCase:
    """An order the venue's filters refuse: `sent` says whether it reaches the venue first."""

    symbol: str
    qty: str
    price: str | None
    code: str
    sent: bool = True


@dataclass(frozen=True)
class Kit(ABC):
    name: str
    btc: str
    eth: str
    sol: str
    order_path: str
    balance_path: str
    positions_path: str
    codes: dict[str, str]  # meaning -> the venue's code
    ioc_remainder: OrderStatus  # what the venue calls an IOC order whose rest was not filled
    post_only_crossed: tuple[OrderStatus, str]  # (status, reject code) of a crossing post-only order
    skew_ms: int  # a clock offset beyond the venue's signed-request window
    lost_answer: tuple[int, str]  # an error page the venue's gateway sends after it took an order
    auth_cases: tuple[tuple[dict[str, str], str], ...]  # (bad credential, code)
    filter_cases: tuple[FilterCase, ...]
    btc_filters: dict[str, D] = field(default_factory=dict)
    rate_limit_wait_s: float = 1.0  # the least back-off after the venue's rate-limit answer

    # -- fakes and adapters --------------------------------------------------------------------
    @abstractmethod
    def fake(self, **kw: Any) -> Any:
        """A context manager: the fake, started, with the adapter tests' books."""

    @abstractmethod
    def venue(self, fake: Any, **kw: Any) -> Any: ...

    @abstractmethod
    def throttler(self, **kw: Any) -> Throttler: ...

    @abstractmethod
    def rate_limited_fake(self) -> Any:
        """A context manager: a fake that answers the third positions request of a burst with
        its rate-limit error."""

    # -- what only the fake knows, in base units -----------------------------------------------
    def set_book(self, fake: Any, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        fake.set_book(symbol, bids, asks)

    @abstractmethod
    def give_position(self, fake: Any, symbol: str, pside: str, qty: str, entry: str) -> None: ...

    @abstractmethod
    def position(self, fake: Any, symbol: str, pside: str) -> D: ...

    @abstractmethod
    def make_one_way(self, fake: Any) -> None: ...

    @abstractmethod
    def fee_rates(self, fake: Any) -> tuple[D, D]:
        """(maker, taker) the fake charges this account, as rates paid."""

    @abstractmethod
    def library_offset_ms(self, venue: Any) -> float:
        """The clock offset the client library stamps signed requests with."""

    @abstractmethod
    def clock_skew_answer(self) -> tuple[int, str]:
        """(HTTP status, body) of the venue's "timestamp outside the window" answer."""

    def req(
        self,
        side: Side,
        pside: PositionSide,
        qty: str,
        cid: str,
        symbol: str | None = None,
        otype: OrderType = OrderType.MARKET,
        price: str | None = None,
        tif: TimeInForce | None = None,
    ) -> OrderRequest:
        return OrderRequest(
            self.name,
            symbol or self.btc,
            side,
            pside,
            otype,
            D(qty),
            cid,
            f"intent-{cid}",
            price=D(price) if price else None,
            time_in_force=tif,
        )

    def limit(self, side: Side, pside: PositionSide, qty: str, cid: str, price: str, **kw: Any) -> OrderRequest:
        kw.setdefault("tif", TimeInForce.GTC)
        return self.req(side, pside, qty, cid, otype=OrderType.LIMIT, price=price, **kw)

    def __str__(self) -> str:
        return self.name


def _defaults(kw: dict[str, Any]) -> dict[str, Any]:
    kw.setdefault("safe_mode", False)
    kw.setdefault("timeout_s", 1.0)
    kw.setdefault("reconcile_delays_s", (0.0, 0.05))
    return kw


class BinanceKit(Kit):
    @contextmanager
    def fake(self, **kw: Any) -> Iterator[FakeBinance]:
        with FakeBinance(**kw) as f:
            f.set_book(self.btc, [("60000.0", "1"), ("59990.0", "50")], [("60000.1", "0.05"), ("60010.0", "50")])
            f.set_book(self.eth, [("3000.00", "100")], [("3000.01", "100")])
            f.set_book(self.sol, [("150.0000", "1000")], [("150.0100", "1000")])
            yield f

    def venue(self, fake: FakeBinance, **kw: Any) -> BinanceUM:
        key, secret = kw.pop("key", fake.api_key), kw.pop("secret", fake.api_secret)
        v = BinanceUM(key, secret, fake.url, **_defaults(kw))
        _OPEN.append(v)
        return v

    def throttler(self, **kw: Any) -> Throttler:
        return binance_um_throttler(**kw)

    @contextmanager
    def rate_limited_fake(self) -> Iterator[FakeBinance]:
        with self.fake(weight_limit=16) as f:  # a small allowance: 5 clock samples + 2 x 5
            yield f

    def give_position(self, fake: FakeBinance, symbol: str, pside: str, qty: str, entry: str) -> None:
        fake.give_position(symbol, pside, qty, entry)

    def position(self, fake: FakeBinance, symbol: str, pside: str) -> D:
        return fake.position_qty(symbol, pside)

    def make_one_way(self, fake: FakeBinance) -> None:
        fake.engine.acct.dual_side = False

    def fee_rates(self, fake: FakeBinance) -> tuple[D, D]:
        return fake.commission

    def library_offset_ms(self, venue: BinanceUM) -> float:
        return float(venue.client.timestamp_offset)

    def clock_skew_answer(self) -> tuple[int, str]:
        return 400, json.dumps({"code": -1021, "msg": "Timestamp for this request is outside of the recvWindow."})


class OkxKit(Kit):
    @contextmanager
    def fake(self, **kw: Any) -> Iterator[FakeOkx]:
        kw.setdefault("demo", False)
        with FakeOkx(**kw) as f:
            f.set_book(self.btc, [("60000.0", "100"), ("59990.0", "5000")], [("60000.1", "5"), ("60010.0", "5000")])
            f.set_book(self.eth, [("3000.00", "10000")], [("3000.01", "10000")])
            f.set_book(self.sol, [("150.00", "10000")], [("150.01", "10000")])
            yield f

    def venue(self, fake: FakeOkx, **kw: Any) -> OkxPerp:
        key, secret = kw.pop("key", fake.api_key), kw.pop("secret", fake.api_secret)
        passphrase = kw.pop("passphrase", fake.passphrase)
        kw.setdefault("demo", fake.demo)
        v = OkxPerp(key, secret, passphrase, domain=fake.url, **_defaults(kw))
        _OPEN.append(v)
        return v

    def throttler(self, **kw: Any) -> Throttler:
        return okx_perp_throttler(**kw)

    @contextmanager
    def rate_limited_fake(self) -> Iterator[FakeOkx]:
        with self.fake(limits_per_2s={self.positions_path: 2}) as f:
            yield f

    @staticmethod
    def _ct_val(fake: FakeOkx, symbol: str) -> D:
        return fake.engine.instruments[symbol].ct_val

    def set_book(self, fake: FakeOkx, symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        ct = self._ct_val(fake, symbol)
        fake.set_book(symbol, [(p, str(D(q) / ct)) for p, q in bids], [(p, str(D(q) / ct)) for p, q in asks])

    def give_position(self, fake: FakeOkx, symbol: str, pside: str, qty: str, entry: str) -> None:
        fake.give_position(symbol, pside, str(D(qty) / self._ct_val(fake, symbol)), entry)

    def position(self, fake: FakeOkx, symbol: str, pside: str) -> D:
        return fake.position_contracts(symbol, pside) * self._ct_val(fake, symbol)

    def make_one_way(self, fake: FakeOkx) -> None:
        fake.long_short = False

    def fee_rates(self, fake: FakeOkx) -> tuple[D, D]:
        maker, taker = fake.fee_rates
        return -D(maker), -D(taker)  # OKX quotes what you pay as a negative number

    def library_offset_ms(self, venue: OkxPerp) -> float:
        return float(venue.trade.offset_ms)

    def clock_skew_answer(self) -> tuple[int, str]:
        return 401, json.dumps({"code": "50102", "msg": "Timestamp request expired.", "data": []})


BINANCE = BinanceKit(
    name="binance_um",
    btc="BTCUSDT",
    eth="ETHUSDT",
    sol="SOLUSDT",
    order_path="/fapi/v1/order",
    balance_path="/fapi/v3/balance",
    positions_path="/fapi/v3/positionRisk",
    codes={
        "nothing_to_close": "-2022",
        "over_close": "-2022",
        "margin": "-2019",
        "position_side": "-4061",
        "rate_limited": "-1003",
        "clock_skew": "-1021",
    },
    ioc_remainder=OrderStatus.EXPIRED,
    post_only_crossed=(OrderStatus.EXPIRED, "-5022"),
    skew_ms=7_000,  # beyond the 5 s recvWindow
    lost_answer=(500, "<html>500</html>"),
    auth_cases=(({"secret": "wrong-secret"}, "-1022"), ({"key": "someone-else"}, "-2015")),
    filter_cases=(
        FilterCase("BTCUSDT", "0.0001", None, "-1111"),  # more decimals than the asset allows
        FilterCase("SOLUSDT", "1.5", None, "-1111"),
        FilterCase("BTCUSDT", "0.001", "40000.0", "-4164"),  # 40 USDT < 50 min notional
        FilterCase("BTCUSDT", "0.01", "60000.05", "-4014"),  # off the 0.10 tick
    ),
    btc_filters={"tick_size": D("0.1"), "step_size": D("0.001"), "min_notional": D(50), "market_max_qty": D(120)},
    rate_limit_wait_s=2.0,  # the fake's Retry-After
)

OKX = OkxKit(
    name="okx_perp",
    btc="BTC-USDT-SWAP",
    eth="ETH-USDT-SWAP",
    sol="SOL-USDT-SWAP",
    order_path="/api/v5/trade/order",
    balance_path="/api/v5/account/balance",
    positions_path="/api/v5/account/positions",
    codes={
        "nothing_to_close": "51169",
        "over_close": "51112",
        "margin": "51008",
        "position_side": "51000",
        "rate_limited": "50011",
        "clock_skew": "50102",
    },
    ioc_remainder=OrderStatus.CANCELED,
    post_only_crossed=(OrderStatus.CANCELED, ""),  # OKX accepts it, then cancels it
    skew_ms=45_000,  # beyond OKX's 30 s window
    lost_answer=(502, "<html>bad gateway</html>"),
    auth_cases=(({"passphrase": "nope"}, "50105"), ({"secret": "nope"}, "50113")),
    filter_cases=(
        # 0.00005 BTC = 0.005 contract, not a whole lot: refused before sending
        FilterCase("BTC-USDT-SWAP", "0.00005", None, "51121", sent=False),
        FilterCase("BTC-USDT-SWAP", "0.01", "60000.05", "51000"),  # off the 0.1 tick
    ),
    btc_filters={"contract_value": D("0.01"), "step_size": D("0.0001"), "min_qty": D("0.0001")},
)

KITS = (BINANCE, OKX)
