"""The 8-hour heartbeat (cron `0 */8 * * *`, see deploy/cron/hedge-heartbeat).

    python -m telegram.heartbeat [--dry-run]
    python /opt/hedge/telegram/heartbeat.py [--dry-run]     (the fund's cron line: a script path works too)

Reads the latest state (Firestore when FIRESTORE_PROJECT is set, else, or when it does not
answer, the local STATE_DIR), builds the fund's update (telegram/payload.py, then the text:
telegram/format.py), logs its JSON payload as one `[heartbeat] payload {...}` line and sends one
message to TELEGRAM_CHAT_ID.
Where no NAV can be read from state, the venues' wallet balance + unrealised PnL is used
(PROFILE=testnet|live with venue keys). `--dry-run` prints the message and the payload and
sends nothing.

Never crashes: whatever fails (state, venues, Telegram, configuration), it sends the best content
it has or logs why it could not, and exits 0, so cron never mails a traceback and the next run
comes as planned. Every failure is one `[heartbeat]` or `[telegram]` log line.

Environment (the settings groups it loads, `HeartbeatConfig`): STATE_DIR, FIRESTORE_*, HEDGE_ENV,
RESERVE_BTC, HEARTBEAT_TZ (IANA zone for the message's time, default UTC), TELEGRAM_BOT_TOKEN,
TELEGRAM_CHAT_ID, TELEGRAM_API_BASE (default https://api.telegram.org), TELEGRAM_TIMEOUT_S
(default 10), LOG_LEVEL, and for the venue fallback PROFILE and the venue keys and URLs; .env (or
ENV_FILE) is read first without overriding the environment. A bad value is one warning line and
its default is used: the heartbeat never stops on configuration.
"""

from __future__ import annotations

import argparse
import json
import sys

if __name__ == "__main__" and not __package__:  # run as a script path: import from the project root
    from pathlib import Path

    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from execution import clock, logs
from execution.settings import (
    EXCHANGE_PROFILES,
    VENUES,
    ConfigError,
    FundEnv,
    HeartbeatEnv,
    LogEnv,
    ProfileEnv,
    StoreEnv,
    TelegramEnv,
    VenueAccess,
    load_dotenv_file,
    read_env,
)
from execution.state.reader import StateReader, trades_as_of_positions
from telegram.bot_api import API_BASE, BotApi
from telegram.format import render_text
from telegram.nav_history import DAY_MS
from telegram.numbers import dec
from telegram.payload import STALE_AFTER_MS, build_payload

FULL_HISTORY_MS = 2 * DAY_MS  # every NAV point: an exact Δ24h
KPI_HISTORY_MS = 30 * DAY_MS  # hourly points: the worst daily loss of the last 30 days
RECENT_FILLS = 100  # fills read to find the last 5 that closed something


@dataclass(frozen=True)
class HeartbeatConfig:
    """The settings groups the heartbeat needs (and nothing it does not)."""

    profile: str
    log_level: str
    reserve_btc: Decimal
    store: StoreEnv
    telegram: TelegramEnv
    heartbeat: HeartbeatEnv
    access: VenueAccess  # for the NAV-from-venues fallback

    @property
    def tz(self) -> tzinfo:
        return UTC if self.heartbeat.tz == "UTC" else ZoneInfo(self.heartbeat.tz)

    def secret_values(self) -> tuple[str, ...]:
        return self.access.credentials.secret_values() + self.telegram.secret_values()


def load_dotenv_or_warn(log, tag: str) -> None:
    try:
        load_dotenv_file()
    except Exception as exc:  # noqa: BLE001 - an unreadable .env: go on with the environment
        log.warning("%s .env not loaded (%s): using the process environment", tag, exc.__class__.__name__)


def warn_and_default(log, tag: str) -> Callable[[ConfigError, Any], None]:
    """For `read_env(..., on_bad=)` in processes that never stop on configuration (cron jobs):
    one warning line per bad value, and its default is used."""

    def bad(err: ConfigError, default: Any) -> None:
        shown = f"{default:g}" if isinstance(default, float) else str(default)
        log.warning("%s %s=%r is not %s: using %s", tag, err.field_name, str(err.got)[:64], err.expected, shown)

    return bad


def load_config(log) -> HeartbeatConfig:
    """The groups from .env and the environment; a bad value is logged and its default used."""
    load_dotenv_or_warn(log, "[heartbeat]")
    bad = warn_and_default(log, "[heartbeat]")
    return HeartbeatConfig(
        profile=read_env(ProfileEnv, on_bad=bad).profile,
        log_level=read_env(LogEnv, on_bad=bad).log_level,
        reserve_btc=read_env(FundEnv, on_bad=bad).reserve_btc,
        store=read_env(StoreEnv, on_bad=bad),
        telegram=read_env(TelegramEnv, on_bad=bad),
        heartbeat=read_env(HeartbeatEnv, on_bad=bad),
        access=VenueAccess.read(on_bad=bad),
    )


def choose_source(reader, snap, log):
    """(reader, snapshot, note): Firestore's answer when it has a NAV and is not far behind the local
    files; else the local files. Once the local files are chosen, every later read uses them too
    (one consistent source, and no second Firestore timeout per read)."""
    from execution.state.firestore_reader import FallbackReader

    if not isinstance(reader, FallbackReader):
        return reader, snap, ""
    local = reader.fallback
    if snap.source == "local":
        return local, snap, "Firestore not answering: figures from the local state files"
    local_snap = local.snapshot()
    if local_snap.empty:
        return reader, snap, ""
    if snap.empty:
        log.warning("[heartbeat] Firestore has no nav document for this HEDGE_ENV: reading the local state files")
        return local, local_snap, "Firestore has no NAV for this env: figures from the local state files"
    lag = local_snap.updated_at_ms - snap.updated_at_ms
    if lag > STALE_AFTER_MS:
        log.warning(
            "[heartbeat] Firestore is %.1f h behind the local state files (mirror backlog?): reading them",
            lag / 3_600_000,
        )
        return (
            local,
            local_snap,
            f"Firestore lags the local state by {lag / 3_600_000:.1f}h: figures from the local files",
        )
    return reader, snap, ""


def read_state(store: StoreEnv, log) -> dict:
    """Everything the update needs from the state store; each part that cannot be read becomes a
    note (and a log line), never an exception."""
    out: dict = {
        "nav_doc": {},
        "positions": [],
        "trades": [],
        "history": [],
        "daily_history": [],
        "screener": {},
        "control": {},
        "peak_state": {},
        "source": "none",
        "updated_at_ms": 0,
        "notes": [],
    }
    notes = out["notes"]
    try:
        from execution.state.open import open_reader

        opened: StateReader = open_reader(store)
        reader, snap, source_note = choose_source(opened, opened.snapshot(), log)
    except Exception as exc:  # noqa: BLE001
        log.warning("[heartbeat] state unreadable: %s: %s", exc.__class__.__name__, logs.redact(str(exc))[:200])
        notes.append(f"State unreadable ({exc.__class__.__name__})")
        return out
    out["source"], out["updated_at_ms"] = snap.source, snap.updated_at_ms
    if source_note:
        notes.append(source_note)
    for problem in snap.problems:
        log.warning("[heartbeat] state: %s", problem)
        if "firestore" not in problem:
            notes.append(f"State: {problem.rsplit('/', 1)[-1]}")
    out["nav_doc"] = snap.doc("nav")
    out["screener"] = snap.doc("screener")
    out["control"] = snap.doc("control")
    positions_doc = snap.doc("positions")
    out["positions"] = positions_doc.get("positions", []) if isinstance(positions_doc, dict) else []
    as_of = int(dec(out["nav_doc"].get("market_ts")) or clock.wall_ms()) if isinstance(out["nav_doc"], dict) else 0
    for key, call, what in (
        ("history", lambda: reader.nav_history(as_of - FULL_HISTORY_MS, as_of), "NAV history"),
        ("daily_history", lambda: reader.nav_history(as_of - KPI_HISTORY_MS, as_of), "NAV history (30 days)"),
        ("trades", lambda: reader.recent("trades", RECENT_FILLS), "trade log"),
        ("peak_state", lambda: reader.named("peak_state"), "peak_state"),
    ):
        try:
            out[key] = call()
        except Exception as exc:  # noqa: BLE001
            log.warning("[heartbeat] %s unreadable: %s", what, exc.__class__.__name__)
            notes.append(f"{what} unreadable ({exc.__class__.__name__})")
    if isinstance(out.get("trades"), list) and isinstance(positions_doc, dict):
        # the trades the positions shown include, never one they do not reflect yet
        out["trades"] = trades_as_of_positions([t for t in out["trades"] if isinstance(t, dict)], positions_doc)[0]
    return out


def venue_nav(cfg: HeartbeatConfig, peak_state: dict, log) -> dict | None:
    """Last resort when no NAV is in the state: every venue with keys, wallet + unrealised PnL.

    Returns {nav_doc, positions, notes} or None (paper profile, no keys, adapters missing, or no
    venue answered). Orders are impossible here: venues are built with safe_mode=True and only
    balance() and positions() are called."""
    profile = cfg.profile
    if profile not in EXCHANGE_PROFILES:
        log.warning(
            "[heartbeat] no NAV in state and PROFILE=%s has no venue to ask (paper venues live inside the executor)",
            profile[:16],
        )
        return None
    try:
        from execution.exchanges.factory import build_venue
    except ImportError as exc:  # the hook: a deployment without the venue adapters
        log.warning("[heartbeat] venue adapters not available (%s): no NAV from the venues", exc.__class__.__name__)
        return None
    names = [n for n in VENUES if cfg.access.credentials.has_keys(n)]
    if not names:
        log.warning("[heartbeat] no NAV in state and no venue keys set: no NAV from the venues")
        return None
    nav = Decimal(0)
    positions: list[dict] = []
    answered: list[str] = []
    failed: list[str] = []
    for name in names:
        venue = None
        try:
            venue = build_venue(name, profile, cfg.access, safe_mode=True)
            balance = venue.balance()
            rows = venue.positions()
            nav += balance.wallet_balance + balance.unrealized_pnl
            positions.extend(
                {
                    "venue": p.venue,
                    "symbol": p.symbol,
                    "position_side": p.position_side.value,
                    "qty": str(p.qty),
                    "unrealized_pnl": str(p.unrealized_pnl),
                    "notional": str(p.notional),
                }
                for p in rows
            )
            answered.append(name)
        except Exception as exc:  # noqa: BLE001 - one venue down must not hide the other
            failed.append(name)
            log.warning(
                "[heartbeat] venue %s did not answer for NAV: %s: %s",
                name,
                exc.__class__.__name__,
                logs.redact(str(exc), cfg.secret_values())[:200],
            )
        finally:
            if venue is not None:
                try:
                    venue.close()
                except Exception:  # noqa: BLE001
                    pass
    if not answered:
        return None
    notes = [f"NAV from the venues ({', '.join(answered)}): wallet + unrealised PnL; state unavailable"]
    if failed:
        notes.append(f"⚠ NAV is partial: {', '.join(failed)} did not answer")
    nav_doc: dict = {"nav": str(nav)}
    peak = dec(peak_state.get("peak_nav")) if isinstance(peak_state, dict) else None
    if peak is not None and peak > 0 and not failed:
        nav_doc.update(peak_nav=str(peak), max_drawdown_pct=peak_state.get("max_drawdown_pct"))
    log.info(
        "[heartbeat] NAV from venues %s: %s USDT%s",
        ",".join(answered),
        nav,
        f" (partial: {','.join(failed)} down)" if failed else "",
    )
    return {"nav_doc": nav_doc, "positions": positions, "notes": notes}


def collect(cfg: HeartbeatConfig, now_ms: int, log) -> dict:
    """The payload: state first, venues when the state has no NAV, an 'unavailable' payload else."""
    st = read_state(cfg.store, log)
    nav_doc = st["nav_doc"] if isinstance(st["nav_doc"], dict) else {}
    positions, notes, source = st["positions"], list(st["notes"]), st["source"]
    if dec(nav_doc.get("nav")) is None:
        if nav_doc:
            log.warning("[heartbeat] nav document has no usable 'nav' (%r)", str(nav_doc.get("nav"))[:40])
        fallback = venue_nav(cfg, st["peak_state"], log)
        if fallback is None:
            log.warning(
                "[heartbeat] no NAV available (no readable NAV in state, no venue answered): sending "
                "'NAV: unavailable' with what is readable"
            )
        else:
            nav_doc, positions, source = fallback["nav_doc"], fallback["positions"], "venues"
            notes = fallback["notes"] + notes
    reserve = dec(nav_doc.get("reserve_btc"))
    return build_payload(
        env=cfg.store.hedge_env or nav_doc.get("env") or "prod",
        now_ms=now_ms,
        nav_doc=nav_doc,
        positions=positions,
        trades=st["trades"] if source != "venues" else [],
        history=st["history"],
        daily_history=st["daily_history"],
        screener=st["screener"],
        control=st["control"],
        source=source,
        reserve_btc=cfg.reserve_btc if reserve is None else reserve,
        updated_at_ms=st["updated_at_ms"] if source != "venues" else 0,
        notes=notes,
    )


def send(cfg: HeartbeatConfig, text: str, log) -> None:
    token, chat = cfg.telegram.bot_token.get_secret_value(), cfg.telegram.chat_id
    missing = [name for name, value in (("TELEGRAM_BOT_TOKEN", token), ("TELEGRAM_CHAT_ID", chat)) if not value]
    if missing:
        log.warning("[heartbeat] %s not set: message not sent (set it in .env)", " and ".join(missing))
        return
    if not BotApi.token_looks_valid(token):
        log.warning(
            "[heartbeat] TELEGRAM_BOT_TOKEN is malformed (expected <bot id>:<secret> as BotFather gives "
            "it): message not sent"
        )
        return
    api = BotApi(token, cfg.telegram.api_base or API_BASE, timeout_s=cfg.heartbeat.timeout_s)
    try:
        result = api.send_message(chat, text, overflow="truncate")
    finally:
        api.close()
    if result.ok:
        log.info(
            "[heartbeat] sent to Telegram chat %s (message_id %s%s)",
            chat,
            ",".join(map(str, result.message_ids)) or "?",
            ", as plain text" if result.plain_fallback else "",
        )
    else:
        log.warning("[heartbeat] not sent: %s", "; ".join(result.errors))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m telegram.heartbeat", description="Send the 8-hour update.")
    ap.add_argument("--dry-run", action="store_true", help="print the message and payload; send nothing")
    args = ap.parse_args(argv)
    log = logs.setup("INFO", stream=sys.stderr)
    try:
        cfg = load_config(log)
        log = logs.setup(cfg.log_level, stream=sys.stderr, secrets=cfg.secret_values())
        payload = collect(cfg, clock.wall_ms(), log)
        text = render_text(payload, cfg.tz)
        log.info("[heartbeat] payload %s", json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
        if args.dry_run:
            print(text)
            print(json.dumps(payload, indent=1, ensure_ascii=False))
            log.info("[heartbeat] dry run: nothing sent")
            return 0
        send(cfg, text, log)
    except Exception as exc:  # noqa: BLE001 - cron must always see exit 0, with the reason logged
        log.error("[heartbeat] failed: %s: %s", exc.__class__.__name__, logs.redact(str(exc))[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
