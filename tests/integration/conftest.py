"""Integration fixtures: one Firestore emulator per test session, reset between tests."""

from __future__ import annotations

import pytest

from tests.support.firestore_emulator import PROJECT, Emulator, Outage, TcpProxy, find_jar, java_available


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory):
    """Google's Firestore emulator on a free loopback port, started once per session."""
    jar = find_jar()
    if jar is None:
        pytest.skip("Firestore emulator jar not found: install the Debian package google-cloud-cli-firestore-emulator")
    if not java_available():
        pytest.skip("Firestore emulator needs Java (17): `java` is not on PATH")
    emu = Emulator(jar, log_path=tmp_path_factory.mktemp("emulator") / "emulator.log")
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def firestore(firestore_emulator, monkeypatch):
    """A clean emulator behind a cuttable proxy; FIRESTORE_* set for this test's processes."""
    if not firestore_emulator.running:  # a previous test killed it and failed before restarting it
        firestore_emulator.start()
    firestore_emulator.reset()
    proxy = TcpProxy(firestore_emulator.port)
    proxy.up()
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", proxy.host)
    monkeypatch.setenv("FIRESTORE_PROJECT", PROJECT)
    monkeypatch.delenv("FIRESTORE_DATABASE", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    yield proxy
    proxy.down()
    if not firestore_emulator.running:
        firestore_emulator.start()


@pytest.fixture
def outage(firestore, firestore_emulator, tmp_path_factory) -> Outage:
    """`outage.begin()` kills the emulator (data kept, clients' address dead); `outage.end()`
    restarts it on the same port and restores the address."""
    return Outage(firestore_emulator, firestore, tmp_path_factory.mktemp("emulator-export"))
