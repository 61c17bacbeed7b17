"""Exchange venues for PROFILE=testnet|live, from keys and URLs in the environment.

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
from execution.models import FeeSchedule, MarginType
from execution.settings import VENUES, ConfigError, Settings

KEYS = {
    "binance_um": ("BINANCE_API_KEY", "BINANCE_API_SECRET"),
    "okx_perp": ("OKX_API_KEY", "OKX_API_SECRET", "OKX_PASSPHRASE"),
}
URL_ENV = {"binance_um": "BINANCE_FAPI_URL", "okx_perp": "OKX_BASE_URL"}


def has_keys(name: str, env: Mapping[str, str]) -> bool:
    return any(env.get(k) for k in KEYS[name])


def margin_type_from(env: Mapping[str, str]) -> MarginType:
    raw = (env.get("MARGIN_TYPE") or "ISOLATED").strip().upper()
    aliases = {"ISOLATED": MarginType.ISOLATED, "CROSSED": MarginType.CROSS, "CROSS": MarginType.CROSS}
    if raw not in aliases:
        raise ConfigError(".env", "MARGIN_TYPE", "ISOLATED or CROSSED", raw)
    return aliases[raw]


def _timeout(env: Mapping[str, str]) -> float:
    raw = env.get("VENUE_TIMEOUT_S") or "10"
    try:
        value = float(raw)
        if not 0 < value <= 120:
            raise ValueError
    except ValueError:
        raise ConfigError(".env", "VENUE_TIMEOUT_S", "seconds in (0, 120]", raw) from None
    return value


def build_venue(
    name: str, profile: str, env: Mapping[str, str], *, safe_mode: bool, fees: FeeSchedule | None = None
) -> Venue:
    """One exchange venue; a missing key or a URL of the wrong environment is a ConfigError."""
    if profile not in ("testnet", "live"):
        raise ConfigError(".env", "PROFILE", "testnet or live for an exchange venue", profile)
    for key in KEYS[name]:
        if not env.get(key):
            raise ConfigError(".env", key, f"the {name} credential for PROFILE={profile}", missing=True)
    url = (env.get(URL_ENV[name]) or "").strip()
    timeout = _timeout(env)
    if name == "binance_um":
        from execution.exchanges.binance_um import LIVE_URL, TESTNET_URL, BinanceUM

        url = url or (TESTNET_URL if profile == "testnet" else LIVE_URL)
        if profile == "testnet" and "fapi.binance.com" in url:
            raise ConfigError(".env", "BINANCE_FAPI_URL", "a testnet URL for PROFILE=testnet", url)
        if profile == "live" and "testnet" in url:
            raise ConfigError(".env", "BINANCE_FAPI_URL", "the production URL for PROFILE=live", url)
        venue: Venue = BinanceUM(
            env["BINANCE_API_KEY"],
            env["BINANCE_API_SECRET"],
            url,
            safe_mode=safe_mode,
            config_fees=fees,
            timeout_s=timeout,
        )
    elif name == "okx_perp":
        from execution.exchanges.okx_perp import LIVE_URL as OKX_URL
        from execution.exchanges.okx_perp import OkxPerp

        url = url or OKX_URL
        venue = OkxPerp(
            env["OKX_API_KEY"],
            env["OKX_API_SECRET"],
            env["OKX_PASSPHRASE"],
            demo=profile == "testnet",
            domain=url,
            safe_mode=safe_mode,
            margin_type=margin_type_from(env),
            config_fees=fees,
            timeout_s=timeout,
        )
    else:
        raise ConfigError(".env", "venue", f"one of {list(KEYS)}", name)
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
    env = settings.env
    needed = {settings.screener_venue} | {cfg.venue for cfg in settings.symbols.values()}
    margin_type_from(env)  # a bad MARGIN_TYPE fails here, before any venue is built
    out: dict[str, Venue] = {}
    for name in VENUES:
        if not has_keys(name, env) and name not in needed:
            logs.get().warning("[executor] venue %s: no %s set; not connected", name, KEYS[name][0])
            continue
        out[name] = build_venue(
            name, settings.profile, env, safe_mode=settings.safe_mode, fees=settings.venues[name].fees
        )
    return out
