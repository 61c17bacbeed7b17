"""What every contract test here runs on: each real REST adapter (Binance USD-M, OKX) against its
loopback fake, one fake per test, and the venues' client sessions closed after each."""

from __future__ import annotations

import pytest

from tests.fakes.venue_kits import KITS, Kit, close_venues


@pytest.fixture(params=KITS, ids=[k.name for k in KITS])
def kit(request) -> Kit:
    return request.param


@pytest.fixture
def fake(kit):
    with kit.fake() as f:
        yield f


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()
