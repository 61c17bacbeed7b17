"""dashboard/plain_html.py: the Overview's plain HTML tables escape what they show and read back as
the rows they were given."""

from __future__ import annotations

from dashboard import plain_html as ht
from tests.support import html_tables


def test_rows_read_back_as_given_and_numbers_align_right():
    rows = [{"Asset": "Bitcoin", "P&L (USDT)": "+1,234.50"}, {"Asset": "Ether", "P&L (USDT)": "-0.25"}]
    body = ht.rows_html(rows)
    [frame] = html_tables.parse(body)
    assert frame.to_dict("records") == rows
    assert '<td class="num">+1,234.50</td>' in body and "<td>Bitcoin</td>" in body


def test_text_from_the_state_never_becomes_markup():
    body = ht.rows_html([{"<b>col</b>": '<img src=x onerror="alert(1)">', "x": "a & b"}])
    assert "<img" not in body and "<b>" not in body and "&lt;img" in body and "a &amp; b" in body
    [frame] = html_tables.parse(body)
    assert list(frame.columns) == ["<b>col</b>", "x"] and frame.iloc[0, 0] == '<img src=x onerror="alert(1)">'


def test_grid_with_row_labels_and_cell_styles():
    body = ht.grid_html(
        ["Jan", "Year"],
        [["+1.0%", ""], ["", "-2.0%"]],
        index=["2026", "2025"],
        index_name="Year",
        style=lambda r, c: "background-color: red" if (r, c) == (1, 1) else "",
    )
    [frame] = html_tables.parse(body)
    assert frame.index.name == "Year" and list(frame.index) == ["2026", "2025"]
    assert list(frame.columns) == ["Jan", "Year"] and frame.loc["2025", "Year"] == "-2.0%"
    assert body.count("background-color") == 1 and 'style="background-color: red">-2.0%' in body


def test_no_rows_is_an_empty_table():
    assert html_tables.parse(ht.rows_html([]))[0].empty


def test_notes_are_escaped_and_folded():
    body = ht.notes_html("What <these> mean", [("NAV", "equity < 5 & more"), ("<i>x</i>", "y")])
    assert body.startswith('<details class="hedge-notes"><summary>What &lt;these&gt; mean</summary>')
    assert "<dt>NAV</dt><dd>equity &lt; 5 &amp; more</dd>" in body and "<i>" not in body


def test_dates_never_break_inside():
    body = ht.rows_html([{"Closed": "2025-06-30 22:00", "Month": "2025-06", "Asset": "Bitcoin"}])
    assert '<td class="nw">2025-06-30 22:00</td><td class="nw">2025-06</td><td>Bitcoin</td>' in body
