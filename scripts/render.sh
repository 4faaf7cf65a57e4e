#!/usr/bin/env bash
# The main job on the embedded default: render the openai stack for localhost into ./out.
# Extra arguments go to ansible-playbook (e.g. -e avr_template=vosk).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/venv.sh
source "$ROOT/scripts/venv.sh" "$ROOT/requirements.txt"
ansible-playbook -i inventory/localhost.yml playbooks/render.yml "$@"
