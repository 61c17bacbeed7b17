"""Operator identity comes from the OS, and names are compared after folding and confusables."""

from __future__ import annotations

import pwd

import pytest

from execution.operators import invoking_operator, name_problem, same_operator


def passwd(name: str) -> pwd.struct_passwd:
    return pwd.struct_passwd((name, "x", 1000, 1000, "", "/home/" + name, "/bin/sh"))


def test_the_login_is_the_operator_and_sudo_user_only_counts_for_root():
    assert invoking_operator(lambda: "mallory", lambda: 1000, lambda uid: passwd("alice")) == "alice"
    assert invoking_operator(lambda: "bob", lambda: 0, lambda uid: passwd("root")) == "bob"
    assert invoking_operator(lambda: "", lambda: 0, lambda uid: passwd("root")) == "root"

    def missing(uid: int) -> pwd.struct_passwd:
        raise KeyError(uid)

    assert invoking_operator(lambda: "", lambda: 4242, missing) == "uid-4242"


@pytest.mark.parametrize(
    "a,b",
    [
        ("alice", "alice"),
        ("alice", "ALICE"),
        ("alice", "\u0430lice"),  # Cyrillic a
        ("alice", "\uff41lice"),  # fullwidth a
        ("alice", "a1ice"),
        ("mike", "rnike"),
        ("bob", "b0b"),
        ("bob", " bob "),
        ("telegram:42/@alice", "alice"),  # the bot's operator name and the same person's login
        ("telegram:42/@alice", "telegram:42/@Alice"),
    ],
)
def test_confusable_names_are_the_same_operator(a, b):
    assert same_operator(a, b)


@pytest.mark.parametrize(
    "a,b",
    [("alice", "bob"), ("carol", "carol2"), ("dave", "eve"), ("telegram:42/@alice", "bob"), ("telegram:42", "alice")],
)
def test_different_names_are_different_operators(a, b):
    assert not same_operator(a, b)


def test_names_with_control_or_invisible_characters_are_refused():
    assert name_problem("alice") is None and name_problem("alice smith") is None
    for bad in ("", "   ", "al\u200bice", "al\nice", "a" * 65, None):
        assert name_problem(bad)
