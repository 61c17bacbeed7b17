"""Who an operator is, and when two names are the same person.

The name comes from the operating system, never from the operator: the invoking user's login
(`pwd`, not $USER, which anyone can set), or SUDO_USER when the CLI runs as root through sudo
(only root can have set it then). Two names are the same operator when they are equal after
Unicode NFKC normalisation, case folding and confusable folding (Unicode TR39 confusables: a
Cyrillic "а" is a Latin "a", "rn" is "m", "0" is "o"), so a homoglyph of the requester's name
cannot pass as a second person. The confusable table is the `confusables` package's (Unicode's
confusables.txt), not a hand-written list.
"""

from __future__ import annotations

import os
import pwd
import unicodedata
from collections.abc import Callable

from execution.settings import sudo_user

MAX_NAME = 64


def invoking_operator(
    sudo: Callable[[], str] = sudo_user,
    getuid: Callable[[], int] = os.getuid,
    getpwuid: Callable[[int], pwd.struct_passwd] = pwd.getpwuid,
) -> str:
    """The operating system's name for whoever runs this process."""
    uid = getuid()
    if uid == 0:
        name = sudo()
        if name and name != "root":
            return name
    try:
        return getpwuid(uid).pw_name
    except KeyError:
        return f"uid-{uid}"


def fold(name: str) -> str:
    """NFKC, case-folded, surrounding blanks removed: the spelling two names are compared in."""
    return unicodedata.normalize("NFKC", name).casefold().strip()


def identities(name: str) -> set[str]:
    """The folded names a person goes by in `name`: the Telegram bot records `telegram:<id>/@<user>`,
    which is also `<user>`, the name the same person may have on the executor host."""
    folded = fold(name)
    out = {folded}
    if folded.startswith("telegram:") and "/@" in folded:
        out.add(folded.split("/@", 1)[1])
    return out


def same_operator(a: str, b: str) -> bool:
    """True when `a` and `b` may name the same person (equal or confusable after folding)."""
    from confusables import is_confusable

    return any(x == y or bool(is_confusable(x, y)) for x in identities(a) for y in identities(b))


def name_problem(name: object) -> str | None:
    """Why `name` cannot be an operator's name, or None."""
    if not isinstance(name, str) or not name.strip():
        return "an operator name is required"
    if len(name) > MAX_NAME:
        return f"an operator name has at most {MAX_NAME} characters"
    if any(unicodedata.category(ch)[0] in ("C", "Z") and ch != " " for ch in name):
        return "an operator name has no control, format or separator characters"
    return None
