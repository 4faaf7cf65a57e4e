"""modules/release.py: the changes to the releases of a deployment on its host (stage, activate, record,
restore), run in-process the way Ansible runs a module, on a real file system.

Each test builds a project directory under ``tmp_path`` (a compose file and ``environment.json``) and
calls the module through ``release_calls`` (a call without ``state`` is one of ``release_info``, which
some tests use to read what a change left). Reading alone is tested in test_release_info.py.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

import pytest
import release_calls
from ansible.module_utils.testing import patch_module_args
from release_calls import (
    COMPOSE, CONF, ENV, ID_RE, RECORD, call, fails, history, history_lines, ok, release_dirs, sha1,
    stage_and_activate, tree, write, write_conf,
)

from ansible_collections.voiceops.avr.plugins.module_utils import releases as store_module
from ansible_collections.voiceops.avr.plugins.modules import release as release_module

#: the fixtures of release_calls
clock = release_calls.clock
project = release_calls.project


# -- staged ---------------------------------------------------------------------------------------


def test_staged_creates_a_release_with_the_files_and_its_record(
        capsys: pytest.CaptureFixture[str], project: Path) -> None:
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = ok(capsys, project, state="staged", record=RECORD, trace_id="run-1", actor="ci",
                started="2026-11-22T10:00:00Z")
    after = datetime.now(timezone.utc)
    rid = result["release"]
    assert ID_RE.match(rid), rid
    stamp, short = rid.split("-")
    assert short == sha1(project / COMPOSE)[:8]
    assert before <= datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc) <= after
    assert result["changed"] is True and result["created"] is True
    assert result["current"] is None and result["previous"] is None
    rdir = project / "releases" / rid
    assert sorted(p.name for p in rdir.iterdir()) == [COMPOSE, ENV, "release.json"]
    assert (rdir / COMPOSE).read_bytes() == (project / COMPOSE).read_bytes()
    assert (rdir / ENV).read_bytes() == (project / ENV).read_bytes()
    meta = json.loads((rdir / "release.json").read_text(encoding="utf-8"))
    for key, value in RECORD.items():
        assert meta[key] == value, key
    assert meta["id"] == rid and meta["compose_file"] == COMPOSE
    assert meta["checksum"] == sha1(project / COMPOSE)
    assert meta["environment_checksum"] == sha1(project / ENV)
    assert meta["created"] == datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stat.S_IMODE((rdir / "release.json").stat().st_mode) == 0o640
    records = history(project)
    assert len(records) == 1
    rec = records[0]
    assert (rec["release"], rec["status"], rec["template"], rec["deployment"]) == (rid, "staged", "openai", "demo")
    assert rec["checksum"] == meta["checksum"] and rec["registry_digest"] == RECORD["registry_digest"]
    assert rec["tags"] == RECORD["tags"] and rec["digests"] == RECORD["digests"]
    assert (rec["trace_id"], rec["actor"], rec["started"]) == ("run-1", "ci", "2026-11-22T10:00:00Z")
    assert rec["host"] and rec["finished"] and "reason" not in rec
    assert [entry["id"] for entry in result["releases"]] == [rid]
    assert result["releases"][0]["status"] == "staged" and result["releases"][0]["tags"] == RECORD["tags"]
    assert result["history"] == records
    assert result["history_file"] == str(project / "releases" / "history.jsonl")
    assert not [p for p in (project / "releases").iterdir() if p.name.startswith(".staging-")]


def test_staged_without_environment_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    write(tmp_path, "services: {}\n")
    rid = ok(capsys, tmp_path, state="staged")["release"]
    rdir = tmp_path / "releases" / rid
    assert not (rdir / ENV).exists()
    assert json.loads((rdir / "release.json").read_text(encoding="utf-8"))["environment_checksum"] is None


def test_staged_with_another_compose_file_name(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services: {}\n", encoding="utf-8")
    rid = ok(capsys, tmp_path, state="staged", compose_file="compose.yaml")["release"]
    assert (tmp_path / "releases" / rid / "compose.yaml").read_text(encoding="utf-8") == "services: {}\n"
    assert rid.endswith("-" + sha1(tmp_path / "compose.yaml")[:8])


def test_a_stack_file_is_staged_and_restored(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """docker-stack.yml (voice_compose engine swarm) is a file the project layout reserves, and a release's own."""
    (tmp_path / "docker-stack.yml").write_text('version: "3.8"\nservices: {}\n', encoding="utf-8")
    rid = ok(capsys, tmp_path, state="staged", compose_file="docker-stack.yml")["release"]
    (tmp_path / "docker-stack.yml").unlink()
    assert ok(capsys, tmp_path, state="restored", release=rid, compose_file="docker-stack.yml")["changed"] is True
    assert (tmp_path / "docker-stack.yml").read_text(encoding="utf-8") == 'version: "3.8"\nservices: {}\n'


def test_staged_again_with_identical_files_changes_nothing(capsys: pytest.CaptureFixture[str], project: Path,
                                                           clock: type) -> None:
    rid = stage_and_activate(capsys, project, (project / COMPOSE).read_text(encoding="utf-8"))
    lines = history_lines(project)
    again = ok(capsys, project, state="staged", record=RECORD)
    assert (again["changed"], again["created"], again["release"]) == (False, False, rid)
    assert history_lines(project) == lines
    assert release_dirs(project) == [rid]


def test_staged_again_after_environment_json_changed_is_a_new_release(capsys: pytest.CaptureFixture[str],
                                                                      project: Path, clock: type) -> None:
    rid = stage_and_activate(capsys, project, (project / COMPOSE).read_text(encoding="utf-8"))
    (project / ENV).write_text('{"avr-core": {"PORT": "5002"}}\n', encoding="utf-8")
    again = ok(capsys, project, state="staged")
    assert again["created"] is True and again["release"] != rid
    # same compose file, so the same checksum suffix
    assert again["release"].split("-")[1] == rid.split("-")[1]
    assert again["current"] == rid
    assert [r["status"] for r in history(project)] == ["staged", "active", "staged"]


def test_staged_twice_in_one_second_is_refused(capsys: pytest.CaptureFixture[str], project: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> "Frozen":  # type: ignore[override]
            return cls(2026, 11, 22, 10, 15, 0, tzinfo=timezone.utc)

    monkeypatch.setattr(store_module, "datetime", Frozen)
    rid = ok(capsys, project, state="staged")["release"]
    msg = fails(capsys, project, state="staged")
    assert msg == "release %s already exists; run again in a second" % rid
    assert len(history(project)) == 1


def test_staged_without_a_compose_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    msg = fails(capsys, tmp_path, state="staged")
    assert msg == "%s: no compose file to stage as a release" % (tmp_path / COMPOSE)
    assert history_lines(tmp_path) == []


# -- active ---------------------------------------------------------------------------------------


def test_active_points_current_at_the_release_and_records_it(capsys: pytest.CaptureFixture[str],
                                                             project: Path, clock: type) -> None:
    rid = ok(capsys, project, state="staged", record=RECORD)["release"]
    result = ok(capsys, project, state="active", release=rid, trace_id="run-2", actor="ci")
    assert result["changed"] is True and result["release"] == rid and result["current"] == rid
    link = project / "current"
    assert link.is_symlink() and os.readlink(link) == os.path.join("releases", rid)
    assert link.resolve() == (project / "releases" / rid).resolve()
    assert (link / COMPOSE).read_bytes() == (project / COMPOSE).read_bytes()
    records = history(project)
    assert [(r["release"], r["status"]) for r in records] == [(rid, "staged"), (rid, "active")]
    assert records[1]["template"] == "openai" and records[1]["tags"] == RECORD["tags"]
    assert (records[1]["trace_id"], records[1]["actor"]) == ("run-2", "ci")
    assert result["releases"][0]["status"] == "active"


def test_active_again_changes_nothing(capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    rid = stage_and_activate(capsys, project, "services: {a: {}}\n")
    lines = history_lines(project)
    again = ok(capsys, project, state="active", release=rid)
    assert again["changed"] is False and again["current"] == rid and again["pruned"] == []
    assert history_lines(project) == lines


def test_active_after_another_record_records_it_again(capsys: pytest.CaptureFixture[str], project: Path,
                                                      clock: type) -> None:
    rid = stage_and_activate(capsys, project, "services: {a: {}}\n")
    ok(capsys, project, state="rolled_back", release=rid, reason="test")
    again = ok(capsys, project, state="active", release=rid)
    assert again["changed"] is True
    assert [r["status"] for r in history(project)] == ["staged", "active", "rolled_back", "active"]


def test_active_for_an_unknown_release_fails_listing_the_known_ones(capsys: pytest.CaptureFixture[str],
                                                                    project: Path, clock: type) -> None:
    rid = ok(capsys, project, state="staged")["release"]
    lines = history_lines(project)
    msg = fails(capsys, project, state="active", release="20260101T000000Z-deadbeef")
    assert msg == "release: '20260101T000000Z-deadbeef' is not a release of %s; known releases: %s" % (project, rid)
    assert history_lines(project) == lines and not (project / "current").exists()


@pytest.mark.parametrize("state", ["active", "failed", "rolled_back", "restored"])
def test_states_that_act_on_a_release_need_one(capsys: pytest.CaptureFixture[str], project: Path,
                                               state: str) -> None:
    msg = fails(capsys, project, state=state)
    assert msg == "state is %s but all of the following are missing: release" % state
    assert not (project / "releases" / "history.jsonl").exists()


# -- failed / rolled_back ---------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["failed", "rolled_back"])
def test_failed_and_rolled_back_append_a_record_with_the_reason(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type, state: str) -> None:
    rid = ok(capsys, project, state="staged", record=RECORD)["release"]
    result = ok(capsys, project, state=state, release=rid, reason="avr-core: unhealthy after 60 s")
    assert result["changed"] is True and result["release"] == rid
    rec = history(project)[-1]
    assert (rec["release"], rec["status"], rec["reason"]) == (rid, state, "avr-core: unhealthy after 60 s")
    assert rec["template"] == "openai" and rec["checksum"] == sha1(project / COMPOSE)
    assert result["releases"][0]["status"] == state
    assert not (project / "current").exists()
    again = ok(capsys, project, state=state, release=rid)
    assert again["changed"] is True and "reason" not in history(project)[-1]
    assert len(history(project)) == 3


# -- restored -------------------------------------------------------------------------------------


def test_restored_puts_the_release_files_back(capsys: pytest.CaptureFixture[str], project: Path,
                                              clock: type) -> None:
    os.chmod(project / COMPOSE, 0o600)
    first_compose = (project / COMPOSE).read_bytes()
    first_env = (project / ENV).read_bytes()
    r1 = stage_and_activate(capsys, project, first_compose.decode("utf-8"))
    os.chmod(project / COMPOSE, 0o600)
    write(project, "services: {changed: {}}\n", '{"changed": {}}\n')
    os.chmod(project / COMPOSE, 0o644)
    ok(capsys, project, state="staged")
    entries = sorted(p.name for p in project.iterdir())
    lines = history_lines(project)
    result = ok(capsys, project, state="restored", release=r1)
    assert result["changed"] is True and result["release"] == r1
    assert (project / COMPOSE).read_bytes() == first_compose
    assert (project / ENV).read_bytes() == first_env
    assert stat.S_IMODE((project / COMPOSE).stat().st_mode) == 0o600
    assert sorted(p.name for p in project.iterdir()) == entries, "a temporary file was left behind"
    assert history_lines(project) == lines
    again = ok(capsys, project, state="restored", release=r1)
    assert again["changed"] is False


def test_restored_reports_changed_only_for_a_difference(capsys: pytest.CaptureFixture[str], project: Path,
                                                        clock: type) -> None:
    r1 = ok(capsys, project, state="staged")["release"]
    assert ok(capsys, project, state="restored", release=r1)["changed"] is False
    (project / ENV).write_text("{}\n", encoding="utf-8")
    assert ok(capsys, project, state="restored", release=r1)["changed"] is True
    assert (project / ENV).read_bytes() == (project / "releases" / r1 / ENV).read_bytes()


def test_restored_brings_back_a_deleted_compose_file(capsys: pytest.CaptureFixture[str], project: Path,
                                                     clock: type) -> None:
    r1 = ok(capsys, project, state="staged")["release"]
    content = (project / COMPOSE).read_bytes()
    (project / COMPOSE).unlink()
    assert ok(capsys, project, state="restored", release=r1)["changed"] is True
    assert (project / COMPOSE).read_bytes() == content


def test_restored_previous(capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    stage_and_activate(capsys, project, "services: {two: {}}\n")
    result = ok(capsys, project, state="restored", release="previous")
    assert result["release"] == r1 and result["changed"] is True
    assert (project / COMPOSE).read_text(encoding="utf-8") == "services: {one: {}}\n"


# -- keep / pruning -----------------------------------------------------------------------------------


def test_keep_prunes_the_oldest_but_never_current_nor_previous(capsys: pytest.CaptureFixture[str],
                                                               project: Path, clock: type) -> None:
    ids = [stage_and_activate(capsys, project, "services: {n%d: {}}\n" % n) for n in range(4)]
    lines = history_lines(project)
    write(project, "services: {n4: {}}\n")
    r5 = ok(capsys, project, state="staged")["release"]
    result = ok(capsys, project, state="active", release=r5, keep=1)
    assert result["pruned"] == ids[:3] and result["changed"] is True
    assert release_dirs(project) == [ids[3], r5]
    assert (result["current"], result["previous"]) == (r5, ids[3])
    assert [e["id"] for e in result["releases"]] == [ids[3], r5]
    after = history_lines(project)
    assert after[:len(lines)] == lines, "history lines were rewritten"
    assert len(after) == len(lines) + 2
    assert {r["release"] for r in history(project)} == set(ids) | {r5}


def test_keep_protects_an_old_previous_release(capsys: pytest.CaptureFixture[str], project: Path,
                                               clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    failed = []
    for n in range(3):
        write(project, "services: {bad%d: {}}\n" % n)
        rid = ok(capsys, project, state="staged")["release"]
        ok(capsys, project, state="failed", release=rid, reason="gate")
        failed.append(rid)
    lines = history_lines(project)
    result = ok(capsys, project, state="active", release=r2, keep=1)
    assert result["pruned"] == failed[:2]
    assert release_dirs(project) == [r1, r2, failed[2]]
    assert result["previous"] == r1
    assert history_lines(project)[:len(lines)] == lines


def test_keep_counts_release_directories(capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    ids = [stage_and_activate(capsys, project, "services: {n%d: {}}\n" % n, keep=3) for n in range(5)]
    assert release_dirs(project) == ids[2:]
    assert len(history(project)) == 10


@pytest.mark.parametrize("keep", [0, -1])
def test_keep_below_one_is_refused(capsys: pytest.CaptureFixture[str], project: Path, keep: int) -> None:
    assert fails(capsys, project, state="staged", keep=keep) == "keep: %d must be at least 1" % keep
    assert not (project / "releases").exists()


@pytest.mark.parametrize("name", ["sub/docker-compose.yml", "", ".", ".."])
def test_compose_file_must_be_a_plain_name(capsys: pytest.CaptureFixture[str], project: Path, name: str) -> None:
    assert fails(capsys, project, state="staged", compose_file=name) == (
        "compose_file: %r must be a plain file name" % name)


# -- check mode -------------------------------------------------------------------------------------


def test_check_mode_staged_writes_nothing(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    code, result = call(capsys, project, check_mode=True, state="staged", record=RECORD)
    assert code == 0 and result["changed"] is True and result["created"] is True
    assert ID_RE.match(result["release"]) and result["release"].endswith(sha1(project / COMPOSE)[:8])
    assert sorted(p.name for p in project.iterdir()) == [COMPOSE, ENV]


def test_check_mode_writes_nothing_on_an_existing_project(capsys: pytest.CaptureFixture[str], project: Path,
                                                          clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    write(project, "services: {two: {}}\n", "{}\n")
    r2 = ok(capsys, project, state="staged")["release"]

    def snapshot() -> Dict[str, Any]:
        files = {str(p.relative_to(project)): p.read_bytes() for p in project.rglob("*")
                 if p.is_file() and not p.is_symlink()}
        return {"files": files, "current": os.readlink(project / "current")}

    before = snapshot()
    code, result = call(capsys, project, check_mode=True, state="active", release=r2, keep=1)
    assert code == 0 and result["changed"] is True and result["current"] == r2
    code, result = call(capsys, project, check_mode=True, state="failed", release=r2, reason="x")
    assert code == 0 and result["changed"] is True
    code, result = call(capsys, project, check_mode=True, state="restored", release=r1)
    assert code == 0 and result["changed"] is True
    write(project, "services: {three: {}}\n")
    before["files"][COMPOSE] = (project / COMPOSE).read_bytes()
    code, result = call(capsys, project, check_mode=True, state="staged")
    assert code == 0 and result["created"] is True
    assert snapshot() == before
    assert release_dirs(project) == [r1, r2]


# -- a damaged history ---------------------------------------------------------------------------------


def test_a_corrupt_history_line_fails_naming_file_and_line(capsys: pytest.CaptureFixture[str], project: Path,
                                                           clock: type) -> None:
    rid = ok(capsys, project, state="staged")["release"]
    path = project / "releases" / "history.jsonl"
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("\n{not json\n")
    msg = fails(capsys, project)
    assert msg.startswith("%s line 3 is not JSON (" % path)
    assert msg.endswith("the history is append-only, fix that line by hand")
    msg = fails(capsys, project, state="active", release=rid)
    assert "line 3 is not JSON" in msg and not (project / "current").exists()


def test_check_mode_active_reports_what_the_real_run_prunes(capsys: pytest.CaptureFixture[str], project: Path,
                                                            clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    stage_and_activate(capsys, project, "services: {two: {}}\n")
    write(project, "services: {three: {}}\n")
    r3 = ok(capsys, project, state="staged")["release"]
    code, predicted = call(capsys, project, check_mode=True, state="active", release=r3, keep=1)
    assert code == 0
    real = ok(capsys, project, state="active", release=r3, keep=1)
    assert real["pruned"] == [r1]
    assert predicted["pruned"] == real["pruned"]


# -- interrupted runs and concurrent writers ---------------------------------------------------------


def test_a_torn_last_history_line_is_ignored_and_cut_off_by_the_next_record(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    path = project / "releases" / "history.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"release": "%s", "status": "rolled_ba' % r1)  # an append cut short
    result = ok(capsys, project)
    assert [r["status"] for r in result["history"]] == ["staged", "active"]
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    assert [(r["release"], r["status"]) for r in history(project)[-2:]] == [(r2, "staged"), (r2, "active")]
    assert "rolled_ba" not in path.read_text(encoding="utf-8") and len(history(project)) == 4
    # a bad line that is not the last one is still an error
    lines = history_lines(project)
    path.write_text("".join(lines[:1] + ["not json\n"] + lines[1:]), encoding="utf-8")
    assert "line 2 is not JSON" in fails(capsys, project)


def test_staged_refuses_a_compose_file_another_run_changed(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    planned = sha1(project / COMPOSE)
    write(project, "services: {other: {}}\n")
    msg = fails(capsys, project, state="staged", checksum=planned, record=RECORD)
    assert msg == "%s: its checksum is %s, not %s: another run changed it; run again" % (
        project / COMPOSE, sha1(project / COMPOSE), planned)
    assert not (project / "releases").exists() or release_dirs(project) == []


def test_staged_in_check_mode_uses_the_planned_checksum(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                                        clock: type) -> None:
    fresh = tmp_path / "fresh"  # a host the deployment has never reached: no project directory yet
    code, result = call(capsys, fresh, check_mode=True, state="staged", checksum="ab" * 20, record=RECORD)
    assert code == 0 and result["created"] is True and result["release"].endswith("-abababab"), result
    assert not fresh.exists()
    project = tmp_path / "existing"
    project.mkdir()
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    same = call(capsys, project, check_mode=True, state="staged", checksum=sha1(project / COMPOSE))[1]
    assert (same["created"], same["release"]) == (False, r1)
    new = call(capsys, project, check_mode=True, state="staged", checksum="cd" * 20)[1]
    assert new["created"] is True and new["changed"] is True and release_dirs(project) == [r1]


def test_leftovers_of_an_interrupted_run_are_cleaned_and_never_listed(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    root = project / "releases"
    (root / ".staging-abc").mkdir()
    (root / ".staging-abc" / COMPOSE).write_text("half\n")
    (root / (".pruning-" + r1)).mkdir()
    (project / "current.4242.tmp").symlink_to("releases/" + r1)
    assert [e["id"] for e in ok(capsys, project)["releases"]] == [r1]  # release_info reads, never cleans
    assert (root / ".staging-abc").exists()
    stage_and_activate(capsys, project, "services: {two: {}}\n")
    assert not (root / ".staging-abc").exists() and not (root / (".pruning-" + r1)).exists()
    assert not os.path.lexists(project / "current.4242.tmp")


def test_pruning_leaves_no_directory_behind(capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    ids = [stage_and_activate(capsys, project, "services: {n%d: {}}\n" % n, keep=2) for n in range(4)]
    assert release_dirs(project) == ids[-2:]
    assert sorted(p.name for p in (project / "releases").iterdir() if p.is_dir()) == ids[-2:]


def test_the_actor_falls_back_to_the_uid_without_a_passwd_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_entry() -> str:
        raise KeyError("getpwuid(): uid not found: 12345")
    monkeypatch.setattr(store_module.getpass, "getuser", no_entry)
    assert store_module.actor_name() == "uid-%d" % os.getuid()


def test_files_are_part_of_a_release_and_come_back_with_it(capsys: pytest.CaptureFixture[str], project: Path,
                                                           clock: type) -> None:
    write_conf(project, "secret = first\n")
    record = dict(RECORD, mounts={"avr-asterisk": ["./asterisk/conf/manager.conf"], "avr-core": []})
    r1 = ok(capsys, project, state="staged", files=[CONF], record=record)["release"]
    ok(capsys, project, state="active", release=r1)
    copy = project / "releases" / r1 / CONF
    assert copy.read_text() == "secret = first\n" and stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert json.loads((project / "releases" / r1 / "release.json").read_text())["files"] == {CONF: sha1(copy)}
    # the same files: no release; only the configuration changed: a new one
    assert ok(capsys, project, state="staged", files=[CONF], record=record)["created"] is False
    write_conf(project, "secret = rotated\n")
    r2 = ok(capsys, project, state="staged", files=[CONF], record=record)["release"]
    assert r2 != r1 and (project / "releases" / r2 / CONF).read_text() == "secret = rotated\n"
    # back to r1: the configuration comes back (its folder too), and the mounts say who reads it
    shutil.rmtree(project / "asterisk")
    result = ok(capsys, project, state="restored", release=r1)
    assert result["changed"] is True and result["restored_files"] == [CONF]
    assert result["mounts"] == record["mounts"]
    assert (project / CONF).read_text() == "secret = first\n"
    assert stat.S_IMODE((project / CONF).stat().st_mode) == 0o600
    again = ok(capsys, project, state="restored", release=r1)
    assert again["changed"] is False and again["restored_files"] == []


def test_a_missing_file_fails_staging_but_not_its_check_mode(capsys: pytest.CaptureFixture[str],
                                                             project: Path) -> None:
    assert fails(capsys, project, state="staged", files=[CONF]) == "files: %s is not in %s" % (CONF, project)
    code, result = call(capsys, project, check_mode=True, state="staged", files=[CONF])
    assert code == 0 and result["created"] is True
    assert not (project / "releases").exists() or release_dirs(project) == []


@pytest.mark.parametrize("name", ["/etc/passwd", "../outside.conf", "a/../../b", "releases/x.conf", "current",
                                  "docker-compose.yml", "environment.json", "a//b", "./a",
                                  "asterisk.conf\n", "a\x00b", "a\tb", "\nasterisk.conf"])
def test_files_must_stay_inside_the_project(capsys: pytest.CaptureFixture[str], project: Path, name: str) -> None:
    msg = fails(capsys, project, state="staged", files=[name])
    assert msg.startswith("files: %r must be a path inside the project directory" % name), msg


# -- hostile release files (issue 12) ------------------------------------------------------------


def test_a_complete_last_record_without_its_newline_is_kept_by_the_next_append(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    path = project / "releases" / "history.jsonl"
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # a tool that writes its last line without "\n"
    ok(capsys, project, state="failed", release=r1, reason="by hand")
    records = history(project)
    assert [(r["release"], r["status"]) for r in records] == [(r1, "staged"), (r1, "active"), (r1, "failed")]
    assert path.read_bytes().count(b"\n") == 3


@pytest.mark.parametrize("entry", ["../victim.txt", "/tmp/victim.txt", "a/../../victim.txt", "releases/x", "current"])
def test_restored_refuses_a_release_json_naming_a_file_outside_the_project(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type, entry: str) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    meta_path = project / "releases" / r1 / "release.json"
    meta = json.loads(meta_path.read_text())
    meta["files"] = {entry: "0" * 40}
    meta_path.write_text(json.dumps(meta))
    (project / "releases" / r1 / "victim.txt").write_text("planted\n")
    victim = project.parent / "victim.txt"
    victim.write_text("untouched\n")
    write(project, "services: {two: {}}\n")
    before = sorted(p.name for p in project.parent.iterdir())
    msg = fails(capsys, project, state="restored", release=r1)
    assert "refusing to restore release %s" % r1 in msg and repr(entry) in msg and "\n" not in msg, msg
    assert victim.read_text() == "untouched\n"
    assert (project / COMPOSE).read_text() == "services: {two: {}}\n", "a refused restore changed the compose file"
    assert sorted(p.name for p in project.parent.iterdir()) == before


def test_restored_refuses_a_symlink_leading_outside_the_project(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type) -> None:
    write_conf(project, "secret = first\n")
    r1 = ok(capsys, project, state="staged", files=[CONF], record=RECORD)["release"]
    ok(capsys, project, state="active", release=r1)
    outside = project.parent / "outside"
    outside.mkdir()
    shutil.rmtree(project / "asterisk")
    (project / "asterisk").symlink_to(outside)  # the folder now leads out of the project
    msg = fails(capsys, project, state="restored", release=r1)
    assert "outside the project directory" in msg and "\n" not in msg, msg
    assert "files (" in msg and "%r leads to" % CONF in msg, msg
    assert list(outside.iterdir()) == []
    # and staging does not read through it either
    (outside / "conf").mkdir()
    (outside / "conf" / "manager.conf").write_text("someone else's\n")
    assert "outside the project directory" in fails(capsys, project, state="staged", files=[CONF], record=RECORD)


@pytest.mark.parametrize("line, problem", [
    (b'{"release": "caf\xe9"}\n', "line 2 is not UTF-8 text (bad byte at offset 16)"),
    (b"[1, 2]\n", "line 2 is a JSON list, not a record (an object)"),
    (b'"staged"\n', "line 2 is a JSON str, not a record (an object)"),
])
@pytest.mark.parametrize("state", ["failed", "active", None])  # None: release_info, reading
def test_a_history_line_that_is_no_record_fails_before_any_write(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type, line: bytes, problem: str, state: str) -> None:
    rid = ok(capsys, project, state="staged")["release"]
    path = project / "releases" / "history.jsonl"
    path.write_bytes(path.read_bytes() + line)
    before = tree(project)
    msg = fails(capsys, project, **({} if state is None else {"state": state, "release": rid}))
    assert msg.startswith("%s %s; nothing was changed" % (path, problem)) and "\n" not in msg, msg
    assert tree(project) == before


@pytest.mark.parametrize("body, problem", [
    (b"{not json", "is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    (b"[]\n", "is a JSON list, not an object"),
    (b"\xff\xfe{}", "is not UTF-8 text (bad byte at offset 0)"),
])
@pytest.mark.parametrize("state", ["restored", "failed", None, "staged"])  # None: release_info
def test_a_broken_release_json_fails_naming_it_before_any_write(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type, body: bytes, problem: str, state: str) -> None:
    rid = stage_and_activate(capsys, project, "services: {one: {}}\n")
    write(project, "services: {two: {}}\n")
    meta = project / "releases" / rid / "release.json"
    meta.write_bytes(body)
    before = tree(project)
    args = {} if state is None else {"state": state}
    msg = fails(capsys, project, **args, **({"release": rid} if state in ("restored", "failed") else {}))
    assert msg == "%s %s; fix or remove that release; nothing was changed" % (meta, problem), msg
    assert tree(project) == before


@pytest.mark.parametrize("state", ["staged", "active"])
def test_a_broken_release_json_of_an_older_release_fails_before_any_write(
        capsys: pytest.CaptureFixture[str], project: Path, clock: type, state: str) -> None:
    r1 = stage_and_activate(capsys, project, "services: {one: {}}\n")
    r2 = stage_and_activate(capsys, project, "services: {two: {}}\n")
    write(project, "services: {three: {}}\n")
    meta = project / "releases" / r1 / "release.json"
    meta.write_bytes(b"[]\n")
    before = tree(project)
    msg = fails(capsys, project, state=state, **({"release": r2} if state == "active" else {}))
    assert msg == "%s is a JSON list, not an object; fix or remove that release; nothing was changed" % meta, msg
    assert tree(project) == before


# -- release only changes (reading is release_info's) ------------------------------------------------


def test_state_query_is_gone_and_state_is_required(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    before = tree(project)
    assert fails(capsys, project, state="query") == (
        "value of state must be one of: staged, active, failed, rolled_back, restored, got: query")
    with patch_module_args({"project_dir": str(project)}), pytest.raises(SystemExit):
        release_module.main()  # no state: a change must say which
    assert json.loads(capsys.readouterr().out)["msg"] == "missing required arguments: state"
    assert tree(project) == before
