"""The dashboard's own settings, from the environment. A bad value names the variable and what it wanted."""
from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from dashboard.view_model import RANGES

# Variables that decide which state store the dashboard reads: they key the shared caches, so two
# apps in one process (tests) never see each other's data.
STORE_KEYS = ("STATE_DIR", "HEDGE_ENV", "FIRESTORE_PROJECT", "FIRESTORE_EMULATOR_HOST", "GOOGLE_CLOUD_PROJECT",
              "GOOGLE_APPLICATION_CREDENTIALS", "FIRESTORE_DATABASE")


class DashboardConfigError(ValueError):
    """A dashboard setting is present but unusable."""


@dataclass(frozen=True)
class DashboardSettings:
    stale_after_ms: int
    refresh_s: float
    cache_ttl_s: float
    reserve_btc: Decimal
    default_range: str
    chart_points: int
    firestore_configured: bool
    store_key: tuple[tuple[str, str], ...]


def _number(env: dict[str, str], name: str, default: float, lo: float, hi: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise DashboardConfigError(f"{name}={raw!r} is not a number") from None
    if not lo <= value <= hi:
        raise DashboardConfigError(f"{name}={raw!r} must be between {lo:g} and {hi:g}")
    return value


def load(env: dict[str, str] | None = None) -> DashboardSettings:
    env = dict(os.environ if env is None else env)
    stale_min = _number(env, "DASHBOARD_STALE_MINUTES", 5, 0.01, 24 * 60)
    refresh = _number(env, "DASHBOARD_REFRESH_SECONDS", 5, 1, 3600)
    ttl = _number(env, "DASHBOARD_CACHE_SECONDS", refresh, 0, 3600)
    points = int(_number(env, "DASHBOARD_CHART_POINTS", 1500, 50, 20000))
    raw_reserve = (env.get("RESERVE_BTC") or "0.013").strip()
    try:
        reserve = Decimal(raw_reserve)
    except InvalidOperation:
        raise DashboardConfigError(f"RESERVE_BTC={raw_reserve!r} is not a number") from None
    if not reserve.is_finite() or reserve < 0:
        raise DashboardConfigError(f"RESERVE_BTC={raw_reserve!r} must be a number >= 0")
    rng = (env.get("DASHBOARD_DEFAULT_RANGE") or "30d").strip()
    match = {k.lower(): k for k in RANGES}.get(rng.lower())
    if match is None:
        raise DashboardConfigError(f"DASHBOARD_DEFAULT_RANGE={rng!r} must be one of {', '.join(RANGES)}")
    return DashboardSettings(
        stale_after_ms=int(stale_min * 60_000), refresh_s=refresh, cache_ttl_s=ttl, reserve_btc=reserve,
        default_range=match, chart_points=points, firestore_configured=bool(env.get("FIRESTORE_PROJECT")),
        store_key=tuple((k, env[k]) for k in STORE_KEYS if env.get(k)),
    )
