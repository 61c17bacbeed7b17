"""The read-only dashboard: two pages behind the same login. It reads state and draws it; it never
writes or trades.

    python -m dashboard --port 8501      (dashboard/__main__.py: loopback only, from any directory)

- Overview (dashboard/overview.py): the investor page, in plain words.
- Operations (dashboard/operations.py): modes, reasons, breakers, alerts, signals, screener and
  arbitrage diagnostics, for the fund's operators.

Both re-run a fragment every DASHBOARD_REFRESH_SECONDS; reads are cached for DASHBOARD_CACHE_SECONDS
and shared by every viewer of this process (dashboard/shared.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):  # `streamlit run dashboard/app.py` runs this file as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

from dashboard import settings as dsettings
from execution.settings import ConfigError

# Investors never see a traceback or a developer menu, whichever way Streamlit was started (the
# project's config file is read only from the directory it starts in): set here, not only there.
for option, value in (("client.showErrorDetails", "none"), ("client.toolbarMode", "minimal")):
    st.set_option(option, value)

st.set_page_config(
    page_title="Fund overview",
    layout="wide",
    initial_sidebar_state="collapsed",
    menu_items={"Get help": None, "Report a bug": None, "About": "Read-only fund dashboard."},
)

# Phones: headline figures two per row (they are fixed-width items of a wrapping row), smaller
# figures so a NAV fits its box, and less padding around the page. The Overview's plain HTML
# tables (dashboard/plain_html.py): cells wrap, the table scrolls sideways only inside its box.
STYLE = """
<style>
[data-testid="stMetricValue"] { font-size: 1.7rem; }
.hedge-table { overflow-x: auto; max-width: 100%; margin-bottom: 1rem; }
.hedge-table table { border-collapse: collapse; width: 100%; font-size: 0.875rem; }
.hedge-table th, .hedge-table td { padding: 0.25rem 0.6rem; border-bottom: 1px solid rgba(49,51,63,0.1);
  text-align: left; vertical-align: top; }
.hedge-table thead th { color: rgba(49,51,63,0.6); font-weight: 400; border-bottom-color: rgba(49,51,63,0.2); }
.hedge-table .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.hedge-table .nw { white-space: nowrap; }
.hedge-notes { font-size: 0.875rem; color: rgba(49,51,63,0.6); margin-bottom: 0.5rem; }
.hedge-notes summary { cursor: pointer; }
.hedge-notes dt { font-weight: 600; margin-top: 0.3rem; }
.hedge-notes dd { margin: 0; }
@media (max-width: 640px) {
  [data-testid="stMetricValue"] { font-size: 1.25rem; }
  [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem; }
  h1 { font-size: 1.6rem !important; }
}
</style>
"""

try:
    dsettings.load_env_file()
    dsettings.load()
except (dsettings.DashboardConfigError, ConfigError) as exc:
    print(f"dashboard config: {exc}", file=sys.stderr)  # the detail (names, paths) is for the operator's log
    st.warning("The dashboard cannot show figures just now: its configuration needs attention.")
    st.stop()

st.html(STYLE)
page = st.navigation(
    [
        st.Page("overview.py", title="Overview", url_path="overview", default=True),
        st.Page("operations.py", title="Operations", url_path="operations"),
    ],
    position="top",
)
page.run()
