"""An independent recomputation of NAV from the journals alone (no project accounting code)."""

from __future__ import annotations

import json
from pathlib import Path


def load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def recompute(state_dir: Path, initial_capital: float) -> dict:
    fills = load_jsonl(state_dir / "trade_log.jsonl")
    funding = load_jsonl(state_dir / "funding_log.jsonl")
    flows = load_jsonl(state_dir / "capital_flows.jsonl")
    positions_doc = json.loads((state_dir / "state" / "positions.json").read_text())
    marks = {(p["venue"], p["symbol"]): p["mark_price"] for p in positions_doc["positions"]}
    books: dict[tuple, list[float]] = {}  # key -> [qty, avg_entry]
    realized_recomputed = 0.0
    for f in fills:
        key = (f["venue"], f["symbol"], f["position_side"])
        qty, entry = books.get(key, [0.0, 0.0])
        opening = (f["side"] == "BUY") == (f["position_side"] == "LONG")
        if opening:
            new_qty = qty + f["qty"]
            entry = (qty * entry + f["qty"] * f["price"]) / new_qty
            qty = new_qty
        else:
            sign = 1 if f["position_side"] == "LONG" else -1
            realized_recomputed += (f["price"] - entry) * f["qty"] * sign
            qty -= f["qty"]
        books[key] = [qty, entry]
    upnl = 0.0
    open_books = {k: v for k, v in books.items() if abs(v[0]) > 1e-12}
    for (venue, symbol, pside), (qty, entry) in open_books.items():
        sign = 1 if pside == "LONG" else -1
        upnl += (marks[(venue, symbol)] - entry) * qty * sign
    realized = sum(f["realized_pnl_usdt"] for f in fills)
    fees = sum(f["fee_usdt"] for f in fills)
    fund = sum(p["amount_usdt"] for p in funding)
    contributed = sum(f["amount_usdt"] for f in flows)
    return {
        "nav": initial_capital + realized - fees + fund + contributed + upnl,
        "capital_flows": contributed,
        "realized": realized,
        "realized_recomputed": realized_recomputed,
        "fees": fees,
        "funding": fund,
        "upnl": upnl,
        "open_books": open_books,
        "fills": len(fills),
        "funding_records": len(funding),
    }
