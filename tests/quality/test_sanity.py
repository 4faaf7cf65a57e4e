"""`ansible-test sanity` passes on a fresh copy of the collection.

ansible-test must run from a directory whose real path ends in
ansible_collections/voiceops/avr (a symlink is not enough), so the checkout's files (tracked
and untracked-but-not-ignored, as git sees them) are copied to such a directory first.

Each sanity test gets a virtualenv that ansible-test bootstraps with a get-pip script it
downloads from ci-files.testing.ansible.com, which cannot be reached here. ansible-test uses
``~/.ansible/test/cache/get_pip_<version>.py`` when present, so an offline stand-in is
written there first: it installs pip with ``ensurepip``, then the requested pip version from
the package index (reachable).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

#: Marks the stand-in, so a real get-pip script someone downloaded is never overwritten.
SHIM_MARK = "# voiceops.avr offline get-pip stand-in"
SHIM = '''%s
"""Offline stand-in for ansible-test's get-pip bootstrap (written by tests/quality/test_sanity.py).

ansible-test runs it as __main__ in a new `venv --without-pip`, with pip-install arguments such as
`--disable-pip-version-check pip==24.2 --no-setuptools --no-wheel`.
"""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
''' % SHIM_MARK
#: Directories never copied when the checkout is not a git work tree.
NOT_COPIED = {".git", ".venv", ".collections", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
              ".tox", "__pycache__", "out", "build", "output"}


def bootstrap_pip_version() -> str:
    """The pip version whose get-pip script this ansible-test bootstraps (24.2 for ansible-core 2.19)."""
    spec = importlib.util.find_spec("ansible_test")
    assert spec and spec.submodule_search_locations, "ansible-test is not installed in %s" % sys.executable
    source = Path(list(spec.submodule_search_locations)[0]) / "_internal" / "python_requirements.py"
    match = re.search(r"""\bpip=['"]([0-9.]+)['"]""", source.read_text())
    assert match, "cannot find the bootstrap pip version in %s" % source
    return match.group(1)


def write_pip_shim() -> Path:
    cache = Path(os.path.expanduser("~/.ansible/test/cache"))
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / ("get_pip_%s.py" % bootstrap_pip_version().replace(".", "_"))
    if path.exists() and SHIM_MARK not in path.read_text(errors="replace"):
        return path  # a real get-pip script: use it
    if not path.exists() or path.read_text() != SHIM:
        tmp = path.with_name(path.name + ".voiceops-tmp")
        tmp.write_text(SHIM)
        tmp.replace(path)
    return path


def checkout_files(root: Path) -> List[Path]:
    """Relative paths of the files git would commit (tracked and untracked-not-ignored)."""
    if (root / ".git").exists() and shutil.which("git"):
        proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                              cwd=str(root), capture_output=True, check=True)
        names = sorted({n for n in proc.stdout.decode().split("\0") if n})
        return [Path(n) for n in names if os.path.lexists(root / n)]
    found = []
    for directory, dirs, files in os.walk(str(root)):
        dirs[:] = [d for d in dirs if d not in NOT_COPIED]
        found.extend(Path(directory, f).relative_to(root) for f in files if not f.endswith(".pyc"))
    return sorted(found)


def copy_collection(root: Path, dest: Path) -> None:
    for rel in checkout_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(str(root / rel), str(target), follow_symlinks=False)


def test_ansible_test_sanity(run_tool, tool_env, root: Path, tmp_path: Path) -> None:
    collection = tmp_path / "ansible_collections" / "voiceops" / "avr"
    copy_collection(root, collection)
    write_pip_shim()
    env = dict(tool_env, LC_ALL="C.UTF-8")
    for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS", "VOICEOPS_COLLECTIONS", "ANSIBLE_CONFIG"):
        env.pop(name, None)
    python = "%d.%d" % sys.version_info[:2]
    proc = run_tool(["ansible-test", "sanity", "--color", "no", "--python", python], cwd=collection,
                    env=env, timeout=1800)
    # On a cold machine the output is mostly pip installing each test's venv: lead with the findings.
    findings = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith(("ERROR", "FATAL"))]
    assert proc.returncode == 0, "%s\n\n%s" % ("\n".join(findings), run_tool.report(proc))
