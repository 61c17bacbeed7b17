"""The environment groups: every variable declared once, secrets never shown, every bad value one
line naming it, every number finite, and the executor's exit code 2 for a bad value of each group."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import typing
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from execution import logs
from execution.settings import (
    ENV_FILE,
    GROUPS,
    SECRET_NAMES,
    VENUE_KEYS,
    VENUES,
    ConfigError,
    Credentials,
    DashboardEnv,
    HeartbeatEnv,
    LiveFeedEnv,
    StoreEnv,
    TelegramEnv,
    load_settings,
    read_env,
    secret_values,
)

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {name: f"s3cr3t-value-of-{name.lower()}" for name in SECRET_NAMES}


def _numeric(annotation: object) -> bool:
    args = typing.get_args(annotation) or (annotation,)
    return any(a in (float, int, Decimal) for a in args)


NUMERIC = [
    (group, f.alias)
    for group in GROUPS
    for f in group.model_fields.values()
    if f.alias is not None and _numeric(f.annotation)
]


# -- one definition ----------------------------------------------------------------------------------
def test_every_variable_is_declared_once():
    names = [v for g in GROUPS for v in g.variables()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


def test_secret_names_and_venue_keys_come_from_the_groups():
    assert set(SECRET_NAMES) == {
        "BINANCE_API_KEY",
        "BINANCE_API_SECRET",
        "OKX_API_KEY",
        "OKX_API_SECRET",
        "OKX_PASSPHRASE",
        "APPROVE_TOKEN",
        "TELEGRAM_BOT_TOKEN",
    }
    assert tuple(VENUE_KEYS) == VENUES
    assert VENUE_KEYS["binance_um"] == ("BINANCE_API_KEY", "BINANCE_API_SECRET")
    assert VENUE_KEYS["okx_perp"] == ("OKX_API_KEY", "OKX_API_SECRET", "OKX_PASSPHRASE")


def test_env_example_documents_every_variable_and_nothing_else():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, re.M))
    declared = {v for g in GROUPS for v in g.variables()}
    assert declared - documented == set(), "declared but not in .env.example"
    assert documented - declared == set(), "in .env.example but read by nothing"
    assert re.search(rf"^# {ENV_FILE}\b", text, re.M), "ENV_FILE (process environment only) is explained"


def test_no_module_outside_the_settings_package_reads_the_environment():
    package = ROOT / "execution" / "settings"
    readers = [
        str(path.relative_to(ROOT))
        for top in ("execution", "telegram", "dashboard", "scripts")
        for path in (ROOT / top).rglob("*.py")
        if package not in path.parents and re.search(r"os\.environ|getenv\(", path.read_text())
    ]
    assert readers == []


# -- secrets -----------------------------------------------------------------------------------------
def test_secrets_never_in_repr_or_str_of_a_group_or_the_settings():
    s = load_settings(SECRETS)
    shown = " ".join([repr(s), str(s), repr(s.access), str(s.access.credentials), repr(s.telegram), str(s.telegram)])
    for value in SECRETS.values():
        assert value not in shown
    assert "**********" in repr(s.access.credentials)
    assert s.secret("APPROVE_TOKEN") == SECRETS["APPROVE_TOKEN"]  # the engine's accessor
    assert s.access.credentials.okx_passphrase.get_secret_value() == SECRETS["OKX_PASSPHRASE"]


def test_every_secret_is_redacted_from_the_log():
    s = load_settings(SECRETS)
    assert sorted(s.secret_values()) == sorted(SECRETS.values()) == sorted(secret_values(SECRETS))
    out = io.StringIO()
    log = logs.setup("INFO", stream=out, secrets=s.secret_values())
    for name, value in SECRETS.items():
        log.info("[test] %s came back as %s", name.lower().replace("_", " "), value)
    logs.setup("INFO", stream=io.StringIO())
    text = out.getvalue()
    assert text.count("***") == len(SECRETS)
    for value in SECRETS.values():
        assert value not in text


def test_a_secret_is_never_in_a_config_error():
    # no validator refuses a secret (any text is taken as it is), so no error line can carry one
    for group in (Credentials, TelegramEnv):
        secret_fields = [f for f in group.model_fields.values() if f.annotation is SecretStr]
        assert secret_fields
        values = {f.alias or "": "nan 1e400 'quoted' = : ~" for f in secret_fields}
        assert set(read_env(group, values).secret_values()) == {"nan 1e400 'quoted' = : ~"}


# -- bad values --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "env,line",
    [
        ({"PROFILE": "prod"}, "field 'PROFILE': expected one of ['paper', 'testnet', 'live'], got 'prod'"),
        ({"DRY_RUN_MODE": "maybe"}, "field 'DRY_RUN_MODE': expected true or false, got 'maybe'"),
        ({"SEED": "-1"}, "field 'SEED': expected an integer in [0, 4294967295], got '-1'"),
        (
            {"INITIAL_CAPITAL_USDT": "0"},
            "field 'INITIAL_CAPITAL_USDT': expected a decimal number in [0.01, 1E+12], got '0'",
        ),
        ({"LOG_LEVEL": "chatty"}, "field 'LOG_LEVEL': expected DEBUG, INFO, WARNING or ERROR, got 'CHATTY'"),
        (
            {"ACCOUNT_LOG_INTERVAL_S": "0.5"},
            "field 'ACCOUNT_LOG_INTERVAL_S': expected a number in [1, 86400], got '0.5'",
        ),
        ({"RESERVE_BTC": "-1"}, "field 'RESERVE_BTC': expected a decimal number in [0, 1E+6], got '-1'"),
        (
            {"FIRESTORE_READ_CACHE_S": "-1"},
            "field 'FIRESTORE_READ_CACHE_S': expected seconds (a number in [0, 86400]), got '-1'",
        ),
        (
            {"FIRESTORE_READ_TIMEOUT_S": "0"},
            "field 'FIRESTORE_READ_TIMEOUT_S': expected seconds in (0, 600], got '0'",
        ),
        (
            {"LIVE_STALE_S": "abc"},
            "field 'LIVE_STALE_S': expected a positive number of seconds, at most 3600, got 'abc'",
        ),
        ({"MARGIN_TYPE": " both "}, "field 'MARGIN_TYPE': expected ISOLATED or CROSSED, got 'BOTH'"),
        ({"VENUE_TIMEOUT_S": "121"}, "field 'VENUE_TIMEOUT_S': expected seconds in (0, 120], got '121'"),
    ],
)
def test_a_bad_value_is_one_line_naming_it(env, line):
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    assert str(exc.value) == f"config error: .env: {line}"


@pytest.mark.parametrize(
    "group,env,field",
    [
        (HeartbeatEnv, {"HEARTBEAT_TZ": "Mars/Olympus"}, "HEARTBEAT_TZ"),
        (HeartbeatEnv, {"TELEGRAM_TIMEOUT_S": "0"}, "TELEGRAM_TIMEOUT_S"),
        (DashboardEnv, {"DASHBOARD_CHART_POINTS": "10"}, "DASHBOARD_CHART_POINTS"),
        (DashboardEnv, {"DASHBOARD_CACHE_SECONDS": "a minute"}, "DASHBOARD_CACHE_SECONDS"),
    ],
)
def test_groups_outside_the_executor_name_the_bad_variable_too(group, env, field):
    with pytest.raises(ConfigError, match=rf"^config error: \.env: field '{field}': expected .+, got "):
        read_env(group, env)


@pytest.mark.parametrize("group,variable", NUMERIC, ids=[v for _, v in NUMERIC])
@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "1e400", "NaN"])
def test_every_numeric_variable_refuses_non_finite_numbers(group, variable, raw):
    with pytest.raises(ConfigError, match=rf"field '{variable}': expected .*got '{raw}'"):
        read_env(group, {variable: raw})


def test_numbers_are_typed_and_blank_means_default():
    live = read_env(LiveFeedEnv, {"LIVE_STALE_S": " 12.5 ", "LIVE_BACKOFF_MAX_S": "   "})
    assert (live.stale_s, live.backoff_max_s) == (12.5, 30.0)
    s = load_settings({"SPEED": "MAX", "SEED": "11", "RESERVE_BTC": "0.5", "MARGIN_TYPE": "cross"})
    assert (s.speed, s.seed, s.reserve_btc, s.access.venue.margin_type.value) == (None, 11, Decimal("0.5"), "CROSSED")


def test_lenient_reading_reports_each_bad_value_and_uses_its_default():
    bad: list[tuple[str, object]] = []
    hb = read_env(
        HeartbeatEnv,
        {"HEARTBEAT_TZ": "Mars/Olympus", "TELEGRAM_TIMEOUT_S": "inf"},
        on_bad=lambda err, default: bad.append((err.field_name, default)),
    )
    assert (hb.tz, hb.timeout_s) == ("UTC", 10.0)
    assert bad == [("HEARTBEAT_TZ", "UTC"), ("TELEGRAM_TIMEOUT_S", 10.0)]


def test_store_group_round_trips_through_its_cache_key():
    store = read_env(
        StoreEnv, {"STATE_DIR": "/srv/state", "FIRESTORE_PROJECT": " hedge-test ", "FIRESTORE_READ_CACHE_S": "5"}
    )
    assert read_env(StoreEnv, dict(store.as_env())) == store
    assert store.firestore_project == "hedge-test" and store.env_name == "prod" and store.read_cache_s == 5.0


def test_dashboard_takes_no_secret_and_no_writer_credentials_from_env_file():
    from dashboard import settings as dsettings

    assert not set(dsettings.ENV_FILE_KEYS) & set(SECRET_NAMES)
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in dsettings.ENV_FILE_KEYS


# -- the process: one line, exit 2, nothing started --------------------------------------------------
@pytest.mark.parametrize(
    "variable,raw",
    [
        ("PROFILE", "prod"),  # ProfileEnv
        ("SPEED", "nan"),  # RunEnv
        ("LOG_LEVEL", "loud"),  # LogEnv
        ("RESERVE_BTC", "inf"),  # FundEnv
        ("FIRESTORE_DOC_INTERVAL_S", "1e400"),  # StoreEnv
        ("LIVE_STALE_S", "abc"),  # LiveFeedEnv
        ("MARGIN_TYPE", "both"),  # VenueEnv
    ],
)
def test_executor_exits_2_with_one_line_for_a_bad_value_of_each_group(tmp_path, variable, raw):
    proc = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "STATE_DIR": str(tmp_path / "st"),
            "ENV_FILE": str(tmp_path / "none.env"),
            "BINANCE_API_SECRET": SECRETS["BINANCE_API_SECRET"],
            variable: raw,
        },
        timeout=60,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"config error: .env: field '{variable}': expected ")
    assert SECRETS["BINANCE_API_SECRET"] not in proc.stderr + proc.stdout
    assert not (tmp_path / "st").exists()  # nothing was started


def test_operator_cli_exits_2_with_one_line_for_a_bad_reader_setting(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "execution.ctl", "--state-dir", str(tmp_path), "status"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": str(tmp_path / "none.env"), "FIRESTORE_READ_TIMEOUT_S": "-3"},
        timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [
        "error: config error: .env: field 'FIRESTORE_READ_TIMEOUT_S': expected seconds in (0, 600], got '-3'"
    ]  # the CLI's usual "error: " prefix


def test_binance_testnet_from_the_cutover_checklist_picks_the_profile():
    from execution.settings import ProfileEnv

    assert read_env(ProfileEnv, {"BINANCE_TESTNET": "true"}).profile == "testnet"
    assert read_env(ProfileEnv, {"BINANCE_TESTNET": "0"}).profile == "live"
    assert read_env(ProfileEnv, {"BINANCE_TESTNET": "1", "PROFILE": "testnet"}).profile == "testnet"
    assert read_env(ProfileEnv, {}).profile == "paper"
    with pytest.raises(ConfigError) as err:
        read_env(ProfileEnv, {"BINANCE_TESTNET": "false", "PROFILE": "paper"})
    assert "BINANCE_TESTNET" in str(err.value) and "PROFILE=paper" in str(err.value)
    assert "PROFILE=live" in str(err.value)
    with pytest.raises(ConfigError, match="BINANCE_TESTNET"):
        read_env(ProfileEnv, {"BINANCE_TESTNET": "maybe"})


def test_a_profile_conflict_stops_the_executor_with_exit_2(tmp_path):
    import subprocess
    import sys

    from tests.conftest import PROJECT_ROOT

    env = {"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "STATE_DIR": str(tmp_path / "s")}
    done = subprocess.run(
        [sys.executable, "-m", "execution.executor"],
        cwd=PROJECT_ROOT,
        env=env | {"PROFILE": "paper", "BINANCE_TESTNET": "true"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip().startswith("config error: .env: field 'BINANCE_TESTNET'") and "PROFILE=paper" in done.stderr
    )
    assert not (tmp_path / "s" / "state").exists()
