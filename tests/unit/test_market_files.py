"""Bad market data becomes [feed] issues, never an exception; good rows still flow."""

import gzip
import os
from pathlib import Path

from execution.feeds.events import CandleClosed, FeedIssue, FundingSettled
from execution.feeds.market_files import discover, read_candles, read_funding
from execution.feeds.replay import ReplayFeed

T0 = 1_735_689_600_000
BAR = 900_000
HEADER = "open_time_ms,open,high,low,close,volume\n"


def write(path: Path, text: str, gz=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def row(i, o=100.0, h=101.0, lo=99.0, c=100.5, v=10.0, t=None):
    return f"{T0 + i * BAR if t is None else t},{o},{h},{lo},{c},{v}\n"


def kinds(events):
    return [e.kind if isinstance(e, FeedIssue) else type(e).__name__ for e in events]


def test_clean_file_gives_candles_closing_one_bar_after_open(tmp_path):
    p = write(tmp_path / "m/binance_um/BTCUSDT_15m.csv.gz", HEADER + "".join(row(i) for i in range(3)))
    evs = list(read_candles(p, "binance_um", "BTCUSDT"))
    assert all(isinstance(e, CandleClosed) for e in evs)
    assert [e.ts for e in evs] == [T0 + BAR, T0 + 2 * BAR, T0 + 3 * BAR]
    assert evs[0].open_time == T0 and evs[0].close == 100.5


def test_every_kind_of_bad_row_is_reported_and_skipped(tmp_path):
    text = (
        HEADER
        + row(0)
        + row(0)
        + row(1, c="nan")
        + row(2, o=0)
        + row(3, lo=-1)
        + row(4, h=99.5)
        + "garbage,line\n"
        + row(5, c="abc")
        + row(6)
        + row(3)
        + row(12)
        + row(13)
    )
    p = write(tmp_path / "BTCUSDT_15m.csv.gz", text)
    evs = list(read_candles(p, "binance_um", "BTCUSDT", max_gap_bars=4))
    assert kinds(evs) == [
        "CandleClosed",
        "duplicate",
        "bad_value",
        "bad_value",
        "bad_value",
        "bad_value",
        "parse_error",
        "parse_error",
        "gap",
        "CandleClosed",
        "non_monotonic",
        "gap",
        "CandleClosed",
        "CandleClosed",
    ]
    short_gap, long_gap = [e for e in evs if isinstance(e, FeedIssue) and e.kind == "gap"]
    assert not short_gap.reset and "1 bar(s) missing" in short_gap.detail  # the unparsable row 5
    assert long_gap.reset and "5 bar(s) missing" in long_gap.detail
    candles = [e for e in evs if isinstance(e, CandleClosed)]
    assert [c.open_time for c in candles] == [T0, T0 + 6 * BAR, T0 + 12 * BAR, T0 + 13 * BAR]


def test_short_gap_does_not_reset(tmp_path):
    p = write(tmp_path / "X_15m.csv", HEADER + row(0) + row(2), gz=False)
    gap = [e for e in read_candles(p, "binance_um", "X") if isinstance(e, FeedIssue)][0]
    assert gap.kind == "gap" and not gap.reset


def test_times_in_seconds_are_converted_and_reported_once(tmp_path):
    text = (
        "funding_time_ms,funding_rate\n1704067200,0.0001\n1704096000,0.0002\n1704096000,0.0003\n"
        "1704124800,nan\n1704153600,0.9\n1704182400,-0.0001\n"
    )
    p = write(tmp_path / "BTC-USDT-SWAP_funding.csv.gz", text)
    evs = list(read_funding(p, "okx_perp", "BTC-USDT-SWAP"))
    assert kinds(evs) == [
        "unit",
        "FundingSettled",
        "FundingSettled",
        "duplicate",
        "bad_value",
        "bad_value",
        "FundingSettled",
    ]
    assert [e.ts for e in evs if isinstance(e, FundingSettled)] == [1704067200000, 1704096000000, 1704182400000]


def test_unreadable_or_headerless_files_are_one_issue(tmp_path):
    p = tmp_path / "BTCUSDT_15m.csv.gz"
    p.write_bytes(b"not gzip at all")
    assert kinds(read_candles(p, "binance_um", "BTCUSDT")) == ["parse_error"]
    q = write(tmp_path / "ETHUSDT_15m.csv.gz", "time,price\n1,2\n")
    assert kinds(read_candles(q, "binance_um", "ETHUSDT")) == ["parse_error"]


def test_replay_merges_series_in_time_order_candles_before_funding(tmp_path):
    m = tmp_path / "market"
    write(m / "binance_um/BTCUSDT_15m.csv.gz", HEADER + "".join(row(i) for i in range(40)))
    write(m / "okx_perp/BTC-USDT-SWAP_15m.csv.gz", HEADER + "".join(row(i) for i in range(40)))
    write(m / "binance_um/BTCUSDT_funding.csv.gz", f"funding_time_ms,funding_rate\n{T0 + 32 * BAR},0.0001\n")
    (m / "binance_um" / "notes.txt").write_text("ignored")
    assert {(s.venue, s.symbol, s.kind) for s in discover(m)} == {
        ("binance_um", "BTCUSDT", "15m"),
        ("okx_perp", "BTC-USDT-SWAP", "15m"),
        ("binance_um", "BTCUSDT", "funding"),
    }
    evs = list(ReplayFeed(m).events())
    assert [e.ts for e in evs] == sorted(e.ts for e in evs)
    at_funding = [e for e in evs if e.ts == T0 + 32 * BAR]
    assert isinstance(at_funding[-1], FundingSettled) and len(at_funding) == 3


def test_a_fifo_device_or_bomb_in_place_of_a_market_file_is_one_issue_and_never_blocks(tmp_path):
    fifo = tmp_path / "BTCUSDT_15m.csv"
    os.mkfifo(fifo)  # opened for reading, it would wait for a writer forever
    assert kinds(read_candles(fifo, "binance_um", "BTCUSDT")) == ["parse_error"]
    assert kinds(read_funding(fifo, "binance_um", "BTCUSDT")) == ["parse_error"]
    bomb = tmp_path / "ETHUSDT_15m.csv.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as gz:
        gz.write(b"open_time_ms,open,high,low,close,volume\n")
        for _ in range(300):
            gz.write(b"0" * (1 << 20))
    issues = list(read_candles(bomb, "binance_um", "ETHUSDT"))  # 300 MB inflated: streamed, not held
    assert [i.kind for i in issues] == ["parse_error"] and "mid-file" in issues[0].detail


def test_a_byte_order_mark_before_the_header_is_not_part_of_the_first_column(tmp_path):
    rows = "open_time_ms,open,high,low,close,volume\n1767225600000,1,2,0.5,1.5,3\n1767226500000,1.5,2,1,1.8,4\n"
    for name, data in (
        ("BTCUSDT_15m.csv", rows.encode("utf-8-sig")),
        ("ETHUSDT_15m.csv.gz", gzip.compress(rows.encode("utf-8-sig"))),
    ):
        p = tmp_path / name
        p.write_bytes(data)
        candles = list(read_candles(p, "binance_um", "BTCUSDT"))
        assert [type(c).__name__ for c in candles] == ["CandleClosed", "CandleClosed"], candles
