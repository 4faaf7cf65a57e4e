"""The changelog: fragments per change, galaxy.yml's version released, CHANGELOG.md as generated.

The rule between galaxy.yml's ``version`` (V) and the newest release of ``changelogs/changelog.yaml`` (N):

- N is never above V (a release the collection does not carry);
- N == V: V is released; fragments in ``changelogs/fragments/`` are changes for the next version;
- N < V: V is being prepared, so at least one unreleased fragment exists (a version bump with nothing
  to release is a mistake), and ``antsibull-changelog release`` will release V from them.

Fragments are named for their change (``release-info-module.yml``), never for a version
(``0.3.0-files.yml``): a change keeps its fragment whichever version ships it.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CHANGELOGS = ROOT / "changelogs"
FRAGMENTS = CHANGELOGS / "fragments"
VERSION_NAMED = re.compile(r"^v?\d+\.\d+(\.\d+)?[-_.]")


def version_key(version: str) -> tuple:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def fragments() -> list:
    return sorted(p.name for p in FRAGMENTS.glob("*") if p.suffix in (".yml", ".yaml"))


def test_antsibull_changelog_lint(run_tool) -> None:
    proc = run_tool(["antsibull-changelog", "lint"])
    assert proc.returncode == 0 and not proc.stdout.strip(), run_tool.report(proc)
    proc = run_tool(["antsibull-changelog", "lint-changelog-yaml", CHANGELOGS / "changelog.yaml"])
    assert proc.returncode == 0 and not proc.stdout.strip(), run_tool.report(proc)


def test_fragments_are_named_for_their_change() -> None:
    named = [name for name in fragments() if VERSION_NAMED.match(name)]
    assert not named, "fragments named for a version instead of their change: %s" % named


def test_galaxy_version_is_released_or_prepared() -> None:
    version = str(yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"])
    releases = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text()).get("releases") or {}
    assert releases, "changelogs/changelog.yaml holds no release"
    newest = max(releases, key=version_key)
    assert version_key(newest) <= version_key(version), (
        "changelog.yaml's newest release %s is above galaxy.yml's version %s" % (newest, version))
    if newest != version:
        assert fragments(), ("galaxy.yml's version %s is above the newest release %s but no unreleased fragment "
                             "exists in changelogs/fragments/" % (version, newest))


def test_changelog_md_is_what_antsibull_changelog_generates(run_tool, tmp_path: Path) -> None:
    copy = tmp_path / "avr"
    shutil.copytree(CHANGELOGS, copy / "changelogs", ignore=shutil.ignore_patterns(".plugin-cache.yaml"))
    shutil.copy2(ROOT / "galaxy.yml", copy / "galaxy.yml")
    committed = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    (copy / "CHANGELOG.md").write_text("stale\n", encoding="utf-8")
    proc = run_tool(["antsibull-changelog", "generate"], cwd=copy)
    assert proc.returncode == 0, run_tool.report(proc)
    generated = (copy / "CHANGELOG.md").read_text(encoding="utf-8")
    assert generated == committed, ("CHANGELOG.md is not what `antsibull-changelog generate` makes from "
                                    "changelogs/changelog.yaml: run it and commit the result")
    assert not (ROOT / "CHANGELOG.rst").exists(), "CHANGELOG.rst is left over: the changelog is CHANGELOG.md"
