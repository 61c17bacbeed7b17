#!/usr/bin/env python3
"""Operator CLI entry point: same as `python -m execution.ctl` (see its --help)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from execution.ctl import main

if __name__ == "__main__":
    sys.exit(main())
