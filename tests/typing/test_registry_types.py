"""The registry's typing is a proof: mypy --strict passes on it, and rejects misuse.

Each bad fixture marks the line mypy must reject with ``# expect: <error code>``; the
test requires exactly those (line, code) pairs, so a fixture that stops failing, fails
for another reason or on another line, fails the test. The fixtures import the real
registry by its FQCN through the collection link of tests/conftest.py.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List, Set, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
REGISTRY = ROOT / "plugins" / "module_utils" / "registry"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
CONFIG = ROOT / "pyproject.toml"
EXPECT = re.compile(r"#\s*expect:\s*([a-z-]+)")
ERROR = re.compile(r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<msg>.*?)\s+\[(?P<code>[a-z-]+)\]$", re.M)
BAD = sorted(p.name for p in FIXTURES.glob("bad_*.py"))
GOOD = sorted(p.name for p in FIXTURES.glob("good_*.py"))


@pytest.fixture(scope="session")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache per xdist worker: later runs reuse the analysis of the registry."""
    return tmp_path_factory.mktemp("mypy-cache")


def run_mypy(args: List[str], cache: Path, collections: Path) -> "subprocess.CompletedProcess[str]":
    env = dict(os.environ, MYPYPATH=str(collections))
    cmd = [sys.executable, "-m", "mypy", "--config-file", str(CONFIG), "--cache-dir", str(cache),
           "--strict", "--show-error-codes", "--no-color-output", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def errors(output: str, path: Path) -> Set[Tuple[int, str]]:
    rel = str(path.relative_to(ROOT))
    return {(int(m["line"]), m["code"]) for m in ERROR.finditer(output) if m["path"] in (rel, str(path))}


def expected(path: Path) -> Set[Tuple[int, str]]:
    found = set()
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        match = EXPECT.search(line)
        if match:
            found.add((number, match.group(1)))
    return found


def test_fixture_sets_are_not_empty() -> None:
    assert len(BAD) >= 3 and GOOD, (BAD, GOOD)
    for name in BAD:
        assert expected(FIXTURES / name), "%s marks no line with '# expect: <code>'" % name


def test_registry_passes_mypy_strict(mypy_cache: Path, collections_path: Path) -> None:
    proc = run_mypy([str(REGISTRY.relative_to(ROOT))], mypy_cache, collections_path)
    assert proc.returncode == 0, "mypy --strict plugins/module_utils/registry:\n%s%s" % (proc.stdout, proc.stderr)
    checked = re.search(r"no issues found in (\d+) source files", proc.stdout)
    assert checked is not None, proc.stdout
    assert int(checked.group(1)) == len(list(REGISTRY.glob("**/*.py"))), proc.stdout


@pytest.mark.parametrize("name", BAD)
def test_bad_fixture_is_rejected_on_the_marked_lines(name: str, mypy_cache: Path, collections_path: Path) -> None:
    path = FIXTURES / name
    # Errors inside the registry itself are test_registry_passes_mypy_strict's business.
    proc = run_mypy(["--follow-imports=silent", str(path.relative_to(ROOT))], mypy_cache, collections_path)
    assert proc.returncode == 1, "mypy accepted %s:\n%s%s" % (name, proc.stdout, proc.stderr)
    assert errors(proc.stdout, path) == expected(path), proc.stdout


@pytest.mark.parametrize("name", GOOD)
def test_good_fixture_passes(name: str, mypy_cache: Path, collections_path: Path) -> None:
    path = FIXTURES / name
    proc = run_mypy(["--follow-imports=silent", str(path.relative_to(ROOT))], mypy_cache, collections_path)
    assert proc.returncode == 0, "mypy rejected %s:\n%s%s" % (name, proc.stdout, proc.stderr)
    assert "no issues found in 1 source file" in proc.stdout
