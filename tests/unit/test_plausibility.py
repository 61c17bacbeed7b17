"""The market-data screen: out-of-range and implausible bars dropped with a reason, real markets
left alone, a persistent move accepted as a new level."""

from __future__ import annotations

import math

import pytest

from execution.feeds.events import BookUpdate, CandleClosed, FeedIssue, FundingSettled, MarkUpdate
from execution.feeds.market_files import discover, read_candles
from execution.feeds.plausibility import Plausibility, screened
from tests.conftest import PROJECT_ROOT

BAR = 900_000
T0 = 1_735_689_600_000


def bar(i: int, close: float, wick: float = 0.001, open_: float | None = None) -> CandleClosed:
    o = close if open_ is None else open_
    return CandleClosed(
        T0 + (i + 1) * BAR,
        "binance_um",
        "BTCUSDT",
        T0 + i * BAR,
        o,
        max(o, close) * (1 + wick),
        min(o, close) / (1 + wick),
        close,
        10.0,
    )


def run(bars: list[CandleClosed]) -> list:
    return list(screened(bars))


def calm(n: int = 200, price: float = 60_000.0) -> list[CandleClosed]:
    return [bar(i, price * (1 + 0.001 * math.sin(i))) for i in range(n)]


def test_a_1000x_bar_is_dropped_and_the_market_goes_on():
    bars = calm()
    spike = bar(200, 60_000_000.0)
    after = [bar(201 + i, 60_000.0) for i in range(5)]
    out = run([*bars, spike, *after])
    issues = [e for e in out if isinstance(e, FeedIssue)]
    assert [i.kind for i in issues] == ["implausible"] and "x move in one bar" in issues[0].detail
    candles = [e for e in out if isinstance(e, CandleClosed)]
    assert spike not in candles and len(candles) == len(bars) + len(after)


def test_a_single_spike_wick_is_dropped_even_early():
    out = run([bar(0, 100.0), bar(1, 100.0, wick=4.0)])  # high 5x the close on the second bar
    assert isinstance(out[1], FeedIssue) and out[1].kind == "implausible"


def test_a_move_that_persists_is_a_new_level():
    out = run([*calm(), *(bar(200 + i, 6_000.0) for i in range(4))])
    kinds = [e.kind for e in out if isinstance(e, FeedIssue)]
    assert kinds == ["implausible", "implausible", "level_shift"]
    shift = next(e for e in out if isinstance(e, FeedIssue) and e.kind == "level_shift")
    assert shift.reset and isinstance(out[-1], CandleClosed) and out[-1].close == 6_000.0


@pytest.mark.parametrize(
    "field,value",
    [
        ("close", 1e300),
        ("high", 1.7e308),
        ("low", 0.0),
        ("open", float("nan")),
        ("close", float("inf")),
        ("volume", -1.0),
    ],
)
def test_out_of_range_values_are_dropped(field, value):
    good = bar(0, 100.0)
    values = {f: getattr(good, f) for f in ("open", "high", "low", "close", "volume")}
    values[field] = value
    bad = CandleClosed(good.ts, good.venue, good.symbol, good.open_time, **values)
    [issue] = run([bad])
    assert isinstance(issue, FeedIssue) and issue.kind == "bad_value" and "out of range" in issue.detail


def test_out_of_range_times_and_other_events():
    far = CandleClosed(253_402_300_800_000, "binance_um", "BTCUSDT", 253_402_299_900_000, 1, 1, 1, 1, 1)
    events = [
        far,
        BookUpdate(T0, "okx_perp", "BTC-USDT-SWAP", float("nan"), 1.0, 60_000.0, 1.0),
        FundingSettled(T0, "okx_perp", "BTC-USDT-SWAP", float("inf")),
        MarkUpdate(T0, "okx_perp", "BTC-USDT-SWAP", mark=1e300),
        BookUpdate(T0, "okx_perp", "BTC-USDT-SWAP", 59_999.0, 1.0, 60_000.0, 1.0),
    ]
    out = run(events)
    assert [type(e).__name__ for e in out] == ["FeedIssue"] * 4 + ["BookUpdate"]
    assert out[0].ts == 0 and all(e.kind == "bad_value" for e in out[:4])


def _every_bar_passes(market_dir) -> None:
    p = Plausibility()
    for s in discover(market_dir):
        if s.kind != "15m":
            continue
        for ev in read_candles(s.path, s.venue, s.symbol):
            if isinstance(ev, CandleClosed):
                got = p.candle(ev)
                assert got is None, f"{s.path.name}: {got}"


@pytest.mark.parametrize("window", ["2024H1", "2025H1"])
def test_no_bar_of_the_recorded_markets_is_called_implausible(window):
    market = PROJECT_ROOT.parent / "shared" / "data" / "market" / window
    if not market.is_dir():
        pytest.skip(f"{market} absent (../shared is read by tests only)")
    _every_bar_passes(market)


def test_no_bar_of_a_year_of_the_generated_market_is_called_implausible(tmp_path):
    from execution.feeds.synthetic import write_market

    write_market(tmp_path / "gen", days=365, seed=7)
    _every_bar_passes(tmp_path / "gen")
