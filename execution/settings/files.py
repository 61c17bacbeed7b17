"""The JSON files in CONFIG_DIR, validated into typed objects: strategy, universe, risk limits,
venues (fees, slippage) and venue filters.

    strategy_config.json  defaults + per-symbol overrides    -> StrategyParams
    pairs_universe.json   screened symbols, venue overrides  -> SymbolConfig
    risk_limits.json                                         -> RiskLimits
    venues.json           fees, slippage, half spread        -> VenueConfig
    venue_filters.json    tick/step/min-notional, margin tiers -> SymbolFilters, MarginSchedule
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from execution.margin import NOTIONAL, QTY, MarginSchedule, MarginTier, schedule, with_deductions
from execution.models import FeeSchedule, SymbolFilters
from execution.settings.errors import ConfigError
from execution.settings.fields import _MISSING, _Fields, _load_json
from execution.settings.guards import GUARD_FIELDS, GuardLimits, read_guards
from execution.settings.names import TIMEFRAMES, VENUES

MAX_FEE_RATE = 0.01  # 1% a fill: far above any venue's fee; 1e308 fees never reach the books
MAX_BPS = 1000


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
    sizer: str = "fixed"  # fixed: capital_per_trade x leverage; atr_risk_parity: risk_per_trade_pct at the stop
    risk_per_trade_pct: float = 0.1  # % of NAV lost if an atr_risk_parity entry hits its ATR stop

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
    "sizer",
    "risk_per_trade_pct",
}
SIZERS = ("fixed", "atr_risk_parity")


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
            "capital_per_trade", str(base.capital_per_trade) if base else _MISSING, lo=0, lo_open=True, hi=1e9
        ),
        leverage=f.integer("leverage", d("leverage"), lo=1, hi=125),
        sl_atr=f.number("sl_atr", d("sl_atr"), lo=0, hi=100, lo_open=True),
        tp_atr=f.number("tp_atr", d("tp_atr"), lo=0, hi=100, lo_open=True),
        max_hold_bars=f.integer("max_hold_bars", d("max_hold_bars"), lo=0, hi=1_000_000),
        cooldown_bars=f.integer("cooldown_bars", d("cooldown_bars"), lo=0, hi=1_000_000),
        sizer=f.string("sizer", base.sizer if base else "fixed", SIZERS),
        risk_per_trade_pct=f.number(
            "risk_per_trade_pct", base.risk_per_trade_pct if base else 0.1, lo=0, hi=10, lo_open=True
        ),
    )
    f.no_unknown()
    return params


def override_strategy(base: StrategyParams, values: dict[str, Any], source: str, prefix: str = "") -> StrategyParams:
    """`base` with `values` (strategy_config.json field names) on top, validated like the file:
    a bad value raises the same ConfigError (`source` names where the values came from)."""
    return _strategy(_Fields(source, dict(values), prefix), base)


def _risk(path: Path) -> tuple[RiskLimits, GuardLimits]:
    f = _Fields(str(path), _load_json(path))
    limits = RiskLimits(
        kill_dd_pct=f.number("KILL_DD_PCT", lo=0, hi=100, lo_open=True),
        kill_daily_loss_pct=f.number("KILL_DAILY_LOSS_PCT", lo=0, hi=100, lo_open=True),
        max_positions=f.integer("MAX_POSITIONS", lo=0, hi=1000),
        max_leverage=f.number("MAX_LEVERAGE", lo=0, hi=125, lo_open=True),
        max_notional_per_symbol_usdt=f.decimal("MAX_NOTIONAL_PER_SYMBOL_USDT", lo=0, hi=1e12),
        max_gross_notional_usdt=f.decimal("MAX_GROSS_NOTIONAL_USDT", lo=0, hi=1e12),
        max_orders_per_min=f.integer("MAX_ORDERS_PER_MIN", 60, lo=1, hi=100_000),
        max_cancels_per_min=f.integer("MAX_CANCELS_PER_MIN", 60, lo=1, hi=100_000),
        day_boundary_tz=f.string("DAY_BOUNDARY_TZ", "UTC"),
        stale_data_ms=f.integer("STALE_DATA_MS", 120_000, lo=1, hi=7 * 86_400_000),
        max_clock_skew_ms=f.integer("MAX_CLOCK_SKEW_MS", 1_000, lo=1, hi=600_000),
        min_margin_ratio=f.number("MIN_MARGIN_RATIO", 1.5, lo=1, hi=1000),
    )
    guards = read_guards(f, path.parent)
    f.no_unknown({"_comment", *GUARD_FIELDS})
    try:
        ZoneInfo(limits.day_boundary_tz)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            str(path), "DAY_BOUNDARY_TZ", "an IANA time zone such as UTC or Europe/Zurich", limits.day_boundary_tz
        ) from None
    return limits, guards


def _venues(path: Path) -> dict[str, VenueConfig]:
    f = _Fields(str(path), _load_json(path))
    out = {}
    for name in VENUES:
        v = f.obj(name)
        out[name] = VenueConfig(
            name=name,
            fees=FeeSchedule(
                maker_rate=v.decimal("maker_fee", lo=-MAX_FEE_RATE, hi=MAX_FEE_RATE),
                taker_rate=v.decimal("taker_fee", lo=0, hi=MAX_FEE_RATE),
            ),
            slippage_bps=v.decimal("slippage_bps", lo=0, hi=MAX_BPS),
            half_spread_bps=v.decimal("half_spread_bps", lo=0, hi=MAX_BPS),
        )
        v.no_unknown()
    f.no_unknown({"_comment"})
    return out


def _filters(path: Path) -> tuple[dict[tuple[str, str], SymbolFilters], dict[tuple[str, str], MarginSchedule]]:
    f = _Fields(str(path), _load_json(path))
    out: dict[tuple[str, str], SymbolFilters] = {}
    tiers: dict[tuple[str, str], MarginSchedule] = {}
    for venue in VENUES:
        per = f.obj(venue, {})
        for symbol in list(per.data):
            s = per.obj(symbol)
            ct_val = s.decimal("contract_value", "1", lo=0, lo_open=True, hi=1e6)
            step = s.decimal("step_size", lo=0, lo_open=True, hi=1e9)
            filters = SymbolFilters(
                venue=venue,
                symbol=symbol,
                tick_size=s.decimal("tick_size", lo=0, lo_open=True, hi=1e6),
                step_size=step,
                min_qty=s.decimal("min_qty", lo=0, hi=1e12),
                max_qty=s.decimal("max_qty", lo=0, hi=1e15),
                min_notional=s.decimal("min_notional", "0", lo=0, hi=1e9),
                market_step_size=s.decimal("market_step_size", str(step), lo=0, lo_open=True, hi=1e9),
                market_max_qty=s.decimal("market_max_qty", "0", lo=0, hi=1e15) or None,
                contract_value=ct_val,
                min_price=s.decimal("min_price", "0", lo=0, hi=1e12),
                max_price=s.decimal("max_price", "0", lo=0, hi=1e12),
                source="config",
            )
            if "margin_tiers" in s.data:
                tiers[(venue, symbol)] = _margin_tiers(s, venue, symbol)
            s.no_unknown()
            if filters.max_qty and filters.min_qty > filters.max_qty:
                raise ConfigError(
                    str(path), f"{venue}.{symbol}.min_qty", f"<= max_qty {filters.max_qty}", str(filters.min_qty)
                )
            if filters.max_price and filters.min_price > filters.max_price:
                raise ConfigError(
                    str(path),
                    f"{venue}.{symbol}.min_price",
                    f"<= max_price {filters.max_price}",
                    str(filters.min_price),
                )
            out[(venue, symbol)] = filters
    f.no_unknown({"_comment", "_source"})
    return out, tiers


def _margin_tiers(s: _Fields, venue: str, symbol: str) -> MarginSchedule:
    """`margin_tiers`: a list of {notional_floor, notional_cap} (Binance brackets, USDT) or
    {qty_floor, qty_cap} (OKX position tiers in base units) with maint_rate and max_leverage;
    cap 0 = no upper bound. Deductions are derived so maintenance is continuous."""
    raw = s.raw("margin_tiers")
    if not isinstance(raw, list) or not raw:
        raise ConfigError(s.source, f"{s.prefix}.margin_tiers", "a non-empty list of tiers", raw)
    rows, bases = [], set()
    for i, item in enumerate(raw):
        t = _Fields(s.source, item, f"{s.prefix}.margin_tiers[{i}]")
        basis = NOTIONAL if "notional_floor" in t.data else QTY
        bases.add(basis)
        rows.append(
            MarginTier(
                floor=t.decimal(f"{basis}_floor", lo=0),
                cap=t.decimal(f"{basis}_cap", lo=0),
                maint_rate=t.decimal("maint_rate", lo=0),
                max_leverage=t.integer("max_leverage", lo=1, hi=200),
            )
        )
        t.no_unknown()
    if len(bases) > 1:
        raise ConfigError(s.source, f"{s.prefix}.margin_tiers", "tiers all by notional or all by qty", raw)
    basis = bases.pop()
    try:
        return schedule(venue, symbol, basis, with_deductions(rows) if basis == NOTIONAL else rows, "config")
    except ValueError as exc:
        raise ConfigError(s.source, f"{s.prefix}.margin_tiers", "ordered, non-overlapping tiers", str(exc)) from None


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
            min_notional=o.decimal("min_notional", lo=0, hi=1e9) if "min_notional" in o.data else None,
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


@dataclass(frozen=True)
class ConfigFiles:
    """Everything the JSON files say, validated."""

    screener_venue: str
    symbols: dict[str, SymbolConfig]
    default_strategy: StrategyParams
    risk: RiskLimits
    guards: GuardLimits
    venues: dict[str, VenueConfig]
    filters: dict[tuple[str, str], SymbolFilters]
    margin_tiers: dict[tuple[str, str], MarginSchedule]


def load_config_files(config_dir: Path) -> ConfigFiles:
    strat_path = config_dir / "strategy_config.json"
    sf = _Fields(str(strat_path), _load_json(strat_path))
    defaults = _strategy(sf.obj("defaults"), None)
    per_symbol_f = sf.obj("symbols", {})
    per_symbol = {sym: per_symbol_f.obj(sym) for sym in per_symbol_f.data}
    sf.no_unknown({"_comment"})
    screener_venue, symbols = _universe(config_dir / "pairs_universe.json", defaults, per_symbol)
    risk, guards = _risk(config_dir / "risk_limits.json")
    filters, tiers = _filters(config_dir / "venue_filters.json")
    return ConfigFiles(
        screener_venue=screener_venue,
        symbols=symbols,
        default_strategy=defaults,
        risk=risk,
        guards=guards,
        venues=_venues(config_dir / "venues.json"),
        filters=filters,
        margin_tiers=tiers,
    )
