"""Linters over the whole checkout, each with the configuration kept in the repository.

* ruff (pyproject.toml) over plugins/ and tests/;
* yamllint (.yamllint), warnings included;
* ansible-lint (.ansible-lint, production profile) over playbooks/, roles/ and the collection.
"""

from __future__ import annotations

from pathlib import Path


def test_ruff(run_tool) -> None:
    proc = run_tool(["ruff", "check", "--no-cache", "--output-format", "concise", "plugins", "tests"])
    assert proc.returncode == 0, run_tool.report(proc)


def test_yamllint(run_tool, root: Path) -> None:
    assert (root / ".yamllint").is_file()
    proc = run_tool(["yamllint", "--strict", "--format", "parsable", "."])
    assert proc.returncode == 0, run_tool.report(proc)


def test_ansible_lint_production_profile(run_tool, root: Path) -> None:
    assert (root / ".ansible-lint").is_file()
    # No path arguments: ansible-lint lints everything it recognises in the collection root
    # (playbooks, roles, galaxy.yml, meta/runtime.yml, changelogs, test playbooks), minus
    # .ansible-lint's exclude_paths.
    proc = run_tool(["ansible-lint", "--profile", "production", "--offline", "--nocolor"], timeout=900)
    assert proc.returncode == 0, run_tool.report(proc)
