"""The NAV chart: NAV, holding BTC instead (rebased to the NAV), and drawdown, from investor.ChartSeries.

`uirevision` is fixed per range, so a refresh that brings new points keeps the viewer's zoom and
legend choices; the figure itself is cached by data version (dashboard/shared.py), so a refresh
that brings nothing new hands Streamlit the same figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.investor import ChartSeries

CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"], "responsive": True}


def nav_figure(s: ChartSeries, range_key: str, height: int = 440) -> go.Figure:
    x = pd.to_datetime(s.ts, unit="ms", utc=True)
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.72, 0.28], vertical_spacing=0.04)
    fig.add_trace(
        go.Scatter(x=x, y=s.nav, name="NAV (USDT)", mode="lines", line={"width": 1.8, "color": "#1f77b4"}),
        row=1,
        col=1,
    )
    if np.isfinite(s.btc).any():
        fig.add_trace(
            go.Scatter(
                x=x,
                y=s.btc,
                name="Holding BTC instead",
                mode="lines",
                line={"width": 1.2, "color": "#f7931a", "dash": "dot"},
                connectgaps=False,
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=-s.drawdown_pct,
            name="Drawdown (%)",
            mode="lines",
            fill="tozeroy",
            line={"width": 1, "color": "#d62728"},
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="USDT", row=1, col=1, tickformat=",.0f")
    fig.update_yaxes(title_text="Drawdown", row=2, col=1, ticksuffix="%")
    fig.update_layout(
        height=height,
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        uirevision=f"nav-{range_key}",
    )
    return fig
