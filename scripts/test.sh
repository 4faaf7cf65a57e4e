#!/usr/bin/env bash
# All the tests: pytest over tests/ in the project venv (requirements-test.txt), two workers.
# Extra arguments go to pytest, e.g. `./scripts/test.sh -k sanity` or `./scripts/test.sh -n 0 -x`.
# Fails when pytest collects no test at all (pytest exit 5), which would otherwise look green.
# First provisions what the tests need (scripts/provision.sh: Docker engine, Debian packages, local
# images; a no-op when all is there; VOICEOPS_SKIP_PROVISION=1 skips it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [ "${VOICEOPS_SKIP_PROVISION:-0}" != 1 ]; then
  "$ROOT/scripts/provision.sh"
fi
# shellcheck source=scripts/venv.sh
source "$ROOT/scripts/venv.sh" "$ROOT/requirements-test.txt"

# Two workers (pytest-xdist; worksteal, so the long sanity test that starts first holds no
# queue) unless the caller chose (-n ..., -p no:xdist).
workers=(-n "${VOICEOPS_TEST_WORKERS:-2}" --dist worksteal)
for arg in "$@"; do
  case "$arg" in
    -n | -n[0-9]* | --numprocesses | --numprocesses=* | *no:xdist) workers=() ;;
  esac
done

# testpaths: tests/ unless the caller names test paths of their own.
status=0
python -m pytest -o testpaths=tests -ra --durations=15 "${workers[@]}" "$@" || status=$?
if [ "$status" -eq 5 ]; then
  echo "scripts/test.sh: ERROR: pytest collected no tests (exit 5); that is a failure, not a pass." >&2
  exit 1
fi
exit "$status"
