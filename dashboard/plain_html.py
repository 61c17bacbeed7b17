"""Plain HTML for the Overview (tables, notes), drawn with one `st.html` element each.

Why not `st.table`: Streamlit renders every cell of it through its Markdown component (a React
subtree, a Markdown parse and CSS-in-JS styles per cell), which made the Overview's ~270 table
cells the largest part of the browser's work on every visit (bench/dashboard_load.py). One HTML
string per table costs the browser one `innerHTML`. Every label and value is HTML-escaped here, so
nothing from the state can become markup; the look (borders, phone scrolling) is in app.py's STYLE.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from html import escape

CLASS = "hedge-table"
_NUMBER = re.compile(r"^[+\-−]?[\d,]+(\.\d+)?\s?%?$")
_TIME = re.compile(r"^\d{4}-\d{2}(-\d{2})?( \d{2}:\d{2}( UTC)?)?$")  # a date/time never breaks inside


def _cell(tag: str, value: object, style: str = "", scope: str = "") -> str:
    text = "" if value is None else str(value)
    attrs = ' class="num"' if _NUMBER.match(text) else ' class="nw"' if _TIME.match(text) else ""
    if scope:
        attrs += f' scope="{scope}"'
    if style:
        attrs += f' style="{escape(style)}"'
    return f"<{tag}{attrs}>{escape(text)}</{tag}>"


def rows_html(rows: Sequence[dict]) -> str:
    """Rows of equal keys (the first row's keys are the header) as a table."""
    columns = list(rows[0]) if rows else []
    return grid_html(columns, [[row.get(c) for c in columns] for row in rows])


def grid_html(
    columns: Sequence[str],
    cells: Sequence[Sequence[object]],
    index: Sequence[str] | None = None,
    index_name: str = "",
    style: Callable[[int, int], str] | None = None,
) -> str:
    """A header row, then one row per `cells` row; `index` adds row labels (a first column of row
    headers titled `index_name`); `style(row, col)` may give a cell an inline CSS declaration."""
    head = ([_cell("th", index_name, scope="col")] if index is not None else []) + [
        _cell("th", c, scope="col") for c in columns
    ]
    body = []
    for r, row in enumerate(cells):
        out = [_cell("th", index[r], scope="row")] if index is not None else []
        out += [_cell("td", v, style(r, c) if style else "") for c, v in enumerate(row)]
        body.append("<tr>" + "".join(out) + "</tr>")
    return (
        f'<div class="{CLASS}"><table><thead><tr>{"".join(head)}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def notes_html(summary: str, notes: Sequence[tuple[str, str]]) -> str:
    """Terms and what they mean, folded under `summary` (a native <details>: opens on a tap, no script)."""
    items = "".join(f"<dt>{escape(term)}</dt><dd>{escape(text)}</dd>" for term, text in notes)
    return f'<details class="hedge-notes"><summary>{escape(summary)}</summary><dl>{items}</dl></details>'
