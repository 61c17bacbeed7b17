"""Venues for PROFILE=testnet|live from settings, SAFE_MODE, and the operators' _is_dual_side check."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution import app
from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.errors import SafeModeRefused
from execution.exchanges.factory import build_exchange_venues, build_venue
from execution.exchanges.okx_perp import OkxPerp
from execution.models import OrderRequest, OrderStatus, OrderType, PositionSide, Side
from execution.settings import ConfigError, load_settings
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx


def _env(fb: FakeBinance | None, fo: FakeOkx | None, **extra: str) -> dict[str, str]:
    env = {"PROFILE": "testnet", "FEED": "live", "CONFIG_DIR": str(PROJECT_ROOT / "config")}
    if fb is not None:
        env.update(BINANCE_API_KEY=fb.api_key, BINANCE_API_SECRET=fb.api_secret, BINANCE_FAPI_URL=fb.url)
    if fo is not None:
        env.update(
            OKX_API_KEY=fo.api_key, OKX_API_SECRET=fo.api_secret, OKX_PASSPHRASE=fo.passphrase, OKX_BASE_URL=fo.url
        )
    env.update(extra)
    return env


def _buy(venue: str, symbol: str, qty: str, cid: str) -> OrderRequest:
    return OrderRequest(venue, symbol, Side.BUY, PositionSide.LONG, OrderType.MARKET, D(qty), cid, "i-" + cid)


def _close(venues: dict) -> None:
    for v in venues.values():
        v.close()


def test_testnet_in_safe_mode_sends_no_order(log_lines):
    with FakeBinance() as fb, FakeOkx(demo=True) as fo:
        fb.set_book("BTCUSDT", [("60000.0", "5")], [("60000.1", "5")])
        fo.set_book("BTC-USDT-SWAP", [("60000.0", "500")], [("60000.1", "500")])
        venues, simulated = app.build_venues(load_settings(_env(fb, fo)))  # SAFE_MODE defaults to true
        assert simulated == {}  # real venues fill by themselves
        try:
            assert isinstance(venues["binance_um"], BinanceUM) and isinstance(venues["okx_perp"], OkxPerp)
            with pytest.raises(SafeModeRefused):
                venues["binance_um"].place_order(_buy("binance_um", "BTCUSDT", "0.01", "hfA"))
            with pytest.raises(SafeModeRefused):
                venues["okx_perp"].place_order(_buy("okx_perp", "BTC-USDT-SWAP", "0.01", "hfB"))
        finally:
            _close(venues)
        assert len(fb.test_orders) == 1 and fb.arrived("POST", "/fapi/v1/order") == 0
        assert fo.arrived("POST", "/api/v5/trade/order") == 0
        lines = log_lines.getvalue()
        assert "[executor] venue okx_perp: SAFE_MODE=true: orders are refused (OKX has no test-order endpoint)" in lines
        assert "[executor] SAFE_MODE okx_perp BTC-USDT-SWAP buy posSide=long" in lines
        assert "[executor] SAFE_MODE binance_um BTCUSDT BUY positionSide=LONG" in lines
        assert fb.api_secret not in lines and fo.passphrase not in lines


def test_live_without_safe_mode_trades_and_tells_okx_it_is_live():
    with FakeBinance() as fb, FakeOkx(demo=False) as fo:
        fb.set_book("BTCUSDT", [("60000.0", "5")], [("60000.1", "5")])
        fo.set_book("BTC-USDT-SWAP", [("60000.0", "500")], [("60000.1", "500")])
        venues = build_exchange_venues(load_settings(_env(fb, fo, PROFILE="live", SAFE_MODE="false")))
        try:
            assert (
                venues["binance_um"].place_order(_buy("binance_um", "BTCUSDT", "0.01", "hfC")).status
                is OrderStatus.FILLED
            )
            assert (
                venues["okx_perp"].place_order(_buy("okx_perp", "BTC-USDT-SWAP", "0.01", "hfD")).status
                is OrderStatus.FILLED
            )
        finally:
            _close(venues)
        assert {r.header("x-simulated-trading") for r in fo.received} == {"0"}


def test_keys_and_urls_are_checked():
    with FakeBinance() as fb:
        only_binance = build_exchange_venues(load_settings(_env(fb, None)))
        assert list(only_binance) == ["binance_um"]  # OKX has no keys and no configured symbol: not connected
        _close(only_binance)
    with pytest.raises(ConfigError, match="BINANCE_API_SECRET"):
        build_exchange_venues(load_settings({"PROFILE": "testnet", "FEED": "live", "BINANCE_API_KEY": "k"}))
    with pytest.raises(ConfigError, match="OKX_PASSPHRASE"):
        build_venue("okx_perp", "live", {"OKX_API_KEY": "k", "OKX_API_SECRET": "s"}, safe_mode=True)
    env = {"BINANCE_API_KEY": "k", "BINANCE_API_SECRET": "s", "BINANCE_FAPI_URL": "https://fapi.binance.com/fapi"}
    with pytest.raises(ConfigError, match="testnet URL"):
        build_venue("binance_um", "testnet", env, safe_mode=True)
    env["BINANCE_FAPI_URL"] = "https://testnet.binancefuture.com/fapi"
    with pytest.raises(ConfigError, match="production URL"):
        build_venue("binance_um", "live", env, safe_mode=True)
    with pytest.raises(ConfigError, match="MARGIN_TYPE"):
        build_exchange_venues(
            load_settings(
                {
                    "PROFILE": "testnet",
                    "FEED": "live",
                    "MARGIN_TYPE": "both",
                    "BINANCE_API_KEY": "k",
                    "BINANCE_API_SECRET": "s",
                }
            )
        )


def test_default_urls():
    env = {
        "BINANCE_API_KEY": "k",
        "BINANCE_API_SECRET": "s",
        "OKX_API_KEY": "k",
        "OKX_API_SECRET": "s",
        "OKX_PASSPHRASE": "p",
    }
    testnet = build_venue("binance_um", "testnet", env, safe_mode=True)
    live = build_venue("binance_um", "live", env, safe_mode=True)
    okx_demo = build_venue("okx_perp", "testnet", env, safe_mode=True)
    okx_live = build_venue("okx_perp", "live", env, safe_mode=True)
    try:
        assert testnet.client.FUTURES_URL == "https://testnet.binancefuture.com/fapi"
        assert live.client.FUTURES_URL == "https://fapi.binance.com/fapi"
        assert (okx_demo.flag, okx_live.flag) == ("1", "0")
        assert okx_live.trade.flag == "0" and okx_live.domain == "https://www.okx.com"
    finally:
        for v in (testnet, live, okx_demo, okx_live):
            v.close()


def test_is_dual_side_helper_reads_env(monkeypatch, tmp_path):
    with FakeBinance() as fb:
        monkeypatch.chdir(tmp_path)  # no stray .env
        monkeypatch.setenv("ENV_FILE", str(tmp_path / "absent.env"))
        for k, v in _env(fb, None).items():
            monkeypatch.setenv(k, v)
        from execution.exchange_utils import _is_dual_side

        assert _is_dual_side() is True
        fb.engine.acct.dual_side = False
        assert _is_dual_side() is False
