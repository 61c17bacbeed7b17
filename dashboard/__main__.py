"""Start the investor dashboard the one way the project does, from any working directory.

    python -m dashboard [--port 8501]

Streamlit reads `.streamlit/config.toml` only from the directory it is started in, so a
`streamlit run /opt/hedge/dashboard/app.py` started elsewhere listens on every interface and
shows tracebacks. This launcher passes every setting of the project's config file as an explicit
flag, with the address forced to 127.0.0.1 (nginx is the only way in), and replaces itself with
Streamlit (same PID for supervisor).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path

from execution.operator_numbers import int_arg

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".streamlit" / "config.toml"
APP = ROOT / "dashboard" / "app.py"
FORCED = {"server.address": "127.0.0.1", "server.headless": "true", "browser.gatherUsageStats": "false"}


def flags(port: int, config: Path = CONFIG) -> list[str]:
    """Every option of the project's Streamlit config as `--section.key value`, the forced ones last."""
    options: dict[str, str] = {}
    if config.is_file():
        for section, values in tomllib.loads(config.read_text()).items():
            for key, value in values.items():
                options[f"{section}.{key}"] = str(value).lower() if isinstance(value, bool) else str(value)
    options.update(FORCED, **{"server.port": str(port)})
    out: list[str] = []
    for name, value in options.items():
        out += [f"--{name}", value]
    return out


def command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(APP), *flags(port)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int_arg(1, 65535), default=8501, help="loopback port (default 8501)")
    args = ap.parse_args(argv)
    cmd = command(args.port)
    os.chdir(ROOT)
    os.execv(cmd[0], cmd)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
