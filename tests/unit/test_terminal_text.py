"""Text an operator's terminal shows is inert (an incident may quote a venue's error body or a
reason typed in Telegram), and what operators type as reasons and notes is one plain line."""

from __future__ import annotations

import json

import pytest

from execution import control_log
from execution.ctl import main as ctl_main
from execution.state.layout import COLLECTION_FILES
from execution.terminal_text import inert


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain text, Ü — 🚀", "plain text, Ü — 🚀"),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        ("clear \x1b[2J\x1b[Hscreen", "clear \\x1b[2J\\x1b[Hscreen"),
        ("title \x1b]0;pwned\x07", "title \\x1b]0;pwned\\x07"),
        ("csi \x9b31m", "csi \\x9b31m"),
        ("pnl \u202e0001-", "pnl \\u202e0001-"),  # a bidi override would show -1000 as 0001-
    ],
)
def test_inert_shows_control_and_format_characters_as_escapes(text, shown):
    assert inert(text) == shown


def test_ctl_alerts_prints_an_escape_sequence_from_a_venue_as_text(tmp_path, capsys):
    alerts = tmp_path / COLLECTION_FILES["alerts"]
    alerts.write_text(json.dumps({"ts": 1, "kind": "ops", "text": "venue said \x1b[2Jall clear\x1b]0;ok\x07"}) + "\n")
    assert ctl_main(["--state-dir", str(tmp_path), "alerts"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "venue said \\x1b[2Jall clear\\x1b]0;ok\\x07" in out


@pytest.mark.parametrize(
    ("reason", "why"),
    [
        ("line one\nline two", r"U\+000A"),
        ("hidden \x1b[8m text", r"U\+001B"),
        ("price \u202e0001", r"U\+202E"),
        ("zero\u200bwidth", r"U\+200B"),
        ("x" * 501, "at most 500"),
    ],
)
def test_reasons_and_notes_are_one_plain_line(reason, why):
    with pytest.raises(control_log.BadCommand, match=why):
        control_log.new_command("hold", "alice", 1, reason=reason)
    with pytest.raises(control_log.BadCommand, match=why):
        control_log.new_command("capital-flow", "alice", 1, amount="10", note=reason)
    assert control_log.new_command("hold", "alice", 1, reason="exchange incident — Ü 🚀").args["reason"]
