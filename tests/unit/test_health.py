"""health_state from the control document: 2 halted, 1 degraded, 0 healthy, with the reasons."""

from __future__ import annotations

import pytest

from execution import health

GUARD = {"name": "depeg", "active": True, "reason": "depeg: binance_um:USDCUSDT +80.0 bps from 1"}


@pytest.mark.parametrize(
    "doc,state,reason",
    [
        ({"mode": "RUN"}, 0, None),
        ({"mode": "HOLD", "reason": "breaker drawdown: 21%"}, 2, "HOLD: breaker drawdown: 21%"),
        ({"mode": "HOLD", "kill": True, "reason": "exchange incident"}, 2, "kill switch: exchange incident"),
        (
            {"mode": "RUN", "stale_symbols": ["binance_um:BTCUSDT"], "screened_symbols": ["binance_um:BTCUSDT"]},
            2,
            "market data stale on every screened symbol (1)",
        ),
        ({"mode": "RUN", "guards": [GUARD]}, 1, "guard depeg: depeg: binance_um:USDCUSDT +80.0 bps from 1"),
        ({"mode": "RUN", "guards": [dict(GUARD, routine=True)]}, 0, None),  # e.g. the warm-up after a start
        ({"mode": "RUN", "guards": [dict(GUARD, active=False)]}, 0, None),
        (
            {
                "mode": "RUN",
                "stale_symbols": ["binance_um:SOLUSDT"],
                "screened_symbols": ["binance_um:BTCUSDT", "binance_um:SOLUSDT"],
            },
            1,
            "market data stale on binance_um:SOLUSDT",
        ),
        (
            {"mode": "RUN", "repairs_pending": ["order hf1 outcome unknown"]},
            1,
            "repair pending: order hf1 outcome unknown",
        ),
        (
            {
                "mode": "RUN",
                "reconciliation": [{"difference": "position_mismatch", "venue": "binance_um", "symbol": "BTCUSDT"}],
            },
            1,
            "1 difference(s) with the venues at reconciliation (first: position_mismatch binance_um BTCUSDT)",
        ),
        ({}, 0, None),  # an old or empty document: nothing known to be wrong
    ],
)
def test_health_from_the_control_document(doc, state, reason):
    h = health.assess(doc)
    assert h.state == state and h.label == health.LABELS[state]
    assert (reason in h.reasons) if reason else h.reasons == ()
    assert h.to_doc() == {"health_state": state, "health": h.label, "health_reasons": list(h.reasons)}


def test_halted_wins_over_degraded_and_investors_read_plain_words():
    h = health.assess({"mode": "HOLD", "reason": "x", "guards": [GUARD]})
    assert h.state == 2 and h.reasons == ("HOLD: x",)
    for state in (0, 1, 2):
        text = health.investor_text(state)
        assert text and not any(word in text for word in ("HOLD", "breaker", "depeg", "HALTED", "DEGRADED"))
