#!/usr/bin/env bash
# Prepare this machine for the project (idempotent): Debian packages the tests and the run need,
# a virtualenv in .venv with a requirements file (default requirements.txt; scripts/test.sh passes
# requirements-dev.txt, which includes it). Called by scripts/run.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# prometheus + prometheus-alertmanager: the monitoring stack and its tests (Alertmanager >= 0.24 for
# its Telegram receiver: checked below).
APT_PACKAGES=(nginx-light supervisor chromium apache2-utils openssl ca-certificates prometheus prometheus-alertmanager)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
      echo "bootstrap: not root and no sudo: install ${missing[*]} by hand; tests that need them will skip" >&2
      missing=()
    fi
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts its own nginx/supervisord/prometheus/alertmanager on install (where services
    # start at all); the project runs its own instances on the ports it chooses.
    for svc in nginx supervisor prometheus prometheus-alertmanager; do
      $SUDO service "$svc" stop >/dev/null 2>&1 || true
    done
    if command -v systemctl >/dev/null 2>&1; then
      $SUDO systemctl disable prometheus prometheus-alertmanager >/dev/null 2>&1 || true
    fi
  fi
fi
if command -v prometheus-alertmanager >/dev/null 2>&1; then
  am_version=$(prometheus-alertmanager --version 2>&1 | sed -n 's/^alertmanager, version \([0-9]*\.[0-9]*\).*/\1/p')
  if [ -n "$am_version" ] && [ "$(printf '%s\n0.24\n' "$am_version" | sort -V | head -1)" != "0.24" ]; then
    echo "bootstrap: Alertmanager $am_version is older than 0.24: its Telegram receiver is missing" >&2
  fi
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
REQUIREMENTS=${1:-requirements.txt}
stamp=.venv/.${REQUIREMENTS%.txt}.sha256
want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing $REQUIREMENTS into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$REQUIREMENTS"
  echo "$want" > "$stamp"
fi
