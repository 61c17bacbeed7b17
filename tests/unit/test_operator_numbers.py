"""Numbers operators type are read as typed or refused in one line before anything is done: a
negative `--rounds` would have let panic_close close nothing, `--timeout inf` wait forever,
`--wait-s nan` crash mid-panic, `--days 9999999999` generate forever."""

from __future__ import annotations

import argparse
from decimal import Decimal

import pytest

from execution.operator_numbers import NotAPlainNumber, int_arg, number_arg, plain_decimal, seconds_arg
from tests.support.operator_cli import project_command


@pytest.mark.parametrize("text", ["-1", "0", "101", "1.5", "1e2", "nan", "", " ", "\u0661", "9" * 30, "0x10"])
def test_int_arg_refuses_what_is_not_a_plain_integer_in_range(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected an integer in \[1, 100\]"):
        int_arg(1, 100)(text)


def test_int_arg_and_number_arg_accept_plain_values():
    assert int_arg(1, 100)(" 5 ") == 5 and int_arg(-3, 3)("-3") == -3
    assert number_arg(100)("2.5") == 2.5 and seconds_arg(60)("60") == 60.0
    assert seconds_arg(60, zero=True)("0") == 0.0  # "no wait" where that makes sense
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected seconds in \[0, 60\]"):
        seconds_arg(60, zero=True)("-0.5")


@pytest.mark.parametrize("text", ["0", "-1", "61", "nan", "inf", "-inf", "Infinity", "1e1", "\u0661", "", "1" * 50])
def test_seconds_arg_refuses_what_would_wait_forever_or_crash_a_sleep(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected seconds in \(0, 60\]"):
        seconds_arg(60)(text)


def test_plain_decimal_names_the_field_and_keeps_what_was_typed():
    assert plain_decimal("1_250.50", "--amount", "5000", Decimal(10**6), 8, negative=True) == Decimal("1250.50")
    for bad, why in (("-1", "positive"), ("1e3", "such as"), ("2000000", "beyond"), ("1.123", "decimals")):
        with pytest.raises(NotAPlainNumber, match=f"--size.*{why}"):
            plain_decimal(bad, "--size", "0.01", Decimal(10**6), 2)


@pytest.mark.parametrize(
    "argv",
    [
        ("scripts/panic_close.py", "--dry-run", "--rounds", "-1"),
        ("scripts/panic_close.py", "--dry-run", "--wait-s", "nan"),
        ("-m", "execution.feeds.synthetic", "--out", "{tmp}/m", "--days", "9999999999"),
        ("-m", "execution.ctl", "--state-dir", "{tmp}/st", "hold", "--reason", "x", "--timeout", "inf"),
        ("-m", "execution.research", "walk-forward", "{tmp}", "--train-ratio", "nan"),
    ],
    ids=lambda a: " ".join(a[-2:]),
)
def test_commands_refuse_a_bad_number_before_doing_anything(argv, tmp_path):
    done = project_command(*(a.format(tmp=tmp_path) for a in argv))
    assert done.returncode == 2, done.stderr[-500:]
    assert "error: argument" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "st").exists() and not (tmp_path / "m").exists()  # nothing queued, nothing written
