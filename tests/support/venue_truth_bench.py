"""An exchange-profile executor (PROFILE=testnet) composed by `execution.app.open_runtime` against the
two loopback venues, driven by hand: the test owns the wall clock the engine paces its readings
with and sends the events, so "one reconcile interval later" is a line of the test, not a sleep.
Restarts are real: the runtime is closed and opened again on the same state directory."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution import clock
from execution.app import Runtime, open_runtime
from execution.feeds.events import Tick
from execution.models import OrderRequest, OrderType, PositionSide, Side
from execution.settings import load_settings
from execution.trades import InFlight
from execution.venue_truth import VenueTruth
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.support.fake_streams import FakeBinanceUserStream, FakeOkxPrivateStream
from tests.support.recompute import load_jsonl

INTERVAL_S = 60


class TestClock:
    def __init__(self) -> None:
        self.now = clock.wall_ms()

    def __call__(self) -> int:
        return self.now

    def advance(self, ms: int) -> int:
        self.now += ms
        return self.now


@contextmanager
def venues() -> Iterator[tuple[FakeBinance, FakeOkx]]:
    with FakeBinance() as fb, FakeOkx(demo=True) as fo:
        fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
        fo.set_book("BTC-USDT-SWAP", [("60001.0", "1000")], [("60001.1", "1000")])
        yield fb, fo


def config(tmp: Path) -> Path:
    cfg = tmp / "config"
    if not cfg.exists():
        shutil.copytree(PROJECT_ROOT / "config", cfg)
        (cfg / "pairs_universe.json").write_text(json.dumps({"symbols": ["BTCUSDT"], "overrides": {}}))
        strat = json.loads((cfg / "strategy_config.json").read_text())
        strat["symbols"] = {}
        (cfg / "strategy_config.json").write_text(json.dumps(strat))
        arb = json.loads((cfg / "arbitrage.json").read_text())
        arb["enabled"] = False  # the tests place their own orders
        (cfg / "arbitrage.json").write_text(json.dumps(arb))
        risk = json.loads((cfg / "risk_limits.json").read_text())
        risk["WARMUP_SEC"] = 0  # the tests trade at once (the warm-up guard has its own tests)
        (cfg / "risk_limits.json").write_text(json.dumps(risk))
    return cfg


class Bench:
    """One executor process's life: `open()` ... `close()`, as often as a test restarts it."""

    def __init__(self, tmp: Path, fb: FakeBinance, fo: FakeOkx, **env: str):
        self.tmp, self.fb, self.fo = tmp, fb, fo
        self.state = tmp / "state"
        self.env = {
            "PROFILE": "testnet",
            "SAFE_MODE": "false",
            "FEED": "live",
            "CONFIG_DIR": str(config(tmp)),
            "STATE_DIR": str(self.state),
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "OKX_API_KEY": fo.api_key,
            "OKX_API_SECRET": fo.api_secret,
            "OKX_PASSPHRASE": fo.passphrase,
            "OKX_BASE_URL": fo.url,
            "RECONCILE_INTERVAL_S": str(INTERVAL_S),
            **env,
        }
        self.rt: Runtime | None = None
        self.clock = TestClock()
        self._streams: list[Any] = []

    # -- life ----------------------------------------------------------------------------------
    def open(self) -> Runtime:
        user, private = (
            FakeBinanceUserStream(),
            FakeOkxPrivateStream(self.fo.api_key, self.fo.api_secret, self.fo.passphrase),
        )
        self._streams = [user.__enter__(), private.__enter__()]
        env = {**self.env, "BINANCE_WS_URL": user.url, "OKX_WS_PRIVATE_URL": private.url}
        self.clock = TestClock()
        self.rt = open_runtime(load_settings(env))
        self.rt.engine.wall_ms = self.clock  # the readings are paced by the test's clock from here on
        return self.rt

    def close(self) -> None:
        """A clean stop: state published, streams and venues closed."""
        rt = self.rt
        assert rt is not None
        rt.engine.publish(force=True)
        self._shutdown(rt)

    def kill(self) -> None:
        """The process dies: nothing more is published or drained."""
        assert self.rt is not None
        self._shutdown(self.rt)

    def _shutdown(self, rt: Runtime) -> None:
        rt.close()
        for s in self._streams:
            s.__exit__(None, None, None)
        self.rt = None

    # -- driving -------------------------------------------------------------------------------
    @property
    def engine(self):
        assert self.rt is not None
        return self.rt.engine

    @property
    def truth(self) -> VenueTruth:
        return next(g for g in self.engine.guards if isinstance(g, VenueTruth))

    def tick(self, advance_ms: int = 1_000) -> None:
        """Time passes and the loop runs one cycle (guards, NAV, documents)."""
        self.clock.advance(advance_ms)
        self.engine.on_event(Tick(self.clock()))
        self.engine.on_event(Tick(self.clock() + 1))

    def interval(self) -> None:
        """One RECONCILE_INTERVAL_S later: the venues are read again."""
        self.tick(INTERVAL_S * 1000)

    def nav(self) -> dict:
        self.engine.publish(force=True)
        return json.loads((self.state / "state" / "nav.json").read_text())

    def journal(self, name: str) -> list[dict]:
        return load_jsonl(self.state / name)

    # -- orders --------------------------------------------------------------------------------
    def buy(self, venue: str, symbol: str, qty: str, cid: str) -> OrderRequest:
        return OrderRequest(
            venue, symbol, Side.BUY, PositionSide.LONG, OrderType.MARKET, Decimal(qty), cid, f"intent-{cid}"
        )

    def place_and_lose(self, req: OrderRequest) -> None:
        """The router sent the order and holds it in flight; the process dies before the fill is
        booked (the venue filled it)."""
        self.engine.venues[req.venue].place_order(req)
        self.engine.router.in_flight[req.client_order_id] = InFlight(
            req, "entry", self.engine.cycle_ts, {"leverage": 2}
        )
        self.engine.publish(force=True)  # the restart snapshot knows the order in flight
        self.kill()
