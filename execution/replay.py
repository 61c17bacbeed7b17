"""Replay a market directory through the whole executor, as fast as the CPU allows.

    python -m execution.replay MARKET_DIR --state-dir DIR [--log FILE] [--fresh] [--metrics]
        [--report] [--report-html FILE]

Paper profile, the same engine as `python -m execution.executor`. Exits 0 at the end of the
data; the last line printed is
    replay: bars=N trades=N nav=X max_dd_pct=X wall_s=X bars_per_s=X
Re-running into the same state directory resumes where a killed run stopped (nothing is
journaled twice); `--fresh` clears the directory first. `--report` prints the replay report
(execution/replay_report.py: per symbol, per month, per exit reason) before that last line;
`--report-html FILE` writes the same with charts.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from execution import logs
from execution.app import fail_config, open_runtime_or_exit_code
from execution.settings import ConfigError, load_dotenv_file, load_settings
from execution.settings.paths import directory_arg, output_directory_arg, output_file_arg
from execution.state.disk import full, stop_on_full_disk
from execution.state_lock import LOCK_NAME, StateDirBusy, StateDirLock


def main(argv: list[str] | None = None) -> int:
    return stop_on_full_disk(lambda: _main(argv))


def _main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m execution.replay", description="Replay a market directory.")
    ap.add_argument("market_dir", type=directory_arg)
    ap.add_argument("--state-dir", type=output_directory_arg, required=True)
    ap.add_argument("--log", type=Path, help="log file (default: STATE_DIR/replay.log; '-' for stderr)")
    ap.add_argument("--fresh", action="store_true", help="delete the state directory's contents first")
    ap.add_argument(
        "--metrics",
        action="store_true",
        help="keep the executor's Prometheus metrics as it does (hooks and state gauges; nothing served)",
    )
    ap.add_argument("--report", action="store_true", help="print the report tables before the summary line")
    ap.add_argument("--report-html", type=output_file_arg, metavar="FILE", help="write the report with charts to FILE")
    args = ap.parse_args(argv)

    try:
        env_warnings = load_dotenv_file()
    except ConfigError as exc:
        return fail_config(exc)
    try:
        lock = StateDirLock(args.state_dir).acquire()  # before --fresh: never delete a running executor's state
    except StateDirBusy as exc:
        print(f"replay error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # /proc, a read-only mount: what the argument check could not know
        if full(exc):
            raise  # stop_on_full_disk says it
        print(f"replay error: --state-dir {args.state_dir}: {exc.strerror or type(exc).__name__}", file=sys.stderr)
        return 2
    try:
        return _replay(args, env_warnings)
    finally:
        lock.release()


def _replay(args: argparse.Namespace, env_warnings: list[str]) -> int:
    if args.fresh and args.state_dir.exists():
        for child in args.state_dir.iterdir():
            if child.name == LOCK_NAME:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    try:
        settings = load_settings(
            FEED="replay", MARKET_DIR=str(args.market_dir), SPEED="max", STATE_DIR=str(args.state_dir), PROFILE="paper"
        )
    except ConfigError as exc:
        return fail_config(exc)
    args.state_dir.mkdir(parents=True, exist_ok=True)
    log_path = None if str(args.log) == "-" else str(args.log or args.state_dir / "replay.log")
    log = logs.setup(settings.log_level, stream=sys.stderr, path=log_path)
    for warning in env_warnings:
        log.warning("[config] %s", warning)
    metrics = None
    if args.metrics:
        from execution.metrics import Metrics  # prometheus_client is loaded only when asked for

        metrics = Metrics()
    rt = open_runtime_or_exit_code(settings, metrics=metrics)
    if isinstance(rt, int):
        return rt
    t0 = time.perf_counter()
    engine = rt.engine
    bars_before = engine.bars
    engine.run(rt.feed.events())
    for name, venue in rt.venues.items():
        for order in venue.open_orders():
            venue.cancel_order(order.symbol, order.client_order_id)
            logs.get().info(
                "[executor] end of data: cancelled unfilled %s %s cid=%s", name, order.symbol, order.client_order_id
            )
    engine.router.in_flight.clear()
    engine.publish()
    engine.account_line()
    rt.sink.close()
    wall = time.perf_counter() - t0
    engine.close()
    bars = engine.bars - bars_before
    nav = engine.ledger.nav()
    if args.report or args.report_html:
        code = report(args, float(settings.initial_capital_usdt))
        if code:
            return code
    print(
        f"replay: bars={engine.bars} trades={engine.fills} nav={nav:.2f} max_dd_pct={engine.perf.max_dd_pct:.2f} "
        f"wall_s={wall:.2f} bars_per_s={bars / wall if wall > 0 else 0:.0f}",
        flush=True,
    )
    if engine.bars == 0:  # every file unreadable or every row refused: not a backtest of anything
        print(
            f"replay error: no bar of {args.market_dir} could be read (the [feed] lines in the log say why)",
            file=sys.stderr,
        )
        return 1
    return 0


def report(args: argparse.Namespace, capital: float) -> int:
    from execution.performance import PerformanceInputError
    from execution.replay_report import build, text

    try:
        rep = build(args.state_dir, args.market_dir, capital)
    except PerformanceInputError as exc:
        print(f"report error: {exc}", file=sys.stderr)
        return 1
    if args.report:
        print(text(rep), flush=True)
    if args.report_html:
        from execution.replay_charts import html

        args.report_html.write_text(html(rep, f"Replay report: {args.market_dir.name}"), encoding="utf-8")
        print(f"report written to {args.report_html}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
