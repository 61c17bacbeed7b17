"""Walk-forward folds: each fold optimises on a training window and is scored only on the test
window that follows it; test windows are contiguous and never overlap, so together they are one
out-of-sample stretch. Pure: times in, windows out (UTC days).

    |-------- train 0 --------|== test 0 ==|
                 |-------- train 1 --------|== test 1 ==|
                              |-------- train 2 --------|== test 2 ==|
                                           |-------- final train ----------|  -> the proposal

Windows end at the data's end (the most recent data is always tested); rolling by default,
`anchored` training windows all start at the data's first day. The final training window (the
last `train_days` of data) is optimised too: its winner is the proposal, chosen by the same
procedure whose out-of-sample result the folds measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

DAY_MS = 86_400_000


@dataclass(frozen=True)
class Window:
    start_ms: int
    end_ms: int  # exclusive

    @property
    def days(self) -> int:
        return (self.end_ms - self.start_ms) // DAY_MS

    def label(self) -> str:
        last = self.end_ms - 1
        return f"{_day(self.start_ms)}..{_day(last)}"


@dataclass(frozen=True)
class Fold:
    index: int  # -1: the final training window (no test window)
    train: Window
    test: Window | None

    @property
    def name(self) -> str:
        return "final" if self.index < 0 else f"fold{self.index}"


class FoldError(ValueError):
    """The data is too short for the folds asked for; the message says what would fit."""


def walk_forward_folds(
    first_ms: int, end_ms: int, folds: int, train_ratio: float = 2.0, anchored: bool = False
) -> list[Fold]:
    """`folds` test windows of equal whole days at the end of [first_ms, end_ms), each preceded by
    a training window `train_ratio` times as long; then the final training window."""
    if folds < 1:
        raise FoldError(f"--folds: expected an integer >= 1, got {folds}")
    if train_ratio <= 0:
        raise FoldError(f"--train-ratio: expected a number > 0, got {train_ratio}")
    day0 = -(-first_ms // DAY_MS) * DAY_MS  # first whole UTC day
    day_end = end_ms // DAY_MS * DAY_MS
    total = (day_end - day0) // DAY_MS
    test_days = int(total // (folds + train_ratio))
    train_days = int(round(test_days * train_ratio))
    if test_days < 1 or train_days < 1:
        raise FoldError(
            f"{total} whole days of data cannot hold {folds} fold(s) with train_ratio {train_ratio:g} "
            f"(needs at least {folds + max(1, int(train_ratio + 0.999))} days)"
        )
    first_test = day_end - folds * test_days * DAY_MS
    out = []
    for i in range(folds):
        test_start = first_test + i * test_days * DAY_MS
        train_start = day0 if anchored else test_start - train_days * DAY_MS
        out.append(Fold(i, Window(train_start, test_start), Window(test_start, test_start + test_days * DAY_MS)))
    final_start = day0 if anchored else day_end - train_days * DAY_MS
    out.append(Fold(-1, Window(final_start, day_end), None))
    return out


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")
