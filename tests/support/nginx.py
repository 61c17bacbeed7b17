"""Run the project's own nginx site config on loopback: a templated copy with test ports, a temp
htpasswd (bcrypt, made by `htpasswd -B`), a self-signed certificate and temp paths.

Only the deployment-specific values are replaced, and each replacement must hit exactly as often
as expected: if the shipped config changes shape, these tests fail instead of silently testing
something else.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

NGINX_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout} s")


def _sub(text: str, old: str, new: str, count: int, where: str) -> str:
    found = text.count(old)
    if found != count:
        raise AssertionError(f"{where}: expected {count} x {old!r}, found {found} (config changed shape?)")
    return text.replace(old, new)


def make_htpasswd(path: Path, users: dict[str, str]) -> None:
    first = True
    for user, password in users.items():
        subprocess.run(
            ["htpasswd", "-B", "-b", *(["-c"] if first else []), str(path), user, password],
            check=True,
            capture_output=True,
        )
        first = False


def make_cert(directory: Path) -> tuple[Path, Path]:
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@dataclass
class NginxSite:
    root: Path
    http_port: int
    https_port: int | None
    upstream_port: int
    proc: subprocess.Popen | None = None

    @property
    def error_log(self) -> Path:
        return self.root / "error.log"

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def start(self) -> NginxSite:
        conf = self.root / "nginx.conf"
        test = subprocess.run(
            ["nginx", "-t", "-p", str(self.root), "-c", str(conf), "-e", str(self.error_log)],
            capture_output=True,
            text=True,
        )
        if test.returncode != 0:
            raise AssertionError(f"nginx -t rejected the templated config:\n{test.stderr}")
        self.proc = subprocess.Popen(
            ["nginx", "-p", str(self.root), "-c", str(conf), "-e", str(self.error_log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        wait_port(self.http_port, proc=self.proc)
        if self.https_port:
            wait_port(self.https_port, proc=self.proc)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # nginx: TERM = fast shutdown of master and workers
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def __enter__(self) -> NginxSite:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def render(root: Path, upstream_port: int, htpasswd: Path, tls: bool = True) -> NginxSite:
    """Write ROOT/nginx.conf (+ site and snippet) from deploy/nginx; returns the site, not started."""
    root.mkdir(parents=True, exist_ok=True)
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "acme"):
        (root / sub).mkdir(exist_ok=True)
    snippet = (NGINX_DIR / "hedge-dashboard-proxy.conf").read_text()
    snippet = _sub(
        snippet,
        "auth_basic_user_file /etc/nginx/hedge-dashboard.htpasswd;",
        f"auth_basic_user_file {htpasswd};",
        1,
        "proxy snippet",
    )
    snippet = _sub(
        snippet,
        "proxy_pass http://127.0.0.1:8501;",
        f"proxy_pass http://127.0.0.1:{upstream_port};",
        4,
        "proxy snippet",
    )
    (root / "snippet.conf").write_text(snippet)
    http_port = free_port()
    https_port = free_port() if tls else None
    if tls:
        cert, key = make_cert(root)
        site = (NGINX_DIR / "hedge-dashboard.conf").read_text()
        site = _sub(site, "    listen [::]:80;\n", "", 1, "site")
        site = _sub(site, "    listen [::]:443 ssl http2;\n", "", 1, "site")
        site = _sub(site, "listen 80;", f"listen 127.0.0.1:{http_port};", 1, "site")
        site = _sub(site, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", 1, "site")
        site = _sub(site, "/etc/letsencrypt/live/dashboard.example.com/fullchain.pem", str(cert), 1, "site")
        site = _sub(site, "/etc/letsencrypt/live/dashboard.example.com/privkey.pem", str(key), 1, "site")
        site = _sub(site, "root /var/www/letsencrypt;", f"root {root / 'acme'};", 1, "site")
    else:
        site = (NGINX_DIR / "hedge-dashboard-plain.conf").read_text()
        site = _sub(site, "listen 127.0.0.1:8080;", f"listen 127.0.0.1:{http_port};", 1, "plain site")
    site = _sub(
        site, "include /etc/nginx/snippets/hedge-dashboard-proxy.conf;", f"include {root / 'snippet.conf'};", 1, "site"
    )
    site = _sub(
        site, "proxy_cache_path /var/cache/nginx/hedge-dashboard ", f"proxy_cache_path {root / 'cache'} ", 1, "site"
    )
    (root / "site.conf").write_text(site)
    # run as root (CI containers), workers would drop to "nobody" and could not read pytest's 0700 dirs
    user = "user root;" if os.geteuid() == 0 else ""
    (root / "nginx.conf").write_text(f"""
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log info;
events {{ worker_connections 1024; }}
http {{
    access_log {root}/access.log;
    client_body_temp_path {root}/body;
    proxy_temp_path {root}/proxy;
    fastcgi_temp_path {root}/fastcgi;
    uwsgi_temp_path {root}/uwsgi;
    scgi_temp_path {root}/scgi;
    include {root}/site.conf;
}}
""")
    return NginxSite(root, http_port, https_port, upstream_port)


def missing_binaries(*names: str) -> list[str]:
    return [n for n in names if shutil.which(n) is None]
