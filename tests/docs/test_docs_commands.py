"""Every command in the docs runs against this project as written.

Blocks preceded by `<!-- runnable -->` are executed (bash) in a shell that has only what the
Runbook tells an operator to set: its "your shell" block (`cd` to the project, `. scripts/
operator_env.sh`) runs first, PATH is the system's (no virtualenv), STATE_DIR is not set — it
comes from the project's .env (here ENV_FILE, naming a short replay's state). In every other bash block, each `python -m MODULE`, `python scripts/X.py`,
`bash scripts/X.sh` must exist and each `--flag` given to it must appear in its --help; files
the docs name under config/, deploy/, docs/, scripts/ must exist.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

DOCS = sorted((PROJECT_ROOT / "docs").glob("*.md")) + [PROJECT_ROOT / "README.md"]
REQUIRED_DOCS = (
    "Runbook.md",
    "Investors_Access.md",
    "Mainnet_Cutover_Checklist.md",
    "Telemetry_Format.md",
    "ARBITRAGE_README.md",
    "RISK_AND_GUARDS.md",
    "DERIV_SETUP_GUIDE.md",
)
BLOCK = re.compile(r"(<!-- runnable -->\s*\n)?```(bash|sh|shell)\n(.*?)```", re.S)
PATH_REF = re.compile(r"(?<![\w/.-])((?:config|deploy|docs|scripts|bench|execution|dashboard|telegram)/[\w./-]+\w)")


def blocks(path: Path) -> list[tuple[bool, str]]:
    return [(bool(m[1]), m[3]) for m in BLOCK.finditer(path.read_text())]


def commands(block: str) -> list[list[str]]:
    out = []
    for raw in block.replace("\\\n", " ").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
            try:
                out.append(shlex.split(part))
            except ValueError:
                continue
    return out


@functools.cache
def help_text(kind: str, target: str) -> str:
    cmd = [sys.executable, "-m", target, "--help"] if kind == "module" else [sys.executable, target, "--help"]
    proc = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ENV_FILE": "/nonexistent"},
    )
    return proc.stdout + proc.stderr


def subcommand_help(kind: str, target: str, sub: str) -> str:
    cmd = [sys.executable, "-m", target, sub, "--help"] if kind == "module" else [sys.executable, target, sub, "--help"]
    proc = subprocess.run(
        cmd,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ENV_FILE": "/nonexistent"},
    )
    return proc.stdout + proc.stderr


def check_command(argv: list[str]) -> list[str]:
    problems = []
    if not argv:
        return problems
    if argv[0] in ("python", "python3", ".venv/bin/python") and len(argv) > 1:
        if argv[1] == "-m":
            module = argv[2]
            if importlib.util.find_spec(module) is None:
                return [f"no module {module}"]
            kind, target, rest = "module", module, argv[3:]
        elif argv[1] == "-c":
            return problems
        else:
            script = PROJECT_ROOT / argv[1]
            if not script.exists():
                return [f"no script {argv[1]}"]
            kind, target, rest = "script", argv[1], argv[2:]
        flags = [a.split("=")[0] for a in rest if a.startswith("--")]
        if flags:
            text = help_text(kind, target)
            sub = next((a for a in rest if not a.startswith("-")), None)
            if sub and re.search(rf"\b{re.escape(sub)}\b", text):
                text += subcommand_help(kind, target, sub)
            problems += [f"{target}: flag {f} not in its --help" for f in flags if f not in text]
    elif (
        argv[0] == "bash" and len(argv) > 1 and argv[1].startswith("scripts/") and not (PROJECT_ROOT / argv[1]).exists()
    ):
        problems.append(f"no script {argv[1]}")
    return problems


def test_every_required_document_exists():
    missing = [d for d in REQUIRED_DOCS if not (PROJECT_ROOT / "docs" / d).exists()]
    assert not missing, f"missing docs: {missing}"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_commands_and_files_named_in_docs_exist(doc):
    problems = []
    text = doc.read_text()
    for _, block in blocks(doc):
        for argv in commands(block):
            problems += check_command(argv)
    for ref in set(PATH_REF.findall(text)):
        ref = ref.rstrip(".")
        if "*" in ref or "<" in ref or "YYYY" in ref:
            continue
        if not (PROJECT_ROOT / ref).exists():
            problems.append(f"{ref} does not exist")
    assert not problems, f"{doc.name}: " + "; ".join(sorted(set(problems)))


@pytest.fixture(scope="module")
def replayed_state(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("docs")
    market, state = root / "market", root / "state"
    subprocess.run(
        [sys.executable, "-m", "execution.feeds.synthetic", "--out", str(market), "--days", "10"],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "execution.replay", str(market), "--state-dir", str(state)],
        cwd=PROJECT_ROOT,
        check=True,
        capture_output=True,
        env={**os.environ, "ENV_FILE": "/nonexistent"},
    )
    return state


RUNNABLE = [(doc, i, b) for doc in DOCS for i, (runnable, b) in enumerate(blocks(doc)) if runnable]


def operator_shell() -> str:
    """The Runbook's "your shell" block, with the server's path replaced by this checkout."""
    text = (PROJECT_ROOT / "docs" / "Runbook.md").read_text()
    section = text.split("## Before anything: your shell", 1)[1].split("\n## ", 1)[0]
    block = BLOCK.search(section)
    assert block, "the Runbook must say how to set up the operator's shell"
    return block[3].replace("cd /opt/hedge", f"cd {shlex.quote(str(PROJECT_ROOT))}")


@pytest.mark.parametrize("doc,index,block", RUNNABLE, ids=[f"{d.name}#{i}" for d, i, _ in RUNNABLE])
def test_runnable_blocks_run(doc, index, block, replayed_state, tmp_path):
    dotenv = tmp_path / "project.env"  # the deployment's .env: where STATE_DIR is configured
    dotenv.write_text(f"STATE_DIR={replayed_state}\n")
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(tmp_path), "ENV_FILE": str(dotenv), "LANG": "C.UTF-8"}
    if not (PROJECT_ROOT / ".venv" / "bin" / "activate").exists():  # a checkout without its own .venv
        env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", operator_shell() + "\n" + block],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"{doc.name} block {index} failed:\n{block}\n--- stderr:\n{proc.stderr[-2000:]}"
