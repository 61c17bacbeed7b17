"""Operator helpers that ask a venue directly, without the executor.

    python -c 'from execution.exchange_utils import _is_dual_side; print("dualSide:", _is_dual_side())'

reads the keys from the environment / `.env` (PROFILE=testnet talks to the Binance futures testnet,
PROFILE=live to production) and asks Binance GET /fapi/v1/positionSide/dual. On PROFILE=paper no
exchange is involved: the paper venue is always in hedge mode, so it answers True and says so on
stderr instead of failing for want of keys.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from execution.exchanges.factory import build_venue
from execution.settings import ProfileEnv, VenueAccess, load_dotenv_file, read_env


def is_dual_side(venue: str = "binance_um", env: Mapping[str, str] | None = None) -> bool:
    """True when the account on `venue` is in hedge (dual-side / long_short) position mode."""
    if env is None:
        load_dotenv_file()
    configured = read_env(ProfileEnv, env).profile
    if configured == "paper":
        print("PROFILE=paper: the paper venue is always in hedge mode (no exchange asked)", file=sys.stderr)
        return True
    profile = "testnet" if configured == "testnet" else "live"
    v = build_venue(venue, profile, VenueAccess.read(env), safe_mode=True)
    try:
        return v.is_dual_side()
    finally:
        v.close()


def _is_dual_side() -> bool:
    """The Binance account's position mode, as operators have always checked it."""
    return is_dual_side("binance_um")
