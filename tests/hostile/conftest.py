"""Fixtures of the hostile-input suite: an isolated ansible-playbook and a seeded deployment."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Dict

import pytest

from harness import KEYS, OUTPUT, Ansible, snapshot, task


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


@pytest.fixture(scope="session")
def seeded_dir(tmp_path_factory: pytest.TempPathFactory, collections_path: Path) -> Path:
    """An openai deployment written by voice_env and voice_compose with the marker keys.

    Cases copy it (mtimes kept). Its directory lives outside every test's tmp dir."""
    base = tmp_path_factory.mktemp("hostile-seed")
    project = base / "openai"
    runner = Ansible(base / "ansible", collections_path)
    run = runner.run([
        task("voice_env", {"project_dir": str(project), "template": "openai"}, "seed store"),
        task("voice_compose", {"project_dir": str(project), "template": "openai",
                               "provider_keys": dict(KEYS)}, "seed compose"),
    ])
    assert run.rc == 0, str(run)
    assert (project / "docker-compose.yml").is_file() and (project / "environment.json").is_file()
    return project


@pytest.fixture
def seeded(seeded_dir: Path) -> Path:
    before = snapshot(seeded_dir)
    yield seeded_dir
    assert snapshot(seeded_dir) == before, "a case changed the seed project"


STARTED = time.time()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The per-class summary of the hostile cases that ran in this session (tests/output/hostile/*.json)."""
    if not OUTPUT.is_dir():
        return
    rows: Dict[str, Any] = {}
    for path in sorted(OUTPUT.glob("*.json")):
        if path.name == "summary.json" or path.stat().st_mtime < STARTED:
            continue
        try:
            data = json.loads(path.read_text())
        except ValueError:
            continue
        row = rows.setdefault(data["class"], {"class": data["class"], "tried": 0, "holding": 0, "seconds": 0.0})
        for key in ("tried", "holding", "seconds"):
            row[key] += data.get(key, 0)
    if not rows:
        return
    terminalreporter.write_sep("-", "hostile input: cases holding per class")
    for cls, data in rows.items():
        terminalreporter.write_line("%-14s %3d tried  %3d hold  %3d fail  (%.0fs)" % (
            cls, data["tried"], data["holding"], data["tried"] - data["holding"], data.get("seconds", 0)))
    total = sum(d["tried"] for d in rows.values())
    holding = sum(d["holding"] for d in rows.values())
    terminalreporter.write_line("%-14s %3d tried  %3d hold  %3d fail" % ("all", total, holding, total - holding))
    (OUTPUT / "summary.json").write_text(json.dumps(
        {c: {"tried": d["tried"], "holding": d["holding"]} for c, d in rows.items()}, indent=2) + "\n")
