"""Hostile release files: history.jsonl without its last newline, release.json `files` leaving the
project (../, absolute, symlinks), broken release.json and history (plugins/module_utils/releases.py,
through the modules release and release_info)."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from harness import Case, hold, run_batch

RID = "20261201T100000Z-0123abcd"
OLD = "20261130T100000Z-00aa11bb"


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def make_release(project: Path, rid: str = RID, files: Optional[Dict[str, bytes]] = None,
                 meta: Optional[Dict[str, Any]] = None, history: Optional[bytes] = None) -> Path:
    """A release as the module lays it out: releases/<id>/ with the compose file, environment.json,
    release.json (and the ``files`` it records), releases/history.jsonl."""
    root = project / "releases" / rid
    root.mkdir(parents=True)
    (project / "releases" / ".lock").touch()  # the module's lock: a project with releases has one
    compose = (project / "docker-compose.yml").read_bytes()
    (root / "docker-compose.yml").write_bytes(compose)
    os.chmod(root / "docker-compose.yml", 0o600)
    (root / "environment.json").write_bytes((project / "environment.json").read_bytes())
    recorded = {}
    for name, data in (files or {}).items():
        path = Path(os.path.normpath(root / name))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        recorded[name] = _sha1(data)
    body = {"id": rid, "created": "2026-12-01T10:00:00Z", "checksum": _sha1(compose), "compose_file":
            "docker-compose.yml", "environment_checksum": None, "files": recorded, "template": "openai"}
    body.update(meta or {})
    (root / "release.json").write_text(json.dumps(body, indent=2) + "\n")
    record = {"release": rid, "status": "staged", "trace_id": "", "actor": "test"}
    hist = project / "releases" / "history.jsonl"
    hist.write_bytes(history if history is not None else (json.dumps(record) + "\n").encode())
    return root


def _victim(project: Path) -> None:
    (project.parent / "victim.txt").write_text("the victim's own content\n")
    (project / "releases").mkdir(exist_ok=True)
    (project / "releases" / ".lock").touch()


def _with_releases(project: Path) -> None:
    (project / "releases").mkdir(exist_ok=True)
    (project / "releases" / ".lock").touch()


def _records(project: Path) -> List[Dict[str, Any]]:
    lines = (project / "releases" / "history.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _history_kept(expected: List[str]):
    """Every line of the history parses and the statuses are ``expected``, in order."""
    def check(project: Path, result: Dict[str, Any]) -> List[str]:
        text = (project / "releases" / "history.jsonl").read_bytes()
        if not text.endswith(b"\n"):
            return ["history.jsonl does not end with a newline"]
        try:
            got = [r["status"] for r in _records(project)]
        except ValueError as exc:
            return ["history.jsonl has a line that is not JSON: %s" % exc]
        return [] if got == expected else ["history statuses are %s, not %s" % (got, expected)]
    return check


def _rec(status: str, rid: str = RID) -> bytes:
    return json.dumps({"release": rid, "status": status, "trace_id": "", "actor": "t"}).encode()


CASES: List[Case] = [
    # -- history.jsonl ------------------------------------------------------------------------------------
    Case("history: last complete record without its newline", "release", {"state": "failed", "release": RID},
         template=None, ok=True, check=_history_kept(["staged", "active", "failed"]),
         setup=lambda p: make_release(p, history=_rec("staged") + b"\n" + _rec("active"))),
    Case("history: only record without its newline", "release", {"state": "active", "release": RID},
         template=None, ok=True, check=_history_kept(["staged", "active"]),
         setup=lambda p: make_release(p, history=_rec("staged"))),
    Case("history: unfinished last line (control)", "release", {"state": "failed", "release": RID},
         template=None, ok=True, check=_history_kept(["staged", "failed"]),
         setup=lambda p: make_release(p, history=_rec("staged") + b"\n" + b'{"release": "2026')),
    Case("history: a broken line inside", "release", {"state": "failed", "release": RID}, template=None,
         field="history.jsonl", also=("line 2",),
         setup=lambda p: make_release(p, history=_rec("staged") + b"\nnot json\n" + _rec("active") + b"\n")),
    Case("history: invalid UTF-8", "release", {"state": "failed", "release": RID}, template=None,
         field="history.jsonl",
         setup=lambda p: make_release(p, history=_rec("staged") + b"\n" + b'{"release": "caf\xe9"}\n')),
    Case("history: a record that is a list", "release", {"state": "failed", "release": RID}, template=None,
         field="history.jsonl", setup=lambda p: make_release(p, history=b"[1, 2]\n")),
    Case("history: release_info with an unterminated complete record", "release_info", {}, template=None, ok=True,
         check=lambda p, r: [] if [x.get("status") for x in r.get("history", [])] == ["staged", "active"]
         else ["query sees history %s" % [x.get("status") for x in r.get("history", [])]],
         setup=lambda p: make_release(p, history=_rec("staged") + b"\n" + _rec("active"))),
    # -- release.json files leaving the project -----------------------------------------------------------
    Case("restored: files ../victim.txt", "release", {"state": "restored", "release": RID}, template=None,
         field="files", value="../victim.txt",
         setup=lambda p: (_victim(p), make_release(p, files={"../victim.txt": b"attacker\n"}))),
    Case("restored: files asterisk/../../victim.txt", "release", {"state": "restored", "release": RID},
         template=None, field="files", value="asterisk/../../victim.txt",
         setup=lambda p: (_victim(p), make_release(p, files={"asterisk/../../victim.txt": b"attacker\n"}))),
    Case("restored: files with an absolute path", "release", {"state": "restored", "release": RID},
         template=None, field="files", also=("victim.txt",),
         setup=lambda p: (_victim(p), make_release(p, files={str(p.parent / "victim.txt"): b"attacker\n"}))),
    Case("restored: compose_file ../victim.txt", "release", {"state": "restored", "release": RID},
         template=None, field="compose_file", value="../victim.txt",
         setup=lambda p: (_victim(p), make_release(p, meta={"compose_file": "../victim.txt"}),
                          (p / "releases" / "victim.txt").write_text("attacker\n"))),
    Case("restored: a recorded file that is a symlink out of the release", "release",
         {"state": "restored", "release": RID}, template=None, field="files", value="asterisk.conf",
         setup=lambda p: (make_release(p, files={"asterisk.conf": b"x\n"}),
                          (p / "releases" / RID / "asterisk.conf").unlink(),
                          (p / "releases" / RID / "asterisk.conf").symlink_to("/etc/hostname"))),
    # refused: following it would write the release's file over someone else's (victim.txt stays as it is)
    Case("restored: the project file is a symlink out of the project", "release",
         {"state": "restored", "release": RID}, template=None, field="files", value="asterisk.conf",
         setup=lambda p: (_victim(p), make_release(p, files={"asterisk.conf": b"restored\n"}),
                          (p / "asterisk.conf").symlink_to("../victim.txt"))),
    Case("restored: files under releases/", "release", {"state": "restored", "release": RID}, template=None,
         field="files", value="releases/history.jsonl",
         setup=lambda p: make_release(p, files={"releases/history.jsonl": b"{}\n"})),
    Case("restored: files naming environment.json", "release", {"state": "restored", "release": RID},
         template=None, field="files", value="environment.json",
         setup=lambda p: make_release(p, files={"environment.json": b"{}\n"})),
    Case("restored: release.json is not JSON", "release", {"state": "restored", "release": RID}, template=None,
         field="release.json",
         setup=lambda p: (make_release(p), (p / "releases" / RID / "release.json").write_text("{not json"))),
    Case("restored: release.json is a list", "release", {"state": "restored", "release": RID}, template=None,
         field="release.json",
         setup=lambda p: (make_release(p), (p / "releases" / RID / "release.json").write_text("[]\n"))),
    Case("restored: release.json files is a list", "release", {"state": "restored", "release": RID},
         template=None, field="files",
         setup=lambda p: (make_release(p), (p / "releases" / RID / "release.json").write_text(
             json.dumps({"id": RID, "files": ["../victim.txt"]})))),
    # -- the task's own inputs ----------------------------------------------------------------------------------
    Case("staged: files ../victim.txt", "release", {"state": "staged", "files": ["../victim.txt"]}, template=None,
         field="files", value="../victim.txt", setup=_victim),
    Case("staged: files with an absolute path", "release", {"state": "staged", "files": ["/etc/hostname"]},
         template=None, field="files", value="/etc/hostname", setup=_with_releases),
    Case("staged: a file that is a symlink out of the project", "release",
         {"state": "staged", "files": ["asterisk.conf"]}, template=None, field="files", value="asterisk.conf",
         setup=lambda p: (_with_releases(p), (p / "asterisk.conf").symlink_to("/etc/hostname"))),
    Case("staged: files with a trailing newline", "release", {"state": "staged", "files": ["asterisk.conf\n"]},
         template=None, field="files", value="asterisk.conf\n",
         setup=lambda p: (_with_releases(p), (p / "asterisk.conf\n").write_text("x"))),
    Case("staged: compose_file ../x", "release", {"state": "staged", "compose_file": "../docker-compose.yml"},
         template=None, field="compose_file", value="../docker-compose.yml", setup=_with_releases),
    Case("release: ../x", "release", {"state": "active", "release": "../" + RID}, template=None,
         field="release", value="../" + RID, setup=make_release),
    Case("release: with a trailing newline", "release", {"state": "active", "release": RID + "\n"}, template=None,
         field="release", value=RID + "\n", setup=make_release),
    Case("release: a directory named like an id, without release.json", "release",
         {"state": "restored", "release": OLD}, template=None, field="release", value=OLD,
         setup=lambda p: (make_release(p), (p / "releases" / OLD).mkdir())),
]


def test_release_files(ansible, seeded: Path, tmp_path: Path) -> None:
    began = time.monotonic()
    outcomes = run_batch(ansible, tmp_path / "cases", seeded, CASES)
    hold("release", outcomes, time.monotonic() - began)
