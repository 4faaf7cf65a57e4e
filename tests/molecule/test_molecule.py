"""Molecule, as a user runs it: every scenario under extensions/molecule with the docker driver.

The `templates` scenario converges every registry template into its own container target
(built locally by .ci/build-images.sh), runs Molecule's idempotence step (a second converge
must report changed=0) and a verify step that checks the files on each target.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOLECULE = Path(sys.executable).parent / "molecule"


def test_molecule_all_scenarios(collections_path):
    images = subprocess.run(["docker", "image", "inspect", "localhost/voiceops-target:bookworm-docker"],
                            capture_output=True, text=True, check=False)
    assert images.returncode == 0 or os.environ.get("VOICEOPS_TARGET_IMAGE"), \
        "the target image is built by .ci/build-images.sh (or set VOICEOPS_TARGET_IMAGE)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1", NO_COLOR="1",
               PY_COLORS="0", ANSIBLE_FORCE_COLOR="0")
    proc = subprocess.run([str(MOLECULE), "test", "--all"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=1800)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-12000:]
    assert "templates" in output and "failed=0" in output
    assert "idempotence" in output
