"""The long-running executor (supervisor program `hedge-executor`).

    python -m execution.executor [--help]

Defaults: paper profile, the generated market paced at SPEED x real time (900: one 15-minute
candle per second), state in STATE_DIR (data/). SIGTERM/SIGINT stop it cleanly: the current
cycle finishes, state is flushed, exit 0. SIGHUP reloads the denylist (DENYLIST_FILE) without a
restart. A restart resumes from `synced_state.json`.
Exit code 2: bad configuration (one line on stderr naming the file and field), or another
executor already holds STATE_DIR (its PID is named). Exit code 75: the disk is full (one line;
nothing half-written; the next start removes leftover temp files).
METRICS_PORT > 0: Prometheus metrics on 127.0.0.1:METRICS_PORT/metrics while it runs.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from execution import logs
from execution.app import fail_config, open_runtime_or_exit_code
from execution.feeds.base import paced
from execution.guards.denylist import DenylistGuard
from execution.metrics import Exporter, MetricsHooks, MetricsSettings, NullMetrics
from execution.metrics import start as start_metrics
from execution.notify import build_notifier
from execution.settings import ConfigError, Settings, env_file_exposure, load_dotenv_file, load_settings
from execution.state.disk import stop_on_full_disk
from execution.state_lock import StateDirBusy, StateDirLock

WARMUP_BARS_UNPACED = 400  # history the indicators need is generated at full speed, then paced


def parser() -> argparse.ArgumentParser:
    return argparse.ArgumentParser(
        prog="python -m execution.executor",
        description="The trading loop (supervisor program hedge-executor). Configured by .env and CONFIG_DIR; "
        "it takes no arguments. Exit 0 after SIGTERM/SIGINT, 2 on bad configuration or when another "
        "executor holds STATE_DIR.",
    )


def main(argv: list[str] | None = None) -> int:
    parser().parse_args(argv)  # --help answers and exits before anything starts
    return stop_on_full_disk(lambda: _main(argv))


def _main(argv: list[str] | None = None) -> int:
    try:
        env_warnings = load_dotenv_file()
        settings = load_settings()
    except ConfigError as exc:
        return fail_config(exc)
    try:
        lock = StateDirLock(settings.state_dir).acquire()
    except StateDirBusy as exc:
        print(f"executor error: {exc}", file=sys.stderr)
        return 2
    try:
        return _run(settings, env_warnings)
    finally:
        lock.release()


def _run(settings: Settings, env_warnings: list[str]) -> int:
    log = logs.setup(settings.log_level, stream=sys.stdout, secrets=settings.secret_values())
    for warning in [*env_warnings, env_file_exposure()]:
        if warning:
            log.warning("[config] %s", warning)
    notifier = build_notifier(settings)
    metrics, exporter = _serve_metrics(settings.metrics.port)
    rt = open_runtime_or_exit_code(settings, notifier, metrics)
    if isinstance(rt, int):
        notifier.close()
        if exporter is not None:
            exporter.close()
        return rt
    stop = threading.Event()
    received: list[str] = []

    def _stop(signum, _frame):
        # no logging here: the handler may interrupt a write to the same stream (reentrant flush)
        received.append(signal.Signals(signum).name)
        stop.set()
        rt.feed.close()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    engine = rt.engine

    def _reload(signum, _frame):
        # only a flag: the denylist guard re-reads its file from the loop, at the end of a market instant
        for guard in engine.guards:
            if isinstance(guard, DenylistGuard):
                guard.request_reload()

    signal.signal(signal.SIGHUP, _reload)
    log.info("[executor] started: state in %s; pacing %s", settings.state_dir.resolve(), _pacing(settings))
    events = rt.feed.events()
    if settings.feed != "live":
        events = _warm_then_pace(events, settings.speed, rt.resumed_from_ts, stop.is_set)
    elif rt.deadman is not None:
        events = _rearming(events, rt.deadman)
    try:
        engine.run(events, should_stop=stop.is_set)
    finally:
        if received:
            log.info("[executor] signal %s: stopping after this cycle", received[0])
        engine.publish()
        engine.account_line()
        rt.close()
        if exporter is not None:
            exporter.close()
    log.info("[executor] stopped cleanly at market_ts=%d", engine.cycle_ts)
    return 0


def _pacing(settings: Settings) -> str:
    """What the start line says about time: a live feed runs at real time whatever SPEED says."""
    if settings.feed == "live":
        return "none (live feed: real time)"
    return "none (SPEED=max)" if settings.speed is None else f"{settings.speed:g}x real time"


def _serve_metrics(port: int) -> tuple[MetricsHooks, Exporter | None]:
    """The Prometheus hooks and their loopback exporter (METRICS_PORT; 0: off). A port already in
    use never stops trading: the error is logged and Prometheus reports the executor down."""
    log = logs.get()
    try:
        metrics, exporter = start_metrics(MetricsSettings(port))
    except OSError as exc:
        log.error(
            "[executor] metrics NOT served on 127.0.0.1:%d (%s): trading goes on; Prometheus will report "
            "the executor down until it is restarted with a free METRICS_PORT",
            port,
            exc.strerror or exc,
        )
        return NullMetrics(), None
    if exporter is not None:
        log.info("[executor] metrics on %s", exporter.url)
    return metrics, exporter


def _rearming(events, deadman):
    """Re-arm the venues' dead-man switches from the loop itself: a hung loop lets them fire."""
    for ev in events:
        deadman.tick()
        yield ev


def _warm_then_pace(events, speed, resumed_from_ts: int, should_stop):
    """Events up to the resume point (and the first WARMUP_BARS_UNPACED cycles) go at full speed."""
    first_ts = None
    buffered = None
    for ev in events:
        if first_ts is None:
            first_ts = ev.ts
        if ev.ts <= resumed_from_ts or ev.ts - first_ts < WARMUP_BARS_UNPACED * 900_000:
            yield ev
            continue
        buffered = ev
        break
    if buffered is None:
        return

    def rest():
        yield buffered
        yield from events

    yield from paced(rest(), speed, should_stop=should_stop)


if __name__ == "__main__":
    sys.exit(main())
