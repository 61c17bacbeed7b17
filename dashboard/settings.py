"""The dashboard's own settings, from the environment. A bad value names the variable and what it wanted."""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from dashboard.view_model import RANGES

# Variables that decide which state store the dashboard reads: they key the shared caches, so two
# apps in one process (tests) never see each other's data.
STORE_KEYS = (
    "STATE_DIR",
    "HEDGE_ENV",
    "FIRESTORE_PROJECT",
    "FIRESTORE_EMULATOR_HOST",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "FIRESTORE_DATABASE",
)


# What the dashboard takes from the project's .env: where state is and how to show it. Never the
# executor's venue keys or its Firestore writer credentials; a read-only service account is given
# as DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS.
ENV_FILE_KEYS = (
    "STATE_DIR",
    "HEDGE_ENV",
    "FIRESTORE_PROJECT",
    "FIRESTORE_DATABASE",
    "FIRESTORE_EMULATOR_HOST",
    "RESERVE_BTC",
    "DASHBOARD_STALE_MINUTES",
    "DASHBOARD_REFRESH_SECONDS",
    "DASHBOARD_CACHE_SECONDS",
    "DASHBOARD_CHART_POINTS",
    "DASHBOARD_DEFAULT_RANGE",
)
READ_ONLY_CREDENTIALS = "DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS"


def load_env_file(environ: dict[str, str] | None = None) -> list[str]:
    """Take the dashboard's keys from `.env` (or ENV_FILE) without overriding the environment; returns them."""
    from dotenv import dotenv_values

    environ = os.environ if environ is None else environ
    path = Path(environ.get("ENV_FILE") or ".env")
    values = dotenv_values(path) if path.is_file() else {}
    taken = []
    for key in ENV_FILE_KEYS:
        if values.get(key) and key not in environ:
            environ[key] = str(values[key])
            taken.append(key)
    creds = environ.get(READ_ONLY_CREDENTIALS) or values.get(READ_ONLY_CREDENTIALS)
    if creds:
        environ["GOOGLE_APPLICATION_CREDENTIALS"] = str(creds)  # the reader's, never the executor's
        taken.append("GOOGLE_APPLICATION_CREDENTIALS")
    return taken


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
    # Firestore documents change at most once a minute (execution/state/mirror.py) and every read is
    # billed: cache them that long by default, so a page open all day stays inside the free quota.
    ttl = _number(
        env, "DASHBOARD_CACHE_SECONDS", max(refresh, 60) if env.get("FIRESTORE_PROJECT") else refresh, 0, 3600
    )
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
        stale_after_ms=int(stale_min * 60_000),
        refresh_s=refresh,
        cache_ttl_s=ttl,
        reserve_btc=reserve,
        default_range=match,
        chart_points=points,
        firestore_configured=bool(env.get("FIRESTORE_PROJECT")),
        store_key=tuple((k, env[k]) for k in STORE_KEYS if env.get(k)),
    )
