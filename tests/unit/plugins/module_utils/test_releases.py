"""module_utils/releases.py: the release store on its own (no module), and its one error path.

The store's methods take and return plain data and raise ReleaseError (one line naming the file or
option and the value) instead of failing a module; each module's main() turns it into one fail_json.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Dict, List, Tuple
from unittest import mock

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceops.avr.plugins.module_utils.releases import ReleaseError, ReleaseStore
from ansible_collections.voiceops.avr.plugins.modules import release as release_module
from ansible_collections.voiceops.avr.plugins.modules import release_info as release_info_module


def tree(root: Path) -> Dict[str, Tuple[bytes, int, int]]:
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(root))] = (data, st.st_mode, st.st_mtime_ns)
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    root.mkdir()
    (root / "docker-compose.yml").write_text("services: {one: {}}\n", encoding="utf-8")
    (root / "environment.json").write_text("{}\n", encoding="utf-8")
    return root


def staged_and_active(project: Path) -> str:
    store = ReleaseStore(str(project))
    rid = store.change("staged", record={"template": "openai"}, actor="test")["release"]
    assert store.change("active", release=rid, actor="test")["current"] == rid
    return str(rid)


def test_the_store_works_without_a_module(project: Path) -> None:
    warnings: List[str] = []
    store = ReleaseStore(str(project), warn=warnings.append)
    assert store.info() == {"changed": False, "current": None, "previous": None, "releases": [], "history": [],
                            "history_file": str(project / "releases" / "history.jsonl")}
    rid = staged_and_active(project)
    info = ReleaseStore(str(project)).info(release="current", checksum=store.info()["releases"][0]["checksum"])
    assert (info["release"], info["differs"], info["match"]) == (rid, False, {"release": rid, "status": "active"})
    assert info["record"]["template"] == "openai" and info["record"]["id"] == rid
    assert warnings == []


@pytest.mark.parametrize("call, message", [
    (lambda s: s.info(release="nope"), "release: 'nope' is not a release of {p}; known releases: {rid}"),
    (lambda s: s.info(release="previous"),
     "release: 'previous' - {p} has no earlier active release to go back to (current: {rid})"),
    (lambda s: s.info(files=["../x"]), "files: '../x' must be a path inside the project directory, outside "
                                       "releases/, other than the compose file, environment.json and current"),
    (lambda s: s.change("active", release="nope"), "release: 'nope' is not a release of {p}; known releases: {rid}"),
    (lambda s: s.change("staged", keep=0), "keep: 0 must be at least 1"),
    (lambda s: s.change("query"), "state: 'query' is not one of staged, active, failed, rolled_back, restored"),
    (lambda s: s.change("failed"), "release: a release is needed for state failed"),
    (lambda s: s.change("staged", checksum="0" * 40),
     "{p}/docker-compose.yml: its checksum is {sum}, not " + "0" * 40 + ": another run changed it; run again"),
])
def test_store_errors_are_one_release_error_and_write_nothing(project: Path, call: Any, message: str) -> None:
    rid = staged_and_active(project)
    checksum = ReleaseStore(str(project)).info()["releases"][0]["checksum"]
    before = tree(project)
    store = ReleaseStore(str(project))
    with pytest.raises(ReleaseError) as exc:
        call(store)
    assert str(exc.value) == message.format(p=project, rid=rid, sum=checksum)
    assert "\n" not in str(exc.value)
    assert tree(project) == before


def test_a_failed_change_lets_its_locks_go(project: Path) -> None:
    staged_and_active(project)
    store = ReleaseStore(str(project))
    with pytest.raises(ReleaseError):
        store.change("active", release="nope")
    # another run (another open file description) gets both locks at once: the failed change let them go
    with open(project / "releases" / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    fd = os.open(project, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(fd)


def test_a_broken_history_is_an_error_of_the_store_not_a_module_exit(project: Path) -> None:
    staged_and_active(project)
    path = project / "releases" / "history.jsonl"
    path.write_bytes(path.read_bytes() + b"[1]\n")
    with pytest.raises(ReleaseError, match=r"history.jsonl line 3 is a JSON list, not a record \(an object\); "
                                           r"nothing was changed"):
        ReleaseStore(str(project)).info()


@pytest.mark.parametrize("module, args", [
    (release_module, {"state": "active", "release": "20260101T000000Z-deadbeef"}),
    (release_info_module, {"release": "20260101T000000Z-deadbeef"}),
])
def test_main_turns_one_release_error_into_one_fail_json(capsys: pytest.CaptureFixture[str], project: Path,
                                                         module: Any, args: Dict[str, Any]) -> None:
    rid = staged_and_active(project)
    real = AnsibleModule.fail_json
    with patch_module_args(dict(args, project_dir=str(project))), \
            mock.patch.object(AnsibleModule, "fail_json", autospec=True, side_effect=real) as fail_json:
        with pytest.raises(SystemExit) as exc:
            module.main()
    assert exc.value.code == 1
    assert fail_json.call_count == 1
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and result["msg"] == (
        "release: '20260101T000000Z-deadbeef' is not a release of %s; known releases: %s" % (project, rid))


def test_the_manifests_file_of_a_kubernetes_deployment_is_a_release_main_file(project: Path) -> None:
    """kubernetes/manifests.yml (the one main file in a subdirectory) is staged, compared and restored like a
    compose file; any other path with a '/' is still refused."""
    manifests = project / "kubernetes" / "manifests.yml"
    manifests.parent.mkdir()
    manifests.write_text("kind: Deployment # one\n", encoding="utf-8")
    store = ReleaseStore(str(project), "kubernetes/manifests.yml")
    first = store.change("staged", actor="test")["release"]
    store.change("active", release=first, actor="test")
    assert (project / "releases" / first / "kubernetes" / "manifests.yml").read_text() == manifests.read_text()
    assert json.loads((project / "releases" / first / "release.json").read_text())["compose_file"] == \
        "kubernetes/manifests.yml"
    assert store.change("staged", actor="test")["created"] is False
    manifests.write_text("kind: Deployment # two\n", encoding="utf-8")
    assert store.info(release=first)["differs"] is True
    second = store.change("staged", actor="test")["release"]
    assert second != first
    assert store.change("restored", release=first)["restored_files"] == ["kubernetes/manifests.yml"]
    assert manifests.read_text() == "kind: Deployment # one\n"
    before = tree(project)
    with pytest.raises(ReleaseError, match=r"^compose_file: 'kubernetes/other\.yml' must be a plain file name$"):
        ReleaseStore(str(project), "kubernetes/other.yml").change("staged", actor="test")
    assert tree(project) == before
