"""Walk-forward optimisation: optuna proposes candidates on each fold's training window, the
fold's winner is scored only on the test window that follows, and the current default runs on
the same windows beside it.

Studies live in `STUDY_DIR/optuna.db` (SQLite), one optuna study per fold, so a killed run resumes
where it stopped: finished trials are kept, trials left running are marked failed and replaced.
Candidates are asked for in batches of `batch` (ask-and-tell) with a TPE sampler seeded from
(seed, fold, trials done), so the same command gives the same trials whether the backtests run
in this process, on local workers or on a Dask cluster, and a resumed run asks for what an
uninterrupted one would have.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from execution.research.backtest import BacktestResult, Job
from execution.research.folds import Fold, Window
from execution.research.pool import Pool
from execution.research.space import SearchSpace


@dataclass(frozen=True)
class Study:
    """What one walk-forward is: the same study directory must always be the same study."""

    market_dir: str
    config_dir: str
    initial_capital: str
    space: SearchSpace
    folds: list[Fold]
    trials: int
    batch: int
    seed: int
    warmup_ms: int
    baseline: dict[str, Any]  # the searched fields' current default values
    study_dir: Path
    env: tuple[tuple[str, str], ...] = ()  # backtest.run_env of the researcher's environment

    def fingerprint(self) -> str:
        doc = {
            "market_dir": self.market_dir,
            "config": _config_digest(Path(self.config_dir)),
            "capital": self.initial_capital,
            "space": [p.__dict__ for p in self.space.params],
            "objective": self.space.objective,
            "min_trades": self.space.min_trades,
            "folds": [(f.train.start_ms, f.train.end_ms) for f in self.folds],
            "batch": self.batch,
            "seed": self.seed,
            "env": self.env,
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def job(self, params: dict[str, Any], window: Window, keep_records: bool = False) -> Job:
        return Job(
            self.market_dir,
            self.config_dir,
            self.initial_capital,
            params,
            window.start_ms,
            window.end_ms,
            self.warmup_ms,
            self.space.objective,
            self.space.min_trades,
            keep_records,
            self.env,
        )


@dataclass
class FoldResult:
    fold: Fold
    trials: int  # finished trials in the study
    best_params: dict[str, Any] | None  # None: no candidate could be scored
    best_train: BacktestResult | None  # the winner in sample
    test: BacktestResult | None  # the winner out of sample
    baseline_train: BacktestResult
    baseline_test: BacktestResult | None


@dataclass
class WalkForward:
    study: Study
    pool_name: str
    folds: list[FoldResult] = field(default_factory=list)
    trials_run: int = 0  # backtests of candidates run by this invocation (not resumed ones)
    optimise_s: float = 0.0

    @property
    def trials_per_min(self) -> float | None:
        return self.trials_run / self.optimise_s * 60 if self.optimise_s > 0 and self.trials_run else None


class StudyMismatch(Exception):
    """The study directory holds another study; resuming it would mix two searches."""


def run(study: Study, pool: Pool, progress: Callable[[str, int, int, float | None], None]) -> WalkForward:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study.study_dir.mkdir(parents=True, exist_ok=True)
    storage = f"sqlite:///{(study.study_dir / 'optuna.db').resolve()}"
    out = WalkForward(study, pool.name)
    for fold in study.folds:
        best, done = _optimise(study, fold, storage, pool, out, progress)
        jobs = [study.job({}, fold.train)]
        if fold.test is not None:
            jobs.append(study.job({}, fold.test))
        if best is not None:
            jobs.append(study.job(best, fold.train))
            if fold.test is not None:
                jobs.append(study.job(best, fold.test))
        results = pool.map(jobs)
        base_train = results[0]
        base_test = results[1] if fold.test is not None else None
        rest = results[2:] if fold.test is not None else results[1:]
        out.folds.append(
            FoldResult(
                fold,
                done,
                best,
                rest[0] if best is not None else None,
                rest[1] if best is not None and fold.test is not None else None,
                base_train,
                base_test,
            )
        )
    return out


def _optimise(
    study: Study,
    fold: Fold,
    storage: str,
    pool: Pool,
    out: WalkForward,
    progress: Callable[[str, int, int, float | None], None],
) -> tuple[dict[str, Any] | None, int]:
    import optuna
    from optuna.trial import TrialState

    s = optuna.create_study(study_name=fold.name, storage=storage, direction="maximize", load_if_exists=True)
    fingerprint = study.fingerprint()
    if s.user_attrs.get("fingerprint", fingerprint) != fingerprint:
        raise StudyMismatch(
            f"{study.study_dir} holds another walk-forward (different market, config, space, folds, batch "
            "or seed); use another --study-dir or move it away"
        )
    if "fingerprint" not in s.user_attrs:
        s.set_user_attr("fingerprint", fingerprint)
        s.set_user_attr("train", fold.train.label())
    for t in s.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        s.tell(t.number, state=TrialState.FAIL)  # left running by a killed run: asked again below
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(s.get_trials(deepcopy=False, states=finished))
    waiting = s.get_trials(deepcopy=False, states=(TrialState.WAITING,))
    if not done and not waiting and study.space.contains(study.baseline):
        s.enqueue_trial(study.baseline)  # the current default is every fold's first candidate
    progress(fold.name, done, study.trials, _best(s))
    while done < study.trials:
        sampler = optuna.samplers.TPESampler(seed=_seed(study.seed, fold.index, done), constant_liar=True)
        s = optuna.load_study(study_name=fold.name, storage=storage, sampler=sampler)
        asked = [s.ask() for _ in range(min(study.batch, study.trials - done))]
        params = [study.space.suggest(t) for t in asked]
        t0 = time.perf_counter()
        results = pool.map([study.job(p, fold.train) for p in params])
        out.optimise_s += time.perf_counter() - t0
        out.trials_run += len(results)
        for trial, r in zip(asked, results, strict=True):
            for key in ("ret", "sharpe", "trades", "max_dd_pct"):
                trial.set_user_attr(key, getattr(r, key))
            if r.score is None:
                s.tell(trial, state=TrialState.PRUNED)
            else:
                s.tell(trial, r.score)
        done += len(results)
        progress(fold.name, done, study.trials, _best(s))
    best = _best_trial(s)
    return (dict(best.params) if best is not None else None), done


def _best_trial(s: Any) -> Any:
    from optuna.trial import TrialState

    complete = s.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return None
    return max(complete, key=lambda t: (t.value, -t.number))  # ties: the earlier trial


def _best(s: Any) -> float | None:
    t = _best_trial(s)
    return float(t.value) if t is not None else None


def _seed(seed: int, fold: int, done: int) -> int:
    return (seed * 1_000_003 + (fold + 1) * 10_007 + done) % (2**31)


def _config_digest(config_dir: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(config_dir.glob("*.json")):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


class Progress:
    """A bar on a terminal (tqdm), plain lines otherwise (a log file, CI)."""

    def __init__(self, total_folds: int, stream: Any = None):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.total_folds = total_folds
        self._bar: Any = None
        self._fold = ""
        self.t0 = time.perf_counter()

    def __call__(self, fold: str, done: int, total: int, best: float | None) -> None:
        best_text = f"{best:.3f}" if best is not None else "n/a"
        if self.tty:
            from tqdm import tqdm

            if fold != self._fold:
                if self._bar is not None:
                    self._bar.close()
                self._bar = tqdm(total=total, initial=done, desc=fold, file=self.stream, unit="trial")
                self._fold = fold
            self._bar.n = done
            self._bar.set_postfix_str(f"best={best_text}")
            self._bar.refresh()
            return
        self._fold = fold
        print(
            f"[research] {fold} trials {done}/{total} best={best_text} elapsed_s={time.perf_counter() - self.t0:.0f}",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
