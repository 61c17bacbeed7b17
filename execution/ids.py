"""Identifiers derived from what they name, so a retry or a restart produces the same id.

An intent id names a decision (what, where, when, why). A client order id is a hash of the
intent id, the leg and the attempt: 2 + 26 alphanumerics, legal on both Binance
(`^[.A-Z:/a-z0-9_-]{1,36}$`) and OKX (alphanumeric, <= 32). The venue deduplicates by it.
"""

from __future__ import annotations

import hashlib


def intent_id(venue: str, symbol: str, ts: int, purpose: str) -> str:
    return f"{venue}:{symbol}:{ts}:{purpose}"


def client_order_id(intent: str, leg: str = "a", attempt: int = 0) -> str:
    digest = hashlib.sha256(f"{intent}|{leg}|{attempt}".encode()).hexdigest()
    return "hf" + digest[:26]
