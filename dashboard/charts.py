"""The NAV chart: NAV, holding BTC instead (rebased to the NAV), and drawdown, from investor.ChartSeries.

Drawn by plotly.js's *basic* bundle (scatter, bar, pie: all this chart needs; 1.2 MB instead of
the 4.7 MB full bundle Streamlit's st.plotly_chart loads and initialises on every page load),
vendored in dashboard/static/ (MIT, see its LICENSE file) and served by Streamlit's static file
serving, through a small st.components.v2 component (no iframe). The figure is still built
with the Python plotly library.

The component keeps one plot per range and updates it with `Plotly.react`: a refresh that brings
nothing new leaves the very same plot untouched (the figure is cached by data version in
dashboard/shared.py and carries its digest), and new points update it in place, where
`uirevision` keeps the zoom the viewer chose; double-click (autorange) resets it.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboard.investor import ChartSeries

CONFIG = {
    "displaylogo": False,
    "displayModeBar": "hover",
    "modeBarButtonsToRemove": ["select2d", "lasso2d"],
    "responsive": True,
}


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
        # room for the tick labels and axis titles (no automargin: it would cost plotly a second layout pass)
        margin={"l": 72, "r": 8, "t": 8, "b": 40},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        uirevision=f"nav-{range_key}",
    )
    return fig


PLOTLY_JS = "app/static/plotly-basic-4.1.1.min.js"  # relative to the page: works behind a path prefix too

# Loads the bundle once per page (a script tag; the browser caches it), then draws or updates the
# plot in place. Runs in the page (isolate_styles=False), so the plot is a normal .js-plotly-plot.
_COMPONENT_JS = """
export default function (component) {
  const { data, parentElement } = component;
  let div = parentElement.querySelector("div.hedge-chart");
  if (!div) {
    div = document.createElement("div");
    div.className = "hedge-chart";
    parentElement.appendChild(div);
  }
  if (div.dataset.version === data.version) return; // a refresh with nothing new: the very same plot
  const draw = () => {
    div.dataset.version = data.version;
    return window.Plotly.react(div, data.figure.data, data.figure.layout, data.config);
  };
  if (window.Plotly) {
    draw();
    return;
  }
  if (!window.__hedgePlotly) {
    window.__hedgePlotly = new Promise((resolve, reject) => {
      // nginx may already have put the bundle in the page (deploy/nginx: loaded while Streamlit starts)
      const found = document.querySelector('script[src$="' + data.src.split("/").pop() + '"]');
      const script = found || document.createElement("script");
      script.addEventListener("load", resolve);
      script.addEventListener("error", reject);
      if (!found) {
        script.src = data.src;
        document.head.appendChild(script);
      }
    });
  }
  window.__hedgePlotly.then(draw);
}
"""

_plot = st.components.v2.component("hedge_plotly", js=_COMPONENT_JS, isolate_styles=False)


def figure_data(fig: go.Figure) -> dict:
    """What the component draws: the figure as plotly.js JSON, the plot config, the bundle's URL and
    a version (the figure's digest: the browser redraws only when it changes). Build it once per
    figure (dashboard/shared.py caches it with the figure)."""
    text = fig.to_json()
    version = hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:16]
    return {"figure": json.loads(text), "config": CONFIG, "src": PLOTLY_JS, "version": version}


def show(data: dict, key: str) -> None:
    """Draw (or update in place) the plot described by `figure_data`."""
    _plot(key=key, data=data)
