"""Cross-venue arbitrage (Binance USD-M vs OKX perpetual swaps): edge maths, preflight, the
two-leg state machine with its rescue path, exits, metrics, and the loop the engine drives."""
