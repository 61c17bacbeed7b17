"""The dashboard's own settings: its groups of the configuration tree, nothing else.

It loads DashboardEnv, StoreEnv and FundEnv (execution/settings/env.py): never the executor's
venue keys, approval token or Firestore writer credentials. A bad value names the variable and
what it wanted.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from decimal import Decimal

from dashboard.view_model import RANGES
from execution.settings import ConfigError, DashboardEnv, FundEnv, StoreEnv, adopt_env_file, read_env

# What the dashboard takes from the project's .env: its own groups (where state is, how to show
# it), never the executor's keys or its Firestore writer credentials; a read-only service account
# is given as DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS.
WRITER_CREDENTIALS = StoreEnv.variable_of("credentials_file")  # GOOGLE_APPLICATION_CREDENTIALS
READ_ONLY_CREDENTIALS = DashboardEnv.variable_of("credentials_file")  # DASHBOARD_GOOGLE_APPLICATION_CREDENTIALS
ENV_FILE_KEYS = tuple(
    v
    for v in StoreEnv.variables() + FundEnv.variables() + DashboardEnv.variables()
    if v not in (WRITER_CREDENTIALS, READ_ONLY_CREDENTIALS)
)


def load_env_file(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Take the dashboard's keys from `.env` (or ENV_FILE) without overriding the environment; returns them.

    They go into the process environment because the Firestore client library reads
    GOOGLE_APPLICATION_CREDENTIALS and FIRESTORE_EMULATOR_HOST from there."""
    return adopt_env_file(ENV_FILE_KEYS, environ, replace={READ_ONLY_CREDENTIALS: WRITER_CREDENTIALS})


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
    store_key: tuple[tuple[str, str], ...]  # the StoreEnv variables set: keys the shared caches


def store_from_key(store_key: tuple[tuple[str, str], ...]) -> StoreEnv:
    """The StoreEnv a cache key was made from (the key holds every variable that was set)."""
    return read_env(StoreEnv, dict(store_key))


def load(env: Mapping[str, str] | None = None) -> DashboardSettings:
    try:
        dash = read_env(DashboardEnv, env)
        reserve = read_env(FundEnv, env).reserve_btc
        store = read_env(StoreEnv, env)
    except ConfigError as exc:
        raise DashboardConfigError(f"{exc.field_name}={exc.got!r} is not {exc.expected}") from None
    # Firestore documents change at most once a minute (execution/state/mirror.py) and every read is
    # billed: cache them that long by default, so a page open all day stays inside the free quota.
    ttl = dash.cache_s
    if ttl is None:
        ttl = max(dash.refresh_s, 60) if store.firestore_configured else dash.refresh_s
    match = {k.lower(): k for k in RANGES}.get(dash.default_range.lower())
    if match is None:
        raise DashboardConfigError(f"DASHBOARD_DEFAULT_RANGE={dash.default_range!r} must be one of {', '.join(RANGES)}")
    return DashboardSettings(
        stale_after_ms=int(dash.stale_minutes * 60_000),
        refresh_s=dash.refresh_s,
        cache_ttl_s=ttl,
        reserve_btc=reserve,
        default_range=match,
        chart_points=int(dash.chart_points),
        firestore_configured=store.firestore_configured,
        store_key=store.as_env(),
    )
