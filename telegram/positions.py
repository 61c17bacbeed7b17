"""Open positions for the 8-hour update: rows read from the state (malformed ones counted, not
raised on), grouped by (symbol, position side), a LONG and a SHORT of one symbol on one venue
paired as "same_symbol", a LONG on one venue and a SHORT of the same asset on another as
"hedged"; and each group as the payload carries it. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from execution.arb.symbols import pair_of
from telegram.numbers import dec, num


@dataclass
class Group:
    """Open positions with the same (symbol, position side), summed."""

    symbol: str
    position_side: str
    venues: list[str]
    qty: Decimal
    upnl: Decimal
    notional: Decimal

    @property
    def venue(self) -> str:
        return "+".join(self.venues)


def pair_key(venue: str, symbol: str) -> str:
    """What two legs of a cross-venue hedge share: BTCUSDT@binance_um and BTC-USDT-SWAP@okx_perp -> BTC-USDT."""
    pair = pair_of(venue, symbol)
    if pair:
        return pair
    if "-" in symbol:  # other venues: BASE-QUOTE[-SUFFIX]
        return "-".join(symbol.split("-")[:2])
    for quote in ("USDT", "USDC", "BUSD"):
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return f"{symbol[: -len(quote)]}-{quote}"
    return symbol


def normalize_positions(raw: object) -> tuple[list[dict], int]:
    """(usable position rows, number skipped as malformed). A usable row has a venue, a symbol, a
    LONG/SHORT side and a non-zero quantity; uPnL and notional default to 0."""
    if not isinstance(raw, list):
        return [], 0 if raw in (None, {}) else 1
    rows, skipped = [], 0
    for p in raw:
        if not isinstance(p, dict):
            skipped += 1
            continue
        venue, symbol, side = p.get("venue"), p.get("symbol"), p.get("position_side")
        qty = dec(p.get("qty"))
        if not (
            isinstance(venue, str)
            and venue
            and isinstance(symbol, str)
            and symbol
            and side in ("LONG", "SHORT")
            and qty is not None
            and qty != 0
        ):
            skipped += 1
            continue
        upnl = dec(p.get("unrealized_pnl")) or Decimal(0)
        notional = dec(p.get("notional"))
        if notional is None:
            mark = dec(p.get("mark_price")) or dec(p.get("entry_price")) or Decimal(0)
            notional = abs(qty) * mark
        rows.append(
            {
                "venue": venue,
                "symbol": symbol,
                "position_side": side,
                "qty": abs(qty),
                "upnl": upnl,
                "notional": abs(notional),
            }
        )
    return rows, skipped


def group_positions(rows: list[dict]) -> list[dict]:
    """Rows grouped by (symbol, position side); a LONG and a SHORT of one symbol on one venue
    become one "same_symbol" row, a pair held LONG on one venue and SHORT on another one "hedged"
    row. Sorted by |uPnL| (a paired row by its combined uPnL), largest first."""
    groups: dict[tuple[str, str], Group] = {}
    for p in rows:
        g = groups.get((p["symbol"], p["position_side"]))
        if g is None:
            g = groups[(p["symbol"], p["position_side"])] = Group(
                p["symbol"], p["position_side"], [], Decimal(0), Decimal(0), Decimal(0)
            )
        if p["venue"] not in g.venues:
            g.venues.append(p["venue"])
        g.qty += p["qty"]
        g.upnl += p["upnl"]
        g.notional += p["notional"]
    out: list[dict] = []
    used: set[int] = set()
    for (symbol, side), lg in groups.items():
        sg = groups.get((symbol, "SHORT"))
        if side != "LONG" or sg is None or set(sg.venues).isdisjoint(lg.venues):
            continue
        used.update((id(lg), id(sg)))
        out.append({"kind": "same_symbol", "long": lg, "short": sg, "upnl": lg.upnl + sg.upnl})
    by_pair: dict[str, list[Group]] = {}
    for g in groups.values():
        if id(g) not in used:
            by_pair.setdefault(pair_key(g.venues[0], g.symbol), []).append(g)
    for pair, members in by_pair.items():
        longs = [g for g in members if g.position_side == "LONG"]
        shorts = [g for g in members if g.position_side == "SHORT"]
        for lg in longs:
            sg = next((s for s in shorts if id(s) not in used and set(s.venues).isdisjoint(lg.venues)), None)
            if sg is None:
                continue
            used.update((id(lg), id(sg)))
            out.append(
                {
                    "kind": "hedged",
                    "pair": pair,
                    "base": pair.split("-")[0],
                    "long": lg,
                    "short": sg,
                    "upnl": lg.upnl + sg.upnl,
                    "net_notional": lg.notional - sg.notional,
                }
            )
    for g in groups.values():
        if id(g) not in used:
            out.append({"kind": "single", "group": g, "upnl": g.upnl})
    out.sort(key=lambda r: -abs(r["upnl"]))
    return out


def legs(r: dict) -> list[Group]:
    return [r["group"]] if r["kind"] == "single" else [r["long"], r["short"]]


def runbook_position(g: Group) -> dict:
    """One entry of the runbook's `positions`: symbol, side, qty, uPnl (+ venue, notional)."""
    return {
        "symbol": g.symbol,
        "side": g.position_side,
        "qty": float(g.qty),
        "uPnl": num(g.upnl, 3),
        "venue": g.venue,
        "notional_usdt": num(g.notional, 2),
    }


def position_payload(r: dict) -> dict:
    if r["kind"] == "same_symbol":
        lg, sg = r["long"], r["short"]
        return {
            "kind": "same_symbol",
            "symbol": lg.symbol,
            "venue": lg.venue,
            "unrealized_pnl": num(r["upnl"], 2),
            "legs": [
                {"position_side": g.position_side, "qty": float(g.qty), "unrealized_pnl": num(g.upnl, 2)}
                for g in (lg, sg)
            ],
        }
    if r["kind"] == "hedged":
        legs = [
            {
                "symbol": g.symbol,
                "venue": g.venue,
                "position_side": g.position_side,
                "qty": float(g.qty),
                "unrealized_pnl": num(g.upnl, 2),
            }
            for g in (r["long"], r["short"])
        ]
        return {
            "kind": "hedged",
            "pair": r["pair"],
            "base": r["base"],
            "unrealized_pnl": num(r["upnl"], 2),
            "net_notional_usdt": num(r["net_notional"], 2),
            "legs": legs,
        }
    g: Group = r["group"]
    return {
        "kind": "single",
        "symbol": g.symbol,
        "venue": g.venue,
        "position_side": g.position_side,
        "qty": float(g.qty),
        "unrealized_pnl": num(g.upnl, 2),
        "notional_usdt": num(g.notional, 2),
    }
