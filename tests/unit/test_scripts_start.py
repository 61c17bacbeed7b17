"""Every script in scripts/ starts as the docs say (`python scripts/NAME.py`), from any directory:
each puts the project on sys.path itself (render_supervisor.py once lost that, and with it
`scripts/run.sh`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT

SCRIPTS = sorted((PROJECT_ROOT / "scripts").glob("*.py"))


def test_there_are_scripts_to_check():
    assert {"render_supervisor.py", "panic_close.py", "hedgectl.py"} <= {p.name for p in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_answers_help_from_another_directory(script, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-600:]
    assert "usage" in done.stdout.lower()
