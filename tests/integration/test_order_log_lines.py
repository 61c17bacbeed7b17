"""The order lines operators grep, through the real router and adapters against both loopback
venues: `ORDER_REQ <endpoint> <http status> {...status...}` after the venue answered, and every
failed order found by the runbook's evening sweep `grep -E '\\[ORDER_ERR\\]|-1013|-1106|HTTPError'`."""

from __future__ import annotations

import json
import re
from decimal import Decimal as D

import pytest

from execution.control import ControlState
from execution.models import Intent, PositionSide, Side
from execution.router import OrderRouter
from tests.fakes.venue_kits import KITS, Kit, close_venues

SWEEP = re.compile(r"\[ORDER_ERR\]|-1013|-1106|HTTPError")


@pytest.fixture(autouse=True)
def _close_venues():
    yield
    close_venues()


def intent(kit: Kit, n: int, qty: str, symbol: str | None = None) -> Intent:
    return Intent(
        f"{kit.name}:t:{n}:entry",
        1_700_000_000_000 + n,
        kit.name,
        symbol or kit.btc,
        Side.BUY,
        PositionSide.LONG,
        "entry",
        D(qty),
        D("60000"),
    )


@pytest.mark.parametrize("kit", KITS, ids=[k.name for k in KITS])
def test_order_req_names_endpoint_and_status_and_the_sweep_finds_every_error(kit, log_lines):
    with kit.fake() as fake:
        venue = kit.venue(fake)
        router = OrderRouter(
            {kit.name: venue}, ControlState(), lambda *a: None, max_orders_per_min=1000, max_cancels_per_min=1000
        )
        assert router.submit(intent(kit, 1, "0.1"), "entry", "test") is not None
        refused = [c for c in kit.filter_cases if c.price is None]
        for i, case in enumerate(refused):
            assert router.submit(intent(kit, 10 + i, case.qty, case.symbol), "entry", "test") is None
    lines = log_lines.getvalue().splitlines()
    [req] = [line for line in lines if "[executor] ORDER_REQ " in line]
    m = re.search(r"\[executor\] ORDER_REQ (\S+) (\S+) (\{.*\})$", req)
    assert m and m[1] == kit.order_path and m[2] == "200", req
    body = json.loads(m[3])
    assert body["status"] == "FILLED" and D(body["executedQty"]) == D("0.1") and body["positionSide"] == "LONG"
    send_at = next(i for i, line in enumerate(lines) if "SEND_ORDER" in line)
    assert lines.index(req) > send_at  # written after the venue answered
    errors = [line for line in lines if "[executor] [ORDER_ERR]" in line]
    assert len(errors) == len(refused) >= 1
    for case, line in zip(refused, errors, strict=True):
        status = "400" if case.sent else "-"  # refused before sending: no HTTP answer
        assert f"[ORDER_ERR] {kit.order_path} {status} code={case.code} {kit.name} {case.symbol}" in line, line
    swept = [line for line in lines if SWEEP.search(line)]
    assert swept == errors  # every failed order, and nothing else
