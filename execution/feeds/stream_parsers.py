"""Pure parsers from the venues' public websocket payloads to feed events.

Binance USD-M combined streams (`/stream?streams=...`, each message `{"stream": ..., "data": ...}`):
    <symbol>@bookTicker        {"e":"bookTicker","u","s","b","B","a","A","T","E"}
    <symbol>@markPrice@1s      {"e":"markPriceUpdate","E","s","p","i","P","r","T"}    r: funding rate, T: next funding
    <symbol>@kline_15m         {"e":"kline","E","s","k":{"t","T","s","i","o","c","h","l","v","x",...}}   x: closed
OKX v5 (`{"arg": {"channel", "instId"}, "data": [...]}`):
    tickers       {"instId","bidPx","bidSz","askPx","askSz","last","ts"}
    mark-price    {"instId","markPx","ts"}
    funding-rate  {"instId","fundingRate","fundingTime","nextFundingTime",...}     fundingTime: next settlement
    candle15m     ["ts","o","h","l","c","vol","volCcy","volCcyQuote","confirm"]    confirm "1": closed
A malformed message raises ValueError naming what is wrong; the stream turns it into a [feed] line.
"""

from __future__ import annotations

from execution.feeds.events import BookUpdate, CandleClosed, Event, MarkUpdate

BAR_MS = 900_000


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


def parse_binance(message: dict, recv_ms: int) -> list[Event]:
    data = message.get("data", message)
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


def parse_okx(message: dict, recv_ms: int) -> list[Event]:
    if "event" in message:  # subscribe / error / login acks
        if message["event"] == "error":
            raise ValueError(f"okx error code={message.get('code')} msg={message.get('msg')}")
        return []
    arg, rows = message.get("arg") or {}, message.get("data")
    if not isinstance(rows, list):
        raise ValueError("okx message without a data list")
    channel, inst = arg.get("channel"), arg.get("instId")
    out: list[Event] = []
    for row in rows:
        if channel == "tickers":
            out.append(
                BookUpdate(
                    _i(row, "ts"),
                    "okx_perp",
                    row["instId"],
                    _f(row, "bidPx"),
                    _f(row, "bidSz"),
                    _f(row, "askPx"),
                    _f(row, "askSz"),
                    recv_ms,
                )
            )
        elif channel == "mark-price":
            out.append(MarkUpdate(_i(row, "ts"), "okx_perp", row["instId"], mark=_f(row, "markPx"), recv_ts=recv_ms))
        elif channel == "funding-rate":
            ts = _i(row, "ts") if row.get("ts") else recv_ms
            out.append(
                MarkUpdate(
                    ts,
                    "okx_perp",
                    row["instId"],
                    funding_rate=_f(row, "fundingRate"),
                    next_funding_ms=_i(row, "fundingTime"),
                    recv_ts=recv_ms,
                )
            )
        elif channel == "candle15m":
            if not isinstance(row, list) or len(row) < 9 or not isinstance(inst, str):
                raise ValueError(f"okx candle row malformed: {row!r} (instId {inst!r})")
            if row[8] != "1":
                continue
            c = {"t": row[0], "o": row[1], "h": row[2], "l": row[3], "c": row[4], "v": row[5]}
            open_time = _i(c, "t")
            out.append(
                CandleClosed(
                    open_time + BAR_MS,
                    "okx_perp",
                    inst,
                    open_time,
                    _f(c, "o"),
                    _f(c, "h"),
                    _f(c, "l"),
                    _f(c, "c"),
                    _f(c, "v"),
                )
            )
    return out
