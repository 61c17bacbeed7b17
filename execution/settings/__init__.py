"""The configuration tree: every environment variable and every JSON config file, read and validated here.

    names.py      vocabularies defined once: PROFILES, FEEDS, VENUES, TIMEFRAMES, LOG_LEVELS
    env.py        the environment variables, grouped by concern (pydantic models, secrets as
                  SecretStr), `read_env`, SECRET_NAMES, VENUE_KEYS
    env_file.py   `.env` read strictly (one line per variable, UTF-8, regular file), look-alike
                  variables warned about
    env_types.py  the validators behind them (each says what it expected)
    fields.py     `_Fields`: the validator of the JSON files
    files.py      the JSON files of CONFIG_DIR -> StrategyParams, RiskLimits, VenueConfig, ...
    guards.py     the guards' fields of risk_limits.json -> GuardLimits (and the denylist file)
    tree.py       `Settings` (everything the executor needs) and `load_settings`
    errors.py     `ConfigError`, the one error a bad setting raises (one line, exit 2)

No other module reads os.environ: the executor gets `Settings`, a process that needs less (the
dashboard, the heartbeat, the operator CLI, scripts) reads only its groups with `read_env`.
"""

from execution.settings.env import (
    GROUPS,
    SECRET_NAMES,
    VENUE_KEYS,
    Credentials,
    DashboardEnv,
    EndpointsEnv,
    EnvGroup,
    ExecutionEnv,
    FundEnv,
    HeartbeatEnv,
    LiveFeedEnv,
    LogEnv,
    MetricsEnv,
    ProfileEnv,
    ReconcileEnv,
    RunEnv,
    StoreEnv,
    TelegramBotEnv,
    TelegramEnv,
    VenueAccess,
    VenueEnv,
    WatchdogEnv,
    declared_values,
    read_env,
    secret_values,
)
from execution.settings.env_file import (
    adopt_env_file,
    env_file_exposure,
    env_file_values,
    load_dotenv_file,
    process_env_over_file,
    read_env_file,
    sudo_user,
)
from execution.settings.errors import ConfigError
from execution.settings.fields import _Fields, _load_json
from execution.settings.files import SIZERS, ConfigFiles, RiskLimits, StrategyParams, SymbolConfig, VenueConfig
from execution.settings.guards import GuardLimits
from execution.settings.names import (
    ENV_FILE,
    EXCHANGE_PROFILES,
    FEEDS,
    LOG_LEVELS,
    PROFILES,
    PROJECT_ROOT,
    TIMEFRAMES,
    VENUES,
)
from execution.settings.tree import Settings, load_settings

__all__ = [
    "ENV_FILE",
    "EXCHANGE_PROFILES",
    "FEEDS",
    "GROUPS",
    "SIZERS",
    "LOG_LEVELS",
    "PROFILES",
    "PROJECT_ROOT",
    "SECRET_NAMES",
    "TIMEFRAMES",
    "VENUES",
    "VENUE_KEYS",
    "ConfigError",
    "ConfigFiles",
    "Credentials",
    "DashboardEnv",
    "EndpointsEnv",
    "EnvGroup",
    "ExecutionEnv",
    "FundEnv",
    "GuardLimits",
    "HeartbeatEnv",
    "LiveFeedEnv",
    "LogEnv",
    "MetricsEnv",
    "ProfileEnv",
    "ReconcileEnv",
    "RiskLimits",
    "RunEnv",
    "Settings",
    "StoreEnv",
    "StrategyParams",
    "SymbolConfig",
    "TelegramBotEnv",
    "TelegramEnv",
    "VenueAccess",
    "VenueConfig",
    "VenueEnv",
    "WatchdogEnv",
    "_Fields",
    "_load_json",
    "adopt_env_file",
    "declared_values",
    "env_file_exposure",
    "env_file_values",
    "load_dotenv_file",
    "load_settings",
    "process_env_over_file",
    "read_env",
    "read_env_file",
    "secret_values",
    "sudo_user",
]
