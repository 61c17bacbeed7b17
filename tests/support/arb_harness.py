"""A two-venue arbitrage test bench: real paper venues behind fault-injecting wrappers, the real
ArbitrageLoop, and a market the test moves by hand (event time only, no sleeping)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path

from execution.app import paper_venues
from execution.arb.config import parse
from execution.arb.loop import ArbitrageLoop
from execution.models import BookTop, PositionSide
from execution.settings import load_settings
from tests.support.faulty_venue import FaultyVenue

PROJECT_ROOT = Path(__file__).resolve().parents[2]
BIN, OKX = "binance_um", "okx_perp"
BIN_SYM, OKX_SYM = "BTCUSDT", "BTC-USDT-SWAP"
T0 = 1_717_200_000_000  # 2024-06-01, not near a funding settlement in the tests' horizon

TEST_OVERRIDES = {
    "pairs": [
        {
            "pair": "BTC-USDT",
            "target_notional_usdt": 6000,
            "max_notional_usdt": 20000,
            "leverage": 2,
            "margin_type": "CROSSED",
        }
    ],
    "caps": {"per_symbol_usdt": 20000, "per_venue_usdt": 40000, "total_usdt": 80000},
    "basis": {"window": 200, "min_samples": 5, "sample_ms": 1000},
    "funding": {
        "include_next_window": True,
        "avoid_window_minutes": 5,
        "expected_holding_minutes": 480,
        "exit_against_bps": 2,
        "interval_hours": 8,
    },
}


def arb_config(**overrides):
    data = json.loads((PROJECT_ROOT / "config" / "arbitrage.json").read_text())
    data.update(TEST_OVERRIDES)
    data.update(overrides)
    return parse("test-arbitrage.json", data)


class Harness:
    def __init__(self, tmp_path: Path, dry_run: bool = False, metrics=None, **overrides):
        settings = load_settings(env={"CONFIG_DIR": str(PROJECT_ROOT / "config"), "STATE_DIR": str(tmp_path)})
        self.settings = settings
        self.paper = paper_venues(settings)
        okx = self.paper[OKX].filters(OKX_SYM)  # a coarse lot of one 0.01-BTC contract, as OKX listed it
        coarse = Decimal("0.01")  # until 2024: the legs round to different steps, which the tests exercise
        self.paper[OKX].add_filters(dataclasses.replace(okx, step_size=coarse, min_qty=coarse, market_step_size=coarse))
        self.venues = {name: FaultyVenue(v) for name, v in self.paper.items()}
        self.cfg = arb_config(**overrides)
        self.records: list[tuple[str, dict]] = []
        half = {n: vc.half_spread_bps for n, vc in settings.venues.items()}
        self.half = {n: h / Decimal(10_000) for n, h in half.items()}
        self.loop = ArbitrageLoop(
            self.cfg,
            self.venues,
            journal=lambda c, r: self.records.append((c, r)),
            half_spread_bps=half,
            dry_run=dry_run,
            order_metrics=metrics,
        )
        self.ts = T0
        self.px = {BIN: Decimal(60000), OKX: Decimal(60000)}

    def close(self) -> None:
        self.loop.close()

    # -- the market --------------------------------------------------------------------------------
    def _book(self, venue: str, symbol: str) -> BookTop:
        px = self.px[venue]
        tick = self.paper[venue].filters(symbol).tick_size
        bid = (px * (1 - self.half[venue]) / tick).to_integral_value(ROUND_FLOOR) * tick
        ask = (px * (1 + self.half[venue]) / tick).to_integral_value(ROUND_CEILING) * tick
        return BookTop(venue, symbol, bid, Decimal(5), ask, Decimal(5), self.ts)

    def market(
        self, binance: float | None = None, okx: float | None = None, dt: int = 5000, books: bool = True
    ) -> None:
        """Move time by `dt`, show both venues the prices (pending market orders fill), then the
        loop sees both books (the scanner runs; not with `books=False`) and the cycle ends.

        `dt` > max_latency_ms, so the first book of an instant is never paired with the other
        venue's book of the previous instant (as in the 15m replay): only the second runs the maths."""
        self.ts += dt
        if binance is not None:
            self.px[BIN] = Decimal(str(binance))
        if okx is not None:
            self.px[OKX] = Decimal(str(okx))
        for venue, symbol in ((BIN, BIN_SYM), (OKX, OKX_SYM)):
            self.paper[venue].on_price(symbol, self.ts, self.px[venue])
            self.paper[venue].on_mark(symbol, self.ts, self.px[venue])
        if books:
            for venue, symbol in ((BIN, BIN_SYM), (OKX, OKX_SYM)):
                self.loop.on_book_top(self._book(venue, symbol))
        self.loop.on_cycle_end(self.ts)

    def warm(self, n: int = 20, binance: float = 60000, okx: float = 60000) -> None:
        """`n` instants at a usual basis, so the rolling mean has history."""
        for _ in range(n):
            self.market(binance, okx)
        self.loop.refresh_health(self.ts)

    def settle(self, n: int = 3) -> None:
        """A few more instants at unchanged prices, without new book updates: fills land, leg
        timeouts and rescues run at each cycle end, the scanner starts nothing new."""
        for _ in range(n):
            self.market(dt=self.cfg.leg_timeout_ms, books=False)

    # -- what the venues say -------------------------------------------------------------------------
    def positions(self) -> dict[tuple[str, str], Decimal]:
        out = {}
        for name, v in self.paper.items():
            for p in v.positions():
                out[(name, p.position_side.value)] = p.qty
        return out

    def venue_delta_usd(self) -> Decimal:
        """Net USD delta as the venues hold it (the truth, not the loop's book)."""
        total = Decimal(0)
        for name, v in self.paper.items():
            for p in v.positions():
                total += p.qty * self.px[name] * (1 if p.position_side is PositionSide.LONG else -1)
        return total

    def incidents(self) -> list[dict]:
        return [r for c, r in self.records if c == "incidents"]

    def assert_nothing_sent_twice(self) -> None:
        for name, v in self.venues.items():
            cids = Counter(r.client_order_id for r in v.requests)
            dup = [c for c, n in cids.items() if n > 1]
            assert not dup, f"{name}: client order ids sent more than once: {dup}"
            opens = Counter((r.intent_id, r.position_side) for r in v.requests if not r.is_closing)
            assert all(n == 1 for n in opens.values()), f"{name}: an entry leg was sent twice: {opens}"
            placed = Counter(r.client_order_id for r in v.placed)
            assert all(n == 1 for n in placed.values()), f"{name}: an order reached the venue twice: {placed}"

    def assert_delta_within_bounds(self) -> None:
        delta = self.venue_delta_usd()
        assert abs(delta) <= self.cfg.cross_venue_delta_abs_max_usd, (
            f"venue delta {delta} USD beyond {self.cfg.cross_venue_delta_abs_max_usd}; positions {self.positions()}"
        )
        book = sum((p.delta_usd(self.loop.marks) for p in self.loop.open_pairs.values()), Decimal(0))
        assert (
            abs(book - delta) < Decimal("0.01") + abs(delta) * Decimal("0.001")
            or abs(book) <= self.cfg.cross_venue_delta_abs_max_usd
        )
