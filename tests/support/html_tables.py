"""The Overview's plain HTML tables (dashboard/plain_html.py) read back as DataFrames, so tests
compare their cells as they compared `st.table`'s (standard library parser: no lxml needed)."""

from __future__ import annotations

from html.parser import HTMLParser

import pandas as pd


class _Tables(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tables: list[dict] = []
        self._cell: list[str] | None = None
        self._row: list[tuple[str, str]] = []
        self._section = ""

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag == "table":
            self.tables.append({"head": [], "rows": []})
        elif tag in ("thead", "tbody"):
            self._section = tag
        elif tag == "tr":
            self._row = []
        elif tag in ("th", "td"):
            self._cell = []

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self._cell is not None:
            self._row.append((tag, "".join(self._cell)))
            self._cell = None
        elif tag == "tr" and self.tables:
            self.tables[-1]["head" if self._section == "thead" else "rows"].append(self._row)


def parse(body: str) -> list[pd.DataFrame]:
    """Every table of an HTML body; a first column of row headers (<th>) becomes the index, named
    by its header cell."""
    p = _Tables()
    p.feed(body)
    out = []
    for t in p.tables:
        head = [text for _, text in t["head"][0]] if t["head"] else []
        rows = t["rows"]
        if rows and rows[0] and rows[0][0][0] == "th":
            index = pd.Index([r[0][1] for r in rows], name=head[0] if head else None)
            out.append(pd.DataFrame([[v for _, v in r[1:]] for r in rows], columns=head[1:], index=index))
        else:
            out.append(pd.DataFrame([[v for _, v in r] for r in rows], columns=head))
    return out
