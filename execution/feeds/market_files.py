"""The recorded market format (see README: "Market directory format"), read and written.

    <market_dir>/<venue>/<SYMBOL>_15m.csv.gz      open_time_ms,open,high,low,close,volume
    <market_dir>/<venue>/<SYMBOL>_funding.csv.gz  funding_time_ms,funding_rate

Readers validate every row and turn problems into `FeedIssue` events instead of exceptions:
gaps, duplicate or non-monotonic timestamps, NaN/zero/negative prices, high/low that do not
contain open/close, unparsable rows, and times written in seconds instead of milliseconds.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path

import numpy as np

from execution.feeds.events import CandleClosed, FeedIssue, FundingSettled
from execution.feeds.plausibility import MAX_TS_MS, MIN_TS_MS
from execution.settings.paths import file_problem

CANDLE_COLUMNS = ("open_time_ms", "open", "high", "low", "close", "volume")
FUNDING_COLUMNS = ("funding_time_ms", "funding_rate")
_FILE_RE = re.compile(r"^(?P<symbol>.+)_(?P<kind>15m|funding)\.csv(?:\.gz)?$")
SECONDS_CUTOFF = 100_000_000_000  # below this an epoch value is in seconds (year 5138 in ms)
MAX_ABS_FUNDING_RATE = 0.05  # 5% per settlement: beyond any venue's cap, so a unit error
MAX_WHOLE_FILE_BYTES = 64 << 20  # ~1 million bars (ten years of 15m is 350,000); larger: streamed by row
INF = math.inf


@dataclass(frozen=True)
class SeriesFile:
    venue: str
    symbol: str
    kind: str  # "15m" | "funding"
    path: Path


def discover(market_dir: Path) -> list[SeriesFile]:
    """Every series in a market directory, sorted; unknown files are ignored."""
    out = []
    if not market_dir.is_dir():
        raise FileNotFoundError(f"market directory not found: {market_dir}")
    for venue_dir in sorted(p for p in market_dir.iterdir() if p.is_dir()):
        for path in sorted(venue_dir.iterdir()):
            m = _FILE_RE.match(path.name)
            if m:
                out.append(SeriesFile(venue_dir.name, m["symbol"], m["kind"], path))
    return out


def _require_regular_file(path: Path) -> None:
    """A FIFO would block the replay forever and a device would never end: only regular files are read."""
    problem = file_problem(path)
    if problem:
        raise ValueError(problem)


def _open_text(path: Path) -> io.TextIOBase:
    """Bytes that are not UTF-8 become U+FFFD: the row they are in is then unparsable and dropped.
    A leading byte-order mark (a spreadsheet's export) is not part of the first column's name."""
    _require_regular_file(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def _whole(path: Path) -> bytes:
    """The file's bytes, decompressed; ValueError beyond MAX_WHOLE_FILE_BYTES (a gzip bomb, or a
    file too large to hold: the row reader streams it instead)."""
    _require_regular_file(path)
    with path.open("rb") as fh:
        raw = fh.read(MAX_WHOLE_FILE_BYTES + 1)
    if path.suffix == ".gz":
        inflate = zlib.decompressobj(wbits=31)
        raw = inflate.decompress(raw, MAX_WHOLE_FILE_BYTES + 1)
        if not inflate.eof or inflate.unused_data:  # truncated, concatenated members, or too large
            raise ValueError("not one complete gzip member within the size limit")
    if len(raw) > MAX_WHOLE_FILE_BYTES:
        raise ValueError("too large to parse whole")
    return raw.removeprefix(b"\xef\xbb\xbf")


def _to_ms(raw: float) -> int:
    return int(raw * 1000) if raw < SECONDS_CUTOFF else int(raw)


def read_candles(
    path: Path, venue: str, symbol: str, timeframe_ms: int = 900_000, max_gap_bars: int = 4
) -> Iterator[CandleClosed | FeedIssue]:
    """Validated candles in time order; every problem becomes a FeedIssue, never an exception.

    A clean file (the usual case: contiguous, well-formed bars in ms) is parsed whole by numpy,
    whose float parser gives the same doubles as `float()`; any other file is read row by row so
    that each problem is reported where it is."""
    clean = _clean_candles(path, venue, symbol, timeframe_ms)
    if clean is not None:
        yield from clean
        return
    yield from _read_candles_rows(path, venue, symbol, timeframe_ms, max_gap_bars)


def _clean_candles(path: Path, venue: str, symbol: str, timeframe_ms: int) -> Iterator[CandleClosed] | None:
    """Every row as a candle when the whole file passes the row reader's common-case test (the
    next contiguous bar, 0 < low <= open, close <= high, finite, volume >= 0, times in ms on the
    timeframe); None when any row does not, or the file cannot be parsed whole."""
    try:
        header, _, body = _whole(path).partition(b"\n")
        cols = [h.strip() for h in header.decode("utf-8").split(",")]
        idx = [cols.index(c) for c in CANDLE_COLUMNS]
        a = np.loadtxt(io.BytesIO(body), delimiter=",", dtype=np.float64, ndmin=2, comments=None, encoding="utf-8")
    except (OSError, EOFError, ValueError, UnicodeDecodeError, zlib.error):
        return None
    if not len(a) or a.shape[1] != len(cols):
        return None
    t, o, h, lo, c, v = (a[:, i] for i in idx)
    with np.errstate(invalid="ignore"):
        ok = (
            (t >= SECONDS_CUTOFF)
            & (t < 2.0**53)
            & (np.floor(t) == t)
            & (lo > 0)
            & (lo <= o)
            & (o <= h)
            & (lo <= c)
            & (c <= h)
            & (h < INF)
            & (v >= 0)
            & (v < INF)
        )
    if not ok.all():
        return None
    opens = t.astype(np.int64)
    if opens[0] % timeframe_ms or (len(opens) > 1 and (np.diff(opens) != timeframe_ms).any()):
        return None
    rows = zip(
        (opens + timeframe_ms).tolist(),
        repeat(venue),
        repeat(symbol),
        opens.tolist(),
        o.tolist(),
        h.tolist(),
        lo.tolist(),
        c.tolist(),
        v.tolist(),
        strict=False,  # the repeat()s are endless; the columns, all of one length, end it
    )
    # tuple.__new__ builds the NamedTuple from each row without its Python-level __new__ (~0.15 us a candle)
    return map(tuple.__new__, repeat(CandleClosed), rows)


def _read_candles_rows(  # noqa: C901 - validation of every row, inlined on purpose
    path: Path, venue: str, symbol: str, timeframe_ms: int, max_gap_bars: int
) -> Iterator[CandleClosed | FeedIssue]:
    try:
        fh = _open_text(path)
        reader = csv.reader(fh)
        header = next(reader, None)
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error, ValueError, zlib.error) as exc:
        yield FeedIssue(0, venue, symbol, "parse_error", f"{path.name}: cannot read: {exc}")
        return
    if header is None:
        yield FeedIssue(0, venue, symbol, "parse_error", f"{path.name}: empty file")
        return
    cols = [h.strip() for h in header]
    missing = [c for c in CANDLE_COLUMNS if c not in cols]
    if missing:
        yield FeedIssue(0, venue, symbol, "parse_error", f"{path.name}: header lacks {missing} (has {cols})")
        return
    i_t, i_o, i_h, i_l, i_c, i_v = (cols.index(c) for c in CANDLE_COLUMNS)
    width = max(i_t, i_o, i_h, i_l, i_c, i_v) + 1
    prev_open: int | None = None
    warned_seconds = False
    isfinite = math.isfinite
    with fh:
        try:
            for lineno, row in enumerate(reader, start=2):
                pos_ts = (prev_open + timeframe_ms) if prev_open is not None else -1
                if len(row) < width:
                    if row:
                        yield FeedIssue(
                            max(pos_ts, 0), venue, symbol, "parse_error", f"line {lineno}: {len(row)} columns"
                        )
                    continue
                try:
                    raw_t = float(row[i_t])
                    o, h, lo, c, v = float(row[i_o]), float(row[i_h]), float(row[i_l]), float(row[i_c]), float(row[i_v])
                except ValueError:
                    yield FeedIssue(max(pos_ts, 0), venue, symbol, "parse_error", f"line {lineno}: not a number: {row}")
                    continue
                if not isfinite(raw_t) or raw_t <= 0:
                    yield FeedIssue(
                        max(pos_ts, 0), venue, symbol, "parse_error", f"line {lineno}: bad time {row[i_t]!r}"
                    )
                    continue
                t = _to_ms(raw_t)
                if not MIN_TS_MS <= t < MAX_TS_MS:  # year 10000 or 1e300: never a market's time
                    yield FeedIssue(
                        max(pos_ts, 0), venue, symbol, "bad_value", f"line {lineno}: time {row[i_t]!r} out of range"
                    )
                    continue
                if t == pos_ts and 0.0 < lo <= o <= h and lo <= c <= h < INF and 0.0 <= v < INF:
                    prev_open = t  # the common case: the next contiguous, well-formed bar
                    yield CandleClosed(t + timeframe_ms, venue, symbol, t, o, h, lo, c, v)
                    continue
                if t != raw_t and not warned_seconds:
                    warned_seconds = True
                    yield FeedIssue(
                        t + timeframe_ms,
                        venue,
                        symbol,
                        "unit",
                        f"{path.name}: open times are in seconds; converted to ms",
                    )
                if prev_open is not None:
                    if t == prev_open:
                        yield FeedIssue(pos_ts, venue, symbol, "duplicate", f"line {lineno}: open_time {t} repeated")
                        continue
                    if t < prev_open:
                        yield FeedIssue(
                            pos_ts,
                            venue,
                            symbol,
                            "non_monotonic",
                            f"line {lineno}: open_time {t} before {prev_open}; row dropped",
                        )
                        continue
                if t % timeframe_ms:
                    yield FeedIssue(
                        t + timeframe_ms,
                        venue,
                        symbol,
                        "bad_value",
                        f"line {lineno}: open_time {t} not on a {timeframe_ms // 60000}m boundary",
                    )
                    continue
                if not (isfinite(o) and isfinite(h) and isfinite(lo) and isfinite(c)) or min(o, h, lo, c) <= 0:
                    yield FeedIssue(
                        t + timeframe_ms,
                        venue,
                        symbol,
                        "bad_value",
                        f"line {lineno}: price not a positive number o={row[i_o]} h={row[i_h]} "
                        f"l={row[i_l]} c={row[i_c]}",
                    )
                    prev_open = t
                    continue
                if h < max(o, c, lo) or lo > min(o, c):
                    yield FeedIssue(
                        t + timeframe_ms,
                        venue,
                        symbol,
                        "bad_value",
                        f"line {lineno}: high/low do not contain open/close o={o} h={h} l={lo} c={c}",
                    )
                    prev_open = t
                    continue
                if not isfinite(v) or v < 0:
                    yield FeedIssue(t + timeframe_ms, venue, symbol, "bad_value", f"line {lineno}: volume {row[i_v]}")
                    prev_open = t
                    continue
                if prev_open is not None and t > prev_open + timeframe_ms:
                    missing_bars = (t - prev_open) // timeframe_ms - 1
                    yield FeedIssue(
                        t + timeframe_ms,
                        venue,
                        symbol,
                        "gap",
                        f"{missing_bars} bar(s) missing before open_time {t}",
                        reset=missing_bars > max_gap_bars,
                    )
                prev_open = t
                yield CandleClosed(t + timeframe_ms, venue, symbol, t, o, h, lo, c, v)
        except (OSError, EOFError, gzip.BadGzipFile, csv.Error, ValueError, zlib.error) as exc:
            yield FeedIssue(
                (prev_open or 0) + timeframe_ms,
                venue,
                symbol,
                "parse_error",
                f"{path.name}: read failed mid-file: {exc}",
            )


def read_funding(path: Path, venue: str, symbol: str) -> Iterator[FundingSettled | FeedIssue]:
    try:
        fh = _open_text(path)
        reader = csv.reader(fh)
        header = next(reader, None)
    except (OSError, EOFError, gzip.BadGzipFile, csv.Error, ValueError, zlib.error) as exc:
        yield FeedIssue(0, venue, symbol, "parse_error", f"{path.name}: cannot read: {exc}")
        return
    cols = [h.strip() for h in (header or [])]
    if any(c not in cols for c in FUNDING_COLUMNS):
        yield FeedIssue(0, venue, symbol, "parse_error", f"{path.name}: header lacks {list(FUNDING_COLUMNS)}")
        return
    i_t, i_r = cols.index(FUNDING_COLUMNS[0]), cols.index(FUNDING_COLUMNS[1])
    prev: int | None = None
    warned_seconds = False
    with fh:
        try:
            for lineno, row in enumerate(reader, start=2):
                if len(row) <= max(i_t, i_r):
                    continue
                try:
                    raw_t, rate = float(row[i_t]), float(row[i_r])
                except ValueError:
                    yield FeedIssue(prev or 0, venue, symbol, "parse_error", f"{path.name} line {lineno}: {row}")
                    continue
                if not math.isfinite(raw_t) or raw_t <= 0:
                    yield FeedIssue(prev or 0, venue, symbol, "parse_error", f"{path.name} line {lineno}: bad time")
                    continue
                t = _to_ms(raw_t)
                if not MIN_TS_MS <= t < MAX_TS_MS:
                    yield FeedIssue(
                        prev or 0, venue, symbol, "bad_value", f"{path.name} line {lineno}: time out of range"
                    )
                    continue
                if t != raw_t and not warned_seconds:
                    warned_seconds = True
                    yield FeedIssue(
                        t, venue, symbol, "unit", f"{path.name}: funding times are in seconds; converted to ms"
                    )
                if prev is not None and t <= prev:
                    kind = "duplicate" if t == prev else "non_monotonic"
                    yield FeedIssue(prev, venue, symbol, kind, f"{path.name} line {lineno}: funding time {t}")
                    continue
                if not math.isfinite(rate) or abs(rate) > MAX_ABS_FUNDING_RATE:
                    yield FeedIssue(
                        t, venue, symbol, "bad_value", f"{path.name} line {lineno}: funding rate {row[i_r]}"
                    )
                    prev = t
                    continue
                prev = t
                yield FundingSettled(t, venue, symbol, rate)
        except (OSError, EOFError, gzip.BadGzipFile, csv.Error, ValueError, zlib.error) as exc:
            yield FeedIssue(prev or 0, venue, symbol, "parse_error", f"{path.name}: read failed mid-file: {exc}")


# -- writing (generated market, downloads) ------------------------------------------------------
def _atomic_write_gz(path: Path, header: Iterable[str], rows: Iterable[Iterable]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = 0
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            text = io.TextIOWrapper(gz, encoding="utf-8", newline="")
            w = csv.writer(text, lineterminator="\n")
            w.writerow(header)
            for row in rows:
                w.writerow(row)
                count += 1
            text.flush()
            text.detach()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(tmp, path)
    return count


def write_candles(market_dir: Path, venue: str, symbol: str, rows: Iterable[tuple]) -> Path:
    path = market_dir / venue / f"{symbol}_15m.csv.gz"
    _atomic_write_gz(path, CANDLE_COLUMNS, rows)
    return path


def write_funding(market_dir: Path, venue: str, symbol: str, rows: Iterable[tuple]) -> Path:
    path = market_dir / venue / f"{symbol}_funding.csv.gz"
    _atomic_write_gz(path, FUNDING_COLUMNS, rows)
    return path
