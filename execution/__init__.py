"""Hedge Fund Bot executor: pure core (screener, decision, risk, portfolio) and thin edges."""
