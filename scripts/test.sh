#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite (the README's test command; CI runs it):
# lint and format check (ruff) first, then the tests. Arguments pass through to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh requirements-dev.txt
echo "test.sh: ruff check + format check"
.venv/bin/python -m ruff check --quiet .
.venv/bin/python -m ruff format --check --quiet .
exec .venv/bin/python -m pytest "$@"
