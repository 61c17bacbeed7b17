"""The replay report as one self-contained HTML file: plotly charts (equity, drawdown, monthly
heatmap, per symbol) and the report's tables, the same figures as the text report."""

from __future__ import annotations

import html as html_lib
from datetime import UTC, datetime

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from execution import performance as perf
from execution.replay_report import COLUMNS, Report, Row, cells, text

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def html(report: Report, title: str) -> str:
    figures = [_equity(report), _heatmap(report), _symbols(report)]
    charts = [pio.to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figures)]
    tables = "".join(
        _table(name, rows)
        for name, rows in (
            ("Account", [report.overall]),
            ("Per symbol", report.symbols),
            ("Per month (round trips by close)", report.months),
            ("Per exit reason", report.exits),
        )
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html_lib.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{padding:2px 8px;text-align:right;border-bottom:1px solid #ddd} td:first-child,th:first-child"
        "{text-align:left} pre{font-size:12px;overflow-x:auto}</style></head><body>"
        f"<h1>{html_lib.escape(title)}</h1>"
        + "".join(charts)
        + tables
        + f"<h2>Text report</h2><pre>{html_lib.escape(text(report))}</pre></body></html>"
    )


def _table(title: str, rows: list[Row]) -> str:
    head = "".join(f"<th>{html_lib.escape(n)}</th>" for n, _ in COLUMNS)
    body = "".join(
        f"<tr><td>{html_lib.escape(r.label)}</td>"
        + "".join(f"<td>{html_lib.escape(c)}</td>" for c in cells(r))
        + "</tr>"
        for r in rows
    )
    return f"<h2>{html_lib.escape(title)}</h2><table><tr><th></th>{head}</tr>{body}</table>"


def _dates(ts: list[int]) -> list[datetime]:
    return [datetime.fromtimestamp(t / 1000, tz=UTC) for t in ts]


def _equity(report: Report) -> go.Figure:
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.7, 0.3], vertical_spacing=0.05)
    p = report.points
    if p is not None and len(p):
        x = _dates(p.ts.tolist())
        fig.add_trace(go.Scatter(x=x, y=p.nav, name="NAV (USDT)", mode="lines"), row=1, col=1)
        dd = perf.drawdown(perf.growth_index(p)) * -100
        fig.add_trace(go.Scatter(x=x, y=dd, name="drawdown (%)", mode="lines", fill="tozeroy"), row=2, col=1)
    fig.update_layout(title="Equity and drawdown", height=480)
    fig.update_yaxes(title_text="USDT", row=1, col=1)
    fig.update_yaxes(title_text="%", row=2, col=1)
    return fig


def _heatmap(report: Report) -> go.Figure:
    years = sorted({m.month[:4] for m in report.monthly})
    z: list[list[float | None]] = [[None] * 12 for _ in years]
    for m in report.monthly:
        z[years.index(m.month[:4])][int(m.month[5:]) - 1] = round(m.value * 100, 2)
    fig = go.Figure(
        go.Heatmap(z=z, x=list(MONTHS), y=years, colorscale="RdYlGn", zmid=0, texttemplate="%{z}", hoverongaps=False)
    )
    fig.update_layout(title="Monthly return of the account (%)", height=160 + 60 * len(years))
    return fig


def _symbols(report: Report) -> go.Figure:
    names = [r.label for r in report.symbols]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("net P&L of closed trades (USDT)", "buy and hold (%)"))
    fig.add_bar(x=names, y=[float(r.net) for r in report.symbols], name="net P&L", row=1, col=1)
    bh = [None if r.buy_hold is None else r.buy_hold * 100 for r in report.symbols]
    fig.add_bar(x=names, y=bh, name="buy and hold", row=1, col=2)
    fig.update_layout(title="Per symbol", height=380, showlegend=False)
    return fig
