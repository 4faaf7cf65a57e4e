"""Shared test set-up: the collection importable as ansible_collections.voiceops.avr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the AVR compose examples, one folder per registry generation (``Generation.reference``)
REFERENCE = ROOT.parent / "shared" / "reference"
EXAMPLES = REFERENCE / "avr-examples"
COLLECTIONS = Path(os.environ.get("VOICEOPS_COLLECTIONS", "/tmp/voiceops-collections"))


def _link_collection() -> Path:
    """Expose the checkout as ansible_collections/voiceops/avr (a symlink, refreshed each run)."""
    parent = COLLECTIONS / "ansible_collections" / "voiceops"
    parent.mkdir(parents=True, exist_ok=True)
    link = parent / "avr"
    if link.is_symlink() and link.resolve() == ROOT:
        return COLLECTIONS
    if link.is_symlink() or link.exists():
        if link.is_dir() and not link.is_symlink():
            shutil.rmtree(link)
        else:
            link.unlink()
    link.symlink_to(ROOT)
    return COLLECTIONS


COLLECTIONS_PATH = _link_collection()
if str(COLLECTIONS_PATH) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS_PATH))


@pytest.fixture(scope="session")
def collections_path() -> Path:
    return COLLECTIONS_PATH


@pytest.fixture(scope="session")
def examples_dir() -> Path:
    assert EXAMPLES.is_dir(), "the AVR examples are expected at %s" % EXAMPLES
    return EXAMPLES


@pytest.fixture(scope="session")
def reference_dir():
    """The folder of AVR compose examples that a registry generation's templates reproduce."""
    from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import generations

    def folder(generation: str) -> Path:
        path = REFERENCE / generations()[generation].reference
        assert path.is_dir(), "the AVR examples of generation %s are expected at %s" % (generation, path)
        return path
    return folder


@pytest.fixture(scope="session")
def docker_compose() -> list:
    """The docker compose v2 command; a missing one is a failure, never a skip."""
    cmd = ["docker", "compose"]
    proc = subprocess.run(cmd + ["version", "--short"], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, "docker compose v2 is required (run .ci/provision-docker.sh): %s" % proc.stderr
    return cmd


@pytest.fixture(scope="session")
def swarm(docker_compose) -> str:
    """This machine's Docker engine as a single-node Swarm manager (``docker swarm init`` on 127.0.0.1 when it is
    not one yet; several test workers may race to do it, so the state is read again after a failed init)."""
    def state() -> str:
        proc = subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}"],
                              capture_output=True, text=True, check=False)
        return proc.stdout.strip()
    if state() != "active true":
        subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], capture_output=True, text=True,
                       check=False)
    assert state() == "active true", "this Docker engine is not a Swarm manager: %s" % state()
    return "127.0.0.1"
