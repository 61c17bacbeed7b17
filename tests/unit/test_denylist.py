"""The denylist file: SYMBOL or venue:SYMBOL per line, comments; a bad line is named."""

from __future__ import annotations

import pytest

from execution.denylist import DenylistError, parse


def test_entries_for_every_venue_or_one():
    d = parse("# offenders\nLUNAUSDT\n  okx_perp:DOGE-USDT-SWAP  # spread\n\n")
    assert d.denies("binance_um", "LUNAUSDT") and d.denies("okx_perp", "LUNAUSDT")
    assert d.denies("okx_perp", "DOGE-USDT-SWAP") and not d.denies("binance_um", "DOGE-USDT-SWAP")
    assert d.names() == ["LUNAUSDT", "okx_perp:DOGE-USDT-SWAP"]
    assert parse("").entries == frozenset()


@pytest.mark.parametrize(
    "text,line,expected",
    [
        ("BTCUSDT\nkraken:XBTUSD\n", 2, "venue one of"),
        ("btcusdt\n", 1, "a symbol in capitals"),
        ("# ok\nBTC USDT\n", 2, "a symbol in capitals"),
    ],
)
def test_a_bad_line_is_named(text, line, expected):
    with pytest.raises(DenylistError, match=expected) as exc:
        parse(text)
    assert exc.value.line == line and str(exc.value).startswith(f"line {line}: expected")
