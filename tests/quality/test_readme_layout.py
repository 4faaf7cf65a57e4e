"""The README's Layout section matches the tree.

The section is the first fenced block after ``## Layout``. Each entry starts at column 0 with its
paths, then two or more spaces and a description; indented lines continue the description.

- Paths: the first is relative to the checkout (a directory ends with ``/``); further
  comma-separated paths (``playbooks/rollout.yml, rollback.yml``) are relative to the first
  one's parent directory.
- A description names files by their file names (``voice_compose.py``, ``main.yml``, ``gate.py``),
  relative to the entry's directory (the entry itself if it is a directory, else its parent).

Checked against the real tree (git's tracked and untracked, not ignored, files; the checkout's
files when there is no git), so a file added on another branch fails here until the README names it:

- every top-level directory is named (an entry is it or lies under it);
- every file under ``plugins/`` (package ``__init__.py`` aside) and ``roles/stack/tasks/`` is named,
  as an entry path or in its directory's description;
- every path the section names exists.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
LISTED_FILES = ("plugins/", "roles/stack/tasks/")
FILE_NAME = re.compile(r"(?<![\w/.-])([\w-]+(?:/[\w.-]+)*\.(?:py|ya?ml|json|md|cfg|toml|txt|sh|j2))(?![\w/-])")
#: Paths never part of the tree the section describes (when no git tells what is ignored).
NOT_TREE = {".git", ".venv", ".collections", "out", "build", ".pytest_cache", ".mypy_cache", ".ruff_cache",
            "__pycache__", "output"}


def tree_files() -> List[str]:
    proc = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=str(ROOT),
                          capture_output=True, text=True, check=False)
    if proc.returncode == 0 and proc.stdout.strip():
        return sorted(line for line in proc.stdout.splitlines() if (ROOT / line).exists())
    found = []
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in NOT_TREE]
        found.extend(str(Path(directory, f).relative_to(ROOT)) for f in files if not f.endswith(".pyc"))
    return sorted(found)


def layout_block(readme: str) -> List[str]:
    section = readme.split("\n## Layout\n", 1)
    assert len(section) == 2, "README.md has no '## Layout' section"
    body = re.split(r"\n#{1,2} ", section[1], maxsplit=1)[0]
    fenced = re.search(r"^```[^\n]*\n(.*?)^```", body, re.S | re.M)
    assert fenced, "README.md's Layout section has no fenced block"
    return fenced.group(1).splitlines()


def entries(lines: List[str]) -> List[Tuple[List[str], str]]:
    """(paths, description) per entry."""
    parsed: List[Tuple[List[str], str]] = []
    for line in lines:
        if not line.strip():
            continue
        if line[0].isspace():
            assert parsed, "README Layout: a continuation line before any entry: %r" % line
            parsed[-1] = (parsed[-1][0], parsed[-1][1] + " " + line.strip())
            continue
        parts = re.split(r"\s{2,}", line.rstrip(), maxsplit=1)
        head, description = parts[0], parts[1] if len(parts) > 1 else ""
        first, *more = [p.strip() for p in head.split(",")]
        parent = first.rstrip("/").rpartition("/")[0]
        paths = [first] + ["%s/%s" % (parent, p) if parent else p for p in more]
        parsed.append((paths, description.strip()))
    return parsed


def named_paths() -> Tuple[Set[str], Set[str]]:
    """(entry paths, every path named: the entry paths and the file names in their descriptions)."""
    entry_paths: Set[str] = set()
    named: Set[str] = set()
    for paths, description in entries(layout_block((ROOT / "README.md").read_text(encoding="utf-8"))):
        for path in paths:
            entry_paths.add(path.rstrip("/"))
        first = paths[0]
        directory = first.rstrip("/") if first.endswith("/") else first.rpartition("/")[0]
        for name in FILE_NAME.findall(description):
            named.add("%s/%s" % (directory, name) if directory else name)
    return entry_paths, named | entry_paths


def test_layout_names_every_top_level_directory() -> None:
    entry_paths = named_paths()[0]
    top = sorted({f.split("/")[0] for f in tree_files() if "/" in f})
    missing = [d for d in top if not any(p == d or p.startswith(d + "/") for p in entry_paths)]
    assert not missing, "README.md's Layout section does not name these top-level directories: %s" % missing


def test_layout_names_every_plugin_and_role_task_file() -> None:
    named = named_paths()[1]
    wanted = [f for f in tree_files() if f.startswith(LISTED_FILES) and Path(f).name != "__init__.py"]
    assert wanted, "no files found under %s" % (LISTED_FILES,)
    missing = [f for f in wanted if f not in named]
    assert not missing, ("README.md's Layout section does not name these files (as an entry, or by file name in "
                         "their directory's description): %s" % missing)


def test_layout_names_nothing_that_does_not_exist() -> None:
    named = named_paths()[1]
    absent = sorted(p for p in named if not (ROOT / p).exists())
    assert not absent, "README.md's Layout section names paths that do not exist: %s" % absent
