"""scripts/setup_symbols.py against both loopback venues: dry run by default, idempotent apply."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.models import MarginType
from scripts import setup_symbols as setup
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx

TARGETS = [
    setup.Target("binance_um", "BTCUSDT", 2),
    setup.Target("binance_um", "ETHUSDT", 3),
    setup.Target("okx_perp", "BTC-USDT-SWAP", 2),
]


def _run(fb: FakeBinance, fo: FakeOkx, apply: bool) -> tuple[int, str]:
    venues = {
        "binance_um": BinanceUM(fb.api_key, fb.api_secret, fb.url, safe_mode=True, timeout_s=1.0),
        "okx_perp": OkxPerp(
            fo.api_key,
            fo.api_secret,
            fo.passphrase,
            demo=True,
            domain=fo.url,
            safe_mode=True,
            margin_type=MarginType.ISOLATED,
            timeout_s=1.0,
        ),
    }
    out = io.StringIO()
    try:
        return setup.run(venues, TARGETS, MarginType.ISOLATED, apply, out), out.getvalue()
    finally:
        for v in venues.values():
            v.close()


def test_dry_run_changes_nothing_then_apply_is_idempotent():
    with FakeBinance() as fb, FakeOkx(demo=True) as fo:
        fb.engine.acct.dual_side = False
        fo.long_short = False
        code, out = _run(fb, fo, apply=False)
        assert code == 0
        assert "binance_um position mode: WOULD SET hedge (dual-side) (now one-way)" in out
        assert "binance_um BTCUSDT margin type: WOULD SET ISOLATED (now CROSSED)" in out
        assert "binance_um ETHUSDT leverage: WOULD SET 3x (now 20x)" in out
        assert fb.engine.acct.dual_side is False and fb.engine.acct.margin_type == {} and fo.long_short is False
        assert not [r for r in fb.received if r.method == "POST"] and not [r for r in fo.received if r.method == "POST"]

        code, out = _run(fb, fo, apply=True)
        assert code == 0, out
        assert fb.engine.acct.dual_side is True and fo.long_short is True
        assert fb.engine.acct.margin_type == {"BTCUSDT": "ISOLATED", "ETHUSDT": "ISOLATED"}
        assert fb.engine.lev("BTCUSDT") == 2 and fb.engine.lev("ETHUSDT") == 3
        assert fo.leverage[("BTC-USDT-SWAP", "isolated", "long")] == 2
        assert fo.leverage[("BTC-USDT-SWAP", "isolated", "short")] == 2
        assert "okx_perp BTC-USDT-SWAP leverage: SET 2x (was 20x)" in out

        posts = sum(1 for r in fb.received + fo.received if r.method == "POST")
        code, out = _run(fb, fo, apply=True)
        assert code == 0 and out.count("OK (no change needed)") == 8  # 2 modes + 3 margin types + 3 leverages
        assert sum(1 for r in fb.received + fo.received if r.method == "POST") == posts  # read, compared, left alone


def test_a_failure_is_listed_and_exits_one():
    with FakeBinance() as fb, FakeOkx(demo=True) as fo:
        fb.engine.acct.dual_side = False
        fb.give_position("BTCUSDT", "BOTH", "0.01", "60000")  # the venue refuses a mode change with a position
        code, out = _run(fb, fo, apply=True)
        assert code == 1
        assert "binance_um position mode: FAILED to set hedge (dual-side) (now one-way): code=-4068" in out
        assert "FAILED: binance_um position mode" in out
        assert fo.long_short is True  # the other venue was still set up


def test_command_line_dry_run(tmp_path):
    with FakeBinance() as fb:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BINANCE_", "OKX_", "PROFILE", "FEED"))}
        env.update(
            {
                "PROFILE": "testnet",
                "ENV_FILE": str(tmp_path / "absent.env"),
                "BINANCE_API_KEY": fb.api_key,
                "BINANCE_API_SECRET": fb.api_secret,
                "BINANCE_FAPI_URL": fb.url,
                "CONFIG_DIR": str(PROJECT_ROOT / "config"),
                "PYTHONPATH": str(PROJECT_ROOT),
            }
        )
        done = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "setup_symbols.py")],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "DRY RUN" in done.stdout and "binance_um SOLUSDT leverage: WOULD SET 2x (now 20x)" in done.stdout
        assert not [r for r in fb.received if r.method == "POST"]
        # each strategy's documented margin type: the screener's symbols CROSSED (the fund's runbook)
        assert "margin_type=per strategy" in done.stdout
        assert (
            "binance_um SOLUSDT margin type (screener: CROSSED per the runbook): CROSSED OK (no change needed)"
            in done.stdout
        )
        assert "okx_perp: no keys set: not checked (BTC-USDT-SWAP)" in done.stdout  # the arbitrage leg
        extra = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "setup_symbols.py"), "--symbol", "binance_um:BTCUSDT:3"],
            cwd=tmp_path,
            env=env | {"MARGIN_TYPE": ""},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert (
            "binance_um BTCUSDT margin type (--symbol: ISOLATED per the arbitrage addendum): WOULD SET ISOLATED (now CROSSED)"
            in (extra.stdout)
        ), extra.stdout
        forced = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "scripts" / "setup_symbols.py")],
            cwd=tmp_path,
            env=env | {"MARGIN_TYPE": "ISOLATED"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "margin_type=ISOLATED (MARGIN_TYPE, every symbol)" in forced.stdout
        assert "binance_um SOLUSDT margin type (MARGIN_TYPE): WOULD SET ISOLATED (now CROSSED)" in forced.stdout
