"""The one place where a pair's name turns into each venue's symbol (and back).

A pair is named `BASE-QUOTE` (e.g. `BTC-USDT`). Binance USD-M lists it as `BTCUSDT`, OKX as the
perpetual swap `BTC-USDT-SWAP`.
"""

from __future__ import annotations

BINANCE = "binance_um"
OKX = "okx_perp"
QUOTES = ("USDT", "USDC")


def split_pair(pair: str) -> tuple[str, str]:
    parts = pair.split("-")
    if len(parts) != 2 or not all(p.isalnum() and p.isupper() for p in parts) or parts[1] not in QUOTES:
        raise ValueError(f"pair {pair!r} is not BASE-QUOTE with QUOTE in {QUOTES} (e.g. 'BTC-USDT')")
    return parts[0], parts[1]


def venue_symbol(pair: str, venue: str) -> str:
    base, quote = split_pair(pair)
    if venue == BINANCE:
        return f"{base}{quote}"
    if venue == OKX:
        return f"{base}-{quote}-SWAP"
    raise ValueError(f"no symbol mapping for venue {venue!r}")


def pair_of(venue: str, symbol: str) -> str | None:
    """The pair a venue symbol belongs to, or None for a symbol that is not a USDT/USDC perpetual."""
    if venue == OKX:
        parts = symbol.split("-")
        if len(parts) == 3 and parts[2] == "SWAP" and parts[1] in QUOTES:
            return f"{parts[0]}-{parts[1]}"
        return None
    if venue == BINANCE:
        for quote in QUOTES:
            if symbol.endswith(quote) and len(symbol) > len(quote):
                return f"{symbol[: -len(quote)]}-{quote}"
        return None
    return None
