"""Market data feeds: replay of recorded files, the generated market, live streams."""
