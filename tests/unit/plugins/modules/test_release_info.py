"""modules/release_info.py: the releases of a deployment read on its host, run in-process the way Ansible
runs a module, on a real file system; voiceops.avr.release (``state=...``) makes the releases it reads.

What used to be ``release`` with ``state=query`` (and ``state=restored`` in check mode, to ask whether
the project's files differ from a release) is asked here; every case proves that nothing was written.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ansible_collections.voiceops.avr.plugins.module_utils.releases import ReleaseStore
import release_calls
from release_calls import (
    COMPOSE, CONF, ENV, RECORD, call, fails, history_lines, ok, sha1, stage_and_activate, tree, write, write_conf,
)

#: the fixtures of release_calls
clock = release_calls.clock
project = release_calls.project


def test_info_of_an_empty_project(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    before = tree(project.parent)
    result = ok(capsys, project)
    assert tree(project.parent) == before, "release_info made releases/ (or its lock) in a project without releases"
    assert result["changed"] is False and result["releases"] == [] and result["history"] == []
    assert result["current"] is None and result["previous"] is None and "release" not in result


def test_info_previous_resolves_the_last_other_active_release(capsys: pytest.CaptureFixture[str],
                                                              project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    write(project, "services: {three: {}}\n")
    r3 = ok(capsys, project, state="staged")["release"]
    ok(capsys, project, state="failed", release=r3, reason="gate")
    lines = history_lines(project)
    result = ok(capsys, project, release="previous")
    assert (result["release"], result["current"], result["previous"]) == (r1, r2, r1)
    assert result["changed"] is False and history_lines(project) == lines
    assert [(e["id"], e["status"]) for e in result["releases"]] == [(r1, "active"), (r2, "active"), (r3, "failed")]
    # back on r1 (the oldest), 'previous' does not bounce forward to r2, the release just left
    ok(capsys, project, state="rolled_back", release=r2)
    ok(capsys, project, state="active", release=r1)
    assert "has no earlier active release" in fails(capsys, project, release="previous")
    assert ok(capsys, project)["previous"] is None


def test_two_rollbacks_to_previous_go_back_twice(capsys: pytest.CaptureFixture[str],
                                                 project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    r3 = stage_and_activate(capsys, project, "services: {three: {}}\n")
    for current, target in ((r3, r2), (r2, r1)):
        assert ok(capsys, project, release="previous")["release"] == target
        ok(capsys, project, state="rolled_back", release=current)
        ok(capsys, project, state="restored", release=target)
        ok(capsys, project, state="active", release=target)
    assert ok(capsys, project)["current"] == r1
    # rolled forward again by name, 'previous' of r3 is r2 once more
    ok(capsys, project, state="active", release=r3)
    assert ok(capsys, project)["previous"] == r2


def test_info_previous_without_an_earlier_active_release_fails(capsys: pytest.CaptureFixture[str],
                                                               project: Path, clock: type) -> None:
    msg = fails(capsys, project, release="previous")
    assert msg == "release: 'previous' - %s has no earlier active release to go back to (current: none)" % project
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    write(project, "services: {two: {}}\n")
    ok(capsys, project, state="staged")
    msg = fails(capsys, project, release="previous")
    assert msg == "release: 'previous' - %s has no earlier active release to go back to (current: %s)" % (
        project, r1)


def test_info_an_unknown_release_fails_listing_the_known_ones(capsys: pytest.CaptureFixture[str],
                                                              project: Path, clock: type) -> None:
    assert fails(capsys, project, release="nope") == (
        "release: 'nope' is not a release of %s; known releases: none" % project)
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    assert fails(capsys, project, release="nope") == (
        "release: 'nope' is not a release of %s; known releases: %s, %s" % (project, r1, r2))
    assert ok(capsys, project, release=r1)["release"] == r1


def test_info_by_checksum_returns_the_newest_match(capsys: pytest.CaptureFixture[str], project: Path,
                                                   clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    checksum = sha1(project / COMPOSE)
    assert ok(capsys, project, checksum=checksum)["match"] == {"release": r1, "status": "active"}
    stage_and_activate(capsys, project, "services: {two: {}}\n")
    write(project, "services: {one: {}}\n")
    r3 = ok(capsys, project, state="staged")["release"]
    ok(capsys, project, state="failed", release=r3, reason="gate")
    assert ok(capsys, project, checksum=checksum)["match"] == {"release": r3, "status": "failed"}
    assert ok(capsys, project, checksum="0" * 40)["match"] is None
    assert "match" not in ok(capsys, project)


def test_the_current_release_is_the_match_for_its_checksum(capsys: pytest.CaptureFixture[str], project: Path,
                                                           clock: type) -> None:
    write_conf(project, "a\n")
    r1 = ok(capsys, project, state="staged", files=[CONF], record=RECORD)["release"]
    ok(capsys, project, state="active", release=r1)
    write_conf(project, "b\n")  # same compose file, another configuration, that fails its gate
    r2 = ok(capsys, project, state="staged", files=[CONF], record=RECORD)["release"]
    ok(capsys, project, state="failed", release=r2, reason="gate")
    checksum = sha1(project / COMPOSE)
    assert ok(capsys, project, checksum=checksum)["match"] == {"release": r1, "status": "active"}


# -- never a write ------------------------------------------------------------------------------------


def test_info_writes_nothing_not_even_the_cleanup_a_change_does(capsys: pytest.CaptureFixture[str], project: Path,
                                                                clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    root = project / "releases"
    (root / ".staging-abc").mkdir()  # what an interrupted change left
    (project / "current.4242.tmp").symlink_to("releases/" + r1)
    with (root / "history.jsonl").open("a", encoding="utf-8") as handle:
        handle.write('{"release": "%s", "status": "rolled_ba' % r2)  # an append cut short (or under way)
    (project / COMPOSE).write_text("services: {three: {}}\n", encoding="utf-8")
    before = tree(project)
    warned = []
    for args in ({}, {"release": "previous"}, {"release": "current", "files": [CONF]}, {"release": r1},
                 {"checksum": sha1(project / COMPOSE)}):
        for check_mode in (False, True):
            code, result = call(capsys, project, check_mode=check_mode, **args)
            assert code == 0 and result["changed"] is False, result
            assert tree(project) == before, "release_info %s changed the project directory" % args
            # (in-process, Ansible keeps one copy of a warning per process: collect them over the runs)
            warned += [w if isinstance(w, str) else w["event"]["msg"] for w in result.get("warnings", [])]
    # module warnings go to the controller's display once controller code was imported in this process
    # (other tests): when none came back, ask the store, which hands the same warning to its ``warn``
    if not warned:
        ReleaseStore(str(project), check_mode=True, warn=warned.append).info()
    assert "%s: ignoring its unfinished last line" % (root / "history.jsonl") in warned, warned


def test_info_of_a_missing_project_directory_creates_nothing(capsys: pytest.CaptureFixture[str],
                                                             tmp_path: Path) -> None:
    missing = tmp_path / "never-deployed"
    result = ok(capsys, missing, checksum="ab" * 20)
    assert (result["releases"], result["current"], result["previous"], result["match"]) == ([], None, None, None)
    assert not missing.exists()
    assert fails(capsys, missing, release="current") == (
        "release: 'current' - %s has no current release" % missing)
    assert not missing.exists()


# -- release: current, record --------------------------------------------------------------------------


def test_info_release_current_resolves_and_returns_its_record(capsys: pytest.CaptureFixture[str], project: Path,
                                                              clock: type) -> None:
    write_conf(project, "a\n")
    record = dict(RECORD, gate={"avr-core": {"probes": [{"tcp": 5001}]}}, mounts={"avr-core": []})
    r1 = ok(capsys, project, state="staged", files=[CONF], record=record)["release"]
    # no current release yet: named in the error
    assert fails(capsys, project, release="current") == "release: 'current' - %s has no current release" % project
    ok(capsys, project, state="active", release=r1)
    result = ok(capsys, project, release="current")
    assert result["release"] == r1 == result["current"]
    on_disk = json.loads((project / "releases" / r1 / "release.json").read_text(encoding="utf-8"))
    assert result["record"] == on_disk
    assert result["record"]["gate"] == record["gate"] and result["record"]["mounts"] == record["mounts"]
    assert result["record"]["files"] == {CONF: sha1(project / CONF)}
    assert ok(capsys, project, release=r1)["record"] == on_disk
    assert "record" not in ok(capsys, project) and "differs" not in ok(capsys, project)


def test_info_an_unknown_id_is_named_in_the_error(capsys: pytest.CaptureFixture[str], project: Path,
                                                  clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    before = tree(project)
    for value in ("20260101T000000Z-deadbeef", r1 + "\n", "../" + r1, "latest"):
        code, result = call(capsys, project, check_mode=True, release=value)
        assert code == 1 and result["msg"] == "release: %r is not a release of %s; known releases: %s" % (
            value, project, r1), result
    assert tree(project) == before


# -- differs ----------------------------------------------------------------------------------------


def test_info_differs_for_each_file_of_the_release(capsys: pytest.CaptureFixture[str], project: Path,
                                                   clock: type) -> None:
    write_conf(project, "a\n")
    r1 = ok(capsys, project, state="staged", files=[CONF], record=RECORD)["release"]
    ok(capsys, project, state="active", release=r1)

    def differs(**args: object) -> bool:
        before = tree(project)
        result = ok(capsys, project, release=r1, **args)
        assert tree(project) == before and result["changed"] is False
        return bool(result["differs"])

    assert differs() is False and differs(files=[CONF]) is False
    original = (project / COMPOSE).read_bytes()
    (project / COMPOSE).write_text("services: {drifted: {}}\n", encoding="utf-8")
    assert differs() is True
    (project / COMPOSE).write_bytes(original)
    (project / ENV).write_text("{}\n", encoding="utf-8")
    assert differs() is True
    (project / ENV).write_bytes((project / "releases" / r1 / ENV).read_bytes())
    write_conf(project, "b\n")  # a file the release recorded: compared without being named
    assert differs() is True
    (project / CONF).unlink()
    assert differs() is True
    write_conf(project, "a\n")
    assert differs() is False
    # a file the task names that the release does not have differs once it exists in the project
    extra = "asterisk/conf/pjsip.conf"
    assert differs(files=[extra]) is False
    (project / extra).write_text("x\n", encoding="utf-8")
    assert differs(files=[extra]) is True and differs() is False
    # the same answer as the restore it stands for
    assert ok(capsys, project, state="restored", release=r1)["changed"] is False
    (project / COMPOSE).unlink()
    assert differs() is True
    assert ok(capsys, project, state="restored", release=r1)["restored_files"] == [COMPOSE]
    assert differs() is False


def test_info_differs_compares_with_an_older_release(capsys: pytest.CaptureFixture[str], project: Path,
                                                     clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    stage_and_activate(capsys, project, "services: {two: {}}\n")
    result = ok(capsys, project, release="previous")
    assert result["release"] == r1 and result["differs"] is True
    assert ok(capsys, project, release="current")["differs"] is False


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.conf", "releases/x.conf", "current", "environment.json",
                                  "a//b", "asterisk.conf\n"])
def test_info_files_must_stay_inside_the_project(capsys: pytest.CaptureFixture[str], project: Path,
                                                 clock: type, name: str) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    msg = fails(capsys, project, release=r1, files=[name])
    assert msg == ("files: %r must be a path inside the project directory, outside releases/, other than the "
                   "compose file, environment.json and current" % name), msg


def test_info_differs_refuses_a_symlink_leading_outside_the_project(capsys: pytest.CaptureFixture[str],
                                                                    project: Path, clock: type) -> None:
    write_conf(project, "a\n")
    r1 = ok(capsys, project, state="staged", files=[CONF], record=RECORD)["release"]
    outside = project.parent / "outside"
    (outside / "conf").mkdir(parents=True)
    (outside / "conf" / "manager.conf").write_text("a\n", encoding="utf-8")  # even with the same content
    shutil.rmtree(project / "asterisk")
    (project / "asterisk").symlink_to(outside)
    before = tree(project.parent)
    msg = fails(capsys, project, release=r1)
    assert "%r leads to %s" % (CONF, os.path.realpath(project / CONF)) in msg and "\n" not in msg, msg
    assert "outside the project directory" in msg and msg.startswith("files ("), msg
    assert tree(project.parent) == before


def test_info_a_release_json_naming_a_file_outside_is_refused(capsys: pytest.CaptureFixture[str], project: Path,
                                                              clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    meta_path = project / "releases" / r1 / "release.json"
    meta = json.loads(meta_path.read_text())
    meta["files"] = {"../victim.txt": "0" * 40}
    meta_path.write_text(json.dumps(meta))
    msg = fails(capsys, project, release=r1)
    assert msg == ("%s: files entry '../victim.txt' is not a path inside the project directory outside releases/; "
                   "refusing to restore release %s" % (meta_path, r1)), msg
    assert ok(capsys, project)["current"] == r1  # without a release, its files are not read
    assert history_lines(project)
