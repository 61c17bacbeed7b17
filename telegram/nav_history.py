"""The NAV history behind the 8-hour update: Δ24h (against the newest point at least a day old,
its percentage from execution.performance like every return the fund shows), the trend arrow
and the worst daily loss. Pure; points that are not (ts, positive NAV) are skipped."""

from __future__ import annotations

from decimal import Decimal

from telegram.numbers import dec

TREND_THRESHOLD_PCT = Decimal("0.25")
DAY_MS = 86_400_000


def _points(history: object) -> list[tuple[int, Decimal]]:
    out = []
    for item in history if isinstance(history, list) else []:
        try:
            ts, nav = int(item[0]), dec(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if nav is not None and nav > 0:
            out.append((ts, nav))
    out.sort(key=lambda p: p[0])
    return out


def delta_24h(nav: Decimal, as_of_ms: int, history: object) -> tuple[Decimal, Decimal, int] | None:
    """(abs, pct, reference ts) against the newest NAV point at least 24h older than `as_of_ms`, or
    (history shorter than a day) the oldest point: the executor's own definition. None without
    history before `as_of_ms`."""
    points = [p for p in _points(history) if p[0] < as_of_ms]
    if not points:
        return None
    ref = points[0]
    for p in points:
        if p[0] <= as_of_ms - DAY_MS:
            ref = p
        else:
            break
    delta = nav - ref[1]
    return delta, _return_pct(points, ref, nav, as_of_ms, delta / ref[1] * 100), ref[0]


def _return_pct(
    points: list[tuple[int, Decimal]], ref: tuple[int, Decimal], nav: Decimal, as_of_ms: int, simple: Decimal
) -> Decimal:
    """The return from `ref` to `nav` as the performance module measures every return the fund shows
    (time-weighted; with no capital flow between them it is the plain NAV change, `simple`). The
    message never depends on it: without the module (numpy/pandas missing) it is `simple`."""
    try:
        from execution import performance as perf

        window = [p for p in points if p[0] >= ref[0]]
        series = perf.NavPoints.of([p[0] for p in window] + [as_of_ms], [float(p[1]) for p in window] + [float(nav)])
        r = perf.period_return(series, perf.growth_index(series), ref[0], as_of_ms)
    except Exception:  # noqa: BLE001 - the 8-hour message goes out whatever this module can load
        return simple
    return simple if r is None else Decimal(repr(r * 100))


def trend_of(delta_pct: Decimal | float | None) -> str:
    """up above +0.25 %, down below -0.25 %, flat otherwise (and without a Δ24h)."""
    if delta_pct is None:
        return "flat"
    pct = Decimal(str(delta_pct))
    if pct > TREND_THRESHOLD_PCT:
        return "up"
    if pct < -TREND_THRESHOLD_PCT:
        return "down"
    return "flat"


def worst_daily_loss_pct(history: object) -> Decimal | None:
    """Worst loss within one UTC day against that day's start (the last point of the day before,
    else the day's first point), as a positive percentage; the daily-loss breaker's measure at the
    history's resolution. None without history."""
    points = _points(history)
    if not points:
        return None
    worst = Decimal(0)
    start, day, prev = points[0][1], points[0][0] // DAY_MS, points[0][1]
    for ts, nav in points:
        if ts // DAY_MS != day:
            day, start = ts // DAY_MS, prev
        worst = max(worst, (start - nav) / start * 100)
        prev = nav
    return worst
