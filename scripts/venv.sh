#!/usr/bin/env bash
# Create (or refresh) the project virtualenv in .venv and expose the checkout as the
# collection voiceops.avr under .collections/ansible_collections/voiceops/avr.
# Sourced by the other scripts; safe to run again.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VOICEOPS_VENV:-$ROOT/.venv}"
REQS="${1:-$ROOT/requirements.txt}"
PYTHON="${PYTHON:-python3}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$REQS" "$ROOT/requirements.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REQS"
  touch "$stamp"
fi
mkdir -p "$ROOT/.collections/ansible_collections/voiceops"
ln -sfn "$ROOT" "$ROOT/.collections/ansible_collections/voiceops/avr"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_COLLECTIONS_PATH="$ROOT/.collections"
export VOICEOPS_COLLECTIONS="$ROOT/.collections"
