"""Venue adapters behind one interface (`base.Venue`): paper, Binance USD-M, OKX perpetual swaps."""
