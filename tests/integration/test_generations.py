"""Registry generations through the real ansible-playbook (local connection, no Docker).

1. A release records its registry snapshot (releases/<id>/registry.json). The built-in data then
   changes (a copy of the collection whose 2025.09 data has another AMI_PORT default and another
   core port, standing for any change of the built-in data): rendered from the recorded snapshot
   (registry_from), the release comes out byte for byte; rendered without it, the change shows in
   --diff.
2. A deployment keeps the generation its compose file was rendered with (also a file from before
   generations, whose header names none: 2025.09) until registry_version asks for another; a new
   deployment gets the newest; moving is a change check mode shows and does not make.
3. A bad registry_from is refused in one line naming it, and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import newest

from test_playbooks import Ansible, Run  # the harness of the playbook tests (same directory)
from test_release_info_playbook import lstat_snapshot

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"openai": "sk-generations-openai", "deepgram": "dg-generations"}
DATA_2025 = "plugins/module_utils/registry/generations/g2025_09/images.py"


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


@pytest.fixture
def patched(tmp_path: Path) -> Path:
    """A copy of the collection whose generation 2025.09 data changed: AMI_PORT 5038 -> 5039, core 5001 -> 5002."""
    root = tmp_path / "patched" / "ansible_collections" / "voiceops" / "avr"
    root.mkdir(parents=True)
    for part in ("plugins", "meta"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "galaxy.yml", root / "galaxy.yml")
    data = root / DATA_2025
    text = data.read_text()
    changed = text.replace('_opt("AMI_PORT", "5038",', '_opt("AMI_PORT", "5039",', 1)
    changed = changed.replace('ports=("5001:5001",),', 'ports=("5002:5001",),', 1)
    assert changed.count("5039") == text.count("5039") + 1 and "5002:5001" in changed, "the patch found nothing"
    data.write_text(changed)
    return tmp_path / "patched"


def ok(run: Run) -> Run:
    assert run.rc == 0, str(run)
    return run


def render(ansible: Ansible, project: Path, check: bool = False, diff: bool = False, **extra: Any) -> Dict[str, Any]:
    args = {"project": str(project), "template": "openai", "keys": KEYS}
    args.update(extra)
    return ok(ansible.run("generations.yml", args, check=check, diff=diff)).task("Render")


def diff_text(result: Dict[str, Any]) -> str:
    return "".join(part["before"] + "\n=====\n" + part["after"] for part in result.get("diff") or [])


def test_a_release_re_renders_from_its_snapshot_after_the_built_in_data_changed(
        ansible: Ansible, tmp_path: Path, patched: Path) -> None:
    project = tmp_path / "demo"
    first = render(ansible, project, version="2025.09", record=True)
    release = (project / "current").resolve()
    assert first["release_files"] == ["registry.json"]
    recorded = json.loads((release / "registry.json").read_text())
    assert recorded["generation"] == "2025.09"
    assert hashlib.sha256((release / "registry.json").read_bytes()).hexdigest() == first["registry_digest"]
    assert json.loads((release / "release.json").read_text())["registry_version"] == "2025.09"
    compose = (project / "docker-compose.yml").read_bytes()
    assert compose == (release / "docker-compose.yml").read_bytes()

    upgraded = Ansible(tmp_path / "ansible-patched", patched)
    # without the snapshot: the changed data shows in --diff (and check mode writes nothing)
    before = lstat_snapshot(project)
    drifted = render(upgraded, project, check=True, diff=True)
    assert drifted["changed"] is True and drifted["registry_version"] == "2025.09"
    assert drifted["registry_digest"] != first["registry_digest"]
    shown = diff_text(drifted)
    assert "AMI_PORT: \"5038\"" in shown and "AMI_PORT: \"5039\"" in shown, shown
    assert "5001:5001" in shown and "5002:5001" in shown, shown
    assert KEYS["openai"] not in json.dumps(drifted)
    assert lstat_snapshot(project) == before
    # from the recorded snapshot: the same bytes, nothing to change, in check mode and for real
    for source in ("current/registry.json", "releases/%s/registry.json" % release.name, str(release / "registry.json")):
        again = render(upgraded, project, check=True, diff=True, source=source)
        assert again["changed"] is False and again["checksum"] == first["checksum"], source
        assert again["registry_digest"] == first["registry_digest"]
    written = render(upgraded, project, source="current/registry.json")
    assert written["changed"] is False
    assert (project / "docker-compose.yml").read_bytes() == compose
    assert lstat_snapshot(project) == before
    # the snapshot given as a mapping renders the same bytes too
    inline = render(upgraded, project, check=True, source_file=str(release / "registry.json"))
    assert inline["changed"] is False and inline["checksum"] == first["checksum"]


def test_a_deployment_keeps_its_generation_until_asked(ansible: Ansible, tmp_path: Path) -> None:
    fresh = render(ansible, tmp_path / "new")
    assert fresh["registry_version"] == newest() and fresh["registry_version_before"] is None

    project = tmp_path / "old"
    render(ansible, project, version="2025.09")
    compose = project / "docker-compose.yml"
    # a file rendered before generations existed: its header names a digest and no generation
    text = compose.read_text()
    old = re.sub(r"^# registry: 2025\.09 sha256:[0-9a-f]{64}$", "# registry: sha256:" + "8" * 64, text, flags=re.M)
    assert old != text
    compose.write_text(old)
    kept = render(ansible, project, check=True, diff=True)
    assert kept["registry_version"] == kept["registry_version_before"] == "2025.09"
    changed_lines = [line for line in diff_text(kept).splitlines() if "sha256:" in line]
    assert len(changed_lines) == 2, diff_text(kept)  # only the header line, before and after
    render(ansible, project)
    assert render(ansible, project)["changed"] is False
    if newest() == "2025.09":
        return
    before = lstat_snapshot(project)
    moved = render(ansible, project, check=True, diff=True, version=newest())
    assert moved["changed"] is True
    assert (moved["registry_version_before"], moved["registry_version"]) == ("2025.09", newest())
    assert "# registry: %s sha256:" % newest() in diff_text(moved)
    assert lstat_snapshot(project) == before
    render(ansible, project, version=newest())
    assert render(ansible, project)["registry_version"] == newest()


def test_voice_env_reads_the_secrets_of_the_deployment_s_generation(ansible: Ansible, tmp_path: Path) -> None:
    """A 2025.09 app deployment keeps its database secrets: voice_env, naming no generation, checks the task's
    secrets against the generation the deployment runs, not the newest (which reads no DATABASE_PASSWORD)."""
    project = tmp_path / "app"
    secrets = {"ADMIN_PASSWORD": "adm-1", "DATABASE_PASSWORD": "db-1", "DATABASE_ROOT_PASSWORD": "root-1"}
    app = {"template": "app", "keys": {}, "secrets": secrets, "env": {"avr-app": {"ADMIN_EMAIL": "a@example.org"}}}
    render(ansible, project, version="2025.09", **app)
    run = ok(ansible.run("generations.yml", dict(app, project=str(project), store=True)))
    assert run.task("Keep the deployment's store")["registry_version"] == "2025.09"
    assert run.task("Render")["registry_version"] == "2025.09"
    refused = ansible.run("generations.yml", dict(app, project=str(project), store=True, store_version=newest()))
    assert refused.rc != 0
    assert refused.task("Keep the deployment's store")["msg"].startswith(
        "secrets.DATABASE_PASSWORD: no image of the registry reads a secret named 'DATABASE_PASSWORD'")


@pytest.mark.parametrize("template, env", [("ultravox", {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "a"}}),
                                           ("gemini-sts", {})])
def test_finding_the_deployment_s_generation_costs_no_extra_module_execution_when_the_mounts_agree(
        ansible: Ansible, tmp_path: Path, template: str, env: Dict[str, Any]) -> None:
    """voice_compose guesses the newest generation, reads the compose file's header in its one inspect and renders
    again with 2025.09 on the same inspect (with diff too: the target masks every generation's secrets). Only when
    the two generations make it look at different files (with mount_folders, gemini-sts's 2025.09 web phone mounts
    three more) does it inspect once more."""
    project = tmp_path / "demo"
    keys = {"ultravox": "ux-key", "gemini": "gm-key"}
    render(ansible, project, template=template, keys=keys, env=env, version="2025.09")
    log = tmp_path / "executions.log"
    wrapper = tmp_path / "python-logged"
    wrapper.write_text("#!/bin/sh\necho x >> %s\nexec %s \"$@\"\n" % (log, sys.executable))
    wrapper.chmod(0o755)
    for check, diff in ((False, False), (True, True)):
        log.write_text("")
        kept = render(ansible, project, check=check, diff=diff, template=template, keys=keys, env=env,
                      ansible_python_interpreter=str(wrapper))
        assert kept["registry_version"] == "2025.09" and kept["changed"] is False
        assert len(log.read_text().split()) == 1, (template, check)


@pytest.mark.parametrize("extra, message", [
    ({"source": "/etc/registry.json"}, r"^registry_from: '/etc/registry.json' is outside the project directory"),
    ({"source": "../other/registry.json"}, r"^registry_from: '\.\./other/registry.json' is not a path inside the "
                                           r"project directory"),
    ({"source": "releases/nope/registry.json"}, r"^registry_from: .*/releases/nope/registry.json does not exist$"),
    ({"source": "edited.json"}, r"^registry_from \(.*/edited.json\): the snapshot does not load back to itself "
                                r"\(first difference at templates\.openai\.services\); it was edited or damaged$"),
    ({"source": "broken.json"}, r"^registry_from \(.*/broken.json\): not a registry snapshot \(not JSON: "),
    ({"source": "current/registry.json", "version": newest() if newest() != "2025.09" else "x"},
     r"^registry_version: '.*' was asked for, but the registry snapshot of registry_from is generation '2025.09'$"),
    ({"source": 5}, r"^registry_from: expected a path in the project directory or a registry snapshot"),
])
def test_a_bad_registry_from_is_refused_in_one_line_and_nothing_changes(
        ansible: Ansible, tmp_path: Path, extra: Dict[str, Any], message: str) -> None:
    project = tmp_path / "demo"
    render(ansible, project, version="2025.09", record=True)
    doc = json.loads((project / "registry.json").read_text())
    doc["templates"]["openai"]["services"].reverse()  # derived data that no longer matches the template
    (project / "edited.json").write_text(json.dumps(doc))
    (project / "broken.json").write_text("{")
    before = lstat_snapshot(project)
    args = {"project": str(project), "template": "openai", "keys": KEYS}
    args.update(extra)
    run = ansible.run("generations.yml", args)
    assert run.rc != 0
    msg = run.task("Render")["msg"]
    assert re.search(message, msg) and "\n" not in msg, msg
    assert lstat_snapshot(project) == before


def test_a_compose_file_of_a_generation_this_collection_lacks_is_refused_by_name(
        ansible: Ansible, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    render(ansible, project, version="2025.09")
    compose = project / "docker-compose.yml"
    compose.write_text(re.sub(r"^# registry: 2025\.09 ", "# registry: 2099.01 ", compose.read_text(), flags=re.M))
    before = lstat_snapshot(project)
    run = ansible.run("generations.yml", {"project": str(project), "template": "openai", "keys": KEYS})
    assert run.rc != 0
    assert run.task("Render")["msg"] == (
        "%s: rendered with registry generation '2099.01', which this collection does not have (it has 2025.09, "
        "2026.06); set registry_version to render it with one of them" % compose)
    assert lstat_snapshot(project) == before
    moved = render(ansible, project, version="2025.09")  # naming one moves it
    assert moved["registry_version_before"] == "2099.01" and moved["changed"] is True


def test_a_catalog_and_a_snapshot_together_are_refused(ansible: Ansible, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    render(ansible, project, version="2025.09")
    run = ansible.run("generations.yml", {"project": str(project), "template": "openai", "keys": KEYS,
                                          "source": "registry.json"}, env={})
    assert run.rc == 0
    both = ansible.run("generations_catalog.yml", {"project": str(project)})
    assert both.rc != 0
    assert both.task("Render with a catalog and a snapshot")["msg"] == (
        "registry_from: a registry snapshot already holds the catalog it was made with; give catalog or "
        "registry_from, not both")
