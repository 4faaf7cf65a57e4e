"""Helpers of the quality gates: run a tool of the project venv, show its output when it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Output shown in an assertion message is cut to its last this-many characters.
SHOWN = 30000


def tool(name: str) -> str:
    """The executable ``name`` of the interpreter running pytest (the project venv), else PATH's."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    assert found, "%s is not installed: run the tests through scripts/test.sh" % name
    return found


def report(proc: subprocess.CompletedProcess) -> str:
    """The command and its output, for an assertion message."""
    out = "$ %s  (exit %s)\n--- stdout ---\n%s\n--- stderr ---\n%s" % (
        " ".join(str(a) for a in proc.args), proc.returncode, proc.stdout, proc.stderr)
    return out if len(out) <= SHOWN else "...\n" + out[-SHOWN:]


class RunTool:
    """Run a tool (``args[0]``) of the project venv in the checkout; never raises on a non-zero exit."""

    def __init__(self, env: Dict[str, str]) -> None:
        self.env = env

    def __call__(self, args: List[str], cwd: Optional[Path] = None, timeout: float = 600,
                 env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        cmd = [tool(args[0])] + [str(a) for a in args[1:]]
        return subprocess.run(cmd, cwd=str(cwd or ROOT), env=env or self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)

    @staticmethod
    def report(proc: subprocess.CompletedProcess) -> str:
        """The command and its output, for an assertion message."""
        return report(proc)


@pytest.fixture(scope="session")
def tool_env(collections_path: Path) -> Dict[str, str]:
    """The environment of the tools: the collection visible, no colours, no prompts."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_NOCOLOR": "1",
        "NO_COLOR": "1",
        "PY_COLORS": "0",
        "ANSIBLE_FORCE_COLOR": "0",
        "PATH": "%s%s%s" % (Path(sys.executable).parent, os.pathsep, env.get("PATH", "")),
    })
    env.pop("FORCE_COLOR", None)
    return env


@pytest.fixture(scope="session")
def run_tool(tool_env: Dict[str, str]) -> RunTool:
    return RunTool(tool_env)


@pytest.fixture(scope="session")
def root() -> Path:
    """The checkout (the collection root)."""
    return ROOT


#: The longest tests (minutes on a cold machine): started first, so that with pytest-xdist
#: one worker runs them while the other works through everything else.
LONG_FIRST = ("test_ansible_test_sanity", "test_ansible_lint_production_profile")


def pytest_collection_modifyitems(items: List[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONG_FIRST)}
    items.sort(key=lambda item: rank.get(item.originalname, len(rank)))
