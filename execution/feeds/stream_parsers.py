"""Pure parsers from the venues' public websocket payloads to feed events.

Binance USD-M combined streams (`/stream?streams=...`, each message `{"stream": ..., "data": ...}`):
    <symbol>@bookTicker        {"e":"bookTicker","u","s","b","B","a","A","T","E"}
    <symbol>@markPrice@1s      {"e":"markPriceUpdate","E","s","p","i","P","r","T"}    r: funding rate, T: next funding
    <symbol>@kline_15m         {"e":"kline","E","s","k":{"t","T","s","i","o","c","h","l","v","x",...}}   x: closed
OKX v5 (`{"arg": {"channel", "instId"}, "data": [...]}`), sizes in CONTRACTS on swaps:
    tickers       {"instId","bidPx","bidSz","askPx","askSz","last","ts"}
    books5, bbo-tbt, books, books-l2-tbt, books50-l2-tbt
                  {"asks":[[px,sz,"0",n],...],"bids":[...],"ts",...}            instId in `arg`
    mark-price    {"instId","markPx","ts"}
    funding-rate  {"instId","fundingRate","fundingTime","nextFundingTime",...}     fundingTime: next settlement
    candle15m     ["ts","o","h","l","c","vol","volCcy","volCcyQuote","confirm"]    confirm "1": closed
Book sizes leave here in base units: OKX contracts are multiplied by the instrument's ctVal
(`ct_vals`, instId -> ctVal); an instrument without one is a parse error, never contracts passed on
as base units. A kline/candle of an interval that was not subscribed becomes a
`FeedIssue(kind="ignored")` (counted by the feed), never a 15-minute candle. A malformed message,
including valid JSON that is not an object, raises ValueError naming what is wrong (and showing at
most a short sketch of the value); the stream turns it into a counted [feed] line and keeps the
connection. Every number that leaves here is finite, every time an epoch-ms of years 1970..9999,
every symbol a text of at most 64 characters; whether a price is plausible is the screen's
(`execution/feeds/plausibility.py`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from execution.exchanges.wire import MAX_MS, sketch
from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, MarkUpdate

BAR_MS = 900_000
SUBSCRIBED_INTERVAL = "15m"
OKX_CANDLE_CHANNEL = "candle" + SUBSCRIBED_INTERVAL
OKX_BOOK_CHANNELS = ("books5", "bbo-tbt", "books", "books-l2-tbt", "books50-l2-tbt")
MAX_SYMBOL = 64


def _f(d: dict, key: str) -> float:
    """A finite float from a number or its text (a boolean, "NaN", "Infinity", "1e400", a
    5,000-digit integer are refused)."""
    raw = d.get(key)
    try:
        if isinstance(raw, bool):
            raise TypeError
        value = float(raw)  # type: ignore[arg-type]  # a TypeError for anything float() does not take
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"field {key!r} missing or not a number (got {sketch(raw)})") from None
    if not math.isfinite(value):
        raise ValueError(f"field {key!r} is not a finite number (got {sketch(raw)})")
    return value


def _i(d: dict, key: str) -> int:
    """An epoch-ms time of years 1970..9999."""
    value = _f(d, key)
    if not 0 <= value <= MAX_MS:
        raise ValueError(f"field {key!r} is not an epoch-ms time within years 1970..9999 (got {sketch(d.get(key))})")
    return int(value)


def _symbol(d: dict, key: str) -> str:
    raw = d.get(key)
    if not isinstance(raw, str) or not 0 < len(raw) <= MAX_SYMBOL:
        raise ValueError(f"field {key!r} missing or not a symbol (got {sketch(raw)})")
    return raw


def binance_streams(symbols: list[str]) -> list[str]:
    out = []
    for s in symbols:
        low = s.lower()
        out += [f"{low}@bookTicker", f"{low}@markPrice@1s", f"{low}@kline_15m"]
    return out


def _object(message: object, venue: str) -> dict:
    if not isinstance(message, dict):
        raise ValueError(f"{venue} frame is not a JSON object: {sketch(message)}")
    return message


def parse_binance(message: object, recv_ms: int) -> list[Event]:
    data = _object(message, "binance").get("data", message)
    if not isinstance(data, dict):
        raise ValueError("binance message without a data object")
    kind = data.get("e")
    if kind == "bookTicker":
        ts = _i(data, "E") if "E" in data else _i(data, "T")
        return [
            BookUpdate(
                ts,
                "binance_um",
                _symbol(data, "s"),
                _f(data, "b"),
                _f(data, "B"),
                _f(data, "a"),
                _f(data, "A"),
                recv_ms,
            )
        ]
    if kind == "markPriceUpdate":
        return [
            MarkUpdate(
                _i(data, "E"),
                "binance_um",
                _symbol(data, "s"),
                mark=_f(data, "p"),
                funding_rate=_f(data, "r"),
                next_funding_ms=_i(data, "T") or None,
                recv_ts=recv_ms,
            )
        ]
    if kind == "kline":
        k = data.get("k")
        if not isinstance(k, dict):
            raise ValueError("kline message without k")
        interval = k.get("i", SUBSCRIBED_INTERVAL)
        if interval != SUBSCRIBED_INTERVAL:  # a frame of a stream we did not ask for: never a 15m candle
            return [
                FeedIssue(
                    _i(data, "E") if "E" in data else recv_ms,
                    "binance_um",
                    _symbol(data, "s"),
                    "ignored",
                    f"kline interval {sketch(interval)} not subscribed (only {SUBSCRIBED_INTERVAL})",
                )
            ]
        closed = k.get("x")
        if closed is None or closed is False:
            return []  # not closed yet
        if closed is not True:
            raise ValueError(f"field 'x' is not a boolean (got {sketch(closed)})")
        open_time = _i(k, "t")
        return [
            CandleClosed(
                open_time + BAR_MS,
                "binance_um",
                _symbol(data, "s"),
                open_time,
                _f(k, "o"),
                _f(k, "h"),
                _f(k, "l"),
                _f(k, "c"),
                _f(k, "v"),
            )
        ]
    return []  # subscription acks, other events


def okx_public_args(symbols: list[str]) -> list[dict]:
    return [{"channel": ch, "instId": s} for s in symbols for ch in ("tickers", "mark-price", "funding-rate")]


def okx_business_args(symbols: list[str]) -> list[dict]:
    return [{"channel": "candle15m", "instId": s} for s in symbols]


def _contracts(ct_vals: Mapping[str, float] | None, inst: str) -> float:
    ct_val = (ct_vals or {}).get(inst)
    if not ct_val or ct_val <= 0:
        raise ValueError(f"no ctVal for {inst}: its sizes are contracts and cannot be read as base units")
    return float(ct_val)


def _level(levels: object, name: str, inst: str) -> list:
    """The best [price, size, ...] level of a book side."""
    if not isinstance(levels, list) or not levels or not isinstance(levels[0], list) or len(levels[0]) < 2:
        raise ValueError(f"okx book row for {inst}: {name} has no [price, size] level (got {sketch(levels)})")
    return levels[0]


def _okx_book_top(row: dict, inst: str, ct_val: float, recv_ms: int) -> BookUpdate:
    (bid, bid_sz), (ask, ask_sz) = _level(row.get("bids"), "bids", inst)[:2], _level(row.get("asks"), "asks", inst)[:2]
    top = {"b": bid, "B": bid_sz, "a": ask, "A": ask_sz}
    return BookUpdate(
        _i(row, "ts"),
        "okx_perp",
        inst,
        _f(top, "b"),
        _f(top, "B") * ct_val,
        _f(top, "a"),
        _f(top, "A") * ct_val,
        recv_ms,
    )


def parse_okx(message: object, recv_ms: int, ct_vals: Mapping[str, float] | None = None) -> list[Event]:
    """`ct_vals`: instId -> ctVal of every swap whose book sizes may arrive (contracts -> base units)."""
    message = _object(message, "okx")
    if "event" in message:  # subscribe / error / login acks
        if message["event"] == "error":
            raise ValueError(f"okx error code={sketch(message.get('code'))} msg={sketch(message.get('msg'))}")
        return []
    arg, rows = message.get("arg") or {}, message.get("data")
    if not isinstance(rows, list) or not isinstance(arg, dict):
        raise ValueError("okx message without an arg object and a data list")
    channel, inst = arg.get("channel", ""), arg.get("instId")
    if not isinstance(channel, str) or len(channel) > MAX_SYMBOL:
        raise ValueError(f"okx message: arg.channel is not a channel name (got {sketch(channel)})")
    if inst is not None:
        inst = _symbol(arg, "instId")
    if channel.startswith("candle") and channel != OKX_CANDLE_CHANNEL:  # a stream we did not ask for
        return [FeedIssue(recv_ms, "okx_perp", inst or "", "ignored", f"channel {channel!r} not subscribed")]
    out: list[Event] = []
    for row in rows:
        if channel == OKX_CANDLE_CHANNEL:
            candle = _okx_candle(row, inst)
            if candle is not None:
                out.append(candle)
            continue
        if not isinstance(row, dict):
            raise ValueError(f"okx {channel} row is not an object: {sketch(row)}")
        event = _okx_row(channel, row, inst, recv_ms, ct_vals)
        if event is not None:
            out.append(event)
    return out


def _okx_row(channel: str, row: dict, inst: object, recv_ms: int, ct_vals: Mapping[str, float] | None) -> Event | None:
    if channel == "tickers":
        symbol = _symbol(row, "instId")
        ct_val = _contracts(ct_vals, symbol)
        return BookUpdate(
            _i(row, "ts"),
            "okx_perp",
            symbol,
            _f(row, "bidPx"),
            _f(row, "bidSz") * ct_val,
            _f(row, "askPx"),
            _f(row, "askSz") * ct_val,
            recv_ms,
        )
    if channel in OKX_BOOK_CHANNELS:
        if not isinstance(inst, str):
            raise ValueError(f"okx {channel} message without an instId in arg")
        return _okx_book_top(row, inst, _contracts(ct_vals, inst), recv_ms)
    if channel == "mark-price":
        return MarkUpdate(_i(row, "ts"), "okx_perp", _symbol(row, "instId"), mark=_f(row, "markPx"), recv_ts=recv_ms)
    if channel == "funding-rate":
        return MarkUpdate(
            _i(row, "ts") if row.get("ts") else recv_ms,
            "okx_perp",
            _symbol(row, "instId"),
            funding_rate=_f(row, "fundingRate"),
            next_funding_ms=_i(row, "fundingTime"),
            recv_ts=recv_ms,
        )
    return None


def _okx_candle(row: object, inst: object) -> CandleClosed | None:
    if not isinstance(row, list) or len(row) < 9 or not isinstance(inst, str):
        raise ValueError(f"okx candle row malformed: {sketch(row)} (instId {sketch(inst)})")
    if row[8] != "1":
        return None
    c = {"t": row[0], "o": row[1], "h": row[2], "l": row[3], "c": row[4], "v": row[5]}
    open_time = _i(c, "t")
    return CandleClosed(
        open_time + BAR_MS, "okx_perp", inst, open_time, _f(c, "o"), _f(c, "h"), _f(c, "l"), _f(c, "c"), _f(c, "v")
    )
