"""The investor path end to end: real nginx (the project's site config, templated onto loopback
ports) in front of a real `streamlit run` started with the supervisor program's own command, and a
real headless Chromium reading the page with credentials.

Skips with the reason when nginx, htpasswd, openssl or chromium is not installed.
"""

from __future__ import annotations

import base64
import os
import shlex
import signal
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from dashboard import charts
from execution import clock
from execution.state.local import LocalStore
from tests.conftest import PROJECT_ROOT
from tests.support import nginx as ng
from tests.support.browser import Browser, chromium_binary
from tests.support.dashboard_state import add_btc_marks, copy_state, market_of, read_doc, replay_state, stamp_state

MISSING = ng.missing_binaries("nginx", "htpasswd", "openssl")
pytestmark = [
    pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (Debian: nginx apache2-utils openssl)"),
    pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning"),  # our own self-signed cert
]

USER, PASSWORD = "investor-a", "correct horse battery staple 7"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"


def supervisor_command(port: int) -> list[str]:
    """The `command=` of deploy/supervisor/hedge-dashboard.conf, with this interpreter and a free port."""
    conf = (PROJECT_ROOT / "deploy" / "supervisor" / "hedge-dashboard.conf").read_text()
    line = next(x for x in conf.splitlines() if x.startswith("command="))
    argv = shlex.split(line[len("command=") :])
    assert argv[0] == "/opt/hedge/.venv/bin/python" and argv[1:3] == ["-m", "dashboard"]  # the launcher
    argv[0] = sys.executable
    argv[argv.index("--port") + 1] = str(port)
    return argv


@pytest.fixture(scope="module")
def state(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("dash-e2e")
    replayed = replay_state(work / "replay")
    add_btc_marks(replayed, market_of(replayed))
    st = copy_state(replayed, work / "state")
    stamp_state(st, clock.wall_ms())
    return st


@pytest.fixture(scope="module")
def streamlit_server(state, tmp_path_factory):
    port = ng.free_port()
    home = tmp_path_factory.mktemp("st-home")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "STATE_DIR": str(state),
        "ENV_FILE": "/nonexistent",
        "PYTHONUNBUFFERED": "1",
        "DASHBOARD_STALE_MINUTES": "60",
    }
    log = open(home / "streamlit.log", "wb")
    proc = subprocess.Popen(
        supervisor_command(port),
        cwd="/",  # not the project directory: the launcher must not depend on where it starts
        env={**env, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        ng.wait_port(port, timeout=60, proc=proc)
        deadline = time.monotonic() + 30
        while requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "streamlit never became healthy"
            time.sleep(0.1)
        yield port
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def htpasswd(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "htpasswd"
    ng.make_htpasswd(path, {USER: PASSWORD, "investor-b": "another long passphrase"})
    assert all(line.split(":", 1)[1].startswith("$2y$") for line in path.read_text().splitlines())  # bcrypt
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory, streamlit_server, htpasswd):
    s = ng.render(tmp_path_factory.mktemp("nginx-tls"), streamlit_server, htpasswd, tls=True)
    with s:
        yield s


def https(site, path: str = "/") -> str:
    return f"https://127.0.0.1:{site.https_port}{path}"


# ----------------------------------------------------------------------------------------------
def test_streamlit_itself_listens_on_loopback_only(streamlit_server):
    out = subprocess.run(["ss", "-Hltn", f"sport = :{streamlit_server}"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("ss (iproute2) not available")
    addrs = {line.split()[3].rsplit(":", 1)[0] for line in out.stdout.splitlines() if line.strip()}
    assert addrs and addrs <= {"127.0.0.1"}, addrs


def test_basic_auth(site):
    attempts = (None, (USER, "guess"), ("nobody", PASSWORD), (USER, PASSWORD.upper()))
    with ThreadPoolExecutor(len(attempts)) as pool:  # each refusal takes auth_delay (1 s)
        codes = list(
            pool.map(lambda a: requests.get(https(site), auth=a, verify=False, timeout=10).status_code, attempts)
        )
    assert codes == [401] * len(attempts)
    ok = requests.get(https(site), auth=(USER, PASSWORD), verify=False, timeout=10)
    assert ok.status_code == 200 and "<title>Streamlit</title>" in ok.text or "streamlit" in ok.text.lower()
    health = requests.get(https(site, "/_stcore/health"), auth=(USER, PASSWORD), verify=False, timeout=10)
    assert health.status_code == 200
    errors = site.error_log.read_text()
    assert f'user "{USER}": password mismatch' in errors  # what fail2ban's nginx-http-auth jail matches


def test_security_headers_and_tls_redirect(site):
    r = requests.get(https(site), auth=(USER, PASSWORD), verify=False, timeout=10)
    h = r.headers
    assert h["Strict-Transport-Security"].startswith("max-age=")
    assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "nginx/" not in h.get("Server", "")  # no version
    denied = requests.get(https(site), verify=False, timeout=10)
    assert denied.headers["X-Frame-Options"] == "DENY"  # on errors too
    plain = requests.get(
        f"http://127.0.0.1:{site.http_port}/some/path?x=1",
        headers={"Host": "evil.example"},  # a forged Host never picks where the redirect goes
        allow_redirects=False,
        timeout=10,
    )
    assert plain.status_code == 301 and plain.headers["Location"] == "https://dashboard.example.com/some/path?x=1"


def test_tls_offers_forward_secret_ciphers_only(site):
    import socket
    import ssl

    def handshake(ciphers: str) -> str | None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(ciphers)
        try:
            with (
                socket.create_connection(("127.0.0.1", site.https_port), timeout=10) as raw,
                ctx.wrap_socket(raw) as tls,
            ):
                return tls.cipher()[0]
        except ssl.SSLError:
            return None

    assert handshake("ECDHE-RSA-AES128-GCM-SHA256") == "ECDHE-RSA-AES128-GCM-SHA256"
    for no_forward_secrecy in ("AES128-GCM-SHA256", "AES256-SHA", "DHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA"):
        assert handshake(no_forward_secrecy) is None, no_forward_secrecy


def test_nothing_writes_through_the_proxy(site):
    auth = (USER, PASSWORD)
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        r = requests.request(method, https(site), auth=auth, verify=False, timeout=10, data=b"x")
        assert r.status_code == 403, method
    r = requests.put(https(site, "/_stcore/upload_file/abc/def"), auth=auth, verify=False, timeout=10, data=b"x")
    assert r.status_code == 403


def test_static_bundle_is_public_but_carries_no_data(site):
    index = requests.get(https(site), auth=(USER, PASSWORD), verify=False, timeout=10).text
    asset = next(part.split('"')[0] for part in index.split('src="')[1:] if part.startswith("./static/"))
    r = requests.get(https(site, asset[1:]), verify=False, timeout=10)  # no credentials
    assert r.status_code == 200 and "javascript" in r.headers["Content-Type"]
    assert r.headers["X-Frame-Options"] == "DENY"
    assert [p for p in (site.root / "cache").rglob("*") if p.is_file()]  # kept by nginx: Streamlit serves it once
    paths = ("/", "/_stcore/health", "/_stcore/host-config", "/favicon.png")
    with ThreadPoolExecutor(len(paths)) as pool:  # each refusal takes auth_delay (1 s)
        codes = dict(
            zip(
                paths,
                pool.map(lambda p: requests.get(https(site, p), verify=False, timeout=10).status_code, paths),
                strict=False,
            )
        )
    assert codes == {p: 401 for p in paths}
    # the page asks for the chart's bundle from the start (nginx puts it in; deferred after Streamlit's script)
    assert f'<script defer src="{charts.PLOTLY_JS}"></script></head>' in index
    chart_js = requests.get(https(site, "/" + charts.PLOTLY_JS), verify=False, timeout=10)
    assert chart_js.status_code == 200 and "javascript" in chart_js.headers["Content-Type"]  # public code, no data
    assert chart_js.headers["X-Frame-Options"] == "DENY" and "max-age" in chart_js.headers.get("Cache-Control", "")


def _ws_url(site) -> str:
    return f"wss://127.0.0.1:{site.https_port}/_stcore/stream"


def _tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def test_websocket_upgrade_is_proxied(site):
    origin = f"https://127.0.0.1:{site.https_port}"
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    with pytest.raises(InvalidStatus) as denied:
        connect(_ws_url(site), ssl=_tls(), origin=origin, open_timeout=10).close()
    assert denied.value.response.status_code == 401
    with connect(
        _ws_url(site),
        ssl=_tls(),
        origin=origin,
        open_timeout=10,
        subprotocols=["streamlit"],
        additional_headers={"Authorization": f"Basic {token}"},
    ) as ws:
        assert ws.response.status_code == 101
        assert ws.response.headers["Upgrade"].lower() == "websocket"
        ws.ping().wait(10)  # the tunnel to Streamlit carries frames both ways


# every section drawn: the last caption, the plot, the headline figures, and no element still a
# skeleton (Streamlit shows one while an element's frontend code loads)
LOADED = (
    "document.body && document.body.innerText.includes('Read-only view') && "
    "document.querySelectorAll('.js-plotly-plot .main-svg').length > 0 && "
    "document.querySelectorAll('[data-testid=stMetric]').length >= 6 && "
    "document.querySelectorAll('[data-testid=stSkeleton]').length == 0"
)
OPERATOR_WORDS = ("SAFE_MODE", "HOLD", "binance_um", "okx_perp", "stop_loss", "RSI", "BUY", "SELL")


def _browser(site, width: int, height: int, mobile: bool = False) -> Browser:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium not installed (Debian: chromium)")
    b = Browser(binary, width=width, height=height)
    if mobile:
        b.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=True)
    b.call("Security.setIgnoreCertificateErrors", ignore=True)
    b.set_basic_auth(USER, PASSWORD)
    return b


def _clean(b: Browser, text: str) -> None:
    for bad in ("Error", "Traceback", "Exception"):
        assert bad not in text, f"{bad!r} on the page"
    csp = [c for c in b.console if "Content Security Policy" in c or "Refused to" in c]
    assert not csp, csp
    assert not [c for c in b.console if c.startswith("error")], b.console


def test_investor_sees_the_page_in_chromium(site, state):
    nav = read_doc(state, "nav")
    nav_text = f"{nav['nav']:,.2f}"
    with _browser(site, 1400, 4200) as b:
        b.navigate(https(site))
        b.wait_for(LOADED, timeout=60)
        b.wait_for("document.querySelectorAll('[data-testid=stTopNavLink]').length == 2", timeout=30)
        text = b.text()
        ARTIFACTS.mkdir(exist_ok=True)
        b.screenshot(ARTIFACTS / "dashboard-overview-desktop.png")
        assert nav_text in text, f"NAV {nav_text} not on the page"
        for part in ("Fund overview", "Since inception", "Monthly returns", "Risk", "Closed trades", "BTC reserve"):
            assert part in text, part
        assert "Simulated money" in text and "Operations" in text
        for word in OPERATOR_WORDS:
            assert word not in text, f"operator word {word!r} on the investor page"
        _clean(b, text)
        b.evaluate(
            "[...document.querySelectorAll('[data-testid=stTopNavLink]')].find(a => a.innerText == 'Operations').click()"
        )
        b.wait_for("document.body && document.body.innerText.includes('Screener')", timeout=60)
        b.screenshot(ARTIFACTS / "dashboard-operations-desktop.png")
        assert "SAFE_MODE" in b.text() and "Arbitrage" in b.text()
        _clean(b, b.text())


def test_phone_shows_two_figures_per_row_and_the_pnl(site, state):
    with _browser(site, 390, 6000, mobile=True) as b:
        b.navigate(https(site))
        b.wait_for(LOADED, timeout=60)
        b.screenshot(ARTIFACTS / "dashboard-overview-mobile.png")
        boxes = b.evaluate(
            "[...document.querySelectorAll('[data-testid=stMetric]')].slice(0, 6)"
            ".map(m => { const r = m.getBoundingClientRect(); return [Math.round(r.left), Math.round(r.top),"
            " Math.round(r.right)]; })"
        )
        assert len(boxes) == 6
        rows = [boxes[i : i + 2] for i in range(0, 6, 2)]
        for left, right in rows:  # two per row: same top, side by side, inside the screen
            assert left[1] == right[1] and left[2] <= right[0] and right[2] <= 390, boxes
        assert rows[0][0][1] < rows[1][0][1] < rows[2][0][1]
        pnl = b.evaluate(
            "(() => { const th = [...document.querySelectorAll('th')].find(t => t.innerText.trim() == 'P&L (USDT)');"
            " if (!th) return null; const r = th.getBoundingClientRect(); return [r.left, r.right]; })()"
        )
        assert pnl is not None and pnl[1] <= 390, f"P&L column not in view on a phone: {pnl}"
        assert b.evaluate("document.documentElement.scrollWidth") <= 390  # the page itself never scrolls sideways
        _clean(b, b.text())


def test_refresh_keeps_the_chart_and_the_viewers_zoom(site, state):
    """Unchanged data: the very same plot survives refreshes untouched. New data: the same plot
    updated in place (Plotly.react), the viewer's zoom kept."""
    refreshed = "document.body.innerText.match(/page refreshed ([^.]*)/)[1]"
    x_range = "JSON.stringify(document.querySelector('.js-plotly-plot')._fullLayout.xaxis.range)"
    with _browser(site, 1400, 2000) as b:
        b.navigate(https(site))
        b.wait_for(LOADED, timeout=60)
        b.evaluate("window._gd = document.querySelector('.js-plotly-plot'); window._data = window._gd.data")
        b.evaluate("Plotly.relayout(window._gd, {'xaxis.range': ['2025-06-12', '2025-06-15']})")
        zoomed = b.evaluate(x_range)
        first = b.evaluate(refreshed)
        b.wait_for(f"{refreshed} != {first!r}", timeout=30)  # one refresh with nothing new
        assert b.evaluate(
            "document.querySelector('.js-plotly-plot') === window._gd && window._gd.data === window._data"
        )
        assert b.evaluate(x_range) == zoomed
        nav = read_doc(state, "nav")  # the executor writes a new point
        store = LocalStore(state, durable=False)
        nav.update(nav=nav["nav"] + 123.45, market_ts=nav["market_ts"] + 900_000, updated_at_ms=clock.wall_ms())
        store.nav_point(nav["market_ts"], nav["nav"], nav["drawdown_pct"])
        store.put("nav", nav)
        store.close()
        shown = f"{nav['nav']:,.2f}"
        b.wait_for(f"document.body.innerText.includes({shown!r})", timeout=60)
        b.wait_for("window._gd.data !== window._data", timeout=30)  # the new points are drawn
        assert b.evaluate("document.querySelector('.js-plotly-plot') === window._gd")
        b.wait_for(f"{x_range} == {zoomed!r}", timeout=10)


def test_failed_logins_are_rate_limited(tmp_path, streamlit_server, htpasswd):
    """Own nginx (the plain-HTTP variant) so the other tests' requests do not share the limit."""
    with ng.render(tmp_path / "nginx-plain", streamlit_server, htpasswd, tls=False) as plain:
        url = f"http://127.0.0.1:{plain.http_port}/"

        def guess(i: int) -> int:
            return requests.get(url, auth=(USER, f"guess-{i}"), timeout=30).status_code

        with ThreadPoolExecutor(max_workers=80) as pool:
            codes = list(pool.map(guess, range(80)))
        assert set(codes) <= {401, 429}
        assert codes.count(429) >= 80 - 31 - 10, codes  # burst 30 (+1/s while the guesses go out)
        # without credentials nothing is counted: the login box still comes up
        assert requests.get(url, timeout=30).status_code == 401
