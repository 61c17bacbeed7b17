"""Integration fixtures: one Firestore emulator per test session, reset between tests."""
from __future__ import annotations

import pytest

from tests.support.firestore_emulator import Emulator, TcpProxy, find_jar, java_available


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory):
    jar = find_jar()
    if jar is None or not java_available():
        pytest.skip("Firestore emulator not available: install Debian package google-cloud-cli-firestore-emulator "
                    "and Java 17")
    emu = Emulator(jar, log_path=tmp_path_factory.mktemp("emulator") / "emulator.log")
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def firestore(firestore_emulator, monkeypatch):
    """A clean emulator behind a cuttable proxy; FIRESTORE_* set for this test's processes."""
    firestore_emulator.reset()
    proxy = TcpProxy(firestore_emulator.port)
    proxy.up()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", proxy.host)
    monkeypatch.setenv("FIRESTORE_PROJECT", "hedge-test")
    yield proxy
    proxy.down()
