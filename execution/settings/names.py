"""The project's fixed vocabularies, defined once: profiles, feeds, venues, timeframes, log levels.

Every other module imports these; none spells the lists again. (The names of the environment
variables are declared once too, as the aliases of the groups in `execution.settings.env`.)
"""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent

PROFILES = ("paper", "testnet", "live")
EXCHANGE_PROFILES = ("testnet", "live")  # the profiles that talk to real venues
FEEDS = ("generated", "replay", "live")
VENUES = ("binance_um", "okx_perp")
TIMEFRAMES = {"15m": 900_000}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Read from the process environment only (it names the file the others come from).
ENV_FILE = "ENV_FILE"
