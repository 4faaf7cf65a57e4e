"""modules/project_files.py: refusals that leave the project as it was, run in-process as Ansible runs a module."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Tuple
from unittest import mock

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceops.avr.plugins.modules import project_files

COMPOSE = "docker-compose.yml"


def call(capsys: pytest.CaptureFixture[str], project: Path, **args: Any) -> Tuple[int, Dict[str, Any]]:
    module_args: Dict[str, Any] = {"path": str(project)}
    module_args.update(args)
    capsys.readouterr()
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exc:
            project_files.main()
    return int(exc.value.code or 0), json.loads(capsys.readouterr().out)


def tree(root: Path) -> Dict[str, Tuple[bytes, int, int, int]]:
    """Every path below ``root`` (and ``root``'s own listing): content or link target, mode, uid, mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(root))] = (data, st.st_mode, st.st_uid, st.st_mtime_ns)
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / COMPOSE).write_text("services: {}\n")
    os.chmod(root / COMPOSE, 0o600)
    return root


def refused(capsys: pytest.CaptureFixture[str], project: Path, **spec: Any) -> str:
    """The one-line message of a refused write of docker-compose.yml with ``spec``; nothing below changed."""
    before = tree(project.parent)
    code, result = call(capsys, project, files=[dict({"name": COMPOSE, "content": "services: {a: {}}\n",
                                                      "secret": True}, **spec)])
    assert code == 1 and result.get("failed") is True, result
    msg = str(result["msg"])
    assert "\n" not in msg, msg
    assert tree(project.parent) == before, "a refused write changed the project (or left a temp file)"
    return msg


@pytest.mark.parametrize("field, value", [
    ("owner", "4294967296"), ("owner", "4294967295"), ("owner", "99999999999999999999"),
    ("group", "4294967296"), ("group", "4294967295"),
])
def test_an_owner_or_group_id_no_file_can_have_is_refused_naming_it(
        capsys: pytest.CaptureFixture[str], project: Path, field: str, value: str) -> None:
    msg = refused(capsys, project, **{field: value})
    assert msg.startswith("%s: %r is not a" % (field, value)), msg


@pytest.mark.parametrize("field, value", [("owner", "nosuchuser-unit"), ("group", "nosuchgroup-unit"),
                                          ("owner", "\u0661"), ("owner", "")])
def test_an_unknown_owner_or_group_is_refused_naming_it(
        capsys: pytest.CaptureFixture[str], project: Path, field: str, value: str) -> None:
    msg = refused(capsys, project, **{field: value})
    assert msg.startswith("%s: %r is not a" % (field, value)), msg


@pytest.mark.parametrize("error", [OverflowError("signed integer is greater than maximum"),
                                   PermissionError(1, "Operation not permitted")])
def test_an_owner_the_system_refuses_fails_naming_it_and_removes_the_temp_file(
        capsys: pytest.CaptureFixture[str], project: Path, error: Exception) -> None:
    with mock.patch.object(project_files.os, "fchown", side_effect=error):
        msg = refused(capsys, project, owner="0")
    assert msg.startswith("owner: '0' cannot be applied to %s: " % COMPOSE), msg


def test_an_unexpected_error_still_removes_every_temp_file(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    with mock.patch.object(project_files.os, "fsync", side_effect=RuntimeError("boom")):
        msg = refused(capsys, project)
    assert "RuntimeError: boom" in msg, msg


def test_a_dangling_link_is_refused_not_written_through(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    (project / COMPOSE).unlink()
    (project / COMPOSE).symlink_to("store/missing.yml")
    msg = refused(capsys, project)
    assert msg.startswith("%s: a symlink to 'store/missing.yml', which does not exist" % COMPOSE), msg


def test_a_path_that_cannot_be_created_is_one_line_quoting_it(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, result = call(capsys, tmp_path / "file" / "sub", files=[{"name": COMPOSE, "content": "services: {}\n"}])
    assert code == 1 and result["msg"] == "path: cannot create the directory %r: Not a directory" % str(
        tmp_path / "file" / "sub"), result


def test_a_path_that_is_a_file_is_one_line_saying_so(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    code, result = call(capsys, tmp_path / "file", files=[{"name": COMPOSE, "content": "services: {}\n"}])
    assert code == 1 and result["msg"] == "path: %r exists and is not a directory" % str(tmp_path / "file"), result
    assert (tmp_path / "file").read_text() == "x"
