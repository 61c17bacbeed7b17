"""The monitoring stack on loopback for tests: a running executor (or a replayed state directory),
the real Prometheus and Alertmanager (Debian packages `prometheus`, `prometheus-alertmanager`,
installed by scripts/bootstrap.sh), and helpers to query them."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

PROMETHEUS = shutil.which("prometheus")
ALERTMANAGER = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")
RULES = PROJECT_ROOT / "deploy" / "prometheus" / "rules" / "hedge.rules.yml"
RULE_TESTS = PROJECT_ROOT / "deploy" / "prometheus" / "tests" / "hedge.rules.test.yml"
DASHBOARDS = sorted((PROJECT_ROOT / "deploy" / "grafana" / "dashboards").glob("*.json"))


def need(binary: str | None, package: str) -> str:
    if binary is None:
        pytest.skip(f"{package} is not installed (Debian package {package}; scripts/bootstrap.sh installs it)")
    return binary


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], **env: str) -> None:
    subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent", **env},
    )


def trading_config(root: Path, keep_trading: bool = False) -> Path:
    """A test copy of config/ in which the arbitrage loop trades on the generated market's basis
    (no fees or slippage and a tiny minimum edge: a negative one is refused at start). `keep_trading`: risk limits wide enough that no breaker holds a long
    run (the metrics tests need fills in every minute)."""
    config = root / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    arb = json.loads((config / "arbitrage.json").read_text())
    arb.update(
        min_edge_bps=0.01,
        exit_edge_bps=-45,
        max_holding_minutes=120,
        expected_slippage_bps={"binance_um": 0, "okx_perp": 0},
        fees={"mode": "manual", "manual": {v: {"maker": "0", "taker": "0"} for v in ("binance_um", "okx_perp")}},
    )
    (config / "arbitrage.json").write_text(json.dumps(arb))
    if keep_trading:
        risk = json.loads((config / "risk_limits.json").read_text())
        risk.update(
            KILL_DD_PCT=95,
            KILL_DAILY_LOSS_PCT=95,
            MAX_POSITIONS=50,
            MAX_LEVERAGE=10,
            MAX_NOTIONAL_PER_SYMBOL_USDT=100_000,
            MAX_GROSS_NOTIONAL_USDT=200_000,
        )
        (config / "risk_limits.json").write_text(json.dumps(risk))
    return config


def dead_firestore() -> str:
    """host:port of a port nothing listens on: Firestore "down" (the outbox holds real rows)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{s.getsockname()[1]}"


def replay_state(root: Path) -> Path:
    """A real replay of 5 days of the generated market into root/state, with the arbitrage loop
    allowed to trade and a Firestore that never answers."""
    market, state = root / "market", root / "state"
    _run(["-m", "execution.feeds.synthetic", "--out", str(market), "--days", "5", "--seed", "7"])
    config = trading_config(root)
    _run(
        ["-m", "execution.replay", str(market), "--state-dir", str(state), "--fresh"],
        CONFIG_DIR=str(config),
        FIRESTORE_PROJECT="demo-monitoring",
        FIRESTORE_EMULATOR_HOST=dead_firestore(),
    )
    return state


def start_executor(root: Path, metrics_port: int, speed: int = 45_000) -> Server:
    """The real executor as supervisor runs it (`python -m execution.executor`: paper profile, the
    generated market paced at `speed` x real time) serving its metrics on 127.0.0.1:metrics_port,
    with the arbitrage loop trading, no breaker in the way, and a Firestore that never answers.
    State in root/state."""
    config = trading_config(root, keep_trading=True)
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "PROFILE": "paper",
        "FEED": "generated",
        "SPEED": str(speed),
        "CONFIG_DIR": str(config),
        "STATE_DIR": str(root / "state"),
        "METRICS_PORT": str(metrics_port),
        "FIRESTORE_PROJECT": "demo-monitoring",
        "FIRESTORE_EMULATOR_HOST": dead_firestore(),
    }
    server = Server([sys.executable, "-m", "execution.executor"], root / "executor.log", env=env)
    url = f"http://127.0.0.1:{metrics_port}/metrics"

    def serving() -> bool:
        if server.proc.poll() is not None:
            raise AssertionError(f"the executor exited ({server.proc.returncode}): {server.log()}")
        return b"hedge_cycles_total" in urllib.request.urlopen(url, timeout=2).read()

    wait_until(serving, 90, "executor metrics")
    return server


def set_state_age(state_dir: Path, age_ms: int) -> int:
    """Make the state documents look written `age_ms` ago (as if the executor stopped then);
    returns that time."""
    then = int(time.time() * 1000) - age_ms
    for path in (state_dir / "state").glob("*.json"):
        doc = json.loads(path.read_text())
        doc["updated_at_ms"] = then
        path.write_text(json.dumps(doc))
    return then


def shorten_for(rules_text: str) -> str:
    """A test copy of the rules whose `for:` windows are seconds instead of minutes."""
    return re.sub(r"for: (\d+)m", r"for: \1s", rules_text)


def get_json(url: str, timeout: float = 5.0) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def query(base: str, expr: str) -> list[dict]:
    data = get_json(f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert data["status"] == "success", data
    return data["data"]["result"]


def wait_until(predicate, timeout_s: float, what: str, step_s: float = 0.25):
    """Poll `predicate` until it returns something truthy; fail naming `what` after `timeout_s`
    (a generous bound: the test asserts behaviour, not speed)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
        except OSError as exc:  # not listening yet
            last = exc
        else:
            if last:
                return last
        time.sleep(step_s)
    raise AssertionError(f"timed out after {timeout_s:g}s waiting for {what} (last: {last!r})")


class Server:
    """A server process with its log in a file; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, args: list[str], log: Path, cwd: Path = PROJECT_ROOT, env: dict[str, str] | None = None):
        self.log_path = log
        self._log = open(log, "wb")  # closed in stop()
        self.proc = subprocess.Popen(args, cwd=cwd, stdout=self._log, stderr=subprocess.STDOUT, env=env)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self, kill: bool = False) -> None:
        if self.proc.poll() is None:
            self.proc.kill() if kill else self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


def start_prometheus(config: Path, data: Path, port: int, log: Path) -> Server:
    server = Server(
        [
            need(PROMETHEUS, "prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        log,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200, 60, "Prometheus ready")
    return server


def start_alertmanager(config: Path, data: Path, port: int, log: Path) -> Server:
    server = Server(
        [
            need(ALERTMANAGER, "prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",  # no gossip port: a single local instance
            "--log.level=warn",
        ],
        log,
    )
    base = f"http://127.0.0.1:{port}"
    wait_until(lambda: urllib.request.urlopen(f"{base}/-/ready", timeout=2).status == 200, 60, "Alertmanager ready")
    return server


def panel_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, expr) for every target of every panel."""
    out = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                out.append((path.name, panel["title"], target["expr"]))
    return out


def grafana_to_promql(expr: str, rate_interval: str = "1m", range_: str = "1h") -> str:
    """What Grafana sends for the variables the dashboards use."""
    return expr.replace("$__rate_interval", rate_interval).replace("$__range", range_)
