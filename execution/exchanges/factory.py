"""Exchange venues for PROFILE=testnet|live, from the keys and URLs of the settings (VenueAccess).

    PROFILE=testnet  Binance USD-M futures testnet (https://testnet.binancefuture.com/fapi),
                     OKX demo trading (x-simulated-trading: 1)
    PROFILE=live     Binance https://fapi.binance.com/fapi, OKX live (x-simulated-trading: 0)

Keys: BINANCE_API_KEY, BINANCE_API_SECRET, OKX_API_KEY, OKX_API_SECRET, OKX_PASSPHRASE.
Base URL overrides (loopback fakes, a proxy): BINANCE_FAPI_URL, OKX_BASE_URL. MARGIN_TYPE
(ISOLATED | CROSSED, default ISOLATED) is OKX's tdMode and what setup_symbols sets on Binance;
VENUE_TIMEOUT_S (default 10) bounds every REST call.

SAFE_MODE=true (the default) on either profile: Binance orders go to POST /fapi/v1/order/test
(validated by the venue, never placed), OKX orders are refused locally; both raise SafeModeRefused.
"""

from __future__ import annotations

from collections.abc import Mapping

from execution import logs
from execution.exchanges.base import Venue
from execution.models import FeeSchedule
from execution.settings import EXCHANGE_PROFILES, VENUE_KEYS, VENUES, ConfigError, Settings, VenueAccess


def build_venue(
    name: str,
    profile: str,
    access: VenueAccess | Mapping[str, str],
    *,
    safe_mode: bool,
    fees: FeeSchedule | None = None,
) -> Venue:
    """One exchange venue; a missing key or a URL of the wrong environment is a ConfigError.
    `access` is the settings' VenueAccess, or variables to read it from (tools and tests)."""
    if not isinstance(access, VenueAccess):
        access = VenueAccess.read(access)
    if profile not in EXCHANGE_PROFILES:
        raise ConfigError(".env", "PROFILE", "testnet or live for an exchange venue", profile)
    if name not in VENUE_KEYS:
        raise ConfigError(".env", "venue", f"one of {list(VENUES)}", name)
    keys = access.credentials
    for key in VENUE_KEYS[name]:
        if not keys.secret(key):
            raise ConfigError(".env", key, f"the {name} credential for PROFILE={profile}", missing=True)
    timeout = access.venue.timeout_s
    if name == "binance_um":
        from execution.exchanges.binance_um import LIVE_URL, TESTNET_URL, BinanceUM

        url = access.endpoints.binance_rest or (TESTNET_URL if profile == "testnet" else LIVE_URL)
        if profile == "testnet" and "fapi.binance.com" in url:
            raise ConfigError(".env", "BINANCE_FAPI_URL", "a testnet URL for PROFILE=testnet", url)
        if profile == "live" and "testnet" in url:
            raise ConfigError(".env", "BINANCE_FAPI_URL", "the production URL for PROFILE=live", url)
        venue: Venue = BinanceUM(
            keys.binance_api_key.get_secret_value(),
            keys.binance_api_secret.get_secret_value(),
            url,
            safe_mode=safe_mode,
            config_fees=fees,
            timeout_s=timeout,
        )
    else:
        from execution.exchanges.okx_perp import LIVE_URL as OKX_URL
        from execution.exchanges.okx_perp import OkxPerp

        url = access.endpoints.okx_rest or OKX_URL
        venue = OkxPerp(
            keys.okx_api_key.get_secret_value(),
            keys.okx_api_secret.get_secret_value(),
            keys.okx_passphrase.get_secret_value(),
            demo=profile == "testnet",
            domain=url,
            safe_mode=safe_mode,
            margin_type=access.venue.margin_type,
            config_fees=fees,
            timeout_s=timeout,
        )
    log = logs.get()
    mode = "demo (x-simulated-trading=1)" if name == "okx_perp" and profile == "testnet" else profile
    log.info("[executor] venue %s: %s %s", name, mode, url)
    if safe_mode:
        how = (
            "orders are validated by POST /fapi/v1/order/test and not sent"
            if name == "binance_um"
            else "orders are refused (OKX has no test-order endpoint)"
        )
        log.warning("[executor] venue %s: SAFE_MODE=true: %s", name, how)
    return venue


def build_exchange_venues(settings: Settings) -> dict[str, Venue]:
    """Every venue with keys; a venue the configured symbols trade on must have them."""
    access = settings.access
    needed = {settings.screener_venue} | {cfg.venue for cfg in settings.symbols.values()}
    out: dict[str, Venue] = {}
    for name in VENUES:
        if not access.credentials.has_keys(name) and name not in needed:
            logs.get().warning("[executor] venue %s: no %s set; not connected", name, VENUE_KEYS[name][0])
            continue
        out[name] = build_venue(
            name, settings.profile, access, safe_mode=settings.safe_mode, fees=settings.venues[name].fees
        )
    return out
