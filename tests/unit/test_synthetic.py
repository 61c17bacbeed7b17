"""The generated market: deterministic, in the recorded format, with the features it promises."""

import statistics

from execution.feeds.events import CandleClosed
from execution.feeds.replay import ReplayFeed
from execution.feeds.synthetic import GeneratedFeed, SyntheticMarket, write_market


def test_same_seed_same_market_other_seed_other_market():
    a = [e for _ in range(50) for e in SyntheticMarket(seed=1).next_bar()][:20]
    b = [e for _ in range(50) for e in SyntheticMarket(seed=1).next_bar()][:20]
    c = [e for _ in range(50) for e in SyntheticMarket(seed=2).next_bar()][:20]
    assert a == b and a != c


def test_files_replay_to_the_same_events_as_the_stream(tmp_path):
    write_market(tmp_path, days=3, seed=5)
    from_files = [e for e in ReplayFeed(tmp_path).events()]
    streamed = list(GeneratedFeed(seed=5, bars=3 * 96).events())
    key = lambda e: (e.ts, e.rank, e.venue, e.symbol)  # noqa: E731
    assert sorted(from_files, key=key) == sorted(streamed, key=key)
    assert (tmp_path / "SYNTHETIC.md").read_text().startswith("Generated market (synthetic")


def test_candles_are_well_formed_funding_every_8h_basis_mean_reverts():
    feed = GeneratedFeed(seed=7, bars=30 * 96)
    candles, funding = [], []
    for e in feed.events():
        (candles if isinstance(e, CandleClosed) else funding).append(e)
    assert all(0 < c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high for c in candles)
    assert {f.ts % (8 * 3600_000) for f in funding} == {0}
    assert {(f.venue, f.symbol) for f in funding} >= {("binance_um", "BTCUSDT"), ("okx_perp", "BTC-USDT-SWAP")}
    bn = {c.ts: c.close for c in candles if c.symbol == "BTCUSDT"}
    ok = {c.ts: c.close for c in candles if c.symbol == "BTC-USDT-SWAP"}
    basis = [ok[t] / bn[t] - 1 for t in sorted(bn)]
    assert abs(statistics.fmean(basis)) < 0.001 and statistics.pstdev(basis) < 0.002  # bps-level, bounded
    lag1 = statistics.correlation(basis[:-1], basis[1:])
    assert 0.5 < lag1 < 0.999  # persistent but mean-reverting
    rets = [
        abs(b.close / a.close - 1)
        for a, b in zip(
            [c for c in candles if c.symbol == "ETHUSDT"][:-1],
            [c for c in candles if c.symbol == "ETHUSDT"][1:],
            strict=False,
        )
    ]
    assert statistics.correlation(rets[:-1], rets[1:]) > 0.05  # volatility clusters


def test_the_peg_reference_is_near_one_has_rare_depegs_and_leaves_the_other_series_alone():
    import random

    plain, other = SyntheticMarket(seed=7), SyntheticMarket(seed=7)
    other.peg.rng = random.Random(99)  # another stream for the reference only
    peg, rest_a, rest_b = [], [], []
    for _ in range(200 * 96):
        a, b = plain.next_bar(), other.next_bar()
        peg += [e for e in a if e.symbol == "USDCUSDT"]
        rest_a += [e for e in a if e.symbol != "USDCUSDT"]
        rest_b += [e for e in b if e.symbol != "USDCUSDT"]
    assert rest_a == rest_b  # the other symbols' series do not depend on the reference
    assert ("binance_um", "USDCUSDT") in plain.symbols() and all(e.venue == "binance_um" for e in peg)
    devs = [abs(e.close - 1) * 10_000 for e in peg]
    assert statistics.median(devs) < 2  # bps: pegged almost all the time
    outside = sum(d >= 50 for d in devs)
    assert 0 < outside < len(devs) / 100  # a few depeg episodes in 200 days, none lasting
    assert all(e.low <= min(e.open, e.close) <= max(e.open, e.close) <= e.high for e in peg)
