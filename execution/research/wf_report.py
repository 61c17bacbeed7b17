"""What a walk-forward found: in-sample vs out-of-sample per fold, the test windows chained into
one out-of-sample result beside the current default's, the parameters' stability across folds,
and the proposal file an operator reviews (never written into config/ by this code).

Figures come from `execution.performance` (the same module as the replay report and the
dashboard); charts are plotly, in one self-contained HTML file.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from execution import performance
from execution.research.backtest import BacktestResult
from execution.research.walk_forward import FoldResult, WalkForward


@dataclass(frozen=True)
class Chained:
    """Test windows one after another, each starting from the capital again, compounded."""

    ts: list[int]
    equity: list[float]  # growth of 1
    ret: float
    sharpe: float | None
    sortino: float | None
    max_dd: float | None
    trades: int
    days: int


def chain(results: list[BacktestResult]) -> Chained | None:
    if not results:
        return None
    ts, eq, factor, trades = [results[0].start_ms - 1], [1.0], 1.0, 0
    for r in results:
        for day, nav in r.daily:
            ts.append(day + 86_399_999)  # the day's close
            eq.append(factor * nav / r.capital)
        factor = eq[-1]
        trades += r.trades
    points = performance.NavPoints.of(ts, eq)
    risk = performance.risk(performance.daily_returns(points))
    return Chained(ts, eq, eq[-1] - 1, risk.sharpe, risk.sortino, risk.max_drawdown, trades, risk.days)


def chained_oos(wf: WalkForward) -> tuple[Chained | None, Chained | None]:
    tested = [f for f in wf.folds if f.fold.test is not None]
    best = [f.test for f in tested if f.test is not None]
    base = [f.baseline_test for f in tested if f.baseline_test is not None]
    complete = len(best) == len(tested)
    return (chain(best) if complete else None), chain(base)


def beats(wf_oos: Chained | None, base_oos: Chained | None) -> bool:
    """Both the out-of-sample return and Sharpe must be higher than the current default's."""
    if wf_oos is None or base_oos is None:
        return False
    sharpe_ok = (wf_oos.sharpe or float("-inf")) > (base_oos.sharpe or float("-inf"))
    return wf_oos.ret > base_oos.ret and sharpe_ok


def stability(wf: WalkForward) -> list[tuple[str, list[Any], str]]:
    """Per parameter: the winner of each fold (and the final window), and how much they agree."""
    rows = []
    for p in wf.study.space.params:
        values = [f.best_params.get(p.name) if f.best_params else None for f in wf.folds]
        have = [v for v in values if v is not None]
        if not have:
            rows.append((p.name, values, "n/a"))
        elif p.choices:
            mode = max(set(have), key=have.count)
            rows.append((p.name, values, f"{have.count(mode)}/{len(have)} agree ({mode})"))
        else:
            span = p.span() or 1.0
            spread = statistics.pstdev(float(v) for v in have) / span
            rows.append((p.name, values, f"spread {spread:.2f} of range"))
    return rows


def text(wf: WalkForward) -> str:
    st = wf.study
    tested = [f for f in st.folds if f.test is not None]
    lines = [
        f"walk-forward: {st.market_dir}",
        (
            f"objective={st.space.objective} min_trades={st.space.min_trades} folds={len(tested)} "
            f"(train {tested[0].train.days} d, test {tested[0].test.days if tested[0].test else 0} d) "
            f"trials={st.trials}/fold batch={st.batch} seed={st.seed}"
        ),
        f"backtests on: {wf.pool_name}; candidate backtests run now: {wf.trials_run} in {wf.optimise_s:.0f} s"
        + (f" ({wf.trials_per_min:.1f} trials/min)" if wf.trials_per_min else ""),
        "",
        (
            f"{'fold':6} {'train':23} {'test':23} {'IS score':>8} {'IS ret':>8} {'OOS ret':>8} {'OOS shp':>8} "
            f"{'OOS dd':>7} {'OOS tr':>6} | {'dflt IS':>8} {'dflt OOS':>8} {'dflt shp':>8}"
        ),
    ]
    for f in wf.folds:
        lines.append(_fold_row(f))
    wf_oos, base_oos = chained_oos(wf)
    lines += ["", "out of sample (the test windows chained):"]
    lines.append(f"{'':18} {'return':>8} {'sharpe':>7} {'sortino':>7} {'max dd':>7} {'trades':>6} {'days':>5}")
    for name, c in (("walk-forward", wf_oos), ("current default", base_oos)):
        lines.append(f"{name:18} " + _chained_row(c))
    verdict = beats(wf_oos, base_oos)
    lines.append(
        "verdict: the walk-forward "
        + ("BEATS" if verdict else "does NOT beat")
        + " the current default out of sample (needs a higher return and a higher Sharpe)"
    )
    lines += ["", "parameter stability (winner per fold, then the final training window):"]
    names = [f.fold.name for f in wf.folds]
    lines.append(f"{'param':18} " + " ".join(f"{n:>14}" for n in names) + "  agreement")
    for name, values, note in stability(wf):
        lines.append(f"{name:18} " + " ".join(f"{_v(v):>14}" for v in values) + f"  {note}")
    return "\n".join(lines)


def _fold_row(f: FoldResult) -> str:
    test = f.fold.test.label() if f.fold.test else "(proposal)"
    b = f.best_train
    return (
        f"{f.fold.name:6} {f.fold.train.label():23} {test:23} {_n(b.score if b else None):>8} "
        f"{_pct(b.ret if b else None):>8} {_pct(f.test.ret if f.test else None):>8} "
        f"{_n(f.test.sharpe if f.test else None):>8} {_dd(f.test.max_dd_pct / 100 if f.test else None):>7} "
        f"{f.test.trades if f.test else '':>6} | {_pct(f.baseline_train.ret):>8} "
        f"{_pct(f.baseline_test.ret if f.baseline_test else None):>8} "
        f"{_n(f.baseline_test.sharpe if f.baseline_test else None):>8}"
    )


def _chained_row(c: Chained | None) -> str:
    if c is None:
        return "n/a (a fold had no candidate with enough trades)"
    return f"{_pct(c.ret):>8} {_n(c.sharpe):>7} {_n(c.sortino):>7} {_dd(c.max_dd):>7} {c.trades:>6} {c.days:>5}"


def proposal(wf: WalkForward, strategy_config: dict) -> dict:
    """The proposal document: the final window's winner as a strategy_config.json to review."""
    final = wf.folds[-1]
    params = final.best_params or {}
    cfg = json.loads(json.dumps(strategy_config))
    cfg.setdefault("defaults", {}).update(params)
    for sym in list(cfg.get("symbols", {})):
        over = {k: v for k, v in cfg["symbols"][sym].items() if k not in params}
        if over:
            cfg["symbols"][sym] = over
        else:
            del cfg["symbols"][sym]
    wf_oos, base_oos = chained_oos(wf)
    return {
        "_comment": (
            "Walk-forward proposal for an operator to review. Nothing was changed in config/. To adopt it, "
            "compare 'strategy_config' with config/strategy_config.json and copy it there by hand; "
            "ship it only if 'beats_current_default_out_of_sample' is true on every window you care about."
        ),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "market_dir": wf.study.market_dir,
        "objective": wf.study.space.objective,
        "params": params,
        "final_training_window": final.fold.train.label(),
        "beats_current_default_out_of_sample": beats(wf_oos, base_oos),
        "out_of_sample": {"walk_forward": _chained_doc(wf_oos), "current_default": _chained_doc(base_oos)},
        "folds": [
            {
                "fold": f.fold.name,
                "train": f.fold.train.label(),
                "test": f.fold.test.label() if f.fold.test else None,
                "params": f.best_params,
                "in_sample": _result_doc(f.best_train),
                "out_of_sample": _result_doc(f.test),
                "current_default_in_sample": _result_doc(f.baseline_train),
                "current_default_out_of_sample": _result_doc(f.baseline_test),
            }
            for f in wf.folds
        ],
        "strategy_config": cfg,
    }


def write(wf: WalkForward, study_dir: Path, strategy_config: dict) -> dict[str, Path]:
    from execution.research.wf_charts import html

    paths = {
        "report": study_dir / "report.txt",
        "html": study_dir / "report.html",
        "proposal": study_dir / "proposal.json",
    }
    paths["report"].write_text(text(wf) + "\n", encoding="utf-8")
    paths["html"].write_text(html(wf), encoding="utf-8")
    paths["proposal"].write_text(json.dumps(proposal(wf, strategy_config), indent=2) + "\n", encoding="utf-8")
    return paths


def _chained_doc(c: Chained | None) -> dict | None:
    if c is None:
        return None
    return {"return": c.ret, "sharpe": c.sharpe, "sortino": c.sortino, "max_drawdown": c.max_dd, "trades": c.trades}


def _result_doc(r: BacktestResult | None) -> dict | None:
    if r is None:
        return None
    keys = ("score", "ret", "sharpe", "sortino", "calmar", "max_dd_pct", "trades", "win_rate", "profit_factor", "fees")
    return {k: getattr(r, k) for k in keys}


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:+.2f}%"


def _dd(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.2f}%"


def _n(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.2f}"


def _v(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:g}" if isinstance(v, float) else str(v)
