"""`Settings`: the executor's typed configuration tree, `.env` groups + the JSON files, validated at start.

Any missing, unknown or wrong field raises `ConfigError` naming the file (`.env` for variables),
the field and what was expected; entry points turn it into one line on stderr and exit code 2,
before any market data is read or any order is sent.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from execution.margin import MarginSchedule
from execution.models import SymbolFilters
from execution.settings.env import (
    ExecutionEnv,
    FundEnv,
    LiveFeedEnv,
    LogEnv,
    MetricsEnv,
    ProfileEnv,
    ReconcileEnv,
    RunEnv,
    StoreEnv,
    TelegramEnv,
    VenueAccess,
    read_env,
)
from execution.settings.env_types import (
    APPROVE_TOKEN_MIN_CHARS,
    APPROVE_TOKEN_MIN_GUESSES_LOG10,
    approval_token_problem,
)
from execution.settings.errors import ConfigError
from execution.settings.files import RiskLimits, StrategyParams, SymbolConfig, VenueConfig, load_config_files
from execution.settings.guards import GuardLimits
from execution.settings.paths import is_directory


@dataclass(frozen=True)
class Settings:
    profile: str
    safe_mode: bool
    dry_run: bool
    feed: str
    market_dir: Path | None
    speed: float | None  # None = as fast as possible
    seed: int
    config_dir: Path
    state_dir: Path
    initial_capital_usdt: Decimal
    reserve_btc: Decimal
    benchmark_symbol: str  # on the screener venue: its mark is recorded beside every NAV point
    hedge_env: str
    log_level: str
    account_log_interval_s: float
    screener_venue: str
    symbols: dict[str, SymbolConfig]
    default_strategy: StrategyParams
    risk: RiskLimits
    guards: GuardLimits
    venues: dict[str, VenueConfig]
    filters: dict[tuple[str, str], SymbolFilters]
    margin_tiers: dict[tuple[str, str], MarginSchedule]  # configured leverage brackets / position tiers
    # the edges' groups, handed to the adapters that need them
    store: StoreEnv
    live: LiveFeedEnv
    access: VenueAccess  # venue keys (secret), base URLs, margin type, REST timeout
    telegram: TelegramEnv
    execution: ExecutionEnv  # protective orders, the stop validator, order retries and cut-backs
    metrics: MetricsEnv  # METRICS_PORT: the executor's Prometheus exporter (0: off)
    reconcile: ReconcileEnv  # the venue reconciler (testnet/live)

    @property
    def benchmark(self) -> tuple[str, str]:
        """(venue, symbol) whose mark the NAV history records as the benchmark."""
        return self.screener_venue, self.benchmark_symbol

    def symbol_config(self, symbol: str, venue: str | None = None) -> SymbolConfig:
        """Configured block, or the defaults for a symbol found only in a market directory."""
        cfg = self.symbols.get(symbol)
        if cfg is not None:
            return cfg
        return SymbolConfig(
            symbol, venue or self.screener_venue, self.default_strategy, self.default_strategy.leverage, None
        )

    def secret(self, name: str) -> str:
        """A secret by its variable name (e.g. APPROVE_TOKEN); "" when unset."""
        return self.access.credentials.secret(name) or self.telegram.secret(name)

    def secret_values(self) -> tuple[str, ...]:
        """Every secret that is set: what the logs redact."""
        return self.access.credentials.secret_values() + self.telegram.secret_values()


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Every group the executor needs from `env` (default: the process environment) with
    `overrides` on top, and the JSON files of CONFIG_DIR."""
    source = dict(os.environ if env is None else env)
    source.update({k: str(v) for k, v in overrides.items() if v is not None})
    run = read_env(RunEnv, source)
    if not is_directory(run.config_dir):
        raise ConfigError(".env", "CONFIG_DIR", "an existing directory", str(run.config_dir))
    files = load_config_files(run.config_dir)
    profile = read_env(ProfileEnv, source)
    if run.feed == "replay" and run.market_dir is None:
        raise ConfigError(".env", "MARKET_DIR", "a market directory when FEED=replay", missing=True)
    logging = read_env(LogEnv, source)
    store = read_env(StoreEnv, source)
    fund = read_env(FundEnv, source)
    settings = Settings(
        profile=profile.profile,
        safe_mode=profile.safe_mode,
        dry_run=profile.dry_run,
        feed=run.feed,
        market_dir=run.market_dir,
        speed=run.speed,
        seed=run.seed,
        config_dir=run.config_dir,
        state_dir=store.state_dir,
        initial_capital_usdt=run.initial_capital_usdt,
        reserve_btc=fund.reserve_btc,
        benchmark_symbol=fund.benchmark_symbol or _btc_perpetual(files.screener_venue),
        hedge_env=store.env_name,
        log_level=logging.log_level,
        account_log_interval_s=logging.account_log_interval_s,
        screener_venue=files.screener_venue,
        symbols=files.symbols,
        default_strategy=files.default_strategy,
        risk=files.risk,
        guards=files.guards,
        venues=files.venues,
        filters=files.filters,
        margin_tiers=files.margin_tiers,
        store=store,
        live=read_env(LiveFeedEnv, source),
        access=VenueAccess.read(source),
        telegram=read_env(TelegramEnv, source),
        execution=read_env(ExecutionEnv, source),
        metrics=read_env(MetricsEnv, source),
        reconcile=read_env(ReconcileEnv, source),
    )
    _check_cross_field(settings)
    check_state_dir(store.state_dir)  # last: a bad value anywhere else creates nothing
    return settings


def _btc_perpetual(venue: str) -> str:
    from execution.arb.symbols import venue_symbol

    try:
        return venue_symbol("BTC-USDT", venue)
    except ValueError:  # a venue without a symbol mapping: the Binance name
        return "BTCUSDT"


def check_state_dir(path: Path) -> None:
    """STATE_DIR must be a directory this process can create and write (not a file, not in /proc)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-probe.{os.getpid()}.tmp"  # a leftover is removed by the next start
        probe.write_bytes(b"")
        probe.unlink()
    except (OSError, ValueError) as exc:
        why = getattr(exc, "strerror", None) or type(exc).__name__
        raise ConfigError(
            ".env", "STATE_DIR", "a directory the executor can create and write", f"{path} ({why})"
        ) from None


def _check_cross_field(s: Settings) -> None:
    token = s.secret("APPROVE_TOKEN")
    weak = approval_token_problem(token) if token else None
    if weak:
        raise ConfigError(
            ".env",
            "APPROVE_TOKEN",
            f"a token of at least {APPROVE_TOKEN_MIN_CHARS} characters that resists 10^{APPROVE_TOKEN_MIN_GUESSES_LOG10} "
            "guesses (e.g. python -c 'import secrets; print(secrets.token_urlsafe(24))')",
            f"<hidden: {weak}>",
        )
    if s.profile != "paper" and s.feed != "live":
        raise ConfigError(
            ".env", "FEED", f"'live' for PROFILE={s.profile} (only paper trades on recorded data)", s.feed
        )
    universe = str(s.config_dir / "pairs_universe.json")
    strategy = str(s.config_dir / "strategy_config.json")
    limit = f"<= MAX_LEVERAGE {s.risk.max_leverage:g} of risk_limits.json"
    if s.default_strategy.leverage > s.risk.max_leverage:
        raise ConfigError(strategy, "defaults.leverage", limit, s.default_strategy.leverage)
    for sym, cfg in s.symbols.items():
        if cfg.strategy.leverage > s.risk.max_leverage:
            raise ConfigError(strategy, f"symbols.{sym}.leverage", limit, cfg.strategy.leverage)
        if cfg.target_leverage > s.risk.max_leverage:
            raise ConfigError(universe, f"overrides.{sym}.target_leverage", limit, cfg.target_leverage)
