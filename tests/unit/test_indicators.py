"""Incremental indicators against direct definitions computed from scratch."""

import math
import random
import statistics

import pytest

from execution.indicators import RollingZScore, WilderATR, WilderRSI


def _series(n=600, seed=3):
    rng = random.Random(seed)
    price, out = 60_000.0, []
    for _ in range(n):
        o = price
        c = o * math.exp(rng.gauss(0, 0.004))
        h = max(o, c) * (1 + abs(rng.gauss(0, 0.002)))
        lo = min(o, c) * (1 - abs(rng.gauss(0, 0.002)))
        out.append((o, h, lo, c))
        price = c
    return out


def test_zscore_matches_population_definition_on_every_bar():
    closes = [c for *_, c in _series()]
    z = RollingZScore(96)
    for i, x in enumerate(closes):
        got = z.update(x)
        if i < 95:
            assert got is None
            continue
        window = closes[i - 95 : i + 1]
        want = (x - statistics.fmean(window)) / statistics.pstdev(window)
        assert got == pytest.approx(want, rel=1e-7, abs=1e-9)


def test_zscore_of_flat_series_is_zero_not_nan():
    z = RollingZScore(5)
    vals = [z.update(100.0) for _ in range(10)]
    assert vals[-1] == 0.0


def _rsi_reference(closes, p):
    changes = [b - a for a, b in zip(closes, closes[1:], strict=False)]
    gains = [max(c, 0) for c in changes]
    losses = [max(-c, 0) for c in changes]
    ag, al = sum(gains[:p]) / p, sum(losses[:p]) / p
    out = [100 - 100 / (1 + ag / al)]
    for g, lo in zip(gains[p:], losses[p:], strict=False):
        ag, al = (ag * (p - 1) + g) / p, (al * (p - 1) + lo) / p
        out.append(100 - 100 / (1 + ag / al))
    return out


def test_rsi_is_wilder_smoothed():
    closes = [c for *_, c in _series()]
    rsi = WilderRSI(14)
    got = [v for v in (rsi.update(c) for c in closes) if v is not None]
    want = _rsi_reference(closes, 14)
    assert len(got) == len(want) == len(closes) - 14
    assert got == pytest.approx(want, rel=1e-9)


def test_rsi_hand_example_all_up_is_100():
    rsi = WilderRSI(3)
    assert [rsi.update(x) for x in (1, 2, 3, 4)] == [None, None, None, 100.0]


def test_atr_is_wilder_smoothed_true_range():
    bars = _series()
    atr = WilderATR(14)
    trs, prev = [], None
    for _o, h, lo, c in bars:
        trs.append(h - lo if prev is None else max(h - lo, abs(h - prev), abs(lo - prev)))
        prev = c
    want = [sum(trs[:14]) / 14]
    for tr in trs[14:]:
        want.append((want[-1] * 13 + tr) / 14)
    got = [v for v in (atr.update(h, lo, c) for o, h, lo, c in bars) if v is not None]
    assert got == pytest.approx(want, rel=1e-12)


def test_atr_hand_example():
    atr = WilderATR(2)
    assert atr.update(10, 8, 9) is None
    assert atr.update(12, 9, 11) == pytest.approx((2 + 3) / 2)  # TR2 = max(3, |12-9|, |9-9|) = 3
    assert atr.update(11, 10, 10.5) == pytest.approx((2.5 + 1) / 2)  # TR3 = max(1, 0, 1) = 1
