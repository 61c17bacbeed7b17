"""Capital flows: money put into or taken out of the fund, journaled apart from P&L.

One record per flow in `capital_flows.jsonl`, the shape `execution.performance.flows_from_records`
reads for time-weighted returns:

    {"kind": "capital_flow", "id", "ts", "venue", "amount_usdt", "source", "note", "operator"}

`venue` is the venue whose futures wallet the money moved into or out of (read from the venue's
own transfer history, keyed by the venue's id) or "off_venue" (entered by an operator with
`ctl capital-flow`, money the fund holds elsewhere). `amount_usdt` is + in / - out. `ts` is when
the fund's NAV moved by it (when it was booked), so returns see the flow in the right interval;
a venue flow keeps the venue's own time as `venue_ts`. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from execution.operator_numbers import NotAPlainNumber, plain_decimal

OFF_VENUE = "off_venue"
MAX_FLOW_USDT = Decimal("1e12")  # anything larger is a typing mistake, not a subscription


class BadFlow(ValueError):
    """A flow that cannot be booked, with the reason in words."""


@dataclass(frozen=True)
class CapitalFlow:
    id: str
    ts: int
    venue: str
    amount_usdt: Decimal  # + deposit, - withdrawal
    source: str
    note: str = ""
    operator: str = ""
    venue_ts: int = 0  # when the venue recorded it (venue flows)

    @property
    def off_venue(self) -> bool:
        return self.venue == OFF_VENUE

    def record(self) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "kind": "capital_flow",
            "id": self.id,
            "ts": self.ts,
            "venue": self.venue,
            "amount_usdt": self.amount_usdt,
            "source": self.source,
            "note": self.note,
            "operator": self.operator,
        }
        if self.venue_ts:
            rec["venue_ts"] = self.venue_ts
        return rec

    @classmethod
    def from_record(cls, rec: Mapping[str, Any]) -> CapitalFlow:
        try:
            return cls(
                id=str(rec["id"]),
                ts=int(rec["ts"]),
                venue=str(rec["venue"]),
                amount_usdt=Decimal(str(rec["amount_usdt"])),
                source=str(rec.get("source", "")),
                note=str(rec.get("note", "")),
                operator=str(rec.get("operator", "")),
                venue_ts=int(rec.get("venue_ts") or 0),
            )
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            raise BadFlow(f"capital flow record {rec.get('id', '?')}: {exc.__class__.__name__}: {exc}") from None


def parse_amount(text: str) -> Decimal:
    """An operator's amount of USDT, + in / - out, exactly as typed (execution/operator_numbers.py)."""
    try:
        return plain_decimal(
            text, "--amount", "5000 or -1200.50 (USDT, + in, - out)", MAX_FLOW_USDT, max_decimals=8, negative=True
        )
    except NotAPlainNumber as exc:
        raise BadFlow(str(exc)) from None


def operator_flow(command_id: str, ts: int, amount: Decimal, note: str, operator: str) -> CapitalFlow:
    """An off-venue flow an operator entered through the control log (id from the command)."""
    if not note.strip():
        raise BadFlow("--note must say what the flow is (subscription, redemption, ...)")
    return CapitalFlow(f"flow:{command_id}", ts, OFF_VENUE, amount, "operator", note.strip(), operator)


def check_off_venue(cash: Decimal, amount: Decimal) -> None:
    """An off-venue withdrawal cannot take more than the off-venue cash: money leaving a venue is
    booked from the venue's own transfer history."""
    if cash + amount < 0:
        raise BadFlow(
            f"withdrawal of {-amount} USDT is more than the off-venue cash ({cash} USDT): a withdrawal "
            "from a venue's futures wallet is booked from that venue's transfer history"
        )
