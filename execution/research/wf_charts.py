"""The walk-forward's HTML report: plotly charts (out-of-sample equity, in- vs out-of-sample per
fold, parameter values per fold) and the text report, in one self-contained file."""

from __future__ import annotations

import html as html_lib
from datetime import UTC, datetime

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from execution.research.walk_forward import WalkForward
from execution.research.wf_report import chained_oos, text


def html(wf: WalkForward) -> str:
    figures = [_equity(wf), _in_vs_out(wf), _params(wf)]
    parts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Walk-forward report</title>"
        "<style>body{font-family:sans-serif;margin:1.5em} pre{font-size:12px;overflow-x:auto}</style></head><body>"
        f"<h1>Walk-forward: {html_lib.escape(wf.study.market_dir)}</h1>"
        + "".join(parts)
        + f"<h2>Report</h2><pre>{html_lib.escape(text(wf))}</pre></body></html>"
    )


def _dates(ts: list[int]) -> list[datetime]:
    return [datetime.fromtimestamp(t / 1000, tz=UTC) for t in ts]


def _equity(wf: WalkForward) -> go.Figure:
    fig = go.Figure()
    wf_oos, base_oos = chained_oos(wf)
    for name, c in (("walk-forward (out of sample)", wf_oos), ("current default", base_oos)):
        if c is not None:
            fig.add_trace(go.Scatter(x=_dates(c.ts), y=c.equity, name=name, mode="lines"))
    fig.update_layout(title="Test windows chained: growth of 1", yaxis_title="growth of 1", height=380)
    return fig


def _in_vs_out(wf: WalkForward) -> go.Figure:
    folds = [f for f in wf.folds if f.fold.test is not None]
    names = [f.fold.name for f in folds]

    def pct(values: list) -> list:
        return [None if v is None else v * 100 for v in values]

    fig = go.Figure()
    fig.add_bar(x=names, y=pct([f.best_train.ret if f.best_train else None for f in folds]), name="winner in sample")
    fig.add_bar(x=names, y=pct([f.test.ret if f.test else None for f in folds]), name="winner out of sample")
    fig.add_bar(x=names, y=pct([f.baseline_train.ret for f in folds]), name="default in sample")
    fig.add_bar(
        x=names, y=pct([f.baseline_test.ret if f.baseline_test else None for f in folds]), name="default out of sample"
    )
    fig.update_layout(title="Return per fold (%)", barmode="group", yaxis_title="%", height=380)
    return fig


def _params(wf: WalkForward) -> go.Figure:
    params = wf.study.space.params
    fig = make_subplots(rows=len(params), cols=1, subplot_titles=[p.name for p in params], shared_xaxes=True)
    names = [f.fold.name for f in wf.folds]
    for i, p in enumerate(params, start=1):
        values = [f.best_params.get(p.name) if f.best_params else None for f in wf.folds]
        fig.add_trace(go.Scatter(x=names, y=values, mode="lines+markers", name=p.name, showlegend=False), row=i, col=1)
        if not p.choices:
            fig.update_yaxes(range=[p.low, p.high], row=i, col=1)
    fig.update_layout(title="Winning parameters per fold (axis = searched range)", height=160 * len(params) + 80)
    return fig
