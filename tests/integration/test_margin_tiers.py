"""The venues' maintenance tiers through the real adapters and the loopback fakes: Binance's signed
GET /fapi/v1/leverageBracket (every symbol in one answer), OKX's public GET
/api/v5/public/position-tiers by instrument family (contracts -> base units), read with the
filters' lifetime, kept when a later read fails; the dry-run venue reads the real one's."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from execution.exchanges.dry_run import RealBookDryRunVenue
from execution.margin import NOTIONAL, QTY
from tests.fakes.venue_kits import BINANCE, OKX, close_venues


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()


def test_binance_brackets_are_read_signed_once_for_every_symbol():
    with BINANCE.fake() as fake:
        v = BINANCE.venue(fake)
        btc = v.margin_tiers("BTCUSDT")
        eth = v.margin_tiers("ETHUSDT")
        assert fake.bracket_calls == 1  # one answer covers every symbol; cached with the filters' lifetime
        assert btc is not None and eth is not None and btc.basis == NOTIONAL and btc.source == "venue"
        assert [(t.floor, t.cap, t.maint_rate, t.cum) for t in btc.tiers][:2] == [
            (D(0), D(50_000), D("0.004"), D(0)),
            (D(50_000), D(500_000), D("0.005"), D(50)),
        ]
        assert btc.maintenance(D("2"), D("60000")) == D("120000") * D("0.005") - 50
        (req,) = [r for r in fake.received if r.path == "/fapi/v1/leverageBracket"]
        assert "signature=" in req.query and req.header("X-MBX-APIKEY") == fake.api_key


def test_okx_tiers_are_read_by_family_in_our_margin_mode_and_converted_to_base_units():
    with OKX.fake() as fake:
        v = OKX.venue(fake)
        btc = v.margin_tiers("BTC-USDT-SWAP")
        assert btc is not None and btc.basis == QTY
        assert [(t.floor, t.cap, t.maint_rate) for t in btc.tiers] == [
            (D(0), D(50), D("0.004")),  # 5,000 contracts x ctVal 0.01
            (D("50.01"), D(100), D("0.005")),
            (D("100.01"), D(200), D("0.008")),
        ]
        assert fake.tier_requests == [{"instType": "SWAP", "tdMode": "isolated", "instFamily": "BTC-USDT"}]
        assert btc.maintenance(D("60"), D("60000")) == D("3600000") * D("0.005")
        v.margin_tiers("BTC-USDT-SWAP")
        assert len(fake.tier_requests) == 1


def test_a_failed_read_keeps_what_was_known_and_says_so(log_lines):
    with BINANCE.fake() as fake:
        v = BINANCE.venue(fake)
        v._filters_ttl_ms = 0  # every ask re-reads, as after the filters' lifetime
        first = v.margin_tiers("BTCUSDT")
        fake.refuse_all = (-2015, "Invalid API-key, IP, or permissions for action.")
        assert v.margin_tiers("BTCUSDT") == first
        assert (
            "margin tiers of BTCUSDT not read" in log_lines.getvalue()
            and "keeping the last ones read" in log_lines.getvalue()
        )
        calls = fake.bracket_calls
        v.margin_tiers("BTCUSDT")
        assert fake.bracket_calls == calls  # a failed read is retried at most once a minute


def test_no_tiers_at_all_is_none_and_the_dry_run_venue_reads_the_real_ones():
    with OKX.fake() as fake:
        fake.tiers = {}
        assert OKX.venue(fake).margin_tiers("BTC-USDT-SWAP") is None
    with BINANCE.fake() as fake:
        dry = RealBookDryRunVenue(BINANCE.venue(fake), D(10_000))
        tiers = dry.margin_tiers("ETHUSDT")
        assert tiers is not None and tiers.venue == "binance_um" and fake.bracket_calls == 1
