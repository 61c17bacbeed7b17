"""Positions as investors see them: hedge-mode legs grouped per asset, cross-venue pairs with
their net delta, exposure per venue. Pure functions of the positions document, no Streamlit."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from dashboard.formatting import (
    DASH,
    dec,
    dec_sum,
    dict_list,
    fmt_money,
    fmt_num,
    fmt_ts,
    position_rows,
    side_of,
)

QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "USD")


# ---------------------------------------------------------------------------------------------
# exposure per venue
@dataclass(frozen=True)
class VenueExposure:
    venue: str
    legs: int
    long_notional: Decimal
    short_notional: Decimal
    gross: Decimal
    net: Decimal
    unrealized_pnl: Decimal


def exposure_by_venue(positions: dict) -> list[VenueExposure]:
    """Per venue: legs, long/short/gross/net notional at mark, uPnL. Gross/net come from the executor's
    `per_venue` figures where it wrote them, else from the rows."""
    raw = positions.get("per_venue")
    per_venue: dict = raw if isinstance(raw, dict) else {}
    out = []
    venues = sorted({str(r.get("venue", "?")) for r in position_rows(positions)} | set(per_venue))
    for v in venues:
        rows = [r for r in position_rows(positions) if str(r.get("venue", "?")) == v]
        long_n = dec_sum(r.get("notional") for r in rows if side_of(r) == "LONG") or Decimal(0)
        short_n = dec_sum(r.get("notional") for r in rows if side_of(r) == "SHORT") or Decimal(0)
        got = per_venue.get(v)
        pv: dict = got if isinstance(got, dict) else {}
        gross = dec(pv.get("gross_notional"))
        net = dec(pv.get("net_notional"))
        out.append(
            VenueExposure(
                venue=v,
                legs=len(rows),
                long_notional=long_n,
                short_notional=short_n,
                gross=gross if gross is not None else long_n + short_n,
                net=net if net is not None else long_n - short_n,
                unrealized_pnl=dec_sum(r.get("unrealized_pnl") for r in rows) or Decimal(0),
            )
        )
    return out


# ---------------------------------------------------------------------------------------------
# positions: hedge-mode legs grouped per asset, cross-venue pairs with their net delta
@dataclass(frozen=True)
class Leg:
    asset: str
    venue: str
    symbol: str
    side: str  # LONG | SHORT
    qty: Decimal | None
    entry: Decimal | None
    mark: Decimal | None
    unrealized_pnl: Decimal | None
    notional: Decimal | None
    leverage: Decimal | None
    stop_loss: Decimal | None
    take_profit: Decimal | None
    opened_ts: int


@dataclass(frozen=True)
class AssetGroup:
    asset: str
    legs: list[Leg]
    net_qty: Decimal  # base units, LONG positive
    net_notional: Decimal  # USDT at mark, LONG positive
    unrealized_pnl: Decimal

    @property
    def venues(self) -> list[str]:
        return sorted({leg.venue for leg in self.legs})

    @property
    def cross_venue_pair(self) -> bool:
        """LONG on one venue and SHORT on another: an arbitrage (or hedged) pair across venues."""
        longs = {leg.venue for leg in self.legs if leg.side == "LONG"}
        shorts = {leg.venue for leg in self.legs if leg.side == "SHORT"}
        return bool(longs) and bool(shorts) and len(longs | shorts) > 1


def base_asset(venue: str, symbol: str, aliases: dict[tuple[str, str], str] | None = None) -> str:
    """BTCUSDT (Binance) and BTC-USDT-SWAP (OKX) are the same asset, BTC."""
    if aliases and (venue, symbol) in aliases:
        return aliases[(venue, symbol)]
    s = symbol.upper()
    if "-" in s:
        return s.split("-")[0]
    for q in QUOTES:
        if s.endswith(q) and len(s) > len(q):
            return s[: -len(q)]
    return s


def arb_aliases(arb: dict) -> dict[tuple[str, str], str]:
    """(venue, symbol) -> asset from the arbitrage document's configured pairs (e.g. pair "BTC-USDT")."""
    out: dict[tuple[str, str], str] = {}
    for p in dict_list(arb.get("pairs")):
        name = str(p.get("pair") or "")
        asset = name.split("-")[0].upper() if name else ""
        if not asset:
            continue
        for key, value in p.items():
            if key.endswith("_symbol") and isinstance(value, str):
                venue = {"binance": "binance_um", "okx": "okx_perp"}.get(key[: -len("_symbol")], key[: -len("_symbol")])
                out[(venue, value)] = asset
    return out


def position_groups(positions: dict, arb: dict | None = None) -> list[AssetGroup]:
    aliases = arb_aliases(arb or {})
    groups: dict[str, list[Leg]] = {}
    for r in position_rows(positions):
        venue, symbol = str(r.get("venue", "?")), str(r.get("symbol", "?"))
        asset = base_asset(venue, symbol, aliases)
        groups.setdefault(asset, []).append(
            Leg(
                asset=asset,
                venue=venue,
                symbol=symbol,
                side=side_of(r),
                qty=dec(r.get("qty")),
                entry=dec(r.get("entry_price")),
                mark=dec(r.get("mark_price")),
                unrealized_pnl=dec(r.get("unrealized_pnl")),
                notional=dec(r.get("notional")),
                leverage=dec(r.get("leverage")),
                stop_loss=dec(r.get("stop_loss")),
                take_profit=dec(r.get("take_profit")),
                opened_ts=int(dec(r.get("opened_ts")) or 0),
            )
        )
    out = []
    for asset in sorted(groups):
        legs = sorted(groups[asset], key=lambda g: (g.side != "LONG", g.venue, g.symbol))
        sign = {leg: (1 if leg.side == "LONG" else -1) for leg in legs}
        out.append(
            AssetGroup(
                asset=asset,
                legs=legs,
                net_qty=sum((sign[leg] * (leg.qty or Decimal(0)) for leg in legs), Decimal(0)),
                net_notional=sum((sign[leg] * (leg.notional or Decimal(0)) for leg in legs), Decimal(0)),
                unrealized_pnl=sum((leg.unrealized_pnl or Decimal(0) for leg in legs), Decimal(0)),
            )
        )
    return out


def leg_rows(groups: list[AssetGroup]) -> list[dict[str, str]]:
    rows = []
    for g in groups:
        for leg in g.legs:
            rows.append(
                {
                    "Asset": g.asset,
                    "Side": leg.side,
                    "Venue": leg.venue,
                    "Symbol": leg.symbol,
                    "Qty": fmt_num(leg.qty),
                    "Entry": fmt_num(leg.entry),
                    "Mark": fmt_num(leg.mark),
                    "uPnL (USDT)": fmt_money(leg.unrealized_pnl, signed=True),
                    "Notional (USDT)": fmt_money(leg.notional),
                    "Leverage": f"{fmt_num(leg.leverage)}x" if leg.leverage is not None else DASH,
                    "Stop / Take": f"{fmt_num(leg.stop_loss, 4)} / {fmt_num(leg.take_profit, 4)}"
                    if leg.stop_loss is not None or leg.take_profit is not None
                    else DASH,
                    "Opened": fmt_ts(leg.opened_ts),
                }
            )
    return rows


def pair_rows(groups: list[AssetGroup]) -> list[dict[str, str]]:
    rows = []
    for g in groups:
        if not g.cross_venue_pair:
            continue
        legs = " + ".join(f"{leg.side} {fmt_num(leg.qty)} {leg.venue}" for leg in g.legs)
        rows.append(
            {
                "Asset": g.asset,
                "Legs": legs,
                "Net delta (base)": fmt_num(g.net_qty),
                "Net delta (USDT)": fmt_money(g.net_notional, signed=True),
                "uPnL (USDT)": fmt_money(g.unrealized_pnl, signed=True),
            }
        )
    return rows
