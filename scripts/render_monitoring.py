#!/usr/bin/env python3
"""Render the monitoring stack's configuration for this machine: Prometheus and Alertmanager.

    python scripts/render_monitoring.py --out DIR [--metrics-port N] [--alertmanager-port N]
        [--rules-dir DIR] [--telegram-token-file FILE] [--chat-id ID] [--api-url URL]

Writes DIR/prometheus.yml (deploy/prometheus/prometheus.yml with this checkout's rules and the
ports given) and DIR/alertmanager.yml (deploy/alertmanager/alertmanager.yml filled in; mode 600
because it holds the bot token). Defaults come from the environment, then .env: METRICS_PORT
(9108), ALERTMANAGER_TELEGRAM_TOKEN_FILE, TELEGRAM_CHAT_ID, TELEGRAM_API_BASE. Without a token
file or chat id the Alertmanager config has a receiver that sends nothing, and this says so.
Exit codes: 0 written, 2 bad input (one line naming what is wrong).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from execution.settings import ConfigError, MetricsEnv, TelegramEnv, process_env_over_file, read_env  # noqa: E402
from execution.settings.paths import directory_arg, output_directory_arg  # noqa: E402

TOKEN_PATTERN = re.compile(r"[0-9]{3,}:[A-Za-z0-9_-]{20,}")  # as telegram.bot_api.BotApi checks it
DEFAULT_METRICS_PORT = 9108


class RenderError(Exception):
    pass


def _settings() -> tuple[MetricsEnv, TelegramEnv]:
    """The groups it needs: the environment, then this checkout's .env (or ENV_FILE)."""
    env = process_env_over_file(default=ROOT / ".env")
    return read_env(MetricsEnv, env), read_env(TelegramEnv, env)


def render_prometheus(
    text: str,
    rules_dir: Path,
    metrics_port: int,
    alertmanager_port: int,
    scrape_interval: str | None = None,
) -> str:
    text = text.replace("/opt/hedge/deploy/prometheus/rules", str(rules_dir))
    text = text.replace("127.0.0.1:9108", f"127.0.0.1:{metrics_port}").replace(
        "127.0.0.1:9093", f"127.0.0.1:{alertmanager_port}"
    )
    if scrape_interval:
        text = re.sub(r"(scrape_interval|evaluation_interval): 15s", rf"\1: {scrape_interval}", text)
        text = text.replace("scrape_timeout: 5s", f"scrape_timeout: {scrape_interval}")
    return text


def render_alertmanager(
    text: str, token: str | None, chat_id: str | None, api_url: str, templates_dir: Path, group_wait: str | None = None
) -> str:
    text = text.replace("@@TEMPLATES_DIR@@", str(templates_dir))
    if group_wait:
        text = text.replace("group_wait: 30s", f"group_wait: {group_wait}")
    if not token or not chat_id:  # a receiver with no integration: valid, sends nothing
        start = text.index("    telegram_configs:")
        end = text.index("\ntemplates:")
        return text[:start].rstrip() + "\n" + text[end:]
    return (
        text.replace("@@TELEGRAM_BOT_TOKEN@@", token)
        .replace("@@TELEGRAM_CHAT_ID@@", chat_id)
        .replace("@@TELEGRAM_API_BASE@@", api_url)
    )


def read_token(path: str) -> str:
    try:
        token = Path(path).read_text().strip()
    except OSError as exc:
        raise RenderError(f"ALERTMANAGER_TELEGRAM_TOKEN_FILE {path}: unreadable ({exc.__class__.__name__})") from None
    if not TOKEN_PATTERN.fullmatch(token):
        raise RenderError(f"ALERTMANAGER_TELEGRAM_TOKEN_FILE {path}: does not hold a bot token (<id>:<secret>)")
    return token


def _port(raw: str, name: str) -> int:
    try:
        port = int(raw)
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise RenderError(f"{name}: expected a TCP port 1-65535, got {raw!r}")
    return port


def main(argv: list[str] | None = None) -> int:
    try:
        metrics, telegram = _settings()
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument(
        "--out", type=output_directory_arg, required=True, help="directory for prometheus.yml and alertmanager.yml"
    )
    ap.add_argument(  # METRICS_PORT=0 turns the executor's metrics off: the scrape target stays the default
        "--metrics-port", default=str(metrics.port or DEFAULT_METRICS_PORT)
    )
    ap.add_argument("--alertmanager-port", default="9093")
    ap.add_argument("--rules-dir", type=directory_arg, default=ROOT / "deploy" / "prometheus" / "rules")
    ap.add_argument("--telegram-token-file", default=metrics.alertmanager_token_file)
    ap.add_argument("--chat-id", default=telegram.chat_id)
    ap.add_argument("--api-url", default=telegram.api_base or "https://api.telegram.org")
    ap.add_argument("--scrape-interval", help="scrape and evaluation interval (default: the shipped 15s)")
    ap.add_argument("--group-wait", help="Alertmanager group_wait (default: the shipped 30s)")
    args = ap.parse_args(argv)
    try:
        metrics_port = _port(args.metrics_port, "METRICS_PORT")
        am_port = _port(args.alertmanager_port, "--alertmanager-port")
        if args.chat_id and not re.fullmatch(r"-?[0-9]+", args.chat_id.strip()):
            raise RenderError(f"TELEGRAM_CHAT_ID: Alertmanager needs a numeric chat id, got {args.chat_id!r}")
        token = read_token(args.telegram_token_file) if args.telegram_token_file else None
    except RenderError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    prom = render_prometheus(
        (ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(),
        args.rules_dir.resolve(),
        metrics_port,
        am_port,
        args.scrape_interval,
    )
    (out / "prometheus.yml").write_text(prom)
    am = render_alertmanager(
        (ROOT / "deploy" / "alertmanager" / "alertmanager.yml").read_text(),
        token,
        args.chat_id.strip() or None,
        args.api_url.rstrip("/"),
        ROOT / "deploy" / "alertmanager" / "templates",
        args.group_wait,
    )
    am_path = out / "alertmanager.yml"
    fd = os.open(am_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(am)
    os.chmod(am_path, 0o600)
    if token is None or not args.chat_id:
        print(
            "warning: no ALERTMANAGER_TELEGRAM_TOKEN_FILE or TELEGRAM_CHAT_ID: alerts are evaluated but not sent",
            file=sys.stderr,
        )
    print(out / "prometheus.yml")
    print(am_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
