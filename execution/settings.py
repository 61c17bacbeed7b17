"""Settings: `.env` + the JSON files in CONFIG_DIR, validated at start into one typed object.

Any missing, unknown or wrong field raises `ConfigError` naming the file, the field and what
was expected; entry points turn it into one line on stderr and exit code 2, before any market
data is read or any order is sent.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from execution.models import FeeSchedule, SymbolFilters

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROFILES = ("paper", "testnet", "live")
FEEDS = ("generated", "replay", "live")
VENUES = ("binance_um", "okx_perp")
TIMEFRAMES = {"15m": 900_000}


class ConfigError(Exception):
    def __init__(self, source: str, field_name: str, expected: str, got: Any = None, missing: bool = False):
        self.source, self.field_name, self.expected = source, field_name, expected
        got_text = "missing" if missing else f"got {got!r}"
        super().__init__(f"config error: {source}: field '{field_name}': expected {expected}, {got_text}")


_MISSING = object()


class _Fields:
    """Typed access to one JSON object with the path of every field, for exact error lines."""

    def __init__(self, source: str, data: Any, prefix: str = ""):
        self.source, self.prefix = source, prefix
        if not isinstance(data, dict):
            raise ConfigError(source, prefix or "<top level>", "a JSON object", data)
        self.data = data
        self._seen: set[str] = set()

    def _path(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _get(self, key: str, default: Any) -> Any:
        self._seen.add(key)
        value = self.data.get(key, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ConfigError(self.source, self._path(key), "a value", missing=True)
            return default
        return value

    def number(
        self, key: str, default: Any = _MISSING, lo: float | None = None, hi: float | None = None, lo_open: bool = False
    ) -> float:
        value = self._get(key, default)
        bounds = _bounds_text(lo, hi, lo_open)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        if (lo is not None and (value <= lo if lo_open else value < lo)) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"a number{bounds}", value)
        return float(value)

    def integer(self, key: str, default: Any = _MISSING, lo: int | None = None, hi: int | None = None) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ConfigError(self.source, self._path(key), f"an integer{_bounds_text(lo, hi)}", value)
        return value

    def decimal(self, key: str, default: Any = _MISSING, lo: float | None = None, lo_open: bool = False) -> Decimal:
        value = self._get(key, default)
        try:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise InvalidOperation
            dec = Decimal(str(value))
            if not dec.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise ConfigError(
                self.source, self._path(key), f"a decimal number{_bounds_text(lo, None, lo_open)}", value
            ) from None
        if lo is not None and (dec <= Decimal(str(lo)) if lo_open else dec < Decimal(str(lo))):
            raise ConfigError(self.source, self._path(key), f"a decimal number{_bounds_text(lo, None, lo_open)}", value)
        return dec

    def string(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> str:
        value = self._get(key, default)
        if not isinstance(value, str) or (choices and value not in choices):
            raise ConfigError(self.source, self._path(key), f"one of {list(choices)}" if choices else "a string", value)
        return value

    def boolean(self, key: str, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(self.source, self._path(key), "true or false", value)
        return value

    def obj(self, key: str, default: Any = _MISSING) -> _Fields:
        return _Fields(self.source, self._get(key, default), self._path(key))

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        return self._get(key, default)

    def string_list(self, key: str, default: Any = _MISSING) -> list[str]:
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(self.source, self._path(key), "a list of non-empty strings", value)
        return value

    def no_unknown(self, allowed: set[str] | None = None) -> None:
        known = self._seen | (allowed or set())
        for key in self.data:
            if key not in known:
                raise ConfigError(self.source, self._path(key), f"no such field (known: {sorted(known)})", key)


def _bounds_text(lo: float | None, hi: float | None, lo_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f" in [{lo}, {hi}]" if not lo_open else f" in ({lo}, {hi}]"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f" <= {hi}"
    return ""


# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StrategyParams:
    timeframe: str
    mode: str  # momentum: z crossing up buys; mean_reversion: z crossing down buys
    z_window: int
    z_threshold: float
    rsi_period: int
    rsi_buy_max: float
    rsi_sell_min: float
    atr_period: int
    capital_per_trade: Decimal
    leverage: int
    sl_atr: float
    tp_atr: float
    max_hold_bars: int
    cooldown_bars: int

    @property
    def warmup_bars(self) -> int:
        return max(self.z_window, self.rsi_period + 1, self.atr_period) + 1


@dataclass(frozen=True)
class SymbolConfig:
    symbol: str
    venue: str
    strategy: StrategyParams
    target_leverage: int
    min_notional: Decimal | None  # an override of the venue's filter, never looser than the venue


@dataclass(frozen=True)
class RiskLimits:
    kill_dd_pct: float
    kill_daily_loss_pct: float
    max_positions: int
    max_leverage: float
    max_notional_per_symbol_usdt: Decimal
    max_gross_notional_usdt: Decimal
    max_orders_per_min: int
    max_cancels_per_min: int
    day_boundary_tz: str
    stale_data_ms: int
    max_clock_skew_ms: int
    min_margin_ratio: float


@dataclass(frozen=True)
class VenueConfig:
    name: str
    fees: FeeSchedule
    slippage_bps: Decimal
    half_spread_bps: Decimal


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
    hedge_env: str
    log_level: str
    account_log_interval_s: float
    screener_venue: str
    symbols: dict[str, SymbolConfig]
    default_strategy: StrategyParams
    risk: RiskLimits
    venues: dict[str, VenueConfig]
    filters: dict[tuple[str, str], SymbolFilters]
    env: dict[str, str] = field(default_factory=dict, repr=False)  # secrets live here, never printed

    def symbol_config(self, symbol: str, venue: str | None = None) -> SymbolConfig:
        """Configured block, or the defaults for a symbol found only in a market directory."""
        cfg = self.symbols.get(symbol)
        if cfg is not None:
            return cfg
        return SymbolConfig(
            symbol, venue or self.screener_venue, self.default_strategy, self.default_strategy.leverage, None
        )

    def secret(self, name: str) -> str:
        return self.env.get(name, "")


# ---------------------------------------------------------------------------------------------
def _load_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "<file>", "an existing JSON file", missing=True) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(str(path), f"<line {exc.lineno} col {exc.colno}>", "valid JSON", exc.msg) from None


STRATEGY_FIELDS = {
    "timeframe",
    "mode",
    "z_window",
    "z_threshold",
    "rsi_period",
    "rsi_buy_max",
    "rsi_sell_min",
    "atr_period",
    "capital_per_trade",
    "leverage",
    "sl_atr",
    "tp_atr",
    "max_hold_bars",
    "cooldown_bars",
}


def _strategy(f: _Fields, base: StrategyParams | None) -> StrategyParams:
    def d(name: str) -> Any:
        return getattr(base, name) if base is not None else _MISSING

    params = StrategyParams(
        timeframe=f.string("timeframe", d("timeframe"), tuple(TIMEFRAMES)),
        mode=f.string("mode", d("mode"), ("momentum", "mean_reversion")),
        z_window=f.integer("z_window", d("z_window"), lo=2, hi=10_000),
        z_threshold=f.number("z_threshold", d("z_threshold"), lo=0, hi=10, lo_open=True),
        rsi_period=f.integer("rsi_period", d("rsi_period"), lo=2, hi=1000),
        rsi_buy_max=f.number("rsi_buy_max", d("rsi_buy_max"), lo=0, hi=100),
        rsi_sell_min=f.number("rsi_sell_min", d("rsi_sell_min"), lo=0, hi=100),
        atr_period=f.integer("atr_period", d("atr_period"), lo=1, hi=1000),
        capital_per_trade=f.decimal(
            "capital_per_trade", str(base.capital_per_trade) if base else _MISSING, lo=0, lo_open=True
        ),
        leverage=f.integer("leverage", d("leverage"), lo=1, hi=125),
        sl_atr=f.number("sl_atr", d("sl_atr"), lo=0, hi=100, lo_open=True),
        tp_atr=f.number("tp_atr", d("tp_atr"), lo=0, hi=100, lo_open=True),
        max_hold_bars=f.integer("max_hold_bars", d("max_hold_bars"), lo=0),
        cooldown_bars=f.integer("cooldown_bars", d("cooldown_bars"), lo=0),
    )
    f.no_unknown()
    return params


def _risk(path: Path) -> RiskLimits:
    f = _Fields(str(path), _load_json(path))
    limits = RiskLimits(
        kill_dd_pct=f.number("KILL_DD_PCT", lo=0, hi=100, lo_open=True),
        kill_daily_loss_pct=f.number("KILL_DAILY_LOSS_PCT", lo=0, hi=100, lo_open=True),
        max_positions=f.integer("MAX_POSITIONS", lo=0),
        max_leverage=f.number("MAX_LEVERAGE", lo=0, hi=125, lo_open=True),
        max_notional_per_symbol_usdt=f.decimal("MAX_NOTIONAL_PER_SYMBOL_USDT", lo=0),
        max_gross_notional_usdt=f.decimal("MAX_GROSS_NOTIONAL_USDT", lo=0),
        max_orders_per_min=f.integer("MAX_ORDERS_PER_MIN", 60, lo=1),
        max_cancels_per_min=f.integer("MAX_CANCELS_PER_MIN", 60, lo=1),
        day_boundary_tz=f.string("DAY_BOUNDARY_TZ", "UTC"),
        stale_data_ms=f.integer("STALE_DATA_MS", 120_000, lo=1),
        max_clock_skew_ms=f.integer("MAX_CLOCK_SKEW_MS", 1_000, lo=1),
        min_margin_ratio=f.number("MIN_MARGIN_RATIO", 1.5, lo=1),
    )
    f.no_unknown({"_comment"})
    try:
        ZoneInfo(limits.day_boundary_tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            str(path), "DAY_BOUNDARY_TZ", "an IANA time zone such as UTC or Europe/Zurich", limits.day_boundary_tz
        ) from None
    return limits


def _venues(path: Path) -> dict[str, VenueConfig]:
    f = _Fields(str(path), _load_json(path))
    out = {}
    for name in VENUES:
        v = f.obj(name)
        out[name] = VenueConfig(
            name=name,
            fees=FeeSchedule(maker_rate=v.decimal("maker_fee", lo=-0.01), taker_rate=v.decimal("taker_fee", lo=0)),
            slippage_bps=v.decimal("slippage_bps", lo=0),
            half_spread_bps=v.decimal("half_spread_bps", lo=0),
        )
        v.no_unknown()
    f.no_unknown({"_comment"})
    return out


def _filters(path: Path) -> dict[tuple[str, str], SymbolFilters]:
    f = _Fields(str(path), _load_json(path))
    out: dict[tuple[str, str], SymbolFilters] = {}
    for venue in VENUES:
        per = f.obj(venue, {})
        for symbol in list(per.data):
            s = per.obj(symbol)
            ct_val = s.decimal("contract_value", "1", lo=0, lo_open=True)
            step = s.decimal("step_size", lo=0, lo_open=True)
            out[(venue, symbol)] = SymbolFilters(
                venue=venue,
                symbol=symbol,
                tick_size=s.decimal("tick_size", lo=0, lo_open=True),
                step_size=step,
                min_qty=s.decimal("min_qty", lo=0),
                max_qty=s.decimal("max_qty", lo=0),
                min_notional=s.decimal("min_notional", "0", lo=0),
                market_step_size=s.decimal("market_step_size", str(step), lo=0, lo_open=True),
                market_max_qty=s.decimal("market_max_qty", "0", lo=0) or None,
                contract_value=ct_val,
                min_price=s.decimal("min_price", "0", lo=0),
                max_price=s.decimal("max_price", "0", lo=0),
                source="config",
            )
            s.no_unknown()
    f.no_unknown({"_comment", "_source"})
    return out


def _universe(
    path: Path, defaults: StrategyParams, per_symbol: dict[str, _Fields]
) -> tuple[str, dict[str, SymbolConfig]]:
    f = _Fields(str(path), _load_json(path))
    venue = f.string("screener_venue", "binance_um", VENUES)
    symbols = f.string_list("symbols")
    overrides = f.obj("overrides", {})
    out = {}
    for sym in symbols:
        strat = _strategy(per_symbol[sym], defaults) if sym in per_symbol else defaults
        o = overrides.obj(sym, {})
        out[sym] = SymbolConfig(
            symbol=sym,
            venue=o.string("venue", venue, VENUES),
            strategy=strat,
            target_leverage=o.integer("target_leverage", strat.leverage, lo=1, hi=125),
            min_notional=o.decimal("min_notional", lo=0) if "min_notional" in o.data else None,
        )
        o.no_unknown({"min_notional"})
    for sym in overrides.data:
        if sym not in out:
            raise ConfigError(str(path), f"overrides.{sym}", f"a symbol listed in 'symbols' {symbols}", sym)
    for sym in per_symbol:
        if sym not in out:
            raise ConfigError(
                per_symbol[sym].source, f"symbols.{sym}", f"a symbol listed in {path.name} 'symbols' {symbols}", sym
            )
    f.no_unknown({"_comment"})
    return venue, out


def _env_bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    low = raw.strip().lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise ConfigError(".env", name, "true or false", raw)


def _env_choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name) or default
    if value not in choices:
        raise ConfigError(".env", name, f"one of {list(choices)}", value)
    return value


def _env_decimal(env: dict[str, str], name: str, default: str, lo: Decimal = Decimal(0)) -> Decimal:
    raw = env.get(name) or default
    try:
        value = Decimal(raw)
        if not value.is_finite() or value < lo:
            raise InvalidOperation
    except InvalidOperation:
        raise ConfigError(".env", name, f"a decimal number >= {lo}", raw) from None
    return value


def _env_number(env: dict[str, str], name: str, default: str, lo: float = 0.0) -> float:
    raw = env.get(name) or default
    try:
        value = float(raw)
        if not math.isfinite(value) or value < lo:
            raise ValueError
    except ValueError:
        raise ConfigError(".env", name, f"a number >= {lo}", raw) from None
    return value


def load_dotenv_file(env_file: str | None = None) -> None:
    """Load `.env` (or ENV_FILE) into os.environ without overriding what is already set."""
    from dotenv import load_dotenv

    path = Path(env_file or os.environ.get("ENV_FILE") or ".env")
    if path.is_file():
        load_dotenv(path, override=False)


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    env = dict(os.environ if env is None else env)
    env.update({k: str(v) for k, v in overrides.items() if v is not None})
    config_dir = Path(env.get("CONFIG_DIR") or PROJECT_ROOT / "config")
    state_dir = Path(env.get("STATE_DIR") or "data")
    if not config_dir.is_dir():
        raise ConfigError(".env", "CONFIG_DIR", "an existing directory", str(config_dir))

    strat_path = config_dir / "strategy_config.json"
    sf = _Fields(str(strat_path), _load_json(strat_path))
    defaults = _strategy(sf.obj("defaults"), None)
    per_symbol_f = sf.obj("symbols", {})
    per_symbol = {sym: per_symbol_f.obj(sym) for sym in per_symbol_f.data}
    sf.no_unknown({"_comment"})
    screener_venue, symbols = _universe(config_dir / "pairs_universe.json", defaults, per_symbol)
    risk = _risk(config_dir / "risk_limits.json")
    venues = _venues(config_dir / "venues.json")
    filters = _filters(config_dir / "venue_filters.json")

    profile = _env_choice(env, "PROFILE", "paper", PROFILES)
    feed = _env_choice(env, "FEED", "generated", FEEDS)
    market_dir = Path(env["MARKET_DIR"]) if env.get("MARKET_DIR") else None
    if feed == "replay" and market_dir is None:
        raise ConfigError(".env", "MARKET_DIR", "a market directory when FEED=replay", missing=True)
    speed_raw = (env.get("SPEED") or "900").strip().lower()
    speed = None if speed_raw == "max" else _env_number(env, "SPEED", "900", lo=0.001)
    seed_raw = env.get("SEED") or "7"
    if not seed_raw.isdigit():
        raise ConfigError(".env", "SEED", "a non-negative integer", seed_raw)
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(".env", "LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", log_level)
    settings = Settings(
        profile=profile,
        safe_mode=_env_bool(env, "SAFE_MODE", True),
        dry_run=_env_bool(env, "DRY_RUN_MODE", False),
        feed=feed,
        market_dir=market_dir,
        speed=speed,
        seed=int(seed_raw),
        config_dir=config_dir,
        state_dir=state_dir,
        initial_capital_usdt=_env_decimal(env, "INITIAL_CAPITAL_USDT", "10000", Decimal("0.01")),
        reserve_btc=_env_decimal(env, "RESERVE_BTC", "0.013"),
        hedge_env=env.get("HEDGE_ENV") or "prod",
        log_level=log_level,
        account_log_interval_s=_env_number(env, "ACCOUNT_LOG_INTERVAL_S", "60", lo=1),
        screener_venue=screener_venue,
        symbols=symbols,
        default_strategy=defaults,
        risk=risk,
        venues=venues,
        filters=filters,
        env=env,
    )
    _check_cross_field(settings)
    return settings


def _check_cross_field(s: Settings) -> None:
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
