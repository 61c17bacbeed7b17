#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite (the README's test command; CI runs it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest "$@"
