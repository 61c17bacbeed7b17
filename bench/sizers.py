#!/usr/bin/env python3
"""Fixed sizing against ATR risk-parity sizing on recorded windows, side by side. Prints figures.

    python bench/sizers.py [MARKET_DIR ...] [--risk-pct 0.1]

Default windows: ../shared/data/market/2024H1 and 2025H1 (skipped with a reason when absent).
Each run is `python -m execution.replay` with the shipped config, only `sizer` (and
`risk_per_trade_pct`) changed in strategy_config.json `defaults`. Per-trade risk is what each
entry would lose at its ATR stop (`risk_pct_nav` of signals.jsonl: qty x sl_atr x ATR / NAV).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUMMARY = re.compile(r"replay: bars=(\d+) trades=(\d+) nav=(\S+) max_dd_pct=(\S+)")


def run(market: Path, work: Path, sizer: str, risk_pct: float) -> dict:
    config = work / f"config-{market.name}-{sizer}"
    shutil.copytree(ROOT / "config", config)
    strat = json.loads((config / "strategy_config.json").read_text())
    strat["defaults"].update(sizer=sizer, risk_per_trade_pct=risk_pct)
    (config / "strategy_config.json").write_text(json.dumps(strat))
    state = work / f"state-{market.name}-{sizer}"
    proc = subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state), "--fresh"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", "CONFIG_DIR": str(config)},
        capture_output=True,
        text=True,
    )
    m = SUMMARY.match(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    if m is None:
        raise SystemExit(f"replay failed ({sizer}, {market}): {proc.stderr[-500:]}")
    signals = [json.loads(line) for line in (state / "signals.jsonl").read_text().splitlines()]
    risk = [s["risk_pct_nav"] for s in signals if s.get("risk_pct_nav") is not None]
    by_symbol: dict[str, list[float]] = {}
    for s in signals:
        by_symbol.setdefault(s["symbol"], []).append(s["risk_pct_nav"])
    return {
        "fills": int(m[2]),
        "nav": float(m[3]),
        "max_dd": float(m[4]),
        "entries": len(risk),
        "risk_min": min(risk),
        "risk_median": statistics.median(risk),
        "risk_max": max(risk),
        "risk_cv": statistics.pstdev(risk) / statistics.fmean(risk),
        "by_symbol": {k: statistics.fmean(v) for k, v in sorted(by_symbol.items())},
        "capped": sum(1 for s in signals if s.get("capped_by")),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("markets", nargs="*", type=Path)
    ap.add_argument("--risk-pct", type=float, default=0.1, help="risk_per_trade_pct of the risk-parity runs")
    args = ap.parse_args()
    markets = args.markets or [ROOT.parent / "shared" / "data" / "market" / w for w in ("2024H1", "2025H1")]
    print(
        "| window | sizer | NAV | return | max DD | fills | entries (capped) | risk/trade % NAV min / median / max | CV | per symbol (mean %) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for market in markets:
            if not market.is_dir():
                print(f"skipped {market}: not found (the recorded windows live in ../shared/data)", file=sys.stderr)
                continue
            for sizer in ("fixed", "atr_risk_parity"):
                r = run(market, Path(tmp), sizer, args.risk_pct)
                symbols = ", ".join(f"{k.removesuffix('USDT')} {v:.3f}" for k, v in r["by_symbol"].items())
                label = sizer if sizer == "fixed" else f"{sizer} ({args.risk_pct:g}%)"
                print(
                    f"| {market.name} | {label} | {r['nav']:,.2f} | {(r['nav'] / 10_000 - 1) * 100:+.2f}% | "
                    f"{r['max_dd']:.2f}% | {r['fills']} | {r['entries']} ({r['capped']}) | {r['risk_min']:.3f} / "
                    f"{r['risk_median']:.3f} / {r['risk_max']:.3f} | {r['risk_cv']:.2f} | {symbols} |"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
