"""Every environment variable the project reads, declared once, grouped by concern.

Each group is a frozen pydantic model whose field aliases are the variable names; `read_env`
validates one group from the process environment (or a given mapping) and raises `ConfigError`
naming the first bad variable. A process loads only the groups it needs: the dashboard never
loads `Credentials`, the operator CLI never loads `RunEnv`.

    group         variables                                              loaded by
    ProfileEnv    PROFILE SAFE_MODE DRY_RUN_MODE                         executor, scripts, heartbeat
    RunEnv        FEED MARKET_DIR SPEED SEED CONFIG_DIR                  executor
                  INITIAL_CAPITAL_USDT
    LogEnv        LOG_LEVEL ACCOUNT_LOG_INTERVAL_S                       executor, heartbeat
    FundEnv       RESERVE_BTC BENCHMARK_SYMBOL                           executor, dashboard, heartbeat
    StoreEnv      STATE_DIR HEDGE_ENV FIRESTORE_* GOOGLE_APPLICATION_... executor and every reader
    LiveFeedEnv   LIVE_STALE_S LIVE_BACKOFF_MAX_S                        executor (FEED=live)
    EndpointsEnv  BINANCE_FAPI_URL OKX_BASE_URL BINANCE_WS_URL           venue adapters, feeds, downloads
                  OKX_WS_PUBLIC_URL OKX_WS_BUSINESS_URL OKX_WS_PRIVATE_URL
    VenueEnv      MARGIN_TYPE VENUE_TIMEOUT_S                            venue adapters
    ExecutionEnv  PROTECTIVE_ORDERS PROTECTION_TRIGGER_PRICE             executor (protection, order router)
                  STOP_VALIDATOR_INTERVAL_S ORDER_REMAINDER_RETRIES
                  ORDER_CUTBACK_MAX
    ReconcileEnv  RECONCILE_INTERVAL_S NAV_DRIFT_TOLERANCE_USDT           executor (testnet/live: the venue reconciler)
                  NAV_DRIFT_TOLERANCE_PCT NAV_DRIFT_HOLD
    Credentials   BINANCE_API_KEY BINANCE_API_SECRET OKX_API_KEY         executor, scripts, heartbeat, CLI
                  OKX_API_SECRET OKX_PASSPHRASE APPROVE_TOKEN
    TelegramEnv   TELEGRAM_BOT_TOKEN TELEGRAM_CHAT_ID TELEGRAM_API_BASE  executor (alerts), heartbeat
    HeartbeatEnv  HEARTBEAT_TZ TELEGRAM_TIMEOUT_S                        heartbeat
    TelegramBotEnv TELEGRAM_BOT_ALLOWED_CHATS TELEGRAM_BOT_ALLOWED_USERS  Telegram commands bot
                  TELEGRAM_BOT_POLL_S TELEGRAM_BOT_OFFSET_FILE
    DashboardEnv  DASHBOARD_*                                            dashboard
    MetricsEnv    METRICS_PORT ALERTMANAGER_TELEGRAM_TOKEN_FILE          metrics exporter, monitoring config
    WatchdogEnv   WATCHDOG_STALE_S WATCHDOG_STATE_FILE                   watchdog, operator CLI (status DOWN)

Secrets are `SecretStr` fields: repr/str of a group shows `**********`, never the value, and
`SECRET_NAMES` (what the logs and exports redact) is derived from those fields, so a new secret
cannot be left out. An empty or blank value means "not set" (the default).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from execution.models import MarginType
from execution.settings.env_types import (
    choice,
    decimal,
    flag,
    integer,
    number,
    pattern,
    stripped,
    time_zone,
    whole,
)
from execution.settings.errors import ConfigError, from_validation_error
from execution.settings.names import FEEDS, LOG_LEVELS, PROFILES, PROJECT_ROOT, VENUES

G = TypeVar("G", bound="EnvGroup")
OnBad = Callable[[ConfigError, Any], None]  # (the error, the default used instead)


class EnvGroup(BaseModel):
    """A group of environment variables (field alias = variable name)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    @classmethod
    def variables(cls) -> tuple[str, ...]:
        return tuple(f.alias or name for name, f in cls.model_fields.items())

    @classmethod
    def variable_of(cls, field_name: str) -> str:
        return cls.model_fields[field_name].alias or field_name

    @classmethod
    def default_of(cls, variable: str) -> Any:
        return next(f.default for name, f in cls.model_fields.items() if (f.alias or name) == variable)

    def secret(self, variable: str) -> str:
        """The value of this group's secret `variable`; "" when unset or not a secret of this group."""
        for name, f in type(self).model_fields.items():
            value = getattr(self, name)
            if f.alias == variable and isinstance(value, SecretStr):
                return value.get_secret_value()
        return ""

    def secret_values(self) -> tuple[str, ...]:
        """The values of the secrets that are set, for log redaction."""
        values = (getattr(self, name) for name in type(self).model_fields)
        return tuple(v.get_secret_value() for v in values if isinstance(v, SecretStr) and v.get_secret_value())

    def as_env(self) -> tuple[tuple[str, str], ...]:
        """(variable, value) of the fields that were set, secrets left out: a hashable cache key
        that `read_env` turns back into the same group."""
        out = []
        for name, f in type(self).model_fields.items():
            value = getattr(self, name)
            if name in self.model_fields_set and not isinstance(value, SecretStr):
                out.append((f.alias or name, _env_text(value)))
        return tuple(out)


def _env_text(value: Any) -> str:
    if isinstance(value, MarginType):
        return value.value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_env(
    group: type[G], env: Mapping[str, str] | None = None, *, on_bad: OnBad | None = None, **overrides: Any
) -> G:
    """Validate `group` from `env` (default: the process environment) with `overrides` on top.

    Raises ConfigError for the first bad variable; with `on_bad`, calls it instead, uses that
    variable's default and goes on (for processes that must never stop, like the heartbeat)."""
    source = os.environ if env is None else env
    values: dict[str, Any] = {}
    for var in group.variables():
        raw = overrides.get(var)
        raw = source.get(var) if raw is None else str(raw)
        if raw is not None and raw.strip():
            values[var] = raw
    while True:
        try:
            return group.model_validate(values)
        except ValidationError as exc:
            err = from_validation_error(exc)
            if on_bad is None or err.field_name not in values:
                raise err from None
            on_bad(err, group.default_of(err.field_name))
            del values[err.field_name]


# -- the executor's run ---------------------------------------------------------------------------
class ProfileEnv(EnvGroup):
    """Which venues (the profile picks the venue client and the feed), and how safe."""

    profile: Annotated[str, choice(PROFILES)] = Field("paper", alias="PROFILE")
    safe_mode: Annotated[bool, flag()] = Field(True, alias="SAFE_MODE")  # no live order leaves the process
    dry_run: Annotated[bool, flag()] = Field(False, alias="DRY_RUN_MODE")  # real books, simulated fills
    # the fund's cutover checklist flips BINANCE_TESTNET: true -> PROFILE=testnet, false -> PROFILE=live
    binance_testnet: Annotated[bool | None, flag()] = Field(None, alias="BINANCE_TESTNET")

    @model_validator(mode="before")
    @classmethod
    def _profile_from_binance_testnet(cls, data: Any) -> Any:
        """BINANCE_TESTNET picks the profile; a PROFILE that says otherwise is refused, naming both."""
        if not isinstance(data, Mapping) or data.get("BINANCE_TESTNET") is None:
            return data
        raw = str(data["BINANCE_TESTNET"]).strip()
        low = raw.lower()
        if low not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            return data  # the field's own validator names the bad value
        implied = "testnet" if low in ("1", "true", "yes", "on") else "live"
        given = data.get("PROFILE")
        if given is not None and str(given).strip().lower() != implied:
            raise ConfigError(
                ".env",
                "BINANCE_TESTNET",
                f"a value that agrees with PROFILE={str(given).strip()} (BINANCE_TESTNET={raw} means "
                f"PROFILE={implied}); set only one of BINANCE_TESTNET and PROFILE",
                raw,
            )
        return {**data, "PROFILE": implied}


class RunEnv(EnvGroup):
    """The executor's run: where market data comes from, how fast, which config, paper capital."""

    feed: Annotated[str, choice(FEEDS)] = Field("generated", alias="FEED")
    market_dir: Path | None = Field(None, alias="MARKET_DIR")
    speed: Annotated[float | None, number(lo=0.001, hi=1e6, keywords={"max": None})] = Field(900.0, alias="SPEED")
    seed: Annotated[int, whole()] = Field(7, alias="SEED")
    config_dir: Path = Field(PROJECT_ROOT / "config", alias="CONFIG_DIR")
    initial_capital_usdt: Annotated[Decimal, decimal(Decimal("0.01"), Decimal("1e12"))] = Field(
        Decimal("10000"), alias="INITIAL_CAPITAL_USDT"
    )


class LogEnv(EnvGroup):
    log_level: Annotated[str, choice(LOG_LEVELS, expected="DEBUG, INFO, WARNING or ERROR", normalize=str.upper)] = (
        Field("INFO", alias="LOG_LEVEL")
    )
    account_log_interval_s: Annotated[float, number(lo=1, hi=86_400)] = Field(60.0, alias="ACCOUNT_LOG_INTERVAL_S")


class FundEnv(EnvGroup):
    """What the fund holds outside the venues: reported beside NAV, never added to it."""

    reserve_btc: Annotated[Decimal, decimal(Decimal(0), Decimal("1e6"))] = Field(Decimal("0.013"), alias="RESERVE_BTC")
    # the investor page's benchmark: this symbol's mark on the screener venue is recorded beside
    # every NAV point; empty = that venue's BTC perpetual (BTCUSDT, BTC-USDT-SWAP)
    benchmark_symbol: Annotated[str, stripped()] = Field("", alias="BENCHMARK_SYMBOL")


# -- state ----------------------------------------------------------------------------------------
_SECONDS_GE_1 = "seconds (a number in [1, 86400])"
_SECONDS_GE_0 = "seconds (a number in [0, 86400])"
# Firestore's own rules: a path segment (hedge/{env}/...), a database id, a project id
_ENV_NAME = pattern(r"[A-Za-z0-9_-]{1,64}", "letters, digits, '_' or '-' (a Firestore path segment, <= 64)")
_DATABASE = pattern(r"\(default\)|[a-z][a-z0-9-]{2,61}[a-z0-9]", "(default) or a Firestore database id")
_PROJECT = pattern(r"|[a-z][a-z0-9-]{4,28}[a-z0-9]", "a Google Cloud project id (6-30 of a-z, 0-9, '-')")


class StoreEnv(EnvGroup):
    """Where the fund's state lives: the local directory (always) and Firestore (when a project is
    set). The write cadence is the executor's; the read cache, timeout and retry are the readers'."""

    state_dir: Path = Field(Path("data"), alias="STATE_DIR")
    hedge_env: Annotated[str | None, _ENV_NAME] = Field(None, alias="HEDGE_ENV")  # hedge/{env}/... ; None: "prod"
    firestore_project: Annotated[str, _PROJECT] = Field("", alias="FIRESTORE_PROJECT")
    firestore_database: Annotated[str, _DATABASE] = Field("(default)", alias="FIRESTORE_DATABASE")
    emulator_host: Annotated[str, stripped()] = Field("", alias="FIRESTORE_EMULATOR_HOST")
    credentials_file: Annotated[str, stripped()] = Field("", alias="GOOGLE_APPLICATION_CREDENTIALS")
    doc_interval_s: Annotated[float, number(lo=1, hi=86_400, expected=_SECONDS_GE_1)] = Field(
        60.0, alias="FIRESTORE_DOC_INTERVAL_S"
    )
    nav_day_interval_s: Annotated[float, number(lo=1, hi=86_400, expected=_SECONDS_GE_1)] = Field(
        60.0, alias="FIRESTORE_NAV_DAY_INTERVAL_S"
    )
    summary_interval_s: Annotated[float, number(lo=1, hi=86_400, expected=_SECONDS_GE_1)] = Field(
        600.0, alias="FIRESTORE_SUMMARY_INTERVAL_S"
    )
    read_cache_s: Annotated[float, number(lo=0, hi=86_400, expected=_SECONDS_GE_0)] = Field(
        60.0, alias="FIRESTORE_READ_CACHE_S"
    )
    read_timeout_s: Annotated[float, number(lo=0, hi=600, lo_open=True, expected="seconds in (0, 600]")] = Field(
        3.0, alias="FIRESTORE_READ_TIMEOUT_S"
    )
    read_retry_s: Annotated[float, number(lo=0, hi=86_400, expected=_SECONDS_GE_0)] = Field(
        30.0, alias="FIRESTORE_READ_RETRY_S"
    )
    audit_interval_s: Annotated[float, number(lo=0, hi=7 * 86_400, expected="seconds in [0, 604800]")] = Field(
        3600.0, alias="FIRESTORE_AUDIT_INTERVAL_S"
    )  # Firestore vs the local journals (execution/state/audit.py); 0 = never

    @property
    def env_name(self) -> str:
        return self.hedge_env or "prod"

    @property
    def firestore_configured(self) -> bool:
        return bool(self.firestore_project)


# -- order execution and protection ---------------------------------------------------------------
_TRIGGER_PRICES = {"mark": "MARK_PRICE", "last": "CONTRACT_PRICE"}


class ExecutionEnv(EnvGroup):
    """How orders are carried out: protective orders on the venue and the stop validator, the
    retries of a partially filled market order, the size cut-back on margin rejections."""

    protective_orders: Annotated[bool, flag()] = Field(True, alias="PROTECTIVE_ORDERS")
    trigger_price: Annotated[
        str, choice(_TRIGGER_PRICES, expected="mark or last", normalize=lambda s: s.strip().lower())
    ] = Field("MARK_PRICE", alias="PROTECTION_TRIGGER_PRICE")
    stop_validator_interval_s: Annotated[float, number(lo=1, hi=86_400, expected=_SECONDS_GE_1)] = Field(
        30.0, alias="STOP_VALIDATOR_INTERVAL_S"
    )
    remainder_retries: Annotated[int, integer(0, 10)] = Field(2, alias="ORDER_REMAINDER_RETRIES")
    cutback_max: Annotated[int, integer(0, 10)] = Field(3, alias="ORDER_CUTBACK_MAX")


# -- venues and market data -----------------------------------------------------------------------
_POSITIVE_SECONDS = "a positive number of seconds, at most 3600"


class LiveFeedEnv(EnvGroup):
    """The live feed's behaviour (its endpoints are in EndpointsEnv)."""

    stale_s: Annotated[float, number(lo=0, hi=3600, lo_open=True, expected=_POSITIVE_SECONDS)] = Field(
        30.0, alias="LIVE_STALE_S"
    )
    backoff_max_s: Annotated[float, number(lo=0, hi=3600, lo_open=True, expected=_POSITIVE_SECONDS)] = Field(
        30.0, alias="LIVE_BACKOFF_MAX_S"
    )


class EndpointsEnv(EnvGroup):
    """Base URL overrides (a proxy, loopback fakes in tests); "" = the profile's official URL."""

    binance_rest: Annotated[str, stripped()] = Field("", alias="BINANCE_FAPI_URL")
    okx_rest: Annotated[str, stripped()] = Field("", alias="OKX_BASE_URL")
    binance_ws: Annotated[str, stripped()] = Field("", alias="BINANCE_WS_URL")
    okx_ws_public: Annotated[str, stripped()] = Field("", alias="OKX_WS_PUBLIC_URL")
    okx_ws_business: Annotated[str, stripped()] = Field("", alias="OKX_WS_BUSINESS_URL")
    okx_ws_private: Annotated[str, stripped()] = Field("", alias="OKX_WS_PRIVATE_URL")


_MARGIN_TYPES = {"ISOLATED": MarginType.ISOLATED, "CROSSED": MarginType.CROSS, "CROSS": MarginType.CROSS}


class VenueEnv(EnvGroup):
    """How the adapters talk to a venue: OKX tdMode / the margin type setup_symbols sets, REST timeout."""

    margin_type: Annotated[
        MarginType, choice(_MARGIN_TYPES, expected="ISOLATED or CROSSED", normalize=lambda s: s.strip().upper())
    ] = Field(MarginType.ISOLATED, alias="MARGIN_TYPE")
    timeout_s: Annotated[float, number(lo=0, hi=120, lo_open=True, expected="seconds in (0, 120]")] = Field(
        10.0, alias="VENUE_TIMEOUT_S"
    )


class ReconcileEnv(EnvGroup):
    """The venue reconciler on testnet/live: how often the venues' balances, positions and history
    are read, and how far the ledger may drift from the venues' equity before new risk is held."""

    interval_s: Annotated[float, number(lo=5, hi=3600, expected="seconds in [5, 3600]")] = Field(
        60.0, alias="RECONCILE_INTERVAL_S"
    )
    drift_tolerance_usdt: Annotated[Decimal, decimal(Decimal(0))] = Field(
        Decimal("10"), alias="NAV_DRIFT_TOLERANCE_USDT"
    )
    drift_tolerance_pct: Annotated[Decimal, decimal(Decimal(0))] = Field(
        Decimal("0.5"), alias="NAV_DRIFT_TOLERANCE_PCT"
    )
    drift_hold: Annotated[bool, flag()] = Field(True, alias="NAV_DRIFT_HOLD")  # trip HOLD beyond tolerance


def _venue(name: str) -> Any:
    return {"venue": name}


class Credentials(EnvGroup):
    """Venue API keys and the two-man approval token: secrets, shown as ********** everywhere."""

    binance_api_key: SecretStr = Field(SecretStr(""), alias="BINANCE_API_KEY", json_schema_extra=_venue("binance_um"))
    binance_api_secret: SecretStr = Field(
        SecretStr(""), alias="BINANCE_API_SECRET", json_schema_extra=_venue("binance_um")
    )
    okx_api_key: SecretStr = Field(SecretStr(""), alias="OKX_API_KEY", json_schema_extra=_venue("okx_perp"))
    okx_api_secret: SecretStr = Field(SecretStr(""), alias="OKX_API_SECRET", json_schema_extra=_venue("okx_perp"))
    okx_passphrase: SecretStr = Field(SecretStr(""), alias="OKX_PASSPHRASE", json_schema_extra=_venue("okx_perp"))
    approve_token: SecretStr = Field(SecretStr(""), alias="APPROVE_TOKEN")  # resume-confirm's token

    def has_keys(self, venue: str) -> bool:
        """Any key of `venue` set (a half-configured venue is then refused by name, not skipped)."""
        return any(self.secret(v) for v in VENUE_KEYS[venue])


# -- Telegram, dashboard, operators ---------------------------------------------------------------
class TelegramEnv(EnvGroup):
    """The Bot API: ops alerts from the executor and the 8-hour heartbeat."""

    bot_token: Annotated[SecretStr, stripped()] = Field(SecretStr(""), alias="TELEGRAM_BOT_TOKEN")
    chat_id: Annotated[str, stripped()] = Field("", alias="TELEGRAM_CHAT_ID")
    api_base: Annotated[str, stripped()] = Field("", alias="TELEGRAM_API_BASE")  # "" = api.telegram.org


class HeartbeatEnv(EnvGroup):
    tz: Annotated[str, time_zone()] = Field("UTC", alias="HEARTBEAT_TZ")
    timeout_s: Annotated[float, number(lo=0, hi=120, lo_open=True, expected="seconds in (0, 120]")] = Field(
        10.0, alias="TELEGRAM_TIMEOUT_S"
    )


class TelegramBotEnv(EnvGroup):
    """The operators' Telegram commands bot (telegram/bot.py): who may talk to it, how it polls."""

    allowed_chats: Annotated[str, stripped()] = Field("", alias="TELEGRAM_BOT_ALLOWED_CHATS")  # ids, comma-separated
    allowed_users: Annotated[str, stripped()] = Field("", alias="TELEGRAM_BOT_ALLOWED_USERS")  # ids, comma-separated
    poll_s: Annotated[int, integer(0, 50, expected="seconds 0-50 (getUpdates long-poll timeout)")] = Field(
        25, alias="TELEGRAM_BOT_POLL_S"
    )
    offset_file: Annotated[str, stripped()] = Field("", alias="TELEGRAM_BOT_OFFSET_FILE")  # "" = STATE_DIR/...

    @staticmethod
    def ids(raw: str) -> frozenset[int]:
        out = set()
        for part in raw.replace(" ", "").split(","):
            if part:
                try:
                    out.add(int(part))
                except ValueError:
                    raise ConfigError(
                        ".env", "TELEGRAM_BOT_ALLOWED_*", "numeric Telegram ids, comma-separated", part
                    ) from None
        return frozenset(out)


def _between(lo: float, hi: float) -> Any:
    return number(lo=lo, hi=hi, expected=f"a number between {lo:g} and {hi:g}")


class DashboardEnv(EnvGroup):
    """The investor page. Its Firestore reader uses a read-only service account of its own."""

    stale_minutes: Annotated[float, _between(0.01, 24 * 60)] = Field(5.0, alias="DASHBOARD_STALE_MINUTES")
    refresh_s: Annotated[float, _between(1, 3600)] = Field(5.0, alias="DASHBOARD_REFRESH_SECONDS")
    cache_s: Annotated[float | None, _between(0, 3600)] = Field(None, alias="DASHBOARD_CACHE_SECONDS")
    chart_points: Annotated[float, _between(50, 20000)] = Field(1500.0, alias="DASHBOARD_CHART_POINTS")
    default_range: Annotated[str, stripped()] = Field("30d", alias="DASHBOARD_DEFAULT_RANGE")
    credentials_file: Annotated[str, stripped()] = Field("", alias="DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS")


# -- monitoring -----------------------------------------------------------------------------------
class MetricsEnv(EnvGroup):
    """The executor's Prometheus exporter (127.0.0.1 only) and what the monitoring config needs."""

    port: Annotated[int, integer(0, 65535, expected="a TCP port 1-65535 (0 or empty: no metrics)")] = Field(
        0, alias="METRICS_PORT"
    )
    alertmanager_token_file: Annotated[str, stripped()] = Field("", alias="ALERTMANAGER_TELEGRAM_TOKEN_FILE")


class WatchdogEnv(EnvGroup):
    """When the executor counts as DOWN (ctl status, the cron watchdog) and where the watchdog remembers."""

    stale_s: Annotated[float, number(lo=0, hi=30 * 86_400, lo_open=True, expected="seconds in (0, 2592000]")] = Field(
        300.0, alias="WATCHDOG_STALE_S"
    )
    state_file: Path | None = Field(None, alias="WATCHDOG_STATE_FILE")  # None: STATE_DIR/watchdog_state.json

    @property
    def stale_ms(self) -> int:
        return int(self.stale_s * 1000)


GROUPS: tuple[type[EnvGroup], ...] = (
    ProfileEnv,
    RunEnv,
    LogEnv,
    FundEnv,
    StoreEnv,
    LiveFeedEnv,
    EndpointsEnv,
    VenueEnv,
    ExecutionEnv,
    ReconcileEnv,
    Credentials,
    TelegramEnv,
    HeartbeatEnv,
    TelegramBotEnv,
    DashboardEnv,
    MetricsEnv,
    WatchdogEnv,
)

# Every secret's variable name, from the SecretStr fields (what logs and exports redact).
SECRET_NAMES: tuple[str, ...] = tuple(
    f.alias or name for g in GROUPS for name, f in g.model_fields.items() if f.annotation is SecretStr
)
# The credential variables of each venue, from the Credentials fields tagged with it.
VENUE_KEYS: dict[str, tuple[str, ...]] = {
    venue: tuple(
        f.alias or name
        for name, f in Credentials.model_fields.items()
        if isinstance(f.json_schema_extra, dict) and f.json_schema_extra.get("venue") == venue
    )
    for venue in VENUES
}


_SECRET_GROUPS = tuple(g for g in GROUPS if any(f.annotation is SecretStr for f in g.model_fields.values()))


def secret_values(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of every secret set in `env` (default: the process environment), as the
    groups read them. (The groups holding secrets validate nothing else, so this never fails.)"""
    return tuple(v for g in _SECRET_GROUPS for v in read_env(g, env).secret_values())


@dataclass(frozen=True)
class VenueAccess:
    """What a venue adapter (and an account stream) needs: keys, base URLs, margin type, timeout."""

    credentials: Credentials
    endpoints: EndpointsEnv
    venue: VenueEnv

    @classmethod
    def read(cls, env: Mapping[str, str] | None = None, *, on_bad: OnBad | None = None) -> VenueAccess:
        return cls(
            read_env(Credentials, env, on_bad=on_bad),
            read_env(EndpointsEnv, env, on_bad=on_bad),
            read_env(VenueEnv, env, on_bad=on_bad),
        )


def declared_values(env: Mapping[str, str] | None = None, exclude: Iterable[str] = ()) -> tuple[tuple[str, str], ...]:
    """Every declared variable set in `env` (default: the process environment), secrets excepted:
    what a process hands to another that must run with the same settings (a research worker)."""
    source = os.environ if env is None else env
    names = {n for g in GROUPS for n in g.variables()} - set(SECRET_NAMES) - set(exclude)
    return tuple((k, source[k]) for k in sorted(names) if k in source)
