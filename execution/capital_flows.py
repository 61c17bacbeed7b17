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

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

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


_AMOUNT = re.compile(r"[+-]?(?:[0-9]+|[0-9]{1,3}(?:_[0-9]{3})+)(?:\.[0-9]+)?", re.ASCII)


def parse_amount(text: str) -> Decimal:
    """An operator's amount: a plain decimal number of USDT, + in / - out (ASCII digits, `_` as a
    thousands mark, no exponent: what is typed is what is booked), finite and non-zero."""
    raw = str(text).strip()
    shown = repr(raw if len(raw) <= 40 else raw[:40] + "...")
    if len(raw) > 40 or not _AMOUNT.fullmatch(raw):
        raise BadFlow(f"--amount must be a number of USDT such as 5000 or -1200.50 (+ in, - out), got {shown}")
    amount = Decimal(raw.replace("_", ""))
    if amount == 0:
        raise BadFlow(f"--amount must be a non-zero number of USDT, got {shown}")
    if abs(amount) > MAX_FLOW_USDT:
        raise BadFlow(f"--amount {shown} is beyond {MAX_FLOW_USDT:,.0f} USDT: check the figure")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -8:
        raise BadFlow(f"--amount {shown} has more than 8 decimals")
    return amount


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
