"""`ctl status`: what the executor last published, read and printed for an operator.

Kept apart from the command-sending half of the CLI (execution/ctl.py): this half only reads
the state documents (Firestore or the local files) and never writes.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from execution import control_log, health, liveness
from execution.logs import redact
from execution.settings import StoreEnv, WatchdogEnv, process_env_over_file, read_env

EXIT_OK, EXIT_REFUSED, EXIT_DOWN = 0, 1, 4
EXIT_DEGRADED, EXIT_HALTED = 5, 6  # health_state 1 and 2 (execution/health.py)


def reader_settings(state_dir: Path) -> StoreEnv:
    """The reader's settings: the process environment (not .env), with this state directory."""
    return read_env(StoreEnv, STATE_DIR=str(state_dir))


def _control_offset(state_dir: Path) -> int:
    """Where the executor's last snapshot says it reads the control log (0 before any)."""
    try:
        return int(json.loads((state_dir / "synced_state.json").read_text()).get("control_offset", 0))
    except (OSError, ValueError, AttributeError):
        return 0


def queued(state_dir: Path) -> list[dict]:
    return control_log.pending(state_dir, _control_offset(state_dir))


def age(ms: int | None) -> str:
    if ms is None:
        return "never"
    s = ms / 1000
    return f"{s:.0f}s ago" if s < 120 else f"{s / 60:.0f}min ago" if s < 7200 else f"{s / 3600:.1f}h ago"


def utc_text(ts: int | None) -> str:
    if not isinstance(ts, (int, float)) or not 0 < ts < 4_102_444_800_000:  # a broken document: a dash, no traceback
        return "-"
    return datetime.fromtimestamp(ts / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def status_data(state_dir: Path) -> dict:
    from execution.state.open import open_reader

    snap = open_reader(reader_settings(state_dir)).snapshot()
    nav, ctl, pos = snap.doc("nav"), snap.doc("control"), snap.doc("positions")
    arb = snap.doc("arbitrage")
    exposure = {
        v: {"gross_notional": x.get("gross_notional"), "net_notional": x.get("net_notional")}
        for v, x in (pos.get("per_venue") or {}).items()
    }
    live = liveness.assess(snap.updated_at_ms, snap.read_at_ms, read_env(WatchdogEnv, process_env_over_file()).stale_ms)
    last_mode = ctl.get("mode", nav.get("mode", "unknown"))
    problems = list(snap.problems) + ([f"executor {live.describe()}"] if live.down and nav else [])
    h = health.assess(ctl)  # the same function the executor published `health_state` with
    return {
        "source": snap.source,
        "state_dir": str(state_dir),
        "heartbeat_age_ms": snap.age_ms,
        "executor": live.to_doc(),
        "mode": liveness.DOWN if live.down else last_mode,
        "last_mode": last_mode,
        "reason": ctl.get("reason", ""),
        "health_state": h.state,
        "health": h.label,
        "health_reasons": list(h.reasons),
        "guards": ctl.get("guards", []),
        "since_ms": ctl.get("since_ms", 0),
        "by": ctl.get("by", ""),
        "kill": ctl.get("kill", False),
        "flatten_pending": ctl.get("flatten_pending", False),
        "breakers": ctl.get("breakers", []),
        "resume_request": ctl.get("resume_request"),
        "resume_approved": ctl.get("resume_approved"),
        "holds": ctl.get("holds", []),
        "resume_possible": not ctl.get("resume_blocked"),
        "resume_blocked": ctl.get("resume_blocked", ""),
        "queued_commands": [{k: c.get(k) for k in ("id", "ts", "cmd", "operator")} for c in queued(state_dir) if nav],
        "profile": ctl.get("profile", nav.get("profile")),
        "safe_mode": ctl.get("safe_mode", nav.get("safe_mode")),
        "dry_run": ctl.get("dry_run", nav.get("dry_run")),
        "limits": ctl.get("limits", {}),
        "counters": ctl.get("counters", {}),
        "stale_symbols": ctl.get("stale_symbols", []),
        "clock_skew_ms": ctl.get("clock_skew_ms"),
        "reconciliation": ctl.get("reconciliation", []),
        "nav": nav.get("nav"),
        "nav_source": nav.get("nav_source", "ledger"),
        "ledger_nav": nav.get("ledger_nav"),
        "venue_equity": nav.get("venue_equity"),
        "nav_drift_usdt": nav.get("nav_drift_usdt"),
        "net_contributed_capital": nav.get("net_contributed_capital"),
        "drawdown_pct": nav.get("drawdown_pct"),
        "peak_nav": nav.get("peak_nav"),
        "breaker_reference": nav.get("breaker_reference") or {},
        "market_ts": nav.get("market_ts"),
        "positions": pos.get("positions", []),
        "exposure_per_venue": exposure,
        "open_arbitrage_pairs": arb.get("open_pairs", []),
        "problems": problems,
    }


def _print_venue_truth(d: dict) -> None:
    """The venues' equity beside the ledger (testnet/live), and the capital put in."""
    if d.get("venue_equity") is not None:
        drift = d.get("nav_drift_usdt")
        print(
            f"venues    : equity {d['venue_equity']:,.2f} USDT  ledger {d['ledger_nav']:,.2f} USDT"
            + (f"  drift {drift:+,.2f} USDT" if drift is not None else "  (drift not checked: simulated money)")
        )
    if d.get("net_contributed_capital") is not None:
        print(f"capital   : net contributed {d['net_contributed_capital']:,.2f} USDT")


def _print_reference(d: dict) -> None:
    """The drawdown breaker's reference: the fund's peak, or the NAV an approved resume re-based it to."""
    ref = d["breaker_reference"]
    if ref.get("drawdown_nav") is not None:
        rb = ref.get("rebased")
        print(
            f"dd ref    : {ref['drawdown_nav']:,.2f} USDT (drawdown breaker); "
            + (
                f"re-based {utc_text(rb.get('ts'))} on the resume requested by {rb.get('requested_by')} and confirmed "
                f"by {rb.get('confirmed_by')}"
                if isinstance(rb, dict)
                else f"the fund's peak {d['peak_nav']:,.2f} USDT (never re-based)"
            )
        )


def print_status(d: dict) -> None:
    if d["nav"] is None:
        print(f"no executor state in {d['state_dir']} (source {d['source']}): has the executor run?")
        return
    if d["mode"] == liveness.DOWN:  # the last published mode is history, not the present
        print(
            f"mode      : DOWN for {liveness.duration(d['executor']['age_s'] * 1000)}: the executor is not "
            f"writing state (last published mode {d['last_mode']}; check supervisorctl status hedge-executor)"
        )
    mode = d["last_mode"] + (" (KILL)" if d["kill"] else "")
    print(
        f"{'last mode' if d['mode'] == liveness.DOWN else 'mode':<10}: {mode}"
        + (f"  reason: {d['reason']}  since {utc_text(d['since_ms'])} by {d['by']}" if d["last_mode"] == "HOLD" else "")
    )
    print(
        f"flags     : profile={d['profile']} SAFE_MODE={d['safe_mode']} DRY_RUN={d['dry_run']}"
        f" flatten_pending={d['flatten_pending']}"
    )
    print(
        f"heartbeat : last state write {age(d['heartbeat_age_ms'])} (source {d['source']}); "
        f"market time {utc_text(d['market_ts'])}"
    )
    _print_health(d)
    skew = d["clock_skew_ms"]
    print(f"clock skew: {'n/a (no venue clock in this profile)' if skew is None else f'{skew} ms'}")
    print(f"NAV       : {d['nav']:,.2f} USDT  drawdown {d['drawdown_pct']:.2f}%  (from the {d['nav_source']})")
    _print_venue_truth(d)
    _print_reference(d)
    c, lim = d["counters"], d["limits"]
    print(
        f"counters  : orders/min {c.get('orders_last_min', '-')}/{lim.get('MAX_ORDERS_PER_MIN', '-')}  "
        f"cancels/min {c.get('cancels_last_min', '-')}/{lim.get('MAX_CANCELS_PER_MIN', '-')}  "
        f"sent {c.get('orders_sent', '-')} rejected {c.get('orders_rejected', '-')}"
    )
    print("limits    : " + "  ".join(f"{k}={v}" for k, v in lim.items()))
    if len(d["holds"]) > 1:
        for h in d["holds"]:
            print(f"held by   : {h['by']} at {utc_text(h.get('ts'))}: {h['reason']}")
    for b in d["breakers"]:
        print(f"breaker   : {b['name']} at {utc_text(b.get('ts'))}: {b['detail']}")
    if d["resume_blocked"]:
        print(f"resume    : IMPOSSIBLE: {d['resume_blocked']}")
    if d["resume_request"]:
        r = d["resume_request"]
        print(f"resume    : requested by {r['operator']} ({r['reason']}), waiting for a second operator")
    if d["resume_approved"]:
        print(f"resume    : approved by {d['resume_approved']['confirmed_by']}; run `resume`")
    for s in d["stale_symbols"]:
        print(f"stale     : {s}")
    print(f"positions : {len(d['positions'])}")
    for p in d["positions"]:
        print(
            f"  {p['venue']:<11} {p['symbol']:<15} {p['position_side']:<5} qty={p['qty']:<10g} "
            f"entry={p['entry_price']:<12g} mark={p['mark_price']:<12g} uPnL={p['unrealized_pnl']:+.2f}"
        )
    for v, x in d["exposure_per_venue"].items():
        print(f"exposure  : {v}: gross {x['gross_notional']:,.2f}  net {x['net_notional']:+,.2f} USDT")
    print(f"arb pairs : {len(d['open_arbitrage_pairs'])} open")
    for c in d["queued_commands"]:
        print(
            f"queued    : {c['id']} {c['cmd']} by {c['operator']} at {utc_text(c['ts'])} (not acknowledged; ctl cancel ID)"
        )
    for r in d["reconciliation"]:
        print(f"reconcile : {r['difference']} {r['venue']} {r['symbol']}: {r['detail']}")
    for p in d["problems"]:
        print(f"problem   : {p}")


def _print_health(d: dict) -> None:
    reasons = "; ".join(d["health_reasons"])
    print(f"health    : {d['health_state']} {d['health']}" + (f": {reasons}" if reasons else ""))
    for g in d["guards"]:
        print(f"guard     : {_guard_line(g)}")


def _guard_line(g: dict) -> str:
    """One line per guard with something to show: what it holds back now, or what it watches."""
    name = g.get("name", "?")
    if g.get("idle"):
        return f"{name} idle ({g['idle']})"
    if g.get("active"):
        return f"{name} ACTIVE: {g.get('reason') or g.get('denied') or 'active'}"
    figures = {k: v for k, v in g.items() if k not in ("name", "active", "routine") and v not in (None, [], {})}
    return f"{name} armed: " + ", ".join(f"{k}={v}" for k, v in figures.items())


def status_command(state_dir: Path, as_json: bool) -> int:
    """`status`; a state document of an unexpected shape (edited, or from another version) is one
    line on stderr and exit 1, never a traceback or half a report."""
    out = io.StringIO()
    try:
        d = status_data(state_dir)
        with contextlib.redirect_stdout(out):
            print(json.dumps(d, indent=1, default=str)) if as_json else print_status(d)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        why = redact(f"{exc.__class__.__name__}: {exc}")[:200]
        print(f"status: the state documents in {state_dir} are not what this CLI reads ({why})", file=sys.stderr)
        return EXIT_REFUSED
    sys.stdout.write(out.getvalue())
    return status_exit_code(d)


def status_exit_code(d: dict) -> int:
    """4 DOWN (or no state), else 6 HALTED, 5 DEGRADED, 0 HEALTHY."""
    if d["mode"] == liveness.DOWN or d["nav"] is None:
        return EXIT_DOWN
    return {health.HALTED: EXIT_HALTED, health.DEGRADED: EXIT_DEGRADED}.get(d["health_state"], EXIT_OK)
