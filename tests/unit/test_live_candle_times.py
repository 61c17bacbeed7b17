"""A candle whose time cannot be real (a year-9999 bar, a bar off the 15-minute grid) is a counted
`bad_value` and never becomes the symbol's last candle: one such frame used to make every real bar
after it look old, so the symbol went stale for good."""

from __future__ import annotations

from types import SimpleNamespace

from execution.feeds.events import CandleClosed, FeedIssue
from execution.feeds.live import BAR_MS, CLOCK_SLACK_MS, LiveConfig, LiveFeed, candle_time_problem

NOW = 1_767_225_600_000 + 10 * BAR_MS + 5_000  # 5 s after a bar closed


def candle(open_time: int) -> CandleClosed:
    return CandleClosed(open_time + BAR_MS, "binance_um", "BTCUSDT", open_time, 1.0, 2.0, 0.5, 1.5, 3.0)


def test_candle_time_problem_refuses_the_future_and_the_off_grid():
    last_closed = NOW - NOW % BAR_MS - BAR_MS
    assert candle_time_problem(last_closed, NOW) is None
    assert candle_time_problem(last_closed + BAR_MS, NOW) is None  # the bar open now (clocks differ a little)
    assert "after now" in (candle_time_problem(253_402_300_800_000 - BAR_MS * 2, NOW) or "")
    assert "after now" in (candle_time_problem(NOW - NOW % BAR_MS + 2 * BAR_MS, NOW) or "")
    assert "grid" in (candle_time_problem(last_closed + 1, NOW) or "")
    assert CLOCK_SLACK_MS < BAR_MS


def test_a_candle_from_year_9999_does_not_hide_the_real_ones():
    feed = LiveFeed(LiveConfig({"binance_um": ["BTCUSDT"]}), wall_ms=lambda: NOW)
    last_closed = NOW - NOW % BAR_MS - BAR_MS
    batches = iter(
        [[candle(253_402_299_900_000 // BAR_MS * BAR_MS)], [candle(last_closed - BAR_MS)], [candle(last_closed)]]
    )
    conn = SimpleNamespace(venue="binance_um", name="binance-public", parse=lambda message, now: next(batches))
    for _ in range(3):
        feed._on_message(conn, "{}")  # type: ignore[arg-type]  # the parsed frame is the batch above
    out = []
    while not feed.q.empty():
        out.append(feed.q.get_nowait())
    assert [e.open_time for e in out if isinstance(e, CandleClosed)] == [last_closed - BAR_MS, last_closed]
    assert [e.kind for e in out if isinstance(e, FeedIssue)] == ["bad_value"]
    assert feed.issue_counts["bad_value"] == 1
