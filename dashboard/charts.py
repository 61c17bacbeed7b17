"""The NAV chart: NAV, holding BTC instead (rebased to the NAV), and drawdown, from investor.ChartSeries.

The figure is cached by data version (dashboard/shared.py), so a refresh that brings nothing new
hands Streamlit the same figure and the browser keeps the very same plot. A refresh that brings new
points makes Streamlit mount a new plot (its element id includes the figure), which would throw the
viewer's zoom away: KEEP_ZOOM remembers the axis ranges the viewer chose per chart (`uirevision`
names it) and puts them back on the new plot; double-click (autorange) forgets them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
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
        margin={"l": 8, "r": 8, "t": 8, "b": 8},
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "x": 0},
        uirevision=f"nav-{range_key}",
    )
    return fig


KEEP_ZOOM = """
<script>
(() => {
  if (window.__hedgeKeepZoom) return;
  window.__hedgeKeepZoom = true;
  const saved = {};
  const bind = (gd) => {
    if (gd.__hedgeZoom || !gd._fullLayout || !gd.on || !window.Plotly) return;
    gd.__hedgeZoom = true;
    const key = String(gd.layout.uirevision || "");
    if (key && saved[key]) window.Plotly.relayout(gd, saved[key]);
    gd.on("plotly_relayout", (ev) => {
      const k = String(gd.layout.uirevision || "");
      if (!k) return;
      if (Object.keys(ev).some((n) => n.endsWith("autorange"))) { delete saved[k]; return; }
      const ranges = {};
      for (const [n, v] of Object.entries(ev)) if (/^[xy]axis[0-9]*[.]range/.test(n)) ranges[n] = v;
      if (Object.keys(ranges).length) saved[k] = Object.assign(saved[k] || {}, ranges);
    });
  };
  const scan = () => document.querySelectorAll(".js-plotly-plot").forEach(bind);
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  scan();
})();
</script>
"""
