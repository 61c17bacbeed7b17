"""The generated market: a seeded, synthetic (not real) market in the recorded format.

It exists so a fresh clone with no network and no recordings still runs end to end. Per asset:
a common market factor plus idiosyncratic noise; regimes that switch between trending and
mean-reverting (Markov chain); volatility clustering (GARCH(1,1) on 1-minute returns); candles
built from 15 one-minute steps. Each asset trades on Binance USD-M and, for BTC and ETH, on OKX
with a cross-venue basis that mean-reverts (Ornstein-Uhlenbeck, a few bps) and jumps now and
then. Funding settles every 8 hours on both venues from the premium plus noise.

It also carries the depeg guard's reference market, USDC/USDT on Binance USD-M (`USDCUSDT`): a
price near 1 (a fraction of a bp of noise around +0.3 bp) with, now and then (about once in 60
days), a depeg episode that jumps 50-150 bps away and decays back over hours. It has its own
random stream, so the other symbols' series are the same as without it.

Usage: python -m execution.feeds.synthetic --out DIR [--days 30] [--seed 7] [--start 2026-01-01]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from execution.feeds.base import Feed
from execution.feeds.events import CandleClosed, Event, FundingSettled
from execution.feeds.market_files import write_candles, write_funding
from execution.operator_numbers import int_arg
from execution.settings.paths import output_directory_arg

BAR_MS = 900_000
FUNDING_MS = 8 * 3600_000
STEPS_PER_BAR = 15


@dataclass(frozen=True)
class AssetSpec:
    base: str
    price: float
    minute_vol: float  # typical 1-minute log-return stdev
    beta: float
    tick: str
    okx_tick: str | None  # None: not listed on OKX in the generated market


DEFAULT_ASSETS = (
    AssetSpec("BTC", 60_000.0, 0.0009, 1.0, "0.1", "0.1"),
    AssetSpec("ETH", 3_000.0, 0.0012, 1.2, "0.01", "0.01"),
    AssetSpec("SOL", 150.0, 0.0018, 1.4, "0.001", None),
    AssetSpec("BNB", 550.0, 0.0011, 0.9, "0.01", None),
)

REGIMES = ("calm", "trend_up", "trend_down", "mean_revert")
PEG_REFERENCE = ("binance_um", "USDCUSDT")
PEG_TICK = "0.0001"
PEG_EPISODE_PER_BAR = 1 / (60 * 96)


@dataclass
class _PegState:
    """The reference stablecoin pair: an OU around +0.3 bp plus decaying depeg episodes."""

    rng: random.Random
    basis: float = 0.00003
    episode: float = 0.0  # extra deviation of an episode in progress (fraction of price)
    decay: float = 0.0
    close: float = 1.0

    def next_bar(self, open_time: int, close_time: int) -> CandleClosed:
        rng = self.rng
        if self.episode == 0.0 and rng.random() < PEG_EPISODE_PER_BAR:
            self.episode = rng.choice((-1, 1)) * rng.uniform(0.005, 0.015)
            self.decay = rng.uniform(0.90, 0.97)  # ~ 8 to 33 bars to lose most of it
        path = [self.close]
        for _ in range(STEPS_PER_BAR):
            self.basis += -0.1 * (self.basis - 0.00003) + 0.00002 * rng.gauss(0.0, 1.0)
            path.append(1.0 + self.basis + self.episode)
        if self.episode:
            self.episode *= self.decay
            if abs(self.episode) < 0.0002:
                self.episode = 0.0
        o, c = (_round(x, PEG_TICK) for x in (path[0], path[-1]))
        h, lo = _round(max(path), PEG_TICK), _round(min(path), PEG_TICK)
        self.close = c
        vol = round(rng.lognormvariate(13.0, 0.4), 1)
        return CandleClosed(
            close_time, PEG_REFERENCE[0], PEG_REFERENCE[1], open_time, o, max(h, o, c), min(lo, o, c), c, vol
        )


@dataclass
class _AssetState:
    spec: AssetSpec
    log_price: float
    var: float
    anchor: float
    regime: str = "calm"
    basis: float = 0.0001  # OKX / Binance - 1
    premium_acc: list[float] = field(default_factory=lambda: [0.0, 0.0])
    premium_n: int = 0


def _round(x: float, tick: str) -> float:
    t = Decimal(tick)
    return float((Decimal(repr(x)) / t).to_integral_value(ROUND_HALF_EVEN) * t)


class SyntheticMarket:
    """Deterministic for a given seed and start: bar N is the same on every machine."""

    def __init__(self, seed: int = 7, start_ms: int = 1_767_225_600_000, assets=DEFAULT_ASSETS):
        if start_ms % BAR_MS:
            raise ValueError("start must be on a 15-minute boundary")
        self.rng = random.Random(seed)
        self.t = start_ms
        self.assets = [_AssetState(a, math.log(a.price), (a.minute_vol**2), math.log(a.price)) for a in assets]
        self.peg = _PegState(random.Random(seed * 1_000_003 + 17))  # its own stream: the others stay as they were

    def symbols(self) -> list[tuple[str, str]]:
        """Every (venue, symbol) the market carries, the peg's reference included."""
        return [(v, sym) for st in self.assets for v, sym, _ in self.venue_symbols(st.spec)] + [PEG_REFERENCE]

    @staticmethod
    def venue_symbols(spec: AssetSpec) -> list[tuple[str, str, str]]:
        out = [("binance_um", f"{spec.base}USDT", spec.tick)]
        if spec.okx_tick:
            out.append(("okx_perp", f"{spec.base}-USDT-SWAP", spec.okx_tick))
        return out

    def next_bar(self) -> list[Event]:
        """One 15-minute step for every asset: candles closing at t+15m, then funding if due."""
        rng = self.rng
        open_time = self.t
        close_time = open_time + BAR_MS
        events: list[Event] = []
        market = [rng.gauss(0.0, 1.0) for _ in range(STEPS_PER_BAR)]
        for st in self.assets:
            spec = st.spec
            if rng.random() < 1 / 300:
                st.regime = rng.choice(REGIMES)
            drift = {"trend_up": 0.02, "trend_down": -0.02}.get(st.regime, 0.0)
            kappa = 0.02 if st.regime == "mean_revert" else 0.0005
            rho = min(0.8, 0.6 * spec.beta)  # correlation with the common market factor
            idio = math.sqrt(1.0 - rho * rho)
            path = [st.log_price]
            for k in range(STEPS_PER_BAR):
                sigma = math.sqrt(st.var)
                z = rho * market[k] + idio * rng.gauss(0.0, 1.0)
                r = drift * sigma + sigma * z - kappa * (st.log_price - st.anchor)
                if rng.random() < 0.0005:  # a rare jump
                    r += rng.choice((-1, 1)) * 12 * sigma
                st.log_price += r
                # GARCH(1,1): long-run variance = base variance
                base = spec.minute_vol**2
                st.var = 0.02 * base + 0.10 * r * r + 0.88 * st.var
                st.var = min(max(st.var, 0.1 * base), 25 * base)
                path.append(st.log_price)
            st.anchor += 0.01 * (st.log_price - st.anchor)
            prices = [math.exp(x) for x in path]
            o, c = prices[0], prices[-1]
            h, lo = max(prices), min(prices)
            vol = spec.minute_vol * 1e4 * rng.lognormvariate(0.0, 0.5) * 1000 / spec.price * 100
            # cross-venue basis: OU with rare jumps, in fractions of price
            st.basis += -0.05 * (st.basis - 0.0001) + 0.00004 * rng.gauss(0.0, 1.0)
            if rng.random() < 0.003:
                st.basis += rng.choice((-1, 1)) * rng.uniform(0.0008, 0.002)
            for vi, (venue, symbol, tick) in enumerate(self.venue_symbols(spec)):
                f = 1.0 + (st.basis if venue == "okx_perp" else 0.0)
                oo, hh, ll, cc = (_round(p * f, tick) for p in (o, h, lo, c))
                hh, ll = max(hh, oo, cc), min(ll, oo, cc)
                events.append(
                    CandleClosed(
                        close_time, venue, symbol, open_time, oo, hh, ll, cc, round(vol * (0.6 if vi else 1.0), 3)
                    )
                )
                # perp premium: positive in up-moves (longs crowd in), plus the venue's basis
                st.premium_acc[vi] += math.tanh((path[-1] - path[0]) / (spec.minute_vol * 4)) * 0.0003 + (f - 1.0)
            st.premium_n += 1
        events.append(self.peg.next_bar(open_time, close_time))
        if close_time % FUNDING_MS == 0:
            for st in self.assets:
                for vi, (venue, symbol, _tick) in enumerate(self.venue_symbols(st.spec)):
                    premium = st.premium_acc[vi] / max(st.premium_n, 1)
                    rate = 0.0001 + 0.5 * premium + 0.00003 * self.rng.gauss(0.0, 1.0)
                    rate = max(-0.0075, min(0.0075, rate))
                    events.append(FundingSettled(close_time, venue, symbol, round(rate, 8)))
                st.premium_acc = [0.0, 0.0]
                st.premium_n = 0
        self.t = close_time
        return events


class GeneratedFeed(Feed):
    """An endless (or `bars`-long) generated market, as events."""

    def __init__(self, seed: int = 7, start_ms: int | None = None, bars: int | None = None):
        if start_ms is None:
            start_ms = 1_767_225_600_000  # 2026-01-01T00:00Z
        self.market = SyntheticMarket(seed, start_ms)
        self.bars = bars
        self._stop = False

    def events(self) -> Iterator[Event]:
        n = 0
        while not self._stop and (self.bars is None or n < self.bars):
            yield from self.market.next_bar()
            n += 1

    def close(self) -> None:
        self._stop = True


def write_market(out_dir: Path, days: int, seed: int = 7, start_ms: int = 1_767_225_600_000) -> dict[str, int]:
    """Write `days` of generated market into `out_dir` in the recorded format."""
    market = SyntheticMarket(seed, start_ms)
    candles: dict[tuple[str, str], list[tuple]] = {}
    funding: dict[tuple[str, str], list[tuple]] = {}
    for _ in range(days * 96):
        for ev in market.next_bar():
            key = (ev.venue, ev.symbol)
            if isinstance(ev, CandleClosed):
                candles.setdefault(key, []).append(
                    (ev.open_time, repr(ev.open), repr(ev.high), repr(ev.low), repr(ev.close), repr(ev.volume))
                )
            elif isinstance(ev, FundingSettled):
                funding.setdefault(key, []).append((ev.ts, repr(ev.rate)))
    for (venue, symbol), rows in candles.items():
        write_candles(out_dir, venue, symbol, rows)
    for (venue, symbol), rows in funding.items():
        write_funding(out_dir, venue, symbol, rows)
    (out_dir / "SYNTHETIC.md").write_text(
        f"Generated market (synthetic, not real prices): seed={seed}, start_ms={start_ms}, days={days}.\n"
        "Made by `python -m execution.feeds.synthetic`; see that module for the model.\n",
        encoding="utf-8",
    )
    return {f"{v}/{s}": len(r) for (v, s), r in candles.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m execution.feeds.synthetic", description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, type=output_directory_arg, help="market directory to write")
    ap.add_argument("--days", type=int_arg(1, 3_650), default=30)
    ap.add_argument("--seed", type=int_arg(0, 2**32 - 1), default=7)
    ap.add_argument("--start", default="2026-01-01", help="UTC start date YYYY-MM-DD")
    args = ap.parse_args(argv)
    try:
        start = datetime.strptime(args.start, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        print(f"error: --start: expected YYYY-MM-DD, got {args.start!r}", file=sys.stderr)
        return 2
    counts = write_market(args.out, args.days, args.seed, int(start.timestamp() * 1000))
    print(f"synthetic market written to {args.out}: " + ", ".join(f"{k}={n} bars" for k, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
