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
including valid JSON that is not an object, raises ValueError naming what is wrong; the stream
turns it into a counted [feed] line and keeps the connection.
"""

from __future__ import annotations

from collections.abc import Mapping

from execution.feeds.events import BookUpdate, CandleClosed, Event, FeedIssue, MarkUpdate

BAR_MS = 900_000
SUBSCRIBED_INTERVAL = "15m"
OKX_CANDLE_CHANNEL = "candle" + SUBSCRIBED_INTERVAL
OKX_BOOK_CHANNELS = ("books5", "bbo-tbt", "books", "books-l2-tbt", "books50-l2-tbt")


def _f(d: dict, key: str) -> float:
    try:
        value = float(d[key])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"field {key!r} missing or not a number in {str(d)[:200]}") from None
    if value != value:
        raise ValueError(f"field {key!r} is NaN")
    return value


def _i(d: dict, key: str) -> int:
    return int(_f(d, key))


def binance_streams(symbols: list[str]) -> list[str]:
    out = []
    for s in symbols:
        low = s.lower()
        out += [f"{low}@bookTicker", f"{low}@markPrice@1s", f"{low}@kline_15m"]
    return out


def _object(message: object, venue: str) -> dict:
    if not isinstance(message, dict):
        raise ValueError(f"{venue} frame is not a JSON object: {type(message).__name__} {str(message)[:80]}")
    return message


def parse_binance(message: object, recv_ms: int) -> list[Event]:
    data = _object(message, "binance").get("data", message)
    if not isinstance(data, dict):
        raise ValueError("binance message without a data object")
    kind = data.get("e")
    if kind == "bookTicker":
        ts = _i(data, "E") if "E" in data else _i(data, "T")
        return [
            BookUpdate(ts, "binance_um", data["s"], _f(data, "b"), _f(data, "B"), _f(data, "a"), _f(data, "A"), recv_ms)
        ]
    if kind == "markPriceUpdate":
        return [
            MarkUpdate(
                _i(data, "E"),
                "binance_um",
                data["s"],
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
                    str(data.get("s", "")),
                    "ignored",
                    f"kline interval {interval!r} not subscribed (only {SUBSCRIBED_INTERVAL})",
                )
            ]
        if not k.get("x"):
            return []  # not closed yet
        open_time = _i(k, "t")
        return [
            CandleClosed(
                open_time + BAR_MS,
                "binance_um",
                data["s"],
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


def _okx_book_top(row: dict, inst: str, ct_val: float, recv_ms: int) -> BookUpdate:
    bids, asks = row.get("bids"), row.get("asks")
    if not isinstance(bids, list) or not isinstance(asks, list) or not bids or not asks:
        raise ValueError(f"okx book row for {inst} without bids and asks: {str(row)[:160]}")
    (bid, bid_sz), (ask, ask_sz) = bids[0][:2], asks[0][:2]
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
            raise ValueError(f"okx error code={message.get('code')} msg={message.get('msg')}")
        return []
    arg, rows = message.get("arg") or {}, message.get("data")
    if not isinstance(rows, list) or not isinstance(arg, dict):
        raise ValueError("okx message without an arg object and a data list")
    channel, inst = str(arg.get("channel", "")), arg.get("instId")
    if channel.startswith("candle") and channel != OKX_CANDLE_CHANNEL:  # a stream we did not ask for
        return [FeedIssue(recv_ms, "okx_perp", str(inst or ""), "ignored", f"channel {channel!r} not subscribed")]
    out: list[Event] = []
    for row in rows:
        if channel == OKX_CANDLE_CHANNEL:
            candle = _okx_candle(row, inst)
            if candle is not None:
                out.append(candle)
            continue
        if not isinstance(row, dict):
            raise ValueError(f"okx {channel} row is not an object: {str(row)[:120]}")
        event = _okx_row(channel, row, inst, recv_ms, ct_vals)
        if event is not None:
            out.append(event)
    return out


def _okx_row(channel: str, row: dict, inst: object, recv_ms: int, ct_vals: Mapping[str, float] | None) -> Event | None:
    if channel == "tickers":
        ct_val = _contracts(ct_vals, row["instId"])
        return BookUpdate(
            _i(row, "ts"),
            "okx_perp",
            row["instId"],
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
        return MarkUpdate(_i(row, "ts"), "okx_perp", row["instId"], mark=_f(row, "markPx"), recv_ts=recv_ms)
    if channel == "funding-rate":
        return MarkUpdate(
            _i(row, "ts") if row.get("ts") else recv_ms,
            "okx_perp",
            row["instId"],
            funding_rate=_f(row, "fundingRate"),
            next_funding_ms=_i(row, "fundingTime"),
            recv_ts=recv_ms,
        )
    return None


def _okx_candle(row: object, inst: object) -> CandleClosed | None:
    if not isinstance(row, list) or len(row) < 9 or not isinstance(inst, str):
        raise ValueError(f"okx candle row malformed: {row!r} (instId {inst!r})")
    if row[8] != "1":
        return None
    c = {"t": row[0], "o": row[1], "h": row[2], "l": row[3], "c": row[4], "v": row[5]}
    open_time = _i(c, "t")
    return CandleClosed(
        open_time + BAR_MS, "okx_perp", inst, open_time, _f(c, "o"), _f(c, "h"), _f(c, "l"), _f(c, "c"), _f(c, "v")
    )
