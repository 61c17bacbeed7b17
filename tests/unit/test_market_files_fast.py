"""A clean candle file is parsed whole (numpy); it must give exactly what the row reader gives, and
any file the row reader would report on goes through the row reader."""

from __future__ import annotations

import gzip

from execution.feeds import market_files as mf


def write(path, rows, header="open_time_ms,open,high,low,close,volume"):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([header, *rows]) + "\n")
    return path


def rows(n, start=1_735_689_600_000):
    out = []
    for i in range(n):
        c = 100 + (i * 7919 % 97) / 7 + 0.1 * i
        out.append(f"{start + i * 900_000},{c - 0.3:.2f},{c + 1.13:.2f},{c - 1.07:.2f},{c:.2f},{i * 0.123:.3f}")
    return out


def test_clean_file_fast_path_equals_the_row_reader(tmp_path):
    path = write(tmp_path / "v" / "X_15m.csv.gz", rows(500))
    fast = mf._clean_candles(path, "v", "X", 900_000)
    assert fast is not None
    slow = list(mf._read_candles_rows(path, "v", "X", 900_000, 4))
    assert list(fast) == slow and len(slow) == 500
    assert [type(x) for x in mf.read_candles(path, "v", "X")] == [mf.CandleClosed] * 500


def test_reordered_columns_are_read_by_name(tmp_path):
    swapped = [",".join([r.split(",")[0], r.split(",")[5], *r.split(",")[1:5]]) for r in rows(50)]
    path = write(tmp_path / "X_15m.csv.gz", swapped, "open_time_ms,volume,open,high,low,close")
    assert list(mf.read_candles(path, "v", "X")) == list(
        mf.read_candles(write(tmp_path / "Y.csv.gz", rows(50)), "v", "X")
    )


def test_any_problem_goes_through_the_row_reader(tmp_path):
    base = rows(60)
    cases = {
        "gap": base[:10] + base[12:],
        "duplicate": base[:10] + [base[9]] + base[10:],
        "nan": base[:5] + [base[5].rsplit(",", 2)[0] + ",nan,1"] + base[6:],
        "seconds": [",".join([str(int(r.split(",")[0]) // 1000), *r.split(",")[1:]]) for r in base],
        "text": base[:3] + ["x,y,z,1,2,3"] + base[3:],
        "short": base[:3] + ["1,2"] + base[3:],
        "comment": base[:3] + ["#" + base[3]] + base[4:],
    }
    for name, data in cases.items():
        path = write(tmp_path / f"{name}_15m.csv.gz", data)
        assert mf._clean_candles(path, "v", "X", 900_000) is None, name
        events = list(mf.read_candles(path, "v", "X"))
        assert any(isinstance(e, mf.FeedIssue) for e in events), name
