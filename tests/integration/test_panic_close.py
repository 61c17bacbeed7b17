"""scripts/panic_close.py against both loopback venues: LONG and SHORT legs on several symbols."""

from __future__ import annotations

import dataclasses
import io
import os
import pty
import subprocess
import sys
from decimal import Decimal as D

import pytest

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.models import PositionSide
from scripts import panic_close as panic
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx

SCRIPT = PROJECT_ROOT / "scripts" / "panic_close.py"

BINANCE_LEGS = [
    ("BTCUSDT", "LONG", "0.050", "59000"),
    ("ETHUSDT", "SHORT", "2500", "3100"),
    ("SOLUSDT", "LONG", "30", "140"),
]
OKX_LEGS = [
    ("BTC-USDT-SWAP", "SHORT", "7", "61000"),
    ("ETH-USDT-SWAP", "LONG", "12.5", "2900"),
    ("SOL-USDT-SWAP", "SHORT", "3", "155"),
]


def _setup(fb: FakeBinance, fo: FakeOkx) -> None:
    fb.set_book("BTCUSDT", [("60000.0", "10")], [("60000.1", "10")])
    fb.set_book("ETHUSDT", [("3000.00", "10000")], [("3000.01", "10000")])
    fb.set_book("SOLUSDT", [("150.0000", "10000")], [("150.0100", "10000")])
    fo.set_book("BTC-USDT-SWAP", [("60000.0", "1000")], [("60000.1", "1000")])
    fo.set_book("ETH-USDT-SWAP", [("3000.00", "1000")], [("3000.01", "1000")])
    fo.set_book("SOL-USDT-SWAP", [("150.00", "1000")], [("150.01", "1000")])
    for leg in BINANCE_LEGS:
        fb.give_position(*leg)
    for leg in OKX_LEGS:
        fo.give_position(*leg)
    with fb._lock:  # resting orders that a panic close must cancel first
        from tests.fakes.matching import FakeOrder

        for i, (sym, px) in enumerate((("BTCUSDT", "55000"), ("ETHUSDT", "2500"))):
            fb.engine.submit(
                FakeOrder(0, f"rest{i}", sym, "BUY", "LONG", "LIMIT", "GTC", D("0.01"), D(px), False, 1), 1
            )
    with fo._lock:
        from tests.fakes.matching import FakeOrder

        fo.engine.submit(
            FakeOrder(0, "rest9", "BTC-USDT-SWAP", "BUY", "LONG", "LIMIT", "GTC", D("1"), D("50000"), False, 1), 1
        )


@pytest.fixture
def fakes():
    with FakeBinance() as fb, FakeOkx(demo=True) as fo:
        _setup(fb, fo)
        yield fb, fo


def _venues(fb: FakeBinance, fo: FakeOkx, safe_mode: bool = False) -> dict:
    return {
        "binance_um": BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=safe_mode, timeout_s=1.0),
        "okx_perp": OkxPerp(
            fo.api_key, fo.api_secret, fo.passphrase, demo=True, domain=fo.url, safe_mode=safe_mode, timeout_s=1.0
        ),
    }


def _run(venues: dict, **kw) -> tuple[int, str]:
    out = io.StringIO()
    try:
        code = panic.run(venues, out=out, wait_s=0.0, sleep=lambda s: None, **kw)
    finally:
        for v in venues.values():
            v.close()
    return code, out.getvalue()


def _held(fb: FakeBinance, fo: FakeOkx) -> dict:
    out = {}
    for sym, pside, _, _ in BINANCE_LEGS:
        out[("binance_um", sym, pside)] = fb.position_qty(sym, pside)
    for sym, pside, _, _ in OKX_LEGS:
        out[("okx_perp", sym, pside)] = fo.position_contracts(sym, pside)
    return out


def test_closes_long_and_short_legs_on_both_venues(fakes):
    fb, fo = fakes
    code, out = _run(_venues(fb, fo))
    assert code == 0, out
    assert set(_held(fb, fo).values()) == {D(0)}
    assert fb.engine.open_orders() == [] and fo.engine.open_orders() == []
    assert "SENT binance_um BTCUSDT SELL MARKET positionSide=LONG qty=0.05 " in out
    assert "SENT okx_perp BTC-USDT-SWAP BUY MARKET positionSide=SHORT qty=0.07 " in out  # 7 contracts x 0.01
    assert out.count("SENT binance_um ETHUSDT BUY MARKET positionSide=SHORT") == 2  # 2500 > market lot 2000: split
    assert "binance_um: FLAT" in out and "okx_perp: FLAT" in out
    bodies = [r.body.decode() for r in fb.received if r.path == "/fapi/v1/order" and r.method == "POST"]
    assert bodies and all("reduceOnly" not in b for b in bodies)  # hedge closes carry positionSide only


def test_one_venue_refusing_exits_non_zero_and_lists_what_is_left(fakes):
    fb, fo = fakes
    fb.refuse_orders = (401, -2015, "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1")
    code, out = _run(_venues(fb, fo), rounds=2)
    assert code == 1
    for sym, pside, qty, _ in BINANCE_LEGS:
        assert f"LEFT OPEN: binance_um {sym} {pside} qty={format(D(qty).normalize(), 'f')} " in out
        assert fb.position_qty(sym, pside) == D(qty)
    assert "FAILED binance_um BTCUSDT SELL MARKET positionSide=LONG qty=0.05 " in out and "code=-2015" in out
    assert all(fo.position_contracts(sym, pside) == 0 for sym, pside, _, _ in OKX_LEGS)  # the other venue closed
    assert "okx_perp: FLAT" in out and "LEFT OPEN: okx_perp" not in out


def test_unreachable_venue_is_reported_as_unknown(fakes):
    fb, fo = fakes
    venues = _venues(fb, fo)
    fo.refuse_all = ("50001", "Service temporarily unavailable. Try again later")
    code, out = _run(venues, rounds=2)
    assert code == 1
    assert "LEFT OPEN? okx_perp: state unknown" in out and "binance_um: FLAT" in out


def test_dry_run_only_reads(fakes):
    fb, fo = fakes
    before = _held(fb, fo)
    code, out = _run(_venues(fb, fo), dry_run=True)
    assert code == 0
    assert _held(fb, fo) == before and len(fb.engine.open_orders()) == 2
    assert "binance_um SOLUSDT: WOULD SELL MARKET positionSide=LONG qty=30" in out
    assert "okx_perp ETH-USDT-SWAP: WOULD SELL MARKET positionSide=LONG qty=1.25" in out
    assert "binance_um BTCUSDT: WOULD cancel 1 open order(s)" in out and "nothing was sent" in out
    assert fb.arrived("POST", "/fapi/v1/order") == 0 and fo.arrived("POST", "/api/v5/trade/order") == 0


def _cli(
    fb: FakeBinance,
    fo: FakeOkx,
    tmp_path,
    *args: str,
    safe_mode: str = "false",
    stdin=subprocess.DEVNULL,
    feed: str = "",
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "OKX_", "SAFE_MODE", "PROFILE"))}
    env.update(
        {
            "PROFILE": "testnet",
            "SAFE_MODE": safe_mode,
            "ENV_FILE": str(tmp_path / "absent.env"),
            "BINANCE_API_KEY": fb.api_key,
            "BINANCE_API_SECRET": fb.api_secret,
            "BINANCE_FAPI_URL": fb.url,
            "OKX_API_KEY": fo.api_key,
            "OKX_API_SECRET": fo.api_secret,
            "OKX_PASSPHRASE": fo.passphrase,
            "OKX_BASE_URL": fo.url,
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    if stdin == "tty":  # an operator at a terminal typing `feed`
        primary, secondary = pty.openpty()
        os.write(primary, feed.encode())
        try:
            return subprocess.run(
                [sys.executable, str(SCRIPT), "--wait-s", "0", *args],
                cwd=tmp_path,
                env=env,
                stdin=secondary,
                capture_output=True,
                text=True,
                timeout=60,
            )
        finally:
            os.close(primary)
            os.close(secondary)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--wait-s", "0", *args],
        cwd=tmp_path,
        env=env,
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_line_closes_everything(fakes, tmp_path):
    fb, fo = fakes
    done = _cli(fb, fo, tmp_path, "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PROFILE=testnet SAFE_MODE=False" in done.stdout
    assert set(_held(fb, fo).values()) == {D(0)}
    assert fb.api_secret not in done.stdout + done.stderr and fo.passphrase not in done.stdout + done.stderr


def test_safe_mode_blocks_new_risk_not_the_panic_close(fakes, tmp_path):
    """SAFE_MODE=true (the default) does not stop an emergency close: --yes closes for real and
    the output says what it closed."""
    fb, fo = fakes
    done = _cli(fb, fo, tmp_path, "--yes", safe_mode="true")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SAFE_MODE=True" in done.stdout and "closing anyway" in done.stdout
    assert set(_held(fb, fo).values()) == {D(0)}
    closed = [line for line in done.stdout.splitlines() if line.startswith("[panic] CLOSED ")]
    assert len(closed) == len(BINANCE_LEGS) + len(OKX_LEGS)
    assert "[panic] CLOSED binance_um ETHUSDT SHORT qty=2500 (entry 3100)" in closed
    assert any(line.startswith("[panic] CLOSED okx_perp BTC-USDT-SWAP SHORT qty=") for line in closed)


def test_without_yes_and_without_a_terminal_nothing_is_sent(fakes, tmp_path):
    fb, fo = fakes
    before = _held(fb, fo)
    done = _cli(fb, fo, tmp_path, safe_mode="true")
    assert done.returncode == 2 and "NOT CONFIRMED" in done.stderr and "--yes" in done.stderr
    assert _held(fb, fo) == before
    assert fb.arrived("POST", "/fapi/v1/order") == 0 and fo.arrived("POST", "/api/v5/trade/order") == 0
    assert all(o.status != "CANCELED" for o in fb.engine.acct.orders.values())


def test_an_operator_at_a_terminal_confirms(fakes, tmp_path):
    fb, fo = fakes
    before = _held(fb, fo)
    refused = _cli(fb, fo, tmp_path, stdin="tty", feed="no\n")
    assert refused.returncode == 2 and _held(fb, fo) == before
    done = _cli(fb, fo, tmp_path, stdin="tty", feed="yes\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert set(_held(fb, fo).values()) == {D(0)}


def test_command_line_config_error(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "OKX_", "PROFILE"))}
    env.update(
        {
            "PROFILE": "live",
            "BINANCE_API_KEY": "k",
            "ENV_FILE": str(tmp_path / "absent.env"),
            "PYTHONPATH": str(PROJECT_ROOT),
        }
    )
    done = subprocess.run(
        [sys.executable, str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and "BINANCE_API_SECRET" in done.stderr


def test_protective_orders_are_cancelled_once_flat_and_kept_while_a_position_is_left(fakes):
    from execution.triggers import TriggerRequest

    fb, fo = fakes
    venues = _venues(fb, fo)
    stop = TriggerRequest("binance_um", "BTCUSDT", PositionSide.LONG, D("0.05"), "hfpsl1", "i", stop_price=D("58000"))
    oco = TriggerRequest(
        "okx_perp", "ETH-USDT-SWAP", PositionSide.LONG, D("1.25"), "hfpoco1", "i", D("2800"), D("3200")
    )
    venues["binance_um"].place_trigger(stop)
    venues["okx_perp"].place_trigger(oco)
    code, out = _run(venues)
    assert code == 0, out
    assert [a["algoStatus"] for a in fb.algos.values()] == ["CANCELED"]
    assert [a["state"] for a in fo.algos.values()] == ["canceled"]
    assert "cancelled protective order hfpsl1" in out and "cancelled protective order hfpoco1" in out

    fb.give_position("BTCUSDT", "LONG", "0.05", "59000")
    fb.refuse_orders = (401, -2015, "Invalid API-key, IP, or permissions for action, request ip: 127.0.0.1")
    venues = _venues(fb, fo)
    venues["binance_um"].place_trigger(dataclasses.replace(stop, client_id="hfpsl2"))
    code, out = _run({"binance_um": venues["binance_um"]}, rounds=1)
    assert code == 1 and "protective order hfpsl2 kept (its position is open)" in out
    assert [a["algoStatus"] for a in fb.algos.values()] == ["CANCELED", "NEW"]
