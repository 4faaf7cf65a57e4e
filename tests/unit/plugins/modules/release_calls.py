"""Calls of the release modules in-process, the way Ansible runs a module, for test_release*.py.

``call(capsys, project, state=..., ...)`` runs ``voiceops.avr.release``; without ``state`` it runs
``voiceops.avr.release_info`` (what ``state=query`` of the single module used to answer). Each returns
(exit code, result) from the JSON the module prints. Release ids come from a clock that advances one
second per reading (the ``clock`` fixture), so that they sort in the order the releases were made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.voiceops.avr.plugins.module_utils import releases as store_module
from ansible_collections.voiceops.avr.plugins.modules import release as release_module
from ansible_collections.voiceops.avr.plugins.modules import release_info as release_info_module

COMPOSE = "docker-compose.yml"
ENV = "environment.json"
CONF = "asterisk/conf/manager.conf"
ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")
RECORD = {"template": "openai", "deployment": "demo", "registry_digest": "sha256:" + "1" * 64,
          "images": {"avr-core": "agentvoiceresponse/avr-core:v1.4.0"}, "tags": {"avr-core": "v1.4.0"},
          "digests": {"avr-core": "sha256:" + "2" * 64}, "inputs": {"tag": "v1.4.0"}}


class FakeClock(datetime):
    """datetime whose now() starts at 2026-11-22 10:15:00 UTC and moves on one second per call."""

    ticks = 0

    @classmethod
    def now(cls, tz: Any = None) -> "FakeClock":  # type: ignore[override]
        cls.ticks += 1
        moment = datetime(2026, 11, 22, 10, 15, 0, tzinfo=timezone.utc) + timedelta(seconds=cls.ticks)
        return cls(*moment.timetuple()[:6], tzinfo=timezone.utc)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> type:
    monkeypatch.setattr(FakeClock, "ticks", 0)
    monkeypatch.setattr(store_module, "datetime", FakeClock)
    return FakeClock


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "openai"
    root.mkdir()
    write(root, "services:\n  avr-core:\n    image: agentvoiceresponse/avr-core:v1.4.0\n",
          '{"avr-core": {"PORT": "5001"}}\n')
    return root


def write(root: Path, compose: str, environment: str | None = None) -> None:
    (root / COMPOSE).write_text(compose, encoding="utf-8")
    if environment is not None:
        (root / ENV).write_text(environment, encoding="utf-8")


def write_conf(project: Path, text: str) -> None:
    path = project / CONF
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def call(capsys: pytest.CaptureFixture[str], project: Path, check_mode: bool = False,
         **args: Any) -> Tuple[int, Dict[str, Any]]:
    """(exit code, result) of release (``state`` given) or release_info (no ``state``) with ``args``."""
    module = release_module if "state" in args else release_info_module
    module_args: Dict[str, Any] = {"project_dir": str(project)}
    module_args.update(args)
    if check_mode:
        module_args["_ansible_check_mode"] = True
    capsys.readouterr()
    with patch_module_args(module_args):
        with pytest.raises(SystemExit) as exc:
            module.main()
    out = capsys.readouterr().out
    return int(exc.value.code or 0), json.loads(out)


def ok(capsys: pytest.CaptureFixture[str], project: Path, **args: Any) -> Dict[str, Any]:
    code, result = call(capsys, project, **args)
    assert code == 0 and not result.get("failed"), result.get("msg")
    return result


def fails(capsys: pytest.CaptureFixture[str], project: Path, **args: Any) -> str:
    code, result = call(capsys, project, **args)
    assert code == 1 and result.get("failed") is True, result
    return str(result["msg"])


def history_lines(project: Path) -> List[str]:
    path = project / "releases" / "history.jsonl"
    return path.read_text(encoding="utf-8").splitlines(keepends=True) if path.exists() else []


def history(project: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in history_lines(project)]


def release_dirs(project: Path) -> List[str]:
    return sorted(p.name for p in (project / "releases").iterdir() if ID_RE.match(p.name))


def stage_and_activate(capsys: pytest.CaptureFixture[str], project: Path, compose: str, keep: int = 10) -> str:
    write(project, compose)
    staged = ok(capsys, project, state="staged", record=RECORD)
    assert staged["created"] is True
    active = ok(capsys, project, state="active", release=staged["release"], keep=keep)
    assert active["current"] == staged["release"]
    return str(staged["release"])


def tree(root: Path) -> Dict[str, Tuple[bytes, int, int]]:
    """Every file, directory and link below ``root``: content (or link target), mode and mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        data = os.readlink(path).encode() if path.is_symlink() else path.read_bytes() if path.is_file() else b""
        out[str(path.relative_to(root))] = (data, st.st_mode, st.st_mtime_ns)
    return out
