"""Drive the real Engine with the paper venue and hand-made candles: scenario tests without I/O mocks."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from execution.app import paper_venues
from execution.assembly import build_engine
from execution.control_log import CommandReader
from execution.engine import Engine
from execution.feeds.events import CandleClosed, FeedIssue, FundingSettled
from execution.settings import load_settings
from execution.state.local import LocalStore

ROOT = Path(__file__).resolve().parents[2]
BAR = 900_000
T0 = 1_767_225_600_000


def make_config(
    tmp: Path,
    risk: dict | None = None,
    strategy: dict | None = None,
    universe: dict | None = None,
    filters: dict | None = None,
    denylist: str | None = None,
    arbitrage: dict | None = None,
) -> Path:
    cfg = tmp / "config"
    shutil.copytree(ROOT / "config", cfg)
    if denylist is not None:
        (cfg / "denylist.txt").write_text(denylist)
    for name, patch in (
        ("risk_limits.json", risk),
        ("strategy_config.json", strategy),
        ("pairs_universe.json", universe),
        ("venue_filters.json", filters),
        ("arbitrage.json", arbitrage),
    ):
        if patch:
            data = json.loads((cfg / name).read_text())
            for k, v in patch.items():
                if isinstance(v, dict) and isinstance(data.get(k), dict):
                    data[k].update(v)
                else:
                    data[k] = v
            (cfg / name).write_text(json.dumps(data))
    return cfg


@dataclass
class Harness:
    engine: Engine
    state_dir: Path
    t: int = T0

    def candle(
        self, symbol: str, close: float, venue: str = "binance_um", spread: float = 0.002, open_: float | None = None
    ) -> None:
        o = close if open_ is None else open_
        ev = CandleClosed(
            self.t + BAR,
            venue,
            symbol,
            self.t,
            o,
            max(o, close) * (1 + spread),
            min(o, close) * (1 - spread),
            close,
            100.0,
        )
        self.engine.on_event(ev)

    def step(self, closes: dict[str, float]) -> None:
        for sym, c in closes.items():
            self.candle(sym, c)
        self.t += BAR

    def funding(self, symbol: str, rate: float, venue: str = "binance_um") -> None:
        self.engine.on_event(FundingSettled(self.t, venue, symbol, rate))

    def issue(self, symbol: str, kind: str, detail: str = "", venue: str = "binance_um") -> None:
        self.engine.on_event(FeedIssue(self.t, venue, symbol, kind, detail))

    def finish_cycle(self) -> None:
        self.engine.end_cycle()

    @property
    def venue(self):
        return self.engine.venues["binance_um"]


def harness(
    tmp: Path,
    symbols=("BTCUSDT",),
    env: dict | None = None,
    strategies=(),
    guards=(),
    notifier=None,
    metrics=None,
    sink=None,
    market_symbols=None,
    **patches,
) -> Harness:
    """RSI bounds are opened up so a single breakout candle after a flat warm-up is an entry."""
    patches.setdefault("strategy", {"defaults": {"rsi_buy_max": 99, "rsi_sell_min": 1}})
    cfg = make_config(tmp, **patches)
    s = load_settings({"CONFIG_DIR": str(cfg), "STATE_DIR": str(tmp / "state"), **(env or {})})
    venues = paper_venues(s)
    sink = sink or LocalStore(tmp / "state", durable=False)
    engine = build_engine(
        s,
        dict(venues),
        sink,
        universe=[("binance_um", sym) for sym in symbols],
        simulators=dict(venues),
        command_reader=CommandReader(tmp / "state"),
        extra_strategies=strategies,
        extra_guards=guards,
        notifier=notifier,
        market_symbols=market_symbols,
        publish_interval_ms=0,
        metrics=metrics,
    )
    return Harness(engine, tmp / "state")


def warm(h: Harness, symbol: str = "BTCUSDT", price: float = 60_000.0, bars: int = 120) -> None:
    """Flat-ish warm-up so indicators are ready and nothing crosses."""
    for i in range(bars):
        h.step({symbol: price * (1 + 0.0005 * (1 if i % 2 else -1))})


def breakout(h: Harness, symbol: str = "BTCUSDT", price: float = 60_000.0, up: bool = True) -> None:
    """One candle that crosses the z threshold (momentum entry), then the next price fills it."""
    h.step({symbol: price * (1.02 if up else 0.98)})
