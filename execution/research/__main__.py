"""Strategy research on recorded markets, with the executor's own engine.

    python -m execution.research walk-forward MARKET_DIR --space FILE --folds N --trials M
        [--scheduler ADDRESS] [--workers 2] [--study-dir DIR] [--batch 4] [--seed 7]
        [--train-ratio 2] [--anchored]
    python -m execution.research backtest MARKET_DIR [--params FILE] [--start YYYY-MM-DD] [--end YYYY-MM-DD]

Backtests run on local processes (`--workers`, default 2; 1 = this process) or, with
`--scheduler tcp://HOST:PORT`, on a Dask distributed cluster whose workers import this project
and see MARKET_DIR and CONFIG_DIR at the same paths. Writes STUDY_DIR/report.txt, report.html
and proposal.json (never anything in config/) and prints the report. Re-running the same command
resumes the study. `backtest` runs one in-memory backtest (the whole market, or a window) with
the current configuration or the parameters of FILE (a proposal.json or a {"name": value} object)
and prints its figures: how a proposal from one window does on another. Exit codes: 0 done, 2 bad input (one line saying what), 3 the cluster or a
worker failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from execution.operator_numbers import int_arg, number_arg
from execution.research import wf_report
from execution.research.backtest import DAY_MS, Job, market, run_env, run_job, with_params
from execution.research.folds import FoldError, walk_forward_folds
from execution.research.pool import open_pool
from execution.research.space import load_space
from execution.research.walk_forward import Progress, Study, StudyMismatch, run
from execution.settings import ConfigError, load_dotenv_file, load_settings
from execution.settings.paths import directory_arg, input_file_arg, is_directory, output_directory_arg

DEFAULT_SPACE = Path(__file__).resolve().parent / "spaces" / "screener.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m execution.research", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    wf = sub.add_parser("walk-forward", help="walk-forward optimisation of strategy and sizing parameters")
    wf.add_argument("market_dir", type=directory_arg)
    wf.add_argument("--space", type=input_file_arg, default=DEFAULT_SPACE, help="search space file (JSON)")
    wf.add_argument("--folds", type=int_arg(1, 100), default=4)
    wf.add_argument("--trials", type=int_arg(1, 100_000), default=40, help="candidates per fold")
    wf.add_argument("--scheduler", help="Dask scheduler address (tcp://host:port); default: local processes")
    wf.add_argument("--workers", type=int_arg(1, 256), default=2, help="local worker processes (1 = in this process)")
    wf.add_argument(
        "--study-dir", type=output_directory_arg, help="where the study lives (default: research/<market name>)"
    )
    wf.add_argument(
        "--batch",
        type=int_arg(1, 1_000),
        default=4,
        help="candidates asked for at once (results do not depend on workers)",
    )
    wf.add_argument("--seed", type=int_arg(0, 2**32 - 1), default=7)
    wf.add_argument(
        "--train-ratio", type=number_arg(100), default=2.0, help="training window length / test window length"
    )
    wf.add_argument("--anchored", action="store_true", help="every training window starts at the data's first day")
    bt = sub.add_parser("backtest", help="one in-memory backtest with the current or given parameters")
    bt.add_argument("market_dir", type=directory_arg)
    bt.add_argument("--params", type=input_file_arg, help="proposal.json or a JSON object of strategy parameters")
    bt.add_argument("--start", help="first UTC day (YYYY-MM-DD); default: the data's start")
    bt.add_argument("--end", help="last UTC day, inclusive; default: the data's end")
    args = ap.parse_args(argv)
    return walk_forward(args) if args.command == "walk-forward" else backtest(args)


def backtest(args: argparse.Namespace) -> int:
    load_dotenv_file()
    try:
        s = load_settings(FEED="replay", MARKET_DIR=str(args.market_dir), SPEED="max", PROFILE="paper")
        if not is_directory(args.market_dir):
            raise ConfigError("command line", "MARKET_DIR", "an existing market directory", str(args.market_dir))
        params: dict = {}
        if args.params is not None:
            doc = json.loads(args.params.read_text(encoding="utf-8"))
            params = doc.get("params", doc) if isinstance(doc, dict) else doc
            if not isinstance(params, dict):
                raise ConfigError(str(args.params), "params", "a JSON object of strategy parameters", params)
            with_params(s, params, str(args.params))  # validated like strategy_config.json
        m = market(args.market_dir)
        start = _day_ms(args.start, "--start") if args.start else m.first_ms
        end = _day_ms(args.end, "--end") + DAY_MS if args.end else m.last_ms + 1
    except (ConfigError, ValueError, OSError) as exc:
        print(str(exc) if isinstance(exc, ConfigError) else f"error: {exc}", file=sys.stderr)
        return 2
    job = Job(
        str(args.market_dir.resolve()),
        str(s.config_dir.resolve()),
        str(s.initial_capital_usdt),
        params,
        start,
        end,
        env=run_env(),
    )
    r = run_job(job)
    print(
        f"backtest: {args.market_dir} params={json.dumps(params, sort_keys=True)}\n"
        f"bars={r.bars} fills={r.fills} round_trips={r.trades} return={r.ret * 100:+.2f}% "
        f"sharpe={_f(r.sharpe)} sortino={_f(r.sortino)} calmar={_f(r.calmar)} max_dd_pct={r.max_dd_pct:.2f} "
        f"win_rate={_f(r.win_rate)} profit_factor={_f(r.profit_factor)} fees={r.fees:.2f}"
    )
    return 0


def _f(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _day_ms(text: str, flag: str) -> int:
    try:
        return int(datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)
    except ValueError:
        raise ValueError(f"{flag}: expected YYYY-MM-DD, got {text!r}") from None


def walk_forward(args: argparse.Namespace) -> int:
    load_dotenv_file()
    try:
        s = load_settings(FEED="replay", MARKET_DIR=str(args.market_dir), SPEED="max", PROFILE="paper")
        if not is_directory(args.market_dir):
            raise ConfigError("command line", "MARKET_DIR", "an existing market directory", str(args.market_dir))
        space = load_space(args.space, s.default_strategy, s.risk.max_leverage)
        study_dir = (args.study_dir or Path("research") / args.market_dir.resolve().name).resolve()
        config_dir = s.config_dir.resolve()
        if study_dir == config_dir or config_dir in study_dir.parents:
            raise ConfigError("command line", "--study-dir", "a directory outside CONFIG_DIR", str(study_dir))
        m = market(args.market_dir)
        folds = walk_forward_folds(m.first_ms, m.last_ms + 1, args.folds, args.train_ratio, args.anchored)
    except (ConfigError, FoldError, ValueError) as exc:
        print(str(exc) if isinstance(exc, ConfigError) else f"error: {exc}", file=sys.stderr)
        return 2
    study = Study(
        market_dir=str(args.market_dir.resolve()),
        config_dir=str(config_dir),
        initial_capital=str(s.initial_capital_usdt),
        space=space,
        folds=folds,
        trials=args.trials,
        batch=args.batch,
        seed=args.seed,
        warmup_ms=space.warmup_ms(s.default_strategy),
        baseline=space.current(s.default_strategy),
        study_dir=study_dir,
        env=run_env(),
    )
    try:
        pool = open_pool(args.workers, args.scheduler)
    except OSError as exc:
        print(f"error: cannot reach the Dask scheduler {args.scheduler}: {exc}", file=sys.stderr)
        return 3
    progress = Progress(len(folds))
    t0 = time.perf_counter()
    try:
        result = run(study, pool, progress)
    except StudyMismatch as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not args.scheduler:
            raise
        print(f"error: the Dask cluster failed a backtest: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        return 3
    finally:
        progress.close()
        pool.close()
    strategy_config = json.loads((config_dir / "strategy_config.json").read_text(encoding="utf-8"))
    paths = wf_report.write(result, study_dir, strategy_config)
    print(wf_report.text(result))
    print(
        f"\nwall_s={time.perf_counter() - t0:.1f} report={paths['report']} html={paths['html']} "
        f"proposal={paths['proposal']} (review it; nothing was written into {config_dir})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
