"""A venue error body that echoes the request headers leaks no key, secret or passphrase into any
record (issue 20): both venues answer every signed read with such a body, the engine records the
errors through its normal paths, and every sink is searched: incidents.jsonl, state/control.json,
state/arbitrage.json (and every other file in STATE_DIR), what the Firestore mirror commits, and
`ctl status` / `ctl edge` output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from execution import clock, ctl
from execution.arb.strategy import ArbitrageStrategy
from execution.assembly import build_engine
from execution.exchanges.binance_um import BinanceUM
from execution.exchanges.okx_perp import OkxPerp
from execution.settings import load_settings
from execution.state.local import LocalStore
from execution.state.mirror import DocIntervals, FirestoreMirror, MirrorSink
from execution.state.outbox import Outbox
from tests.conftest import PROJECT_ROOT
from tests.fakes.fake_binance import FakeBinance
from tests.fakes.fake_okx import FakeOkx
from tests.fakes.loopback import Request

BIN_KEY = "Kb7Qw2Zr9Xy4Lm1Np6Vs3Tu8Ae5Cd0FgHjK"
BIN_SECRET = "Sb1Ja9Hc2Kd8Le3Mf7Ng4Oh6Pi5Qj0RkStUv"
OKX_KEY = "0d3f7a1e-8b2c-4e55-9a1d-c0ffee123456"
OKX_SECRET = "F00DBABE1234567890ABCDEF0123456789"
OKX_PASSPHRASE = "Echo#Pass!phrase42"
SECRETS = (BIN_KEY, BIN_SECRET, OKX_KEY, OKX_SECRET, OKX_PASSPHRASE)


def echo_binance(req: Request) -> dict:
    """An error body that repeats what the client sent, in two spellings."""
    pairs = [[k, v] for k, v in req.headers.items()]
    return {"code": -2015, "msg": f"Invalid API-key, IP, or permissions for action. request={json.dumps(pairs)}"}


def echo_okx(req: Request) -> dict:
    lines = " | ".join(f"{k}: {v}" for k, v in req.headers.items())
    return {"code": "50113", "msg": f"Invalid Sign. headers={json.dumps(req.headers)} raw=[{lines}]", "data": []}


class Recorder:
    """The Firestore write target: what the mirror would commit."""

    commits: list[tuple[str, dict]] = []

    def commit(self, writes: list[tuple[str, dict]]) -> None:
        Recorder.commits.extend(writes)

    def close(self) -> None:
        pass


@pytest.fixture
def fakes():
    with (
        FakeBinance(api_key=BIN_KEY, api_secret=BIN_SECRET) as fb,
        FakeOkx(api_key=OKX_KEY, api_secret=OKX_SECRET, passphrase=OKX_PASSPHRASE, demo=False) as fo,
    ):
        yield fb, fo


def echo_errors(fb: FakeBinance, fo: FakeOkx) -> None:
    """From now on the reads the engine makes answer with the echoing error body."""
    for path in ("/fapi/v3/positionRisk", "/fapi/v1/time"):
        fb.inject("GET", path, action="status", status=401, body=echo_binance, times=1000)
    for path in ("/api/v5/account/positions", "/api/v5/public/time"):
        fo.inject("GET", path, action="status", status=401, body=echo_okx, times=1000)


def test_echoed_headers_reach_no_record_no_document_no_mirror_and_no_cli_output(fakes, tmp_path, capsys):
    fb, fo = fakes
    state = tmp_path / "state"
    s = load_settings({"CONFIG_DIR": str(PROJECT_ROOT / "config"), "STATE_DIR": str(state)})
    venues = {
        "binance_um": BinanceUM(BIN_KEY, BIN_SECRET, fb.url, safe_mode=True, timeout_s=2.0, reconcile_delays_s=(0,)),
        "okx_perp": OkxPerp(
            OKX_KEY,
            OKX_SECRET,
            OKX_PASSPHRASE,
            domain=fo.url,
            demo=False,
            safe_mode=True,
            timeout_s=2.0,
            reconcile_delays_s=(0,),
        ),
    }
    Recorder.commits = []
    mirror = FirestoreMirror(Recorder, Outbox(state / "outbox.sqlite"), DocIntervals(), state_dir=state)
    sink = MirrorSink(LocalStore(state), mirror)
    mirror.start()
    engine = build_engine(s, venues, sink, universe=[("binance_um", "BTCUSDT")], publish_interval_ms=0)
    for v in venues.values():
        v.sync_clock()  # signed requests carry the keys from here on
    echo_errors(fb, fo)
    try:
        now = clock.wall_ms()
        engine.reconcile(now)  # positions of both venues: venue errors -> incidents + control document
        arb = next(x for x in engine.strategies if isinstance(x, ArbitrageStrategy))
        arb.loop.refresh_health(now)  # venue health -> the arbitrage document
        engine.publish(now, force=True)
    finally:
        sink.close()
        for v in venues.values():
            v.close()

    incidents = [json.loads(line) for line in (state / "incidents.jsonl").read_text().splitlines()]
    errors = {i["venue"]: i["detail"] for i in incidents if i.get("difference") == "venue_error"}
    assert set(errors) == {"binance_um", "okx_perp"}  # the errors were recorded...
    assert "code=-2015" in errors["binance_um"] and "code=50113" in errors["okx_perp"]
    arbitrage = (state / "state" / "arbitrage.json").read_text()
    assert "50113" in arbitrage and "-2015" in arbitrage
    assert any(p.startswith("state/control") for p, _ in Recorder.commits)

    # status answers (5: DEGRADED, differences found at reconciliation: the venues' errors)
    assert ctl.main(["--state-dir", str(state), "status"]) == 5
    assert ctl.main(["--state-dir", str(state), "status", "--json"]) == 5
    assert ctl.main(["--state-dir", str(state), "edge", "--json"]) == 0
    out = capsys.readouterr().out
    assert "venue_error" in out and "okx_perp" in out

    sinks: dict[str, str] = {"ctl output": out, "firestore commits": json.dumps(Recorder.commits)}
    for path in Path(state).rglob("*"):  # ...and no secret is anywhere: every file, the outbox included
        if path.is_file():
            sinks[str(path.relative_to(state))] = path.read_bytes().decode("utf-8", "replace")
    assert {"incidents.jsonl", "state/control.json", "state/arbitrage.json", "outbox.sqlite"} <= set(sinks)
    leaks = {(name, secret) for name, text in sinks.items() for secret in SECRETS if secret in text}
    assert leaks == set()
