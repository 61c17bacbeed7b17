"""The 8-hour heartbeat (cron: `0 */8 * * *`, see deploy/cron/hedge-heartbeat).

    python -m telegram.heartbeat [--dry-run]

Reads the latest state (Firestore when configured, else the local state directory), builds the
fund's update, logs its JSON payload (`[heartbeat] payload {...}`) and sends one message to
TELEGRAM_CHAT_ID. Never crashes: whatever fails (state, venues, Telegram, configuration), it
sends the best content it has or logs why it could not, and exits 0. `--dry-run` prints the
message and the payload and sends nothing.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from execution import clock, logs
from telegram.bot_api import API_BASE, BotApi
from telegram.format import DAY_MS, build_payload, render_text, render_unavailable

HISTORY_LOOKBACK_MS = 30 * DAY_MS


def _env() -> dict[str, str]:
    from execution.settings import load_dotenv_file

    load_dotenv_file()
    return dict(os.environ)


def _venue_nav(env: dict[str, str], log) -> tuple[dict, list[dict]] | None:
    """Last resort: wallet + unrealised PnL read from the venues (testnet/live profiles only)."""
    if (env.get("PROFILE") or "paper") == "paper":
        return None
    try:
        from execution.exchanges.factory import build_venue, has_keys

        nav, positions = 0.0, []
        for name in ("binance_um", "okx_perp"):
            if not has_keys(name, env):
                continue
            venue = build_venue(name, env["PROFILE"], env, safe_mode=True)
            bal = venue.balance()
            nav += float(bal.wallet_balance + bal.unrealized_pnl)
            for p in venue.positions():
                positions.append({"venue": p.venue, "symbol": p.symbol, "position_side": p.position_side.value,
                                  "qty": float(p.qty), "unrealized_pnl": float(p.unrealized_pnl),
                                  "notional": float(p.notional)})
            venue.close()
        return {"nav": nav, "drawdown_pct": 0.0}, positions
    except Exception as exc:  # noqa: BLE001 - the heartbeat never crashes
        log.warning("[heartbeat] venues unreachable for NAV: %s", logs.redact(str(exc)))
        return None


def collect(env: dict[str, str], now_ms: int, log) -> dict | None:
    from execution.state.open import open_reader

    reserve = float(env.get("RESERVE_BTC") or 0.013)
    source = "none"
    nav_doc, positions, trades, history, daily_history, screener = {}, [], [], [], [], {}
    try:
        reader = open_reader(env)
        snap = reader.snapshot()
        source = snap.source
        for problem in snap.problems:
            log.warning("[heartbeat] state: %s", problem)
        nav_doc = snap.doc("nav")
        positions = snap.doc("positions").get("positions", [])
        screener = snap.doc("screener")
        if nav_doc:
            market_ts = int(nav_doc.get("market_ts") or now_ms)
            history = reader.nav_history(market_ts - 2 * DAY_MS, market_ts)  # every point: exact Δ24h
            daily_history = reader.nav_history(market_ts - HISTORY_LOOKBACK_MS, market_ts)
            trades = reader.recent("trades", 100)
    except Exception as exc:  # noqa: BLE001
        log.warning("[heartbeat] state unreadable: %s", logs.redact(str(exc)))
    if not nav_doc or nav_doc.get("nav") is None:
        fallback = _venue_nav(env, log)
        if fallback is None:
            log.warning("[heartbeat] no NAV available (no state, no venue): nothing to report")
            return None
        nav_doc, positions = fallback
        source = "venues"
    return build_payload(env=env.get("HEDGE_ENV") or nav_doc.get("env") or "prod", now_ms=now_ms, nav_doc=nav_doc,
                         positions=positions, trades=trades, history=history, daily_history=daily_history,
                         screener=screener, source=source,
                         reserve_btc=float(nav_doc.get("reserve_btc", reserve)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m telegram.heartbeat", description="Send the 8-hour update.")
    ap.add_argument("--dry-run", action="store_true", help="print the message and payload; send nothing")
    args = ap.parse_args(argv)
    log = logs.get()
    try:
        env = _env()
        log = logs.setup(env.get("LOG_LEVEL") or "INFO", stream=sys.stderr, secrets=logs.secrets_from_env(env))
        now = clock.wall_ms()
        payload = collect(env, now, log)
        tz = env.get("HEARTBEAT_TZ") or "UTC"
        if payload is None:  # still tell the chat: silence would look like "all is well"
            payload = {"env": env.get("HEDGE_ENV") or "prod", "timestamp": now, "nav": None, "source": "none"}
            text = render_unavailable(payload, tz)
        else:
            text = render_text(payload, tz)
        log.info("[heartbeat] payload %s", json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
        if args.dry_run:
            print(text)
            print(json.dumps(payload, indent=1, ensure_ascii=False))
            return 0
        token, chat = env.get("TELEGRAM_BOT_TOKEN", ""), env.get("TELEGRAM_CHAT_ID", "")
        if not token or not chat:
            log.warning("[heartbeat] TELEGRAM_BOT_TOKEN or TELEGRAM_CHAT_ID not set: message not sent")
            return 0
        api = BotApi(token, env.get("TELEGRAM_API_BASE") or API_BASE)
        result = api.send_message(chat, text)
        if result.ok:
            log.info("[heartbeat] sent to Telegram (%d message%s)", result.sent_parts, "" if result.sent_parts == 1 else "s")
        else:
            log.warning("[heartbeat] not sent: %s", "; ".join(result.errors))
    except Exception as exc:  # noqa: BLE001 - cron must always see exit 0
        log.error("[heartbeat] failed: %s: %s", exc.__class__.__name__, logs.redact(str(exc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
