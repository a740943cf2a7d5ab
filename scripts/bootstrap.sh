#!/usr/bin/env bash
# Create .venv and install the project (with test tools when asked); skipped when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="${1:-}"
py="${PYTHON:-python3.11}"
command -v "$py" >/dev/null || py=python3
stamp=".venv/.installed${extras:+-$extras}"
want="$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  echo "Installing Python packages into .venv…"
  if ! .venv/bin/pip install -e ".${extras:+[$extras]}" >.venv/pip.log 2>&1; then
    tail -n 40 .venv/pip.log >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
