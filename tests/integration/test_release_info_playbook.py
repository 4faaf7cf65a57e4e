"""release_info through the real ansible-playbook: it reads what release wrote, and never writes.

A project directory written by hand (a compose file, environment.json, a configuration file) is
staged and activated with voiceops.avr.release (local connection, no Docker), then read with
voiceops.avr.release_info, with and without --check. An lstat snapshot of the project directory
(type, bytes or link target, mode, owner, group, mtime, the set of paths) is identical before and
after every read, also with the leftovers of an interrupted change and a torn history line that a
change would clean up.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from test_playbooks import Ansible, Run  # the harness of the playbook tests (same directory)

CONF = "asterisk/conf/manager.conf"
COMPOSE = "services:\n  avr-core:\n    image: agentvoiceresponse/avr-core:v1.4.0\n"


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


def lstat_snapshot(root: Path) -> Dict[str, Tuple[Any, ...]]:
    """The project directory itself and every path below it, by lstat (never following a link)."""
    out: Dict[str, Tuple[Any, ...]] = {}
    for path in [root] + sorted(root.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(path.relative_to(root))] = (what, stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid,
                                            st.st_gid, st.st_size, st.st_mtime_ns)
    return out


def ok(run: Run) -> Run:
    assert run.rc == 0, str(run)
    return run


def test_release_info_reads_what_release_wrote_and_never_writes(ansible: Ansible, tmp_path: Path) -> None:
    project = tmp_path / "demo"
    (project / "asterisk" / "conf").mkdir(parents=True)
    (project / "docker-compose.yml").write_text(COMPOSE, encoding="utf-8")
    (project / "environment.json").write_text('{"avr-core": {"PORT": "5001"}}\n', encoding="utf-8")
    (project / CONF).write_text("[general]\nenabled = yes\n", encoding="utf-8")
    os.chmod(project / CONF, 0o600)
    checksum = hashlib.sha1(COMPOSE.encode()).hexdigest()
    args = {"project_dir": str(project), "conf": CONF, "checksum": checksum}

    ok(ansible.run("release_info.yml", dict(args, phase="change")))
    rid = os.path.basename(os.readlink(project / "current"))

    def read(check: bool) -> Run:
        before = lstat_snapshot(project)
        run = ok(ansible.run("release_info.yml", dict(args, phase="read"), check=check))
        assert lstat_snapshot(project) == before, "release_info changed the project directory (check=%s)" % check
        for name in ("Read the releases", "Read the current release, compared with the project's files",
                     "Look up the compose checksum", "Ask for a release that does not exist"):
            assert run.task(name).get("changed") is False, (name, run.task(name))
        assert run.stats["changed"] == 0
        return run

    for check in (False, True):
        run = read(check)
        overview = run.task("Read the releases")
        assert (overview["current"], overview["previous"]) == (rid, None)
        assert [(e["id"], e["status"], e["checksum"]) for e in overview["releases"]] == [(rid, "active", checksum)]
        assert [(r["status"], r["trace_id"], r["actor"]) for r in overview["history"]] == [
            ("staged", "it-1", "integration"), ("active", "it-1", "integration")]
        current = run.task("Read the current release, compared with the project's files")
        assert (current["release"], current["differs"]) == (rid, False)
        on_disk = json.loads((project / "releases" / rid / "release.json").read_text(encoding="utf-8"))
        assert current["record"] == on_disk
        assert current["record"]["gate"] == {"avr-core": {"container": "demo-avr-core"}}
        assert current["record"]["mounts"] == {"avr-core": ["./" + CONF]}
        assert run.task("Look up the compose checksum")["match"] == {"release": rid, "status": "active"}
        missing = run.task("Ask for a release that does not exist")
        assert missing["failed"] is True and missing["msg"] == (
            "release: 'previous' - %s has no earlier active release to go back to (current: %s)" % (project, rid))

    # a drifted configuration file differs; leftovers of an interrupted change and a torn last history
    # line (what a change cleans up) stay as they are
    (project / CONF).write_text("[general]\nenabled = no\n", encoding="utf-8")
    (project / "releases" / ".staging-abcdef").mkdir()
    (project / "current.4242.tmp").symlink_to("releases/" + rid)
    with (project / "releases" / "history.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"release": "%s", "status": "fai' % rid)
    for check in (False, True):
        run = read(check)
        assert run.task("Read the current release, compared with the project's files")["differs"] is True
        assert [r["status"] for r in run.task("Read the releases")["history"]] == ["staged", "active"]
