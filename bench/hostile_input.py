#!/usr/bin/env python3
"""Attack a checkout's inputs and control plane as issue 20's tester did; print tried / held / failed.

    python bench/hostile_input.py [--root CHECKOUT] [--areas config,env,market,control,disk] [--verbose]

Everything runs on loopback against the checkout in --root (default: this one), through its own
entry points (`python -m execution.executor`, `execution.replay`, `execution.ctl`) and, for the
config files, its own loader in a worker process; so the same attacks measure main before a change
and a branch after it. The mutations are tests/support/mutations.py's (the tests run them too).

held    refused with one line naming the file (exit 2), or accepted when harmless
failed  crash: a traceback / another exit; silent: a value no reading can make sense of accepted,
        a look-alike variable not warned about, a bad bar or a forged command that changed state
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(HERE))
from bench.hostile_control import Tally, control_attacks  # noqa: E402

MUTATIONS = HERE / "tests" / "support" / "mutations.py"
BASE_ENV = "PROFILE=paper\nSAFE_MODE=true\nFEED=generated\n"

CONFIG_WORKER = """
import importlib.util, json, shutil, sys, tempfile
from pathlib import Path
spec = importlib.util.spec_from_file_location("hostile_mutations", sys.argv[1])
mu = importlib.util.module_from_spec(spec); sys.modules["hostile_mutations"] = mu; spec.loader.exec_module(mu)
config, tmp = Path(sys.argv[2]), Path(tempfile.mkdtemp())
out = {"refused": 0, "held": 0, "silent": [], "crash": []}
for m in mu.config_mutations(config):
    d = tmp / "c"
    shutil.rmtree(d, ignore_errors=True)
    shutil.copytree(config, d)
    m.apply(d)
    o, detail = mu.judge(m.must_refuse, m.file, lambda: mu.load_config(d, tmp / "state"))
    if o in ("refused", "held"):
        out[o] += 1
    else:
        out[o].append(f"{m.file}: {m.what}: {detail[:120]}")
print(json.dumps(out))
"""


def load_mutations():
    spec = importlib.util.spec_from_file_location("hostile_mutations", MUTATIONS)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["hostile_mutations"] = mod
    spec.loader.exec_module(mod)
    return mod


def env_for(root: Path, **extra: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root), "HOME": tempfile.gettempdir(), **extra}


# -- config files ---------------------------------------------------------------------------------
def config_area(root: Path) -> Tally:
    r = subprocess.run(
        [sys.executable, "-c", CONFIG_WORKER, str(MUTATIONS), str(root / "config")],
        cwd=root,
        env=env_for(root),
        capture_output=True,
        text=True,
        timeout=3600,
    )
    t = Tally()
    if r.returncode != 0:
        t.add("crash", f"the worker itself died: {r.stderr[-300:]}")
        return t
    out = json.loads(r.stdout.strip().splitlines()[-1])
    t.counts["refused"], t.counts["held"] = out["refused"], out["held"]
    for kind in ("silent", "crash"):
        for what in out[kind]:
            t.add(kind, what)
    return t


# -- .env -----------------------------------------------------------------------------------------
def run_executor(
    root: Path, env: dict[str, str], state: Path, logs: Path, timeout_s: float = 60
) -> tuple[str, str, str]:
    """("exit", code, stderr) or ("ran", "", stdout) once the executor wrote its first state."""
    out, err = logs / "executor.out", logs / "executor.err"
    with open(out, "wb") as fo, open(err, "wb") as fe:
        proc = subprocess.Popen([sys.executable, "-m", "execution.executor"], cwd=root, env=env, stdout=fo, stderr=fe)
        deadline = time.monotonic() + timeout_s
        ran = False
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                ran = os.path.exists(state / "state" / "control.json")
            except (OSError, ValueError):  # a hostile STATE_DIR (too long a name, a NUL)
                ran = False
            if ran:
                break
            time.sleep(0.1)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    if ran:
        return "ran", "", out.read_text(errors="replace")
    return "exit", str(proc.returncode), err.read_text(errors="replace")


def judge_start(kind: str, code: str, text: str, must_refuse: bool, warns: str = "") -> str:
    if kind == "ran":
        warned = not warns or re.search(rf"\b{re.escape(warns)}\b[^\n]*(ignored|no longer read)", text)
        return "silent" if must_refuse or not warned else "held"
    lines = [x for x in text.splitlines() if x.strip()]
    if code == "2" and len(lines) == 1 and "Traceback" not in text:
        return "refused"
    return "crash"


def env_area(root: Path, work: Path) -> Tally:
    mu = load_mutations()
    t = Tally()
    for i, m in enumerate(mu.env_mutations(BASE_ENV, {"STATE_DIR": str(work / "envstate")})):
        case = work / f"env{i}"
        case.mkdir()
        path = case / "hedge.env"
        mu.write_env(path, m)
        state = case / "state"
        env = env_for(root, ENV_FILE=str(path), STATE_DIR=str(state))  # nothing the .env sets: it must win
        env.update(dict(m.extra))
        kind, code, text = run_executor(root, env, Path(env["STATE_DIR"]), case)
        t.add(judge_start(kind, code, text, m.must_refuse, m.warns), m.what)
    for var, value in (
        ("FIRESTORE_READ_TIMEOUT_S", "inf"),
        ("FIRESTORE_READ_CACHE_S", "1e400"),
        ("WATCHDOG_STALE_S", "1e400"),
        ("WATCHDOG_STALE_S", "9" * 5000),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "execution.ctl", "--state-dir", str(work), "status"],
            cwd=root,
            env=env_for(root, ENV_FILE="/nonexistent", **{var: value}),
            capture_output=True,
            text=True,
            timeout=120,
        )
        lines = [x for x in r.stderr.splitlines() if x.strip()]
        ok = r.returncode == 2 and len(lines) == 1 and "Traceback" not in r.stderr
        t.add("refused" if ok else "crash", f"ctl status with {var}={value[:20]}")
    return t


# -- market data ----------------------------------------------------------------------------------
def _replay(root: Path, market: Path, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
        cwd=root,
        env=env_for(root, ENV_FILE="/nonexistent"),
        capture_output=True,
        text=True,
        timeout=900,
    )


def _strict(path: Path) -> bool:
    def refuse(name: str) -> None:
        raise ValueError(name)

    try:
        for f in path.rglob("*.json"):
            json.loads(f.read_text(), parse_constant=refuse)
        for f in path.glob("*.jsonl"):
            for line in f.read_text().splitlines():
                json.loads(line, parse_constant=refuse)
    except ValueError:
        return False
    return True


def _peak(state: Path) -> float:
    try:
        return float(json.loads((state / "peak_state.json").read_text())["peak_nav"])
    except (OSError, ValueError, KeyError):
        return float("nan")


def market_area(root: Path, work: Path) -> Tally:
    clean = work / "market"
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(clean), "--days", "20", "--seed", "11"],
        cwd=root,
        env=env_for(root),
        check=True,
        capture_output=True,
    )
    base = _replay(root, clean, work / "base")
    base_peak = _peak(work / "base") if base.returncode == 0 else float("nan")
    src = clean / "binance_um" / "BTCUSDT_15m.csv.gz"
    lines = gzip.open(src, "rb").read().split(b"\n")
    header, rows = lines[0], [r for r in lines[1:] if r]

    def prices(i: int, o: bytes = b"", h: bytes = b"", lo: bytes = b"", c: bytes = b"") -> bytes:
        t, o0, h0, l0, c0, v = rows[i].split(b",")
        return b",".join([t, o or o0, h or h0, lo or l0, c or c0, v])

    big = repr(float(rows[800].split(b",")[4]) * 1000).encode()
    cases = {
        "invalid UTF-8 in a row": lambda r: r.insert(600, b"1767765600000,\xff\xfe\xfd,1,1,1,1"),
        "a time in year 10000": lambda r: r.insert(700, b"253402300800000,1,1,1,1,1"),
        "a time of 1e300": lambda r: r.insert(700, b"1e300,1,1,1,1,1"),
        "prices of 1e300": lambda r: r.__setitem__(900, prices(900, b"1e300", b"1e300", b"1e300", b"1e300")),
        "a high of 1.7e308": lambda r: r.__setitem__(901, prices(901, h=b"1.7e308")),
        "a NaN close": lambda r: r.__setitem__(950, prices(950, c=b"nan")),
        "a single 1000x bar": lambda r: r.__setitem__(800, prices(800, big, big, big, big)),
    }
    t = Tally()
    for n, (what, change) in enumerate(cases.items()):
        market = work / f"m{n}"
        shutil.copytree(clean, market)
        copy = list(rows)
        change(copy)
        with gzip.open(market / "binance_um" / "BTCUSDT_15m.csv.gz", "wb") as fh:
            fh.write(b"\n".join([header, *copy]) + b"\n")
        state = work / f"s{n}"
        r = _replay(root, market, state)
        if r.returncode != 0 or "Traceback" in r.stderr:
            t.add("crash", f"{what}: exit {r.returncode}")
            continue
        control = json.loads((state / "state" / "control.json").read_text())
        if not _strict(state):
            t.add("silent", f"{what}: a non-finite value reached the state")
        elif not _peak(state) <= base_peak * 1.05:
            t.add("silent", f"{what}: the peak moved to {_peak(state):,.0f} (clean run {base_peak:,.0f})")
        elif any(b.get("name") == "drawdown" for b in control.get("breakers", [])):
            t.add("silent", f"{what}: a drawdown HOLD")
        else:
            t.add("held", what)
    return t


# -- disk full ------------------------------------------------------------------------------------
def disk_area(root: Path, work: Path) -> Tally:
    t = Tally()
    mount = work / "disk" / "mnt"
    mount.mkdir(parents=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)], capture_output=True).returncode:
        print("disk: cannot mount a tmpfs (needs root): skipped", file=sys.stderr)
        return t
    try:
        for what, cmd in (
            ("executor", [sys.executable, "-m", "execution.executor"]),
            (
                "replay",
                [sys.executable, "-m", "execution.replay", str(work / "market"), "--state-dir", str(mount / "r")],
            ),
        ):
            env = env_for(root, ENV_FILE="/nonexistent", STATE_DIR=str(mount / "x"), SPEED="max")
            r = subprocess.run(
                cmd, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=600
            )
            lines = [x for x in r.stderr.splitlines() if x.strip()]
            one = r.returncode != 0 and len(lines) == 1 and "Traceback" not in r.stderr
            t.add(
                "held" if one else "crash", f"{what} on a full disk: exit {r.returncode}, {len(lines)} stderr line(s)"
            )
            shutil.rmtree(mount / "x", ignore_errors=True)
        leftovers = list((mount / "r").rglob(".*.tmp"))
        moved = work / "moved"
        shutil.copytree(mount / "r", moved)
        (moved / "state" / ".nav.json.4242.tmp").write_bytes(b"{half")
        r = _replay(root, work / "market", moved)
        left = list(moved.rglob(".*.tmp"))
        t.add(
            "held" if r.returncode == 0 and not left else "silent",
            f"next start: {len(left)} temp file(s) left ({len(leftovers)} after the crash)",
        )
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
    return t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=HERE, help="the checkout to attack (default: this one)")
    ap.add_argument("--areas", default="config,env,market,control,disk")
    ap.add_argument("--verbose", action="store_true", help="list every failure")
    args = ap.parse_args()
    root = args.root.resolve()
    rows, failures = [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        areas = args.areas.split(",")
        if "disk" in areas and "market" not in areas:
            areas.insert(0, "market")  # the disk area replays its market
        for area in areas:
            t0 = time.monotonic()
            sub = work / area
            sub.mkdir()
            if area == "config":
                t = config_area(root)
            elif area == "env":
                t = env_area(root, sub)
            elif area == "market":
                t = market_area(root, work)
            elif area == "control":
                t = control_attacks(root, sub)
            elif area == "disk":
                t = disk_area(root, work)
            else:
                raise SystemExit(f"unknown area {area!r}")
            rows.append(t.row(area))
            failures += [f"{area}: {f}" for f in t.failures]
            print(f"{area}: done in {time.monotonic() - t0:.0f} s: {t.row(area)}", file=sys.stderr, flush=True)
    print(f"checkout: {root} ({os.popen(f'git -C {root} rev-parse --short HEAD').read().strip()})")
    print("| area | tried | held | failed |\n|---|---|---|---|")
    print("\n".join(rows))
    if args.verbose:
        print("\n".join(failures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
