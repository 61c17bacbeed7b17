"""Monthly investor statement: one HTML and one PDF file for a UTC month.

    python scripts/statement.py --month 2025-06 [--out statements/]

Reads the state the dashboard reads (STATE_DIR, or Firestore when configured: the same reader and
.env keys as dashboard/app.py) and prints the figures the Overview page shows for that month,
computed by the same code (execution.performance via dashboard.investor.month_rows): NAV at the
start and end, return, holding BTC over the same days, drawdown, a chart of the day closes, fees,
funding, slippage and capital flows. The PDF is the HTML printed by headless Chromium (the browser
the project already installs for its dashboard tests), so both files show the same page.

Exit codes: 0 written, 1 no figures for that month or the PDF could not be printed (the HTML is
kept), 2 bad usage.
"""

from __future__ import annotations

import argparse
import html
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from dashboard import investor as iv  # noqa: E402
from dashboard import settings as dsettings  # noqa: E402
from dashboard.data import Journals, Loaded, load  # noqa: E402
from dashboard.formatting import fmt_ts  # noqa: E402
from execution import clock  # noqa: E402
from execution import performance as perf  # noqa: E402
from execution.settings.paths import output_directory_arg  # noqa: E402
from execution.state.open import open_reader  # noqa: E402

CHROMIUM = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PDF_TIMEOUT_S = 120


def progress(msg: str) -> None:
    print(f"[statement] {msg}", file=sys.stderr, flush=True)


def gather(reader) -> tuple[Loaded, perf.NavPoints]:
    """The state as the dashboard reads it, and the since-inception day closes."""
    data = load(reader, Journals())
    daily = reader.nav_points(0, clock.wall_ms()) if hasattr(reader, "nav_points") else []
    points = perf.NavPoints.of([p[0] for p in daily], [p[1] for p in daily], [p[3] for p in daily])
    return data, iv.since_inception(points, data.doc("nav"))


def figures(data: Loaded, inception: perf.NavPoints, month: str) -> tuple[perf.MonthFigures, dict[str, str]] | None:
    flows = perf.flows_from_records(data.flows)
    m = perf.month_figures(inception, month, flows, data.trades, data.funding)
    return None if m is None else (m, iv.month_rows(m))


def svg_chart(points: perf.NavPoints, width: int = 640, height: int = 220) -> str:
    """NAV at each day close of the month (and holding BTC, rebased, where recorded) as inline SVG."""
    if len(points) < 2:
        return "<p>Not enough points for a chart.</p>"
    btc = perf.rebased_benchmark(points, points.nav)
    values = np.concatenate((points.nav, btc[np.isfinite(btc)]))
    lo, hi = float(values.min()), float(values.max())
    pad = (hi - lo) * 0.08 or max(abs(hi) * 0.01, 1.0)
    lo, hi = lo - pad, hi + pad
    t0, t1 = int(points.ts[0]), int(points.ts[-1])
    left, right, top, bottom = 70, 10, 10, 30

    def xy(t: int, v: float) -> str:
        x = left + (t - t0) / max(1, t1 - t0) * (width - left - right)
        y = top + (hi - v) / (hi - lo) * (height - top - bottom)
        return f"{x:.1f},{y:.1f}"

    nav_line = " ".join(xy(int(t), float(v)) for t, v in zip(points.ts, points.nav, strict=True))
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
            'role="img" aria-label="NAV at each day close">'
        )
    ]
    for i in range(5):
        v = lo + (hi - lo) * i / 4
        y = top + (hi - v) / (hi - lo) * (height - top - bottom)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{v:,.0f}</text>')
    for t, anchor in ((t0, "start"), (t1, "end")):
        parts.append(
            f'<text x="{xy(t, lo).split(",")[0]}" y="{height - 8}" font-size="10" text-anchor="{anchor}">'
            f"{iv.fmt_day(t)}</text>"
        )
    if np.isfinite(btc).sum() >= 2:
        have = np.isfinite(btc)
        line = " ".join(xy(int(t), float(v)) for t, v in zip(points.ts[have], btc[have], strict=True))
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="#f7931a" stroke-width="1.5" stroke-dasharray="4 3"/>'
        )
    parts.append(f'<polyline points="{nav_line}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def render_html(month: str, rows: dict[str, str], chart: str, nav: dict, simulated: str) -> str:
    body = "\n".join(
        f'<tr><th>{html.escape(k)}</th><td data-figure="{html.escape(k)}">{html.escape(v)}</td></tr>'
        for k, v in rows.items()
    )
    note = f'<p class="sim">{html.escape(simulated)}</p>' if simulated else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Monthly statement {html.escape(month)}</title>
<style>
 body {{ font-family: "DejaVu Sans", Arial, sans-serif; color: #111827; margin: 32px; }}
 h1 {{ font-size: 22px; margin: 0 0 4px; }}
 .sub {{ color: #6b7280; font-size: 12px; margin-bottom: 18px; }}
 .sim {{ display: inline-block; background: #dbeafe; color: #1e3a8a; padding: 2px 8px; border-radius: 4px; font-size: 12px; }}
 table {{ border-collapse: collapse; width: 100%; max-width: 640px; margin: 14px 0; font-size: 13px; }}
 th, td {{ border-bottom: 1px solid #e5e7eb; padding: 6px 8px; text-align: left; }}
 td {{ text-align: right; font-variant-numeric: tabular-nums; }}
 .legend {{ font-size: 11px; color: #374151; }}
 .foot {{ color: #6b7280; font-size: 11px; margin-top: 18px; max-width: 640px; }}
</style></head>
<body>
<h1>Monthly statement &middot; {html.escape(month)}</h1>
<div class="sub">Hedge fund account statement (UTC). Generated {html.escape(fmt_ts(clock.wall_ms()))}.</div>
{note}
<table>{body}</table>
<div>{chart}</div>
<div class="legend"><span style="color:#1f77b4">&#9473;</span> NAV at each day close (USDT)
 &nbsp; <span style="color:#f7931a">&#9476;</span> holding BTC instead, rebased to the NAV (where recorded)</div>
<p class="foot">Returns are time-weighted: deposits and withdrawals are not counted as gains or losses. The month
runs from the last NAV of the previous month (or the fund's starting capital) to the last NAV of this month.
Funding is positive when received. Figures are computed the same way as on the investor dashboard.</p>
</body></html>
"""


def chromium() -> str | None:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html_path: Path, pdf_path: Path) -> None:
    binary = chromium()
    if binary is None:
        raise RuntimeError("no Chromium found (Debian: apt-get install chromium); the HTML statement is written")
    with tempfile.TemporaryDirectory(prefix="statement-chromium-") as profile:
        proc = subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-extensions",
                "--no-pdf-header-footer",
                f"--user-data-dir={profile}",
                f"--print-to-pdf={pdf_path}",
                html_path.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=PDF_TIMEOUT_S,
            env={"HOME": profile, "PATH": "/usr/bin:/bin:/usr/local/bin"},
        )
    if proc.returncode != 0 or not pdf_path.is_file() or pdf_path.stat().st_size == 0:
        raise RuntimeError(f"Chromium could not print the PDF (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the monthly investor statement (HTML and PDF).")
    ap.add_argument("--month", required=True, help="the UTC month, YYYY-MM")
    ap.add_argument(
        "--out", type=output_directory_arg, default="statements", help="directory for the files (default: statements/)"
    )
    args = ap.parse_args(argv)
    try:
        perf.month_bounds(args.month)
    except perf.PerformanceInputError as exc:
        print(f"statement: {exc}", file=sys.stderr)
        return 2
    dsettings.load_env_file()
    progress("reading the fund's state")
    data, inception = gather(open_reader())
    for problem in data.errors + data.problems:
        progress(f"note: {problem}")
    progress(f"computing the figures for {args.month} from {len(inception)} day closes and {len(data.trades)} fills")
    try:
        found = figures(data, inception, args.month)
    except perf.PerformanceInputError as exc:
        print(f"statement: {exc}", file=sys.stderr)
        return 1
    if found is None:
        print(f"statement: no NAV history for {args.month}: nothing to report", file=sys.stderr)
        return 1
    m, rows = found
    status = iv.status(data.doc("control"), data.doc("nav"), data.updated_at_ms, clock.wall_ms(), 1 << 62)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out / f"statement-{args.month}.html", out / f"statement-{args.month}.pdf"
    chart = svg_chart(inception.window(m.from_ts, m.to_ts))
    html_path.write_text(
        render_html(args.month, rows, chart, data.doc("nav"), status.simulated_label), encoding="utf-8"
    )
    progress(f"wrote {html_path}")
    progress("printing the PDF with headless Chromium")
    try:
        print_pdf(html_path, pdf_path)
    except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
        print(f"statement: {exc}", file=sys.stderr)
        return 1
    progress(f"wrote {pdf_path}")
    print(f"{html_path}\n{pdf_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
