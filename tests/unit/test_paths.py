"""Paths an operator types (STATE_DIR, MARKET_DIR, a command's --out): every one a process cannot
use is refused in one line before anything is done, never a traceback (a name too long for the
file system, a file where a directory must be, a device, a NUL byte)."""

from __future__ import annotations

import argparse
import os

import pytest

from execution.settings.paths import (
    directory_problem,
    file_problem,
    input_file_arg,
    is_directory,
    output_directory_arg,
    output_file_arg,
)
from tests.support.operator_cli import project_command

TOO_LONG = "x" * 5000


def test_directory_problem_names_what_is_wrong_and_accepts_what_will_be_created(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("x")
    assert directory_problem(tmp_path) is None
    assert directory_problem(tmp_path / "new" / "deeper", writable=True) is None  # created later
    assert directory_problem(a_file) == "not a directory"
    assert directory_problem(a_file / "x") == f"{a_file} is not a directory"
    assert directory_problem(tmp_path / TOO_LONG) == "File name too long"
    assert directory_problem(tmp_path / "a\x00b") == "a name the system refuses"
    os.symlink(tmp_path / "loop", tmp_path / "loop")
    assert directory_problem(tmp_path / "loop" / "x") is not None
    assert not is_directory(tmp_path / TOO_LONG) and not is_directory(tmp_path / "a\x00b")


def test_file_problem_refuses_directories_devices_and_absent_files(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("{}")
    assert file_problem(a_file) is None
    assert file_problem(tmp_path) == "a directory"
    assert file_problem(tmp_path / "none") == "no such file"
    if os.path.exists("/dev/zero"):
        assert file_problem(type(tmp_path)("/dev/zero")) == "not a regular file"


def test_argparse_types_give_argparse_one_line_errors(tmp_path):
    a_file = tmp_path / "f"
    a_file.write_text("{}")
    assert output_file_arg(str(tmp_path / "out.html")) == tmp_path / "out.html"
    assert input_file_arg(str(a_file)) == a_file
    assert output_directory_arg(str(tmp_path / "new")) == tmp_path / "new"
    for convert, bad, why in (
        (output_file_arg, str(tmp_path), "a directory, not a file"),
        (output_file_arg, str(a_file / "x"), "not a directory"),
        (input_file_arg, str(tmp_path), "a directory"),
        (output_directory_arg, str(a_file), "not a directory"),
        (output_directory_arg, TOO_LONG, "File name too long"),
    ):
        with pytest.raises(argparse.ArgumentTypeError, match=why) as info:
            convert(bad)
        assert len(str(info.value)) < 300  # a 5,000-character name is cut short


@pytest.mark.parametrize(
    "args",
    [
        ("execution.replay", "{tmp}", "--state-dir", TOO_LONG),
        ("execution.replay", TOO_LONG, "--state-dir", "{tmp}/st"),
        ("execution.replay", "{tmp}", "--state-dir", "{file}/st"),
        ("execution.feeds.synthetic", "--out", TOO_LONG, "--days", "1"),
        ("execution.feeds.synthetic", "--out", "{file}/m", "--days", "1"),
        ("execution.ctl", "--state-dir", "{file}", "status"),
        ("execution.ctl", "--state-dir", TOO_LONG, "status"),
        ("execution.ctl", "export-log", "--out", "{tmp}"),
        ("execution.research", "backtest", "{tmp}", "--params", "{tmp}"),
    ],
    ids=lambda a: " ".join(x[:12] for x in a),
)
def test_commands_refuse_unusable_paths_in_one_line_with_exit_2(tmp_path, args):
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    argv = [a.format(tmp=tmp_path, file=a_file) for a in args]
    done = project_command("-m", *argv)
    assert done.returncode == 2, done.stderr[-500:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert "error" in last and len(last) < 400
