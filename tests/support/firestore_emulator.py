"""Google's Firestore emulator (Debian package google-cloud-cli-firestore-emulator) for tests,
plus a TCP proxy in front of it so a test can cut the network without losing the emulator's data."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import requests

JAR_CANDIDATES = (
    Path("/usr/lib/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"),
    Path("/usr/share/google-cloud-sdk/platform/cloud-firestore-emulator/cloud-firestore-emulator.jar"),
)
MAIN_CLASS = "com.google.cloud.datastore.emulator.firestore.CloudFirestore"
PROJECT = "hedge-test"


def find_jar() -> Path | None:
    for p in JAR_CANDIDATES:
        if p.exists():
            return p
    try:
        out = subprocess.run(
            ["dpkg", "-L", "google-cloud-cli-firestore-emulator"], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    for line in out.splitlines():
        if line.endswith("cloud-firestore-emulator.jar") and Path(line).exists():
            return Path(line)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """One emulator process on a fixed loopback port. `kill_keeping_data` exports what it holds
    (its own REST export, what Firestore's durable storage would keep) and kills the process;
    `start` again brings it back on the same port with that data imported."""

    def __init__(self, jar: Path, port: int | None = None, log_path: Path | None = None):
        self.jar, self.port = jar, port or free_port()
        self.log_path = log_path or Path(f"/tmp/firestore-emulator-{self.port}.log")
        self.proc: subprocess.Popen | None = None
        self.export_meta: Path | None = None  # imported by the next start
        self.starts = 0

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout_s: float = 60.0) -> None:
        self.starts += 1
        log_path = self.log_path.with_name(f"{self.log_path.stem}.{self.starts}{self.log_path.suffix}")
        args = [
            "java",
            "-Duser.language=en",
            "-Xmx512m",
            "-cp",
            str(self.jar),
            MAIN_CLASS,
            "start",
            "--host=127.0.0.1",
            f"--port={self.port}",
            f"--project_id={PROJECT}",
        ]
        if self.export_meta is not None:
            args.append(f"--import-data={self.export_meta}")
        with open(log_path, "w") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if "Dev App Server is now running." in log_path.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"Firestore emulator did not start: {log_path.read_text(errors='replace')[-500:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        self.proc = None

    def kill_keeping_data(self, export_dir: Path) -> None:
        export_dir.mkdir(parents=True, exist_ok=True)
        r = requests.post(
            f"http://{self.host}/emulator/v1/projects/{PROJECT}:export",
            timeout=60,
            json={"database": f"projects/{PROJECT}/databases/(default)", "export_directory": str(export_dir)},
        )
        r.raise_for_status()
        metas = sorted(export_dir.glob("*/*.overall_export_metadata"), key=lambda p: p.stat().st_mtime)
        if not metas:
            raise RuntimeError(f"emulator export wrote no metadata under {export_dir}")
        self.export_meta = metas[-1]
        self.stop()

    def reset(self) -> None:
        r = requests.delete(
            f"http://{self.host}/emulator/v1/projects/{PROJECT}/databases/(default)/documents", timeout=10
        )
        r.raise_for_status()


class Outage:
    """Firestore going away for real and coming back: the clients' address (a proxy) stops
    answering, the emulator process is killed (its data exported first, as Firestore's storage
    would keep it), then restarted on the same port with that data, and the address answers again."""

    def __init__(self, emulator: Emulator, proxy: TcpProxy, export_dir: Path):
        self.emulator, self.proxy, self.export_dir = emulator, proxy, export_dir
        self.kills = 0

    def begin(self) -> None:
        self.proxy.down()  # first, so that no write is acknowledged after the export
        self.kills += 1
        self.emulator.kill_keeping_data(self.export_dir / f"kill{self.kills}")

    def end(self) -> None:
        if not self.emulator.running:
            self.emulator.start()
        self.proxy.up()


class TcpProxy:
    """127.0.0.1:<port> -> target; `down()` refuses and cuts every connection, `up()` restores."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def up(self) -> None:
        ls = socket.socket()
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()

    def down(self) -> None:
        ls, self._listener = self._listener, None
        if ls is not None:
            try:
                ls.shutdown(socket.SHUT_RDWR)  # wakes the thread blocked in accept(); close alone does not
            except OSError:
                pass
            ls.close()
        with self._lock:
            for c in self._conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self._conns.clear()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def java_available() -> bool:
    java = shutil.which("java")
    return java is not None and os.access(java, os.X_OK)
