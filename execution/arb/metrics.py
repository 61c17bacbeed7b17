"""Arbitrage metrics: attempts, success rate, expected vs realised edge, decision-to-both-legs-sent
latency (p50/p95), rescues. Counters and bounded windows only, so memory stays flat."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

LATENCY_KEPT = 2048


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


class ArbMetrics:
    def __init__(self, mismatch_window: int = 20):
        self.attempts = 0  # entry attempts whose legs were sent
        self.finished = 0  # entry attempts that ran to their end
        self.hedged_first_time = 0  # both legs filled as planned, no rescue
        self.refused = 0  # entries stopped by preflight (operator execute, or auto with a passing edge)
        self.rescues = 0  # attempts that needed at least one rescue round
        self.exits = 0
        self.incidents = 0
        self.expected_gross_bps_sum = 0.0
        self.realised_gross_bps_sum = 0.0
        self.edge_samples = 0
        self.expected_net_bps_sum = 0.0
        self.realised_net_bps_sum = 0.0
        self.closed_pairs = 0
        self.realised_pnl_usdt = Decimal(0)
        self.latency_us: deque[float] = deque(maxlen=LATENCY_KEPT)
        self.rescue_ts: deque[int] = deque()
        self.mismatch: deque[float] = deque(maxlen=mismatch_window)

    # -- recording -------------------------------------------------------------------------------
    def sent(self, legs_sent_ns: int) -> None:
        self.attempts += 1
        if legs_sent_ns > 0:
            self.latency_us.append(legs_sent_ns / 1000.0)

    def entry_done(
        self,
        planned: Decimal,
        long_filled: Decimal,
        short_filled: Decimal,
        rescued: bool,
        expected_gross_bps: float | None,
        realised_gross_bps: float | None,
    ) -> None:
        self.finished += 1
        if not rescued and long_filled == short_filled == planned:
            self.hedged_first_time += 1
        if planned > 0:
            self.mismatch.append(float(abs(long_filled - short_filled) / planned))
        if expected_gross_bps is not None and realised_gross_bps is not None:
            self.expected_gross_bps_sum += expected_gross_bps
            self.realised_gross_bps_sum += realised_gross_bps
            self.edge_samples += 1

    def rescued(self, ts: int) -> None:
        self.rescues += 1
        self.rescue_ts.append(ts)

    def pair_closed(self, expected_net_bps: float, realised_net_bps: float, pnl: Decimal) -> None:
        self.closed_pairs += 1
        self.expected_net_bps_sum += expected_net_bps
        self.realised_net_bps_sum += realised_net_bps
        self.realised_pnl_usdt += pnl

    # -- reading ---------------------------------------------------------------------------------
    def rescues_last_min(self, now: int) -> int:
        while self.rescue_ts and self.rescue_ts[0] <= now - 60_000:
            self.rescue_ts.popleft()
        return len(self.rescue_ts)

    def mismatch_ratio(self) -> float:
        return sum(self.mismatch) / len(self.mismatch) if self.mismatch else 0.0

    def doc(self, now: int) -> dict:
        lat = list(self.latency_us)
        n = self.edge_samples
        c = self.closed_pairs

        def r(x: float | None, nd: int = 2) -> float | None:
            return None if x is None else round(x, nd)

        return {
            "attempts": self.attempts,
            "finished": self.finished,
            "hedged_first_time": self.hedged_first_time,
            "success_rate": r(self.hedged_first_time / self.finished, 4) if self.finished else None,
            "refused": self.refused,
            "rescues": self.rescues,
            "rescues_last_min": self.rescues_last_min(now),
            "exits": self.exits,
            "incidents": self.incidents,
            "expected_gross_edge_bps_avg": r(self.expected_gross_bps_sum / n) if n else None,
            "realised_gross_edge_bps_avg": r(self.realised_gross_bps_sum / n) if n else None,
            "closed_pairs": c,
            "expected_net_edge_bps_avg": r(self.expected_net_bps_sum / c) if c else None,
            "realised_net_edge_bps_avg": r(self.realised_net_bps_sum / c) if c else None,
            "realised_pnl_usdt": float(self.realised_pnl_usdt.quantize(Decimal("0.0001"))),
            "decision_to_legs_sent_us_p50": r(percentile(lat, 0.50), 1),
            "decision_to_legs_sent_us_p95": r(percentile(lat, 0.95), 1),
            "latency_samples": len(lat),
            "fill_mismatch_ratio": round(self.mismatch_ratio(), 4),
        }

    def snapshot(self) -> dict:
        d: dict[str, Any] = {k: v for k, v in self.__dict__.items() if isinstance(v, (int, float))}
        d["realised_pnl_usdt"] = str(self.realised_pnl_usdt)
        d["latency_us"] = list(self.latency_us)
        d["mismatch"] = list(self.mismatch)
        return d

    def restore(self, d: dict) -> None:
        for k, v in d.items():
            if k == "realised_pnl_usdt":
                self.realised_pnl_usdt = Decimal(v)
            elif k == "latency_us":
                self.latency_us.extend(v)
            elif k == "mismatch":
                self.mismatch.extend(v)
            elif isinstance(getattr(self, k, None), (int, float)):
                setattr(self, k, v)
