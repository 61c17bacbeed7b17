"""The search space file of a walk-forward: which strategy / sizing parameters, over which ranges.

    {
      "objective": "sharpe",            # sharpe | sortino | calmar | return (of each window)
      "min_trades": 10,                 # fewer closed round trips in a window: no score
      "params": {
        "z_threshold": {"low": 1.5, "high": 3.0, "step": 0.25},
        "z_window": {"low": 48, "high": 192, "step": 24},
        "mode": {"choices": ["momentum", "mean_reversion"]},
        "capital_per_trade": {"low": 250, "high": 1000, "step": 250}
      }
    }

Names are `config/strategy_config.json` fields (sizing: `capital_per_trade`, `leverage`). Every
bound and choice is validated like that file (a bad one: `config error: FILE: field
'params.z_window.low': expected ..., got ...`, exit 2), so any candidate optuna proposes is a
configuration the executor would accept.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from execution.research.backtest import BAR_MS, OBJECTIVES
from execution.settings import ConfigError, StrategyParams
from execution.settings.files import STRATEGY_FIELDS, override_strategy

INT_FIELDS = {"z_window", "rsi_period", "atr_period", "leverage", "max_hold_bars", "cooldown_bars"}
SEARCHABLE = sorted(STRATEGY_FIELDS - {"timeframe"})  # the recorded markets are 15m


@dataclass(frozen=True)
class Param:
    name: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()

    @property
    def is_int(self) -> bool:
        return self.name in INT_FIELDS and not self.choices

    def span(self) -> float | None:
        return None if self.choices else float(self.high or 0) - float(self.low or 0)


@dataclass(frozen=True)
class SearchSpace:
    source: str
    objective: str
    min_trades: int
    params: tuple[Param, ...]

    def suggest(self, trial: Any) -> dict[str, Any]:
        """One candidate from an optuna trial (ask-and-tell)."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.choices:
                out[p.name] = trial.suggest_categorical(p.name, list(p.choices))
            elif p.is_int:
                out[p.name] = trial.suggest_int(p.name, int(p.low or 0), int(p.high or 0), step=int(p.step or 1))
            else:
                out[p.name] = trial.suggest_float(p.name, float(p.low or 0), float(p.high or 0), step=p.step, log=p.log)
        return out

    def contains(self, values: dict[str, Any]) -> bool:
        """Whether the values are a point of the space (then optuna may be given them as a trial)."""
        for p in self.params:
            v = values.get(p.name)
            if p.choices:
                if v not in p.choices:
                    return False
                continue
            try:
                x = float(v)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                return False
            lo, hi = float(p.low or 0), float(p.high or 0)
            if not lo <= x <= hi or (p.step and abs((x - lo) / p.step - round((x - lo) / p.step)) > 1e-9):
                return False
        return True

    def current(self, defaults: StrategyParams) -> dict[str, Any]:
        """The searched fields' values in the current default configuration."""
        out: dict[str, Any] = {}
        for p in self.params:
            v = getattr(defaults, p.name)
            out[p.name] = v if p.choices or p.is_int else float(v)
        return out

    def warmup_bars(self, defaults: StrategyParams) -> int:
        """The longest warm-up any candidate needs: every window is warmed by the same bars."""
        longest = {n: float(getattr(defaults, n)) for n in ("z_window", "rsi_period", "atr_period")}
        for p in self.params:
            if p.name in longest:
                longest[p.name] = max([longest[p.name], float(p.high or 0), *map(float, p.choices)])
        return int(max(longest["z_window"], longest["rsi_period"] + 1, longest["atr_period"])) + 1

    def warmup_ms(self, defaults: StrategyParams) -> int:
        return self.warmup_bars(defaults) * BAR_MS


def load_space(path: Path, defaults: StrategyParams, max_leverage: float) -> SearchSpace:
    src = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(src, "<file>", "an existing search space file", "missing") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(src, "<file>", "a JSON object", str(exc)) from None
    if not isinstance(data, dict):
        raise ConfigError(src, "<top level>", "a JSON object", data)
    unknown = sorted(set(data) - {"objective", "min_trades", "params", "_comment"})
    if unknown:
        raise ConfigError(src, unknown[0], "one of objective, min_trades, params", "an unknown field")
    objective = data.get("objective", "sharpe")
    if objective not in OBJECTIVES:
        raise ConfigError(src, "objective", f"one of {', '.join(OBJECTIVES)}", objective)
    min_trades = data.get("min_trades", 10)
    if not isinstance(min_trades, int) or isinstance(min_trades, bool) or min_trades < 0:
        raise ConfigError(src, "min_trades", "an integer >= 0", min_trades)
    raw = data.get("params")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(src, "params", "an object naming at least one parameter", raw)
    params = tuple(_param(src, name, spec, defaults, max_leverage) for name, spec in raw.items())
    return SearchSpace(src, objective, min_trades, params)


def _param(src: str, name: str, spec: Any, defaults: StrategyParams, max_leverage: float) -> Param:
    where = f"params.{name}"
    if name not in SEARCHABLE:
        raise ConfigError(src, where, f"a strategy_config.json field ({', '.join(SEARCHABLE)})", name)
    if not isinstance(spec, dict):
        raise ConfigError(src, where, 'an object: {"low", "high"[, "step", "log"]} or {"choices"}', spec)
    unknown = sorted(set(spec) - {"low", "high", "step", "log", "choices"})
    if unknown:
        raise ConfigError(src, f"{where}.{unknown[0]}", "one of low, high, step, log, choices", "an unknown field")

    def check(value: Any, field: str) -> None:  # the strategy file's own validation
        try:
            override_strategy(defaults, {name: value}, src)
        except ConfigError as exc:
            raise ConfigError(src, f"{where}.{field}", exc.expected, value) from None
        if name == "leverage" and value > max_leverage:
            raise ConfigError(src, f"{where}.{field}", f"<= MAX_LEVERAGE {max_leverage:g} of risk_limits.json", value)

    if "choices" in spec:
        return _choices(src, where, name, spec, check)
    return _range(src, where, name, spec, check)


def _choices(src: str, where: str, name: str, spec: dict, check: Callable[[Any, str], None]) -> Param:
    choices = spec["choices"]
    if not isinstance(choices, list) or not choices or set(spec) != {"choices"}:
        raise ConfigError(src, f"{where}.choices", "a non-empty list (and no low/high/step)", choices)
    for i, c in enumerate(choices):
        check(c, f"choices[{i}]")
    return Param(name, choices=tuple(choices))


def _range(src: str, where: str, name: str, spec: dict, check: Callable[[Any, str], None]) -> Param:
    integer = name in INT_FIELDS
    for key in ("low", "high"):
        if key not in spec:
            raise ConfigError(src, f"{where}.{key}", "a number", missing=True)
        value = spec[key]
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            raise ConfigError(src, f"{where}.{key}", "an integer" if integer else "a number", value)
        check(value, key)
    low, high = spec["low"], spec["high"]
    if low >= high:
        raise ConfigError(src, f"{where}.high", f"a number above low ({low})", high)
    step = spec.get("step")
    if step is not None and (
        isinstance(step, bool) or not isinstance(step, int if integer else int | float) or not 0 < step <= high - low
    ):
        raise ConfigError(src, f"{where}.step", f"{'an integer' if integer else 'a number'} in (0, {high - low}]", step)
    log = spec.get("log", False)
    if not isinstance(log, bool) or (log and (step is not None or low <= 0)):
        raise ConfigError(src, f"{where}.log", "true or false (true needs low > 0 and no step)", log)
    return Param(name, float(low), float(high), float(step) if step is not None else None, log)
