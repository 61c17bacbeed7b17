#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite (the README's test command; CI runs it):
# lint and format check (ruff) and types (mypy, configured in pyproject.toml) first, then the tests.
# Arguments pass through to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh requirements-dev.txt
echo "test.sh: ruff check + format check, mypy"
.venv/bin/python -m ruff check --quiet .
.venv/bin/python -m ruff format --check --quiet .
.venv/bin/python -m mypy --no-error-summary
exec .venv/bin/python -m pytest "$@"
