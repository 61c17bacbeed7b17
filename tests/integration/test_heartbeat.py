"""The heartbeat run as cron runs it (`python -m telegram.heartbeat` in a subprocess, settings from
the environment only) against a loopback Bot API: one message whose numbers match the state the
replay wrote (recomputed here from the files, not through telegram.format), and exit 0 in every
failure case with one clear log line."""

from __future__ import annotations

import gzip
import json
import re
import shutil
import socket
import subprocess
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT, shared_path
from tests.support.fake_telegram import FakeTelegram, parse_html

TOKEN = "123456789:AAE_fake-token-for-tests-only_xyz0"
CHAT = "-1001234567"
DAY_MS = 86_400_000


def _replay(market: Path, state: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state), "--fresh"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "ENV_FILE": "/nonexistent"},
    )
    return state


@pytest.fixture(scope="module", params=["2024H1", "2025H1"])
def replayed(request, tmp_path_factory) -> Path:
    """State from a replay of recorded market data (../shared/data), as the executor leaves it."""
    market = shared_path("market", request.param)
    return _replay(market, tmp_path_factory.mktemp(f"hb-{request.param}"))


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """State from a replay of the generated market: for the failure cases, which need any state."""
    root = tmp_path_factory.mktemp("hb-synthetic")
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(root / "m"), "--days", "5"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return _replay(root / "m", root / "state")


def run(
    state_dir: Path, api_url: str, *args: str, token: str | None = TOKEN, chat: str | None = CHAT, **extra: str
) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "ENV_FILE": "/nonexistent",
        "STATE_DIR": str(state_dir),
        "TELEGRAM_API_BASE": api_url,
        "HEDGE_ENV": "prod",
        "TELEGRAM_TIMEOUT_S": "5",
        **extra,
    }
    if token is not None:
        env["TELEGRAM_BOT_TOKEN"] = token
    if chat is not None:
        env["TELEGRAM_CHAT_ID"] = chat
    proc = subprocess.run(
        [sys.executable, "-m", "telegram.heartbeat", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and TOKEN.split(":")[1] not in proc.stderr + proc.stdout
    return proc


def payload_of(proc: subprocess.CompletedProcess) -> dict:
    (line,) = [ln for ln in proc.stderr.splitlines() if "[heartbeat] payload " in ln]  # one per run
    return json.loads(line.split("[heartbeat] payload ", 1)[1])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- independent recomputation from the state files ---------------------------------------------------
def d(x) -> Decimal:
    return Decimal(str(x))


def money(x: Decimal, signed: bool = False) -> str:
    q = x.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return f"{q:+,.2f}" if signed else f"{q:,.2f}"


def expected_from_files(state: Path) -> dict:
    nav = json.loads((state / "state" / "nav.json").read_text())
    as_of = nav["market_ts"]
    points = []
    for bucket in sorted((state / "history" / "nav").glob("*.json")):
        b = json.loads(bucket.read_text())
        points += list(zip(b["ts"], b["nav"], strict=False))
    older = [(ts, v) for ts, v in points if ts <= as_of - DAY_MS]
    ref = max(older)[1] if older else min(points)[1]
    delta = d(nav["nav"]) - d(ref)
    pct = delta / d(ref) * 100
    arrow = "↑" if pct > Decimal("0.25") else "↓" if pct < Decimal("-0.25") else "→"
    positions = json.loads((state / "state" / "positions.json").read_text())["positions"]
    groups: dict[tuple[str, str], list] = {}
    for p in positions:
        g = groups.setdefault((p["symbol"], p["position_side"]), [Decimal(0), Decimal(0), p["venue"]])
        g[0] += d(p["qty"])
        g[1] += d(p["unrealized_pnl"])

    def base(symbol: str) -> str:
        return symbol.split("-")[0] if "-" in symbol else symbol.removesuffix("USDT")

    def hedged(sym: str, side: str, venue: str) -> bool:  # same base, other side, other venue
        return any(base(s) == base(sym) and sd != side and g[2] != venue for (s, sd), g in groups.items())

    top = sorted(groups.items(), key=lambda kv: -abs(kv[1][1]))[:5]
    fills = [json.loads(line) for line in (state / "trade_log.jsonl").read_text().splitlines() if line.strip()]
    closes = [f for f in fills if (f["side"], f["position_side"]) in (("SELL", "LONG"), ("BUY", "SHORT"))]
    closes.sort(key=lambda f: (f["ts"], f.get("seq", 0)))
    last = closes[-5:][::-1]
    cycle = json.loads((state / "state" / "screener.json").read_text())["last_cycle"]
    return {
        "nav_line": f"NAV: {money(d(nav['nav']))} USDT  (Δ24h: {money(delta, True)}, "
        f"{pct.quantize(Decimal('0.01'), rounding=ROUND_HALF_EVEN):+.2f}%)",
        "dd_line": f"Drawdown: {d(nav['drawdown_pct']).quantize(Decimal('0.1'), rounding=ROUND_HALF_EVEN)}%  |  "
        f"Trend: {arrow}",
        "positions": [
            f"• {sym}  {side:<5} {qty.normalize():f}  uPnL {money(upnl, True)}"
            for (sym, side), (qty, upnl, venue) in top
            if not hedged(sym, side, venue)
        ],
        "trades": [
            f"• {f['symbol']} {money(d(f['realized_pnl_usdt']) - d(f['fee_usdt']), True)}  "
            f"({f['side']}/{f['position_side']}"
            for f in last
        ],
        "screener": f"• Screener: attempted={cycle['attempted']}, emitted={cycle['emitted']} (last cycle)",
        "reserve": f"• Reserve: {d(nav['reserve_btc']).normalize():f} BTC (not included in NAV)",
        "nav": nav,
        "delta": delta,
        "pct": pct,
        "ref": ref,
        "n_positions": len(positions),
        "cycle": cycle,
    }


# -- the message ---------------------------------------------------------------------------------------
def test_one_message_whose_numbers_match_the_replayed_state(replayed):
    exp = expected_from_files(replayed)
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(replayed, tg.url, HEARTBEAT_TZ="Europe/Berlin")
    assert len(tg.messages) == 1 and len(tg.calls) == 1
    msg = tg.messages[0]
    assert msg["chat_id"] == CHAT and msg["parse_mode"] == "HTML"
    lines = msg["visible_text"].split("\n")
    assert lines[0] == "HEDGE — 8h Update (prod)"
    assert lines[1].startswith("Time: ") and lines[1].endswith((" CET", " CEST"))  # local time with its zone
    assert lines[3] == exp["nav_line"]
    assert lines[4] == exp["dd_line"]
    for expected in exp["positions"]:
        assert expected in lines
    trades_at = lines.index("Recent PnL (last 5 trades):") if exp["trades"] else -1
    trade_lines = lines[trades_at + 1 : trades_at + 1 + len(exp["trades"])] if exp["trades"] else []
    assert [ln.rsplit(" ", 2)[0] for ln in trade_lines] == exp["trades"]  # "<rest> MM-DD HH:MM)", newest first
    assert exp["screener"] in lines and exp["reserve"] in lines

    p = payload_of(proc)
    nav = exp["nav"]
    assert p["env"] == "prod" and p["source"] == "local" and p["as_of_ms"] == nav["market_ts"]
    assert p["nav"] == float(d(nav["nav"]).quantize(Decimal("0.01")))
    assert p["nav_24h_delta_abs"] == float(exp["delta"].quantize(Decimal("0.01")))
    assert abs(p["nav_24h_delta_pct"] - float(exp["pct"])) < 1e-4
    assert abs(p["nav_24h_delta_abs"] - nav["change_24h_abs"]) < 0.006  # the executor's own Δ24h agrees
    half_unit = 0.00005 + 1e-9  # rounded to 4 places (a value ending in 5 rounds half up in Decimal)
    assert abs(p["drawdown_pct"] - nav["drawdown_pct"]) <= half_unit
    assert abs(p["kpis"]["max_dd_pct"] - nav["max_drawdown_pct"]) <= half_unit
    assert p["trend"] == {"↑": "up", "↓": "down", "→": "flat"}[exp["dd_line"][-1]]
    assert p["reserve_btc"] == nav["reserve_btc"] and p["open_positions"] == exp["n_positions"]
    assert p["screener"] == {"attempted": exp["cycle"]["attempted"], "emitted": exp["cycle"]["emitted"]}
    assert len(p["recent_trades"]) == len(exp["trades"]) and p["kpis"]["max_daily_loss_pct"] >= 0


def test_dry_run_prints_message_and_payload_and_sends_nothing(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(synthetic, tg.url, "--dry-run")
    assert tg.calls == []
    assert proc.stdout.startswith("<b>HEDGE — 8h Update (prod)</b>\n")
    printed = json.loads(proc.stdout[proc.stdout.index("\n{") + 1 :])
    assert printed == payload_of(proc) and printed["trend"] in ("up", "down", "flat")


def test_a_cross_venue_hedge_is_one_line(synthetic, tmp_path):
    state = tmp_path / "st"
    shutil.copytree(synthetic, state)
    doc = json.loads((state / "state" / "positions.json").read_text())
    doc["positions"] = [
        {
            "venue": "binance_um",
            "symbol": "BTCUSDT",
            "position_side": "SHORT",
            "qty": 0.02,
            "unrealized_pnl": -41.5,
            "notional": 1300.0,
        },
        {
            "venue": "okx_perp",
            "symbol": "BTC-USDT-SWAP",
            "position_side": "LONG",
            "qty": 0.02,
            "unrealized_pnl": 43.25,
            "notional": 1301.2,
        },
    ]
    (state / "state" / "positions.json").write_text(json.dumps(doc))
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        run(state, tg.url)
    assert "• BTC hedged: LONG okx_perp 0.02 / SHORT binance_um 0.02  uPnL +1.75  net +1.20 USDT" in tg.messages[0][
        "visible_text"
    ].split("\n")


# -- failure cases: always exit 0 (asserted in run()), always one clear line ---------------------------
def test_bot_api_down(synthetic):
    proc = run(synthetic, f"http://127.0.0.1:{free_port()}")
    assert "[heartbeat] not sent: Telegram unreachable (ConnectionError)" in proc.stderr
    assert payload_of(proc)["nav"] is not None  # the payload is logged even when nothing could be sent


def test_bot_api_hangs(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        tg.hold()
        proc = run(synthetic, tg.url, TELEGRAM_TIMEOUT_S="1")
    assert "[heartbeat] not sent: Telegram unreachable (ReadTimeout)" in proc.stderr and len(tg.calls) == 1


def test_429_is_waited_out_once_and_the_message_goes(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        tg.rate_limit_next(retry_after=1)
        proc = run(synthetic, tg.url)
    assert len(tg.calls) == 2 and len(tg.messages) == 1
    assert "[telegram] rate limited (429): waiting 1s before one retry" in proc.stderr
    assert "[heartbeat] sent to Telegram chat" in proc.stderr


def test_429_with_a_long_retry_after_is_not_waited_for(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        tg.rate_limit_next(retry_after=900)
        proc = run(synthetic, tg.url)
    assert tg.messages == [] and len(tg.calls) == 1
    assert "[heartbeat] not sent: HTTP 429 rate limited: retry_after 900s" in proc.stderr


def test_401_bad_token(synthetic):
    with FakeTelegram("555555555:AAE_the-real-bot-token-is-this-one_1", chat_id=CHAT) as tg:
        proc = run(synthetic, tg.url)
    assert tg.messages == [] and "[heartbeat] not sent: HTTP 401 Unauthorized (check TELEGRAM_BOT_TOKEN)" in proc.stderr


def test_missing_or_malformed_token_and_chat(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        no_token = run(synthetic, tg.url, token=None)
        no_chat = run(synthetic, tg.url, chat="")
        both = run(synthetic, tg.url, token="", chat=None)
        malformed = run(synthetic, tg.url, token=f'"{TOKEN}"')
    assert tg.calls == []
    assert "[heartbeat] TELEGRAM_BOT_TOKEN not set: message not sent" in no_token.stderr
    assert "[heartbeat] TELEGRAM_CHAT_ID not set: message not sent" in no_chat.stderr
    assert "[heartbeat] TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID not set" in both.stderr
    assert "[heartbeat] TELEGRAM_BOT_TOKEN is malformed" in malformed.stderr
    assert all(payload_of(p)["nav"] is not None for p in (no_token, no_chat, both, malformed))


def test_empty_or_missing_state_dir_still_reports(tmp_path):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        empty = run(tmp_path, tg.url)
        missing = run(tmp_path / "nope", tg.url)
    assert len(tg.messages) == 2
    for msg, proc in zip(tg.messages, (empty, missing), strict=False):
        text = msg["visible_text"]
        assert "NAV: unavailable (no readable NAV in state and no venue answered)" in text
        assert "Check the executor: supervisorctl status hedge-executor" in text
        assert "[heartbeat] no NAV available" in proc.stderr and payload_of(proc)["nav"] is None


def test_corrupt_state_sends_what_is_readable(synthetic, tmp_path):
    state = tmp_path / "st"
    shutil.copytree(synthetic, state)
    (state / "state" / "positions.json").write_text('{"positions": [{"symbol": 1}, "x", null')  # torn write
    (state / "state" / "screener.json").write_text("[1, 2]")
    newest = sorted((state / "history" / "nav").glob("*.json"))[-1]
    newest.write_bytes(gzip.compress(b"not json"))
    (state / "trade_log.jsonl").write_text('{"kind": "fill", "side": "SELL"\n\x00\x00garbage\n')
    nav = json.loads((state / "state" / "nav.json").read_text())
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(state, tg.url)
    (msg,) = tg.messages
    text = msg["visible_text"]
    assert f"NAV: {money(d(nav['nav']))} USDT" in text
    assert (
        "Open Positions: none" in text
        and "Recent PnL (last 5 trades): none" in text
        and "• Screener: n/a (last cycle)" in text
    )
    assert "State: positions.json: unreadable (JSONDecodeError)" in text
    assert "[heartbeat] state: " in proc.stderr

    (state / "state" / "nav.json").write_text('{"nav": "NaN", "updated_at_ms": 1}')
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(state, tg.url)
    assert "NAV: unavailable" in tg.messages[0]["visible_text"]
    assert "[heartbeat] nav document has no usable 'nav'" in proc.stderr


def test_message_over_the_limit_becomes_one_message_telegram_accepts(synthetic, tmp_path):
    state = tmp_path / "st"
    shutil.copytree(synthetic, state)
    doc = json.loads((state / "state" / "positions.json").read_text())
    doc["positions"] = [
        {
            "venue": "binance_um",
            "symbol": f"S{i:03d}<&>" + "Z" * 300 + "USDT",
            "position_side": "LONG",
            "qty": 1.0,
            "unrealized_pnl": float(i),
            "notional": 10.0,
        }
        for i in range(500)
    ]
    (state / "state" / "positions.json").write_text(json.dumps(doc))
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(state, tg.url, HEDGE_ENV="&" * 5000)
    (msg,) = tg.messages
    assert len(msg["text"]) <= 4096 and parse_html(msg["text"])[1] == ""
    shown = [ln for ln in msg["visible_text"].split("\n") if ln.startswith("• S") and "  LONG  1  uPnL" in ln]
    assert len(shown) == 5 and "• S499<&>ZZZ" in msg["visible_text"]
    assert payload_of(proc)["open_positions"] == 500


def test_firestore_down_falls_back_to_local_state(synthetic):
    nav = json.loads((synthetic / "state" / "nav.json").read_text())
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(
            synthetic,
            tg.url,
            FIRESTORE_PROJECT="hedge-test",
            FIRESTORE_EMULATOR_HOST=f"127.0.0.1:{free_port()}",
            FIRESTORE_READ_TIMEOUT_S="1",
        )
    (msg,) = tg.messages
    assert f"NAV: {money(d(nav['nav']))} USDT" in msg["visible_text"]
    assert "Firestore not answering: figures from the local state files" in msg["visible_text"]
    assert payload_of(proc)["source"] == "local"


def test_bad_time_zone_and_log_level_do_not_stop_the_message(synthetic):
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = run(synthetic, tg.url, HEARTBEAT_TZ="Mars/Olympus", LOG_LEVEL="chatty")
    assert len(tg.messages) == 1 and tg.messages[0]["visible_text"].split("\n")[1].endswith(" UTC")
    assert "HEARTBEAT_TZ='Mars/Olympus' is not an IANA time zone: using UTC" in proc.stderr


# -- the shipped cron line, run the way cron runs it ----------------------------------------------------
def test_shipped_cron_line_runs_as_cron_would(synthetic, tmp_path):
    """The command of deploy/cron/hedge-heartbeat, with its paths moved under tmp_path, run by
    /bin/sh with nothing but the cron file's environment: settings come from the project's .env."""
    cron = (PROJECT_ROOT / "deploy" / "cron" / "hedge-heartbeat").read_text()
    env_lines = dict(
        ln.split("=", 1)
        for ln in cron.splitlines()
        if ln and not ln.startswith("#") and "=" in ln and " " not in ln.split("=", 1)[0]
    )
    (job,) = [ln for ln in cron.splitlines() if ln and not ln.startswith("#") and ln[0].isdigit()]
    fields = job.split(None, 6)
    assert fields[:5] == ["0", "*/8", "*", "*", "*"] and fields[5] == "hedge"
    command = fields[6]
    assert "-m telegram.heartbeat" in command and command.endswith(">> /var/log/hedge-heartbeat.log 2>&1")

    project = tmp_path / "opt" / "hedge"  # a deployment: the code, a venv python, a .env
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / ".venv" / "bin" / "python").symlink_to(sys.executable)
    for name in ("execution", "telegram", "config"):
        (project / name).symlink_to(PROJECT_ROOT / name)
    log = tmp_path / "hedge-heartbeat.log"
    command = command.replace("/opt/hedge", str(project)).replace("/var/log/hedge-heartbeat.log", str(log))
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        (project / ".env").write_text(
            f"STATE_DIR={synthetic}\nHEDGE_ENV=cron\nTELEGRAM_BOT_TOKEN={TOKEN}\n"
            f"TELEGRAM_CHAT_ID={CHAT}\nTELEGRAM_API_BASE={tg.url}\n"
        )
        for _ in range(2):  # two runs append to the same log
            proc = subprocess.run(
                ["/bin/sh", "-c", command],
                env={**env_lines, "HOME": str(tmp_path)},
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert proc.returncode == 0 and proc.stdout == proc.stderr == ""
    text = log.read_text()
    assert len(tg.messages) == 2 and tg.messages[0]["visible_text"].startswith("HEDGE — 8h Update (cron)")
    assert text.count("[heartbeat] payload {") == 2 and text.count("[heartbeat] sent to Telegram chat") == 2
    assert "Traceback" not in text and TOKEN.split(":")[1] not in text


# -- the fund's runbook: its cron line and its JSON schema ----------------------------------------------
def _runbook_schema() -> dict:
    """The heartbeat JSON example of the fund's runbook (../shared/seeds), `//` comments dropped."""
    seeds = PROJECT_ROOT.parent / "shared" / "seeds"
    runbook = next(iter(sorted(seeds.glob("002_*.md"))), None) if seeds.is_dir() else None
    if runbook is None:
        pytest.skip(f"the fund's runbook is not available: {seeds}/002_*.md (../shared is absent)")
    text = runbook.read_text()
    block = text.split("### 2) JSON payload", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    return json.loads("\n".join(line.split("//")[0] for line in block.splitlines()))


def _same_shape(ours: object, theirs: object, path: str = "$") -> None:
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{path}: expected an object, got {ours!r}"
        for key, value in theirs.items():
            assert key in ours, f"{path}.{key} missing (the runbook's schema has it)"
            _same_shape(ours[key], value, f"{path}.{key}")
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{path}: expected a list, got {ours!r}"
        for item in ours:
            _same_shape(item, theirs[0], f"{path}[]")
    elif isinstance(theirs, bool) or theirs is None:
        pass
    elif isinstance(theirs, int | float):
        assert ours is None or (isinstance(ours, int | float) and not isinstance(ours, bool)), f"{path}: {ours!r}"
    else:
        assert isinstance(ours, str), f"{path}: expected text, got {ours!r}"


def test_the_runbooks_cron_line_and_json_schema(synthetic, tmp_path):
    """`python /path/telegram/heartbeat.py` as the runbook's cron line runs it (from another
    directory), and its payload follows the runbook's JSON schema field for field."""
    schema = _runbook_schema()
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        proc = subprocess.run(
            [sys.executable, str(PROJECT_ROOT / "telegram" / "heartbeat.py")],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "ENV_FILE": "/nonexistent",
                "STATE_DIR": str(synthetic),
                "TELEGRAM_API_BASE": tg.url,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_CHAT_ID": CHAT,
                "HEDGE_ENV": "prod",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert len(tg.messages) == 1
    p = payload_of(proc)
    _same_shape(p, schema)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", p["timestamp"])
    assert p["trend"] in ("up", "down", "flat")
    assert all(x["side"] in ("LONG", "SHORT") for x in p["positions"])
    text = tg.messages[0]["visible_text"]
    for label in ("Time: ", "NAV: ", "Drawdown: ", "Open Positions", "Recent PnL (last 5 trades)", "Notes:"):
        assert label in text, label
    assert "• Reserve: " in text and "• Screener: " in text


def test_trades_the_positions_do_not_include_yet_are_left_out(synthetic, tmp_path):
    state = tmp_path / "state"
    shutil.copytree(synthetic, state)
    trades = [json.loads(x) for x in (state / "trade_log.jsonl").read_text().splitlines()]
    closes = [t for t in trades if (t["side"], t["position_side"]) in (("SELL", "LONG"), ("BUY", "SHORT"))]
    assert len(closes) >= 2
    newest = closes[-1]
    positions = json.loads((state / "state" / "positions.json").read_text())
    assert positions["trade_seq"] == trades[-1]["seq"]  # as the executor published it: everything included
    positions["trade_seq"] = newest["seq"] - 1  # as if published just before the newest close was booked
    (state / "state" / "positions.json").write_text(json.dumps(positions))
    with FakeTelegram(TOKEN, chat_id=CHAT) as tg:
        p = payload_of(run(state, tg.url, "--dry-run"))
    shown = [(t["ts"], t["symbol"]) for t in p["recent_trades"]]
    assert shown and (newest["ts"], newest["symbol"]) not in shown
    assert shown[0] == (closes[-2]["ts"], closes[-2]["symbol"])
