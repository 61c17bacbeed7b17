"""The engine's seams: a strategy, a guard and an alert channel plug in without touching the
engine's loop; the core never imports an edge package; old restart snapshots still load."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

from execution import control, ids, snapshot
from execution.guard import BaseGuard
from execution.models import Intent, PositionSide, Side
from execution.notify import FanOut
from execution.state_documents import control_doc
from execution.strategy import BaseStrategy
from tests.support.engine_harness import breakout, harness, warm

ROOT = Path(__file__).resolve().parents[2]


class OneShot(BaseStrategy):
    """Buys 0.01 BTC long on the first candle it may trade and keeps it."""

    name = "one_shot"

    def __init__(self):
        self.sent = ""
        self.fills = []

    def on_candle(self, c, ctx, trading):
        if trading and not self.sent and c.symbol == "BTCUSDT":
            intent = Intent(
                ids.intent_id(c.venue, c.symbol, c.ts, "one-shot"),
                c.ts,
                c.venue,
                c.symbol,
                Side.BUY,
                PositionSide.LONG,
                "entry",
                Decimal("0.01"),
                Decimal(repr(c.close)),
            )
            self.sent = ctx.submit(intent, purpose="one_shot_entry", owner=self.name, leverage=2) or ""

    def on_fill(self, fill, booked, flight, ctx):
        if flight is not None:
            self.fills.append((fill.qty, flight.purpose))

    def owned_qty(self, venue, symbol, side):
        return sum((q for q, _ in self.fills), Decimal(0)) if side is PositionSide.LONG else Decimal(0)


class DenyNewRisk(BaseGuard):
    name = "deny_all"

    def __init__(self):
        self.vetted = []

    def vet(self, intent, ctx):
        self.vetted.append(intent.intent_id)
        return "test guard refuses every entry"

    def status(self):
        return {"active": True, "reason": "test"}


def test_a_new_strategy_plugs_in_and_gets_its_own_fills(tmp_path):
    shot = OneShot()
    h = harness(tmp_path, strategies=[shot])
    warm(h, bars=3)
    assert shot.sent and shot.fills == [(Decimal("0.01"), "one_shot_entry")]
    trades = (h.state_dir / "trade_log.jsonl").read_text()
    assert '"reason":"one_shot_entry"' in trades


def test_the_screener_never_closes_another_strategys_part(tmp_path):
    shot = OneShot()
    h = harness(tmp_path, strategies=[shot])
    warm(h)
    breakout(h)  # the screener opens its own long on the same hedge-mode position
    h.step({"BTCUSDT": 61_200.0})
    total = h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG)
    assert total > Decimal("0.01")
    screener = h.engine.strategies[-2]
    assert screener.name == "screener"
    screener.flatten(h.t, "test", h.engine)
    h.step({"BTCUSDT": 61_200.0})
    assert h.engine.ledger.position_qty("binance_um", "BTCUSDT", PositionSide.LONG) == Decimal("0.01")


def test_a_guard_refuses_new_risk_and_says_so(tmp_path, log_lines):
    guard = DenyNewRisk()
    h = harness(tmp_path, guards=[guard])
    warm(h)
    breakout(h)
    assert guard.vetted, "the screener's entry went through the guard"
    assert h.venue.open_orders() == [] and not h.engine.ledger.positions
    refused = [line for line in log_lines.getvalue().splitlines() if "[risk] refused" in line]
    assert refused and "by guard deny_all: test guard refuses every entry" in refused[0]
    doc = control_doc(h.engine, 0)
    assert [g for g in doc["guards"] if g["name"] == "deny_all"] == [
        {"active": True, "reason": "test", "name": "deny_all"}
    ]
    assert doc["health_state"] == 1 and "guard deny_all: test" in doc["health_reasons"]


def test_reduce_only_orders_skip_the_guards(tmp_path):
    guard = DenyNewRisk()
    h = harness(tmp_path, guards=[guard])
    guard_off = guard.vet
    guard.vet = lambda intent, ctx: None  # let the screener's entry through first
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    assert h.engine.ledger.positions
    guard.vet = guard_off
    h.engine.flatten_all("test")
    assert guard.vetted == []
    assert [(o.side, o.position_side) for o in h.venue.open_orders()] == [(Side.SELL, PositionSide.LONG)]


class Recording:
    def __init__(self, fail=False):
        self.texts, self.fail, self.closed = [], fail, False

    def send(self, text):
        if self.fail:
            raise RuntimeError("channel down")
        self.texts.append(text)

    def close(self):
        self.closed = True


def test_alerts_reach_every_channel_even_when_one_fails(tmp_path):
    good = Recording()
    h = harness(tmp_path, notifier=FanOut([Recording(fail=True), good]))
    h.engine.trip("test_breaker", "a test trip", 1)
    assert h.engine.control.mode == control.HOLD
    assert good.texts and "BREAKER test_breaker" in good.texts[0]
    assert '"kind":"breaker"' in (h.state_dir / "ops_alerts.jsonl").read_text()
    h.engine.close()
    assert good.closed


def test_the_core_never_imports_an_edge_package():
    """`execution` is imported by telegram/ and dashboard/, never the other way round."""
    offenders = []
    for path in (ROOT / "execution").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("telegram", "dashboard")
            ]
    assert offenders == []


def test_engine_has_no_branch_on_a_venue_class():
    source = (ROOT / "execution" / "engine.py").read_text()
    assert "PaperVenue" not in source and "isinstance(venue" not in source


def test_a_version_1_snapshot_is_read(tmp_path):
    h = harness(tmp_path)
    warm(h)
    breakout(h)
    h.step({"BTCUSDT": 61_200.0})
    v2 = snapshot.take(h.engine, 0)
    screener = v2["strategies"]["screener"]
    assert screener["trades"], "the screener holds a trade"
    v1 = {k: v for k, v in v2.items() if k not in ("strategies", "guards")}
    v1.update(version=1, **screener)
    up = snapshot.upgrade(v1)
    assert up["strategies"]["screener"] == screener and up["version"] == snapshot.VERSION
    assert snapshot.upgrade(v2) is v2
