"""Arbitrage settings: `config/arbitrage.json`, validated at start into one typed object.

Same contract as `execution.settings`: a missing, unknown or wrong field raises `ConfigError`
naming the file, the field and what was expected (the entry point prints one line, exit 2).
Defaults are the conservative ones: taker on both legs, legs sent concurrently, and
`reject_if_unhedged` (whatever one leg filled beyond the other is closed at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from execution.arb.symbols import BINANCE, OKX, split_pair, venue_symbol
from execution.models import FeeSchedule, MarginType
from execution.settings import VENUES, ConfigError, _Fields, _load_json
from execution.settings.fields import config_file_present
from execution.settings.files import MAX_BPS, MAX_FEE_RATE

FILE_NAME = "arbitrage.json"
LEG_MODES = ("concurrent", "sequential")
PARTIAL_FILL_POLICIES = ("reject_if_unhedged", "flatten_all")
FEE_MODES = ("auto", "manual")


@dataclass(frozen=True)
class PairConfig:
    pair: str  # BASE-QUOTE
    symbols: dict[str, str]  # venue -> venue symbol
    target_notional_usdt: Decimal  # size of one attempt (per leg)
    max_notional_usdt: Decimal  # per pair and leg, on top of the global caps
    leverage: int
    margin_type: MarginType


@dataclass(frozen=True)
class FundingConfig:
    include_next_window: bool  # count the next settlement if the pair will be held across it
    avoid_window_minutes: float  # no entry this close to a settlement on either venue
    expected_holding_minutes: float  # "held across the next window" means: settles within this
    exit_against_bps: Decimal  # close when the next window would cost more than this
    interval_hours: float  # used to predict the next settlement time from the last one


@dataclass(frozen=True)
class Caps:
    per_symbol_usdt: Decimal  # gross notional of arbitrage legs on one venue symbol
    per_venue_usdt: Decimal  # gross notional of arbitrage legs on one venue
    total_usdt: Decimal  # gross notional of all arbitrage legs


@dataclass(frozen=True)
class ArbConfig:
    source: str
    enabled: bool
    auto: bool  # scan and execute on every book update; False: operator `execute` only
    venues: tuple[str, str]  # (leg A venue, leg B venue): sequential mode sends A first
    pairs: dict[str, PairConfig]
    min_edge_bps: Decimal
    exit_edge_bps: Decimal
    max_holding_minutes: float
    max_latency_ms: int  # the oldest a book may be when a decision is taken on it
    max_leg_slippage_bps: Decimal
    expected_slippage_bps: dict[str, Decimal]
    prefer_maker: bool  # the entry leg on maker_venue goes first as a post-only limit
    maker_venue: str
    maker_timeout_ms: int  # then cancelled, and a market order takes what it did not fill
    leg_mode: str
    partial_fill_policy: str
    leg_timeout_ms: int
    fee_mode: str
    manual_fees: dict[str, FeeSchedule]
    funding: FundingConfig
    caps: Caps
    cross_venue_delta_abs_max_usd: Decimal
    max_clock_skew_ms: int
    basis_window: int
    basis_min_samples: int
    basis_sample_ms: int  # one basis sample per interval (the last value in it)
    max_rescues_per_min: int
    max_fill_mismatch_ratio: float
    mismatch_window: int
    not_found_limit: int  # an unknown-outcome order not found this many times is taken as never placed
    health_refresh_ms: int  # how often venue time and account settings are re-read

    def pair_for(self, venue: str, symbol: str) -> PairConfig | None:
        for p in self.pairs.values():
            if p.symbols.get(venue) == symbol:
                return p
        return None

    def fees_for(self, venue: str) -> FeeSchedule | None:
        return self.manual_fees.get(venue) if self.fee_mode == "manual" else None


def _fees(f: _Fields, venue: str) -> FeeSchedule:
    v = f.obj(venue)
    fees = FeeSchedule(
        maker_rate=v.decimal("maker", lo=-MAX_FEE_RATE, hi=MAX_FEE_RATE),
        taker_rate=v.decimal("taker", lo=0, hi=MAX_FEE_RATE),
    )
    v.no_unknown()
    return fees


def parse(source: str, data: object) -> ArbConfig:
    f = _Fields(source, data)
    venues = f.string_list("venues", [BINANCE, OKX])
    if len(venues) != 2 or len(set(venues)) != 2 or not all(v in VENUES for v in venues):
        raise ConfigError(source, "venues", f"two different venues out of {list(VENUES)}", venues)
    pf = f.raw("pairs")
    if not isinstance(pf, list) or not pf:
        raise ConfigError(source, "pairs", "a non-empty list of pair objects", pf)
    pairs: dict[str, PairConfig] = {}
    for i, raw in enumerate(pf):
        p = _Fields(source, raw, f"pairs[{i}]")
        name = p.string("pair")
        try:
            split_pair(name)
        except ValueError as exc:
            raise ConfigError(source, f"pairs[{i}].pair", "BASE-QUOTE such as 'BTC-USDT'", name) from exc
        if name in pairs:
            raise ConfigError(source, f"pairs[{i}].pair", "each pair listed once", name)
        symbols = {v: venue_symbol(name, v) for v in venues}
        target = p.decimal("target_notional_usdt", lo=0, lo_open=True, hi=1e9)
        pairs[name] = PairConfig(
            pair=name,
            symbols=symbols,
            target_notional_usdt=target,
            max_notional_usdt=p.decimal("max_notional_usdt", str(target), lo=0, hi=1e9),
            leverage=p.integer("leverage", 1, lo=1, hi=125),
            margin_type=MarginType(p.string("margin_type", MarginType.CROSS.value, tuple(m.value for m in MarginType))),
        )
        p.no_unknown()

    fees = f.obj("fees", {"mode": "auto"})
    fee_mode = fees.string("mode", "auto", FEE_MODES)
    manual: dict[str, FeeSchedule] = {}
    if fee_mode == "manual" or "manual" in fees.data:  # checked even when unused: a switch to manual is one word
        mf = fees.obj("manual")
        manual = {v: _fees(mf, v) for v in venues}
        mf.no_unknown()
    fees.no_unknown()

    fu = f.obj("funding", {})
    funding = FundingConfig(
        include_next_window=fu.boolean("include_next_window", True),
        avoid_window_minutes=fu.number("avoid_window_minutes", 5, lo=0, hi=480),
        expected_holding_minutes=fu.number("expected_holding_minutes", 480, lo=0, hi=1_000_000),
        exit_against_bps=fu.decimal("exit_against_bps", "2", lo=0, hi=MAX_BPS),
        interval_hours=fu.number("interval_hours", 8, lo=0, lo_open=True, hi=24),
    )
    fu.no_unknown()

    cf = f.obj("caps")
    caps = Caps(
        per_symbol_usdt=cf.decimal("per_symbol_usdt", lo=0, hi=1e12),
        per_venue_usdt=cf.decimal("per_venue_usdt", lo=0, hi=1e12),
        total_usdt=cf.decimal("total_usdt", lo=0, hi=1e12),
    )
    cf.no_unknown()

    sf = f.obj("expected_slippage_bps", {})
    slippage = {v: sf.decimal(v, "2", lo=0, hi=MAX_BPS) for v in venues}
    sf.no_unknown()

    bf = f.obj("basis", {})
    basis_window = bf.integer("window", 96, lo=2, hi=100_000)
    basis_min = bf.integer("min_samples", 24, lo=0, hi=100_000)
    basis_sample_ms = bf.integer("sample_ms", 900_000, lo=1, hi=86_400_000)
    bf.no_unknown()
    if basis_min > basis_window:
        raise ConfigError(source, "basis.min_samples", f"<= basis.window {basis_window}", basis_min)

    rf = f.obj("risk", {})
    max_rescues = rf.integer("max_rescues_per_min", 2, lo=1, hi=1000)
    mismatch_ratio = rf.number("max_fill_mismatch_ratio", 0.2, lo=0, hi=1)
    mismatch_window = rf.integer("mismatch_window", 20, lo=1, hi=100_000)
    rf.no_unknown()

    cfg = ArbConfig(
        source=source,
        enabled=f.boolean("enabled", True),
        auto=f.boolean("auto", True),
        venues=(venues[0], venues[1]),
        pairs=pairs,
        min_edge_bps=f.decimal("min_edge_bps", lo=0, lo_open=True, hi=MAX_BPS),  # a negative edge loses by design
        exit_edge_bps=f.decimal("exit_edge_bps", "0.5", lo=-MAX_BPS, hi=MAX_BPS),
        max_holding_minutes=f.number("max_holding_minutes", 1440, lo=0, lo_open=True, hi=1_000_000),
        max_latency_ms=f.integer("max_latency_ms", lo=1, hi=600_000),
        max_leg_slippage_bps=f.decimal("max_leg_slippage_bps", lo=0, hi=MAX_BPS),
        expected_slippage_bps=slippage,
        prefer_maker=f.boolean("prefer_maker", False),
        maker_venue=f.string("maker_venue", venues[0], tuple(venues)),
        maker_timeout_ms=f.integer("maker_timeout_ms", 2_000, lo=1),
        leg_mode=f.string("leg_mode", "concurrent", LEG_MODES),
        partial_fill_policy=f.string("partial_fill_policy", "reject_if_unhedged", PARTIAL_FILL_POLICIES),
        leg_timeout_ms=f.integer("leg_timeout_ms", 10_000, lo=1, hi=3_600_000),
        fee_mode=fee_mode,
        manual_fees=manual,
        funding=funding,
        caps=caps,
        cross_venue_delta_abs_max_usd=f.decimal("cross_venue_delta_abs_max_usd", lo=0, lo_open=True, hi=1e9),
        max_clock_skew_ms=f.integer("max_clock_skew_ms", 1000, lo=1, hi=600_000),
        basis_window=basis_window,
        basis_min_samples=basis_min,
        basis_sample_ms=basis_sample_ms,
        max_rescues_per_min=max_rescues,
        max_fill_mismatch_ratio=mismatch_ratio,
        mismatch_window=mismatch_window,
        not_found_limit=f.integer("not_found_limit", 3, lo=1, hi=100),
        health_refresh_ms=f.integer("health_refresh_ms", 60_000, lo=1, hi=86_400_000),
    )
    if cfg.exit_edge_bps >= cfg.min_edge_bps:
        raise ConfigError(source, "exit_edge_bps", f"< min_edge_bps {cfg.min_edge_bps}", str(cfg.exit_edge_bps))
    f.no_unknown({"_comment"})
    if cfg.maker_timeout_ms > cfg.leg_timeout_ms:
        raise ConfigError(source, "maker_timeout_ms", f"<= leg_timeout_ms {cfg.leg_timeout_ms}", cfg.maker_timeout_ms)
    if cfg.expected_slippage_bps and max(cfg.expected_slippage_bps.values()) > cfg.max_leg_slippage_bps:
        raise ConfigError(
            source,
            "expected_slippage_bps",
            f"<= max_leg_slippage_bps {cfg.max_leg_slippage_bps} on every venue",
            {k: str(v) for k, v in cfg.expected_slippage_bps.items()},
        )
    return cfg


def load(config_dir: Path) -> ArbConfig | None:
    """The arbitrage config, or None when the file is absent (arbitrage off)."""
    path = Path(config_dir) / FILE_NAME
    if not config_file_present(path):  # a symlink to nothing is present: refused, never "arbitrage off"
        return None
    return parse(str(path), _load_json(path))
