"""One research backtest: the executor's own engine on a window of a market directory, in memory.

    job (market dir, config dir, parameters, window) -> build_engine (execution/assembly.py) with
    the paper venues of `execution.app` -> the window's events -> MemorySink -> BacktestResult

The same strategies, paper venue and settings as `python -m execution.replay` (no second
implementation of anything): only the sink (in memory), the log (silenced) and the start (events
before the window only warm the indicators) differ. A job is plain data, so it runs the same in
this process, in a local worker process or on a Dask worker; the market is read once per process.
"""

from __future__ import annotations

import bisect
import dataclasses
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution import logs, performance
from execution.app import build_venues, screener_universe
from execution.assembly import build_engine
from execution.feeds.events import CandleClosed, Event
from execution.feeds.replay import ReplayFeed
from execution.settings import Settings, declared_values, load_settings
from execution.settings.files import override_strategy
from execution.state.memory import MemorySink

DAY_MS = 86_400_000
BAR_MS = 900_000
NO_PUBLISH_MS = 10**15  # documents are never built: nobody reads them
OBJECTIVES = ("sharpe", "sortino", "calmar", "return")


@dataclass(frozen=True)
class Job:
    """Everything a worker needs; paths must be the same on every worker (shared disk)."""

    market_dir: str
    config_dir: str
    initial_capital: str
    params: Mapping[str, Any]
    start_ms: int  # first event time that trades
    end_ms: int  # exclusive
    warmup_ms: int = 0  # events this long before start_ms warm the indicators
    objective: str = "sharpe"
    min_trades: int = 1  # fewer closed round trips: no score (the window says nothing)
    keep_records: bool = False
    env: tuple[tuple[str, str], ...] = ()  # settings variables of the researcher's environment (run_env)


@dataclass(frozen=True)
class BacktestResult:
    start_ms: int
    end_ms: int
    params: Mapping[str, Any]
    capital: float  # NAV at the window's start
    bars: int
    fills: int
    trades: int  # closed round trips
    win_rate: float | None
    profit_factor: float | None
    ret: float  # NAV at the end / capital - 1 (open positions at their last mark)
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    max_dd_pct: float  # on every NAV point
    fees: float
    score: float | None  # the objective; None: not enough closed trades to judge
    daily: list[tuple[int, float]] = field(default_factory=list)  # (UTC day close ts, NAV)
    records: dict[str, list[dict]] = field(default_factory=dict)  # journals, with keep_records

    def metric(self, name: str) -> float | None:
        return {"sharpe": self.sharpe, "sortino": self.sortino, "calmar": self.calmar, "return": self.ret}[name]


class Market:
    """A market directory's events in time order, read once (events are immutable tuples)."""

    def __init__(self, market_dir: Path):
        feed = ReplayFeed(Path(market_dir))
        self.events: list[Event] = list(feed.events())
        self.ts = [e.ts for e in self.events]
        self.available = feed.symbols("15m")
        candles = [e.ts for e in self.events if isinstance(e, CandleClosed)]
        if not candles:
            raise ValueError(f"{market_dir}: no 15m candles")
        self.first_ms, self.last_ms = min(candles), max(candles)

    def between(self, start_ms: int, end_ms: int) -> Iterator[Event]:
        lo, hi = bisect.bisect_left(self.ts, start_ms), bisect.bisect_left(self.ts, end_ms)
        return iter(self.events[lo:hi])


_MARKETS: dict[str, Market] = {}
_SETTINGS: dict[tuple, Settings] = {}
_SET_BY_JOB = {"FEED", "MARKET_DIR", "SPEED", "PROFILE", "CONFIG_DIR", "STATE_DIR", "INITIAL_CAPITAL_USDT"}


def run_env(environ: Mapping[str, str] | None = None) -> tuple[tuple[str, str], ...]:
    """The declared settings variables set in the researcher's environment (default: this
    process's, `.env` included), secrets excepted: a worker elsewhere then trades with the settings
    `python -m execution.replay` would use here (e.g. PROTECTIVE_ORDERS), never with its own."""
    return declared_values(environ, exclude=_SET_BY_JOB)


def market(market_dir: str | Path) -> Market:
    key = str(Path(market_dir).resolve())
    if key not in _MARKETS:
        _MARKETS.clear()  # one market per process at a time: a worker serves one study
        _MARKETS[key] = Market(Path(key))
    return _MARKETS[key]


def base_settings(
    market_dir: str, config_dir: str, initial_capital: str, env: tuple[tuple[str, str], ...] = ()
) -> Settings:
    """Paper replay settings from the job alone (never the worker's environment)."""
    key = (market_dir, config_dir, initial_capital, env)
    if key not in _SETTINGS:
        _SETTINGS[key] = load_settings(
            dict(env),
            FEED="replay",
            MARKET_DIR=market_dir,
            SPEED="max",
            PROFILE="paper",
            CONFIG_DIR=config_dir,
            INITIAL_CAPITAL_USDT=initial_capital,
            STATE_DIR="research-in-memory",
        )
    return _SETTINGS[key]


def with_params(s: Settings, params: Mapping[str, Any], source: str = "search space") -> Settings:
    """Settings with strategy / sizing parameters applied to the defaults and to every symbol
    (a searched field replaces a symbol's own override), validated like strategy_config.json."""
    if not params:
        return s
    values = dict(params)
    symbols = {
        sym: dataclasses.replace(cfg, strategy=override_strategy(cfg.strategy, values, source, "strategy"))
        for sym, cfg in s.symbols.items()
    }
    return dataclasses.replace(
        s, default_strategy=override_strategy(s.default_strategy, values, source, "strategy"), symbols=symbols
    )


def run_job(job: Job) -> BacktestResult:
    logs.silence()
    m = market(job.market_dir)
    s = with_params(base_settings(job.market_dir, job.config_dir, job.initial_capital, job.env), job.params)
    venues, simulators = build_venues(s)
    sink = MemorySink()
    engine = build_engine(
        s,
        venues,
        sink,
        universe=screener_universe(s, m.available),
        simulators=simulators,
        publish_interval_ms=NO_PUBLISH_MS,
        trade_from_ms=job.start_ms,
    )
    engine.run(m.between(job.start_ms - job.warmup_ms, job.end_ms))
    engine.close()
    return summarize(job, s.initial_capital_usdt, engine.ledger.nav(), engine.bars, engine.perf.max_dd_pct, sink)


def summarize(
    job: Job, capital: Decimal, nav_end: Decimal, bars: int, max_dd_pct: float, sink: MemorySink
) -> BacktestResult:
    fills, funding = sink.records("trades"), sink.records("funding")
    trips = performance.round_trips(fills, funding)
    stats = performance.trade_stats(trips)
    points = performance.NavPoints.of(sink.nav_ts, sink.nav)
    if len(points):
        points = points.with_inception(capital, job.start_ms)
    risk = performance.risk(performance.daily_returns(points))
    ret = float(nav_end / capital - 1)
    result = BacktestResult(
        start_ms=job.start_ms,
        end_ms=job.end_ms,
        params=dict(job.params),
        capital=float(capital),
        bars=bars,
        fills=len(fills),
        trades=stats.trades,
        win_rate=stats.win_rate,
        profit_factor=stats.profit_factor,
        ret=ret,
        sharpe=risk.sharpe,
        sortino=risk.sortino,
        calmar=risk.calmar,
        max_dd_pct=max_dd_pct,
        fees=float(sum((Decimal(str(f["fee_usdt"])) for f in fills), Decimal(0))),
        score=None,
        daily=day_closes(points),
        records={"trades": fills, "funding": funding, "signals": sink.records("signals")} if job.keep_records else {},
    )
    return dataclasses.replace(result, score=score(result, job.objective, job.min_trades))


def score(r: BacktestResult, objective: str, min_trades: int = 1) -> float | None:
    """The objective on a window; None when it cannot be judged (too few closed trades, or a
    ratio without a denominator: no volatility, no losing day, no drawdown)."""
    if r.trades < min_trades:
        return None
    value = r.metric(objective)
    return value if value is not None and math.isfinite(value) else None


def day_closes(points: performance.NavPoints) -> list[tuple[int, float]]:
    out: list[tuple[int, float]] = []
    for ts, nav in zip(points.ts.tolist(), points.nav.tolist(), strict=True):
        day = ts - ts % DAY_MS
        if out and out[-1][0] == day:
            out[-1] = (day, nav)
        else:
            out.append((day, nav))
    return out
