"""scripts/provision.sh, which the test command runs first: a no-op when all is there, one line otherwise.

The suite itself runs after provision.sh succeeded, so here everything is present: a second run
must change nothing (the same images, the same registry tags, no apt run) and be fast. As a user
who is not root (nobody: no Docker socket) with a package reported missing, it must name each
missing part in one line, say how to get it (sudo) and exit 1, without trying to install anything.
"""

from __future__ import annotations

import grp
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "provision.sh"
DPKG_STATUS = Path("/var/lib/dpkg/status")
#: a no-op run took 0.7 s here; this bound only catches a run that does real work
NOOP_SECONDS = 15


def state() -> dict:
    """What a provisioning run could change: images, the local registry's repositories, dpkg's state."""
    images = subprocess.run(["docker", "image", "ls", "--no-trunc", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True, timeout=60, check=True).stdout
    with urllib.request.urlopen("http://127.0.0.1:5000/v2/_catalog?n=1000", timeout=10) as answer:
        catalog = answer.read()
    stat = DPKG_STATUS.stat()
    return {"images": sorted(images.splitlines()), "catalog": catalog, "dpkg": (stat.st_mtime_ns, stat.st_size)}


def test_a_provisioned_machine_is_left_as_it_is() -> None:
    before = state()
    started = time.monotonic()
    proc = subprocess.run([str(SCRIPT)], capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL,
                          check=False)
    took = time.monotonic() - started
    assert proc.returncode == 0, "provision.sh exited %d:\n%s%s" % (proc.returncode, proc.stdout, proc.stderr)
    assert "nothing to do" in proc.stderr, proc.stderr
    assert took < NOOP_SECONDS, "a no-op provision.sh took %.1f s:\n%s" % (took, proc.stderr)
    assert state() == before, "a no-op provision.sh changed images, registry or packages:\n%s" % proc.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to the user nobody needs root")
def test_not_root_names_what_is_missing_in_one_line() -> None:
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is required"
    # a folder nobody can read (pytest's tmp_path is not): a dpkg-query that reports chromium as
    # not installed and asks the real one for the rest
    home = Path(tempfile.mkdtemp(prefix="voiceops-provision-"))
    try:
        _run_as_nobody(setpriv, home)
    finally:
        shutil.rmtree(home)


def _run_as_nobody(setpriv: str, home: Path) -> None:
    home.chmod(0o755)
    shim = home / "bin"
    shim.mkdir()
    (shim / "dpkg-query").write_text(
        '#!/bin/sh\nfor a; do [ "$a" = chromium ] && { printf "unknown ok not-installed"; exit 0; }; done\n'
        'exec /usr/bin/dpkg-query "$@"\n', encoding="utf-8")
    (shim / "dpkg-query").chmod(0o755)
    env = {"PATH": "%s:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" % shim, "HOME": str(home),
           "DOCKER_HOST": "unix:///nonexistent/docker.sock"}
    before = DPKG_STATUS.stat().st_mtime_ns
    proc = subprocess.run([setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", str(SCRIPT)], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 1, "exit %d:\n%s%s" % (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, "not one line:\n%s" % proc.stderr
    line = lines[0]
    for part in ("missing:", "Docker engine", "chromium", "sudo", str(SCRIPT)):
        assert part in line, "%r not in %r" % (part, line)
    assert "shellcheck" not in line, "a package that is installed was named missing: %r" % line
    assert proc.stdout == "", proc.stdout
    assert DPKG_STATUS.stat().st_mtime_ns == before, "apt/dpkg ran"


def test_image_check_sees_a_missing_tag_and_changes_nothing() -> None:
    """.ci/build-images.sh check (provision.sh's fast path) says what a run would do, does none of it."""
    before = state()
    env = dict(os.environ, STANDIN_VERSIONS="1.0.0 1.1.0 0.0.0-never-pushed")
    proc = subprocess.run(["bash", str(ROOT / ".ci" / "build-images.sh"), "check"], env=env, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert proc.returncode == 1, "exit %d:\n%s" % (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and re.fullmatch(r"\[build-images\] out of date: tag \d+ stand-in images and push them",
                                            lines[0]), proc.stderr
    assert state() == before, "build-images.sh check changed images or the registry"
    ok = subprocess.run(["bash", str(ROOT / ".ci" / "build-images.sh"), "check"], capture_output=True, text=True,
                        timeout=120, stdin=subprocess.DEVNULL, check=False)
    assert ok.returncode == 0 and ok.stderr == "", "exit %d: %s" % (ok.returncode, ok.stderr)


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to the user nobody needs root")
def test_not_root_in_the_docker_group_checks_without_root() -> None:
    """A developer in the docker group: all present -> exit 0; an image tag missing -> named, exit 1."""
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is required"
    cmd = [setpriv, "--reuid=65534", "--regid=%d" % grp.getgrnam("docker").gr_gid, "--clear-groups", str(SCRIPT)]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/tmp"}
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                        check=False)
    assert ok.returncode == 0 and "nothing to do" in ok.stderr, "exit %d: %s" % (ok.returncode, ok.stderr)
    before = state()
    env["STANDIN_VERSIONS"] = "1.0.0 1.1.0 0.0.0-never-pushed"
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
                          check=False)
    assert proc.returncode == 1, "exit %d: %s" % (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "the local test images and registry (out of date: tag" in lines[0], proc.stderr
    assert "Docker engine" not in lines[0] and "Debian packages" not in lines[0], lines[0]
    assert state() == before
