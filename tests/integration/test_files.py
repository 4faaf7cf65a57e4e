"""The file layer and the secrets under hostile input (issue 12, parts 2 and 3), through real ansible-playbook.

Every case runs voice_compose, voice_env or project_files in tests/integration/playbooks/files.yml
against localhost and is judged by its one-line message, by the files on disk (bytes, mode, owner,
mtime, set of paths, before and after), and by the absence of every marker secret from stdout,
stderr, the Ansible log, the registered results and every group/other-readable file.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import pytest
import yaml

from test_playbooks import Ansible, Run  # the harness of the playbook tests (same directory)

KEY_A = "sk-marker-alpha-0123456789abcdef"
KEY_B = "sk-marker-bravo-fedcba9876543210"
DG_KEY = "dg-marker-charlie-00112233445566"
ANTHROPIC_KEY = "ak-marker-delta-99887766554433"
OR_KEY = "or-marker-echo-a1b2c3d4e5f6a7b8"
GOOGLE_PRIVATE = "gpk-marker-foxtrot-5a5a5a5a5a5a"
GOOGLE_JSON = json.dumps({"type": "service_account", "private_key": GOOGLE_PRIVATE}) + "\n"
MARKERS = (KEY_A, KEY_B, DG_KEY, ANTHROPIC_KEY, OR_KEY, GOOGLE_PRIVATE)
LLM = "avr-llm-openai"
HIDDEN_NOTE = "content hidden"


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


# -- helpers ----------------------------------------------------------------------------------------


def tree(root: Path) -> Dict[str, Tuple[str, int, str, int, int]]:
    """Every path below ``root``: sha256 (files) or link target, mtime_ns, mode, uid, gid."""
    out: Dict[str, Tuple[str, int, str, int, int]] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode):
            what = "-> " + os.readlink(path)
        elif stat.S_ISREG(st.st_mode):
            what = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            what = "dir"
        out[str(path.relative_to(root))] = (what, st.st_mtime_ns, "%04o" % stat.S_IMODE(st.st_mode),
                                            st.st_uid, st.st_gid)
    return out


def run_cases(ansible: Ansible, tmp_path: Path, compose: Iterable[Dict[str, Any]] = (),
              env: Iterable[Dict[str, Any]] = (), files: Iterable[Dict[str, Any]] = (),
              keys: Optional[Dict[str, Any]] = None, unsafe_keys: Optional[Dict[str, str]] = None,
              diff: bool = False) -> Run:
    unsafe = tmp_path / "unsafe-vars.yml"
    lines = ["unsafe_keys:"] + ["  %s: !unsafe %s" % (k, json.dumps(v)) for k, v in (unsafe_keys or {}).items()]
    unsafe.write_text("\n".join(lines if unsafe_keys else ["unsafe_keys: {}"]) + "\n")
    unsafe.chmod(0o600)
    run = ansible.run("files.yml", {"compose_cases": list(compose), "env_cases": list(env),
                                    "files_cases": list(files), "case_keys": keys or {},
                                    "unsafe_vars": str(unsafe)}, diff=diff, log=True)
    for vars_file in ansible.base.glob("*.vars.json"):  # the test's own input, holding keys
        vars_file.chmod(0o600)
    assert "ERROR!" not in run.stderr, str(run)
    return run


def results(run: Run, task: str) -> Dict[str, Dict[str, Any]]:
    return {r["item"]["case"]: r for r in run.task(task).get("results", [])}


def assert_no_marker(run: Run, root: Path, markers: Iterable[str] = MARKERS, allowed: Iterable[Path] = ()) -> None:
    """No marker in the output, the log, the results, or any file that group or others may read."""
    for where, text in (("stdout", run.stdout), ("stderr", run.stderr), ("log", run.log)):
        for marker in markers:
            assert marker not in text, "marker %s leaked into %s" % (marker[:12], where)
    allowed = {p.resolve() for p in allowed}
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or path.resolve() in allowed:
            continue
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            data = path.read_bytes()
            for marker in markers:
                assert marker.encode() not in data, "marker %s in %s, mode %04o" % (
                    marker[:12], path, stat.S_IMODE(path.stat().st_mode))


def one_line(result: Dict[str, Any], *fragments: str) -> str:
    msg = str(result.get("msg", ""))
    assert result.get("failed") is True, "did not fail: %s" % json.dumps(result)[:2000]
    assert "\n" not in msg.strip() and "Traceback" not in msg + str(result.get("exception", "")), msg
    for fragment in fragments:
        assert fragment in msg, "%r lacks %r" % (msg, fragment)
    return msg


def openai_keys(openai: str = KEY_A) -> Dict[str, str]:
    return {"openai": openai, "deepgram": DG_KEY}


def base_project(ansible: Ansible, tmp_path: Path) -> Path:
    """An openai project (environment.json and a compose file with keys), as a real run writes it."""
    base = tmp_path / "base" / "openai"
    run = run_cases(ansible, tmp_path, env=[{"case": "seed", "project_dir": str(base), "template": "openai"}],
                    compose=[{"case": "render", "project_dir": str(base), "template": "openai"}],
                    keys={"render": openai_keys()})
    assert not any(r.get("failed") for r in results(run, "Compose files").values()), str(run)
    assert stat.S_IMODE((base / "docker-compose.yml").stat().st_mode) == 0o600
    return base


# -- 2. secrets: modes, backups, diffs, templating, credential file names, temp files --------------

OPEN_SPELLINGS = ["0o644", " 0644", "0644 ", "u=rw,g=u", "u=rw,go=u", "a=u", "u=rw,o=u"]
INVALID_MODES = ["preserve", "rw", "0999", "u=rw,bogus"]


def test_failed_runs_change_nothing_whatever_the_mode_owner_or_file(ansible: Ansible, tmp_path: Path) -> None:
    base = base_project(ansible, tmp_path)
    google_base = tmp_path / "base" / "google"
    run_cases(ansible, tmp_path, compose=[{"case": "g", "project_dir": str(google_base), "template": "google"}],
              keys={"g": {"google": GOOGLE_JSON, "openrouter": OR_KEY}})
    cases = tmp_path / "cases"
    compose, env, files, keys, expect = [], [], [], {}, {}
    changed_env = {LLM: {"OPENAI_MODEL": "gpt-4o"}}

    def case(kind: str, name: str, args: Dict[str, Any], fragments: List[str], source: Path = base) -> Path:
        project = cases / ("%02d" % len(expect))
        shutil.copytree(source, project, symlinks=True)
        item = dict({"case": name, "project_dir": str(project)}, **args)
        {"compose": compose, "env": env, "files": files}[kind].append(item)
        expect[(kind, name)] = fragments
        return project

    for spelling in OPEN_SPELLINGS:
        case("compose", "open mode %r" % spelling, {"template": "openai", "mode": spelling, "env": changed_env},
             ["mode: %r" % spelling, "other users"])
        keys["open mode %r" % spelling] = openai_keys(KEY_B)
    # a symbolic mode the controller cannot judge alone: relative to the existing file's mode (0644)
    relative = case("compose", "u+r on a 0644 file", {"template": "openai", "mode": "u+r", "env": changed_env},
                    ["mode: 'u+r'", "0644", "other users"])
    (relative / "docker-compose.yml").chmod(0o644)
    keys["u+r on a 0644 file"] = openai_keys(KEY_B)
    for bad in INVALID_MODES:
        case("compose", "invalid mode %r" % bad, {"template": "openai", "mode": bad, "env": changed_env},
             ["mode: %r" % bad, "not an octal or symbolic mode"])
        keys["invalid mode %r" % bad] = openai_keys(KEY_B)
        case("env", "invalid mode %r" % bad, {"template": "openai", "mode": bad, "set": changed_env},
             ["mode: %r" % bad])
    case("compose", "unknown owner", {"template": "openai", "owner": "no-such-user-avr", "env": changed_env},
         ["owner: 'no-such-user-avr'", "not a user"])
    keys["unknown owner"] = openai_keys(KEY_B)
    case("compose", "unknown group", {"template": "openai", "group": "no-such-group-avr", "env": changed_env},
         ["group: 'no-such-group-avr'", "not a group"])
    keys["unknown group"] = openai_keys(KEY_B)
    case("env", "unknown owner", {"template": "openai", "owner": "no-such-user-avr", "set": changed_env},
         ["owner: 'no-such-user-avr'"])
    blocked = case("compose", "google.json is a directory", {"template": "google"}, ["google.json", "directory"],
                   source=google_base)
    (blocked / "google.json").unlink()
    (blocked / "google.json").mkdir()
    keys["google.json is a directory"] = {"google": GOOGLE_JSON.replace("service_account", "rotated"),
                                          "openrouter": KEY_B}
    leaking = case("compose", "google.json links outside", {"template": "google"},
                   ["google.json", "outside the project directory"], source=google_base)
    (leaking / "google.json").unlink()
    (leaking / "google.json").symlink_to(tmp_path / "stolen.json")
    keys["google.json links outside"] = keys["google.json is a directory"]
    store_dir = case("env", "environment.json is a directory", {"template": "openai", "set": changed_env},
                     ["environment.json", "directory, not a regular file"])
    (store_dir / "environment.json").unlink()
    (store_dir / "environment.json").mkdir()
    case("compose", "environment.json is a directory", {"template": "openai"},
         ["environment.json", "directory, not a regular file"], source=store_dir)
    keys["environment.json is a directory"] = openai_keys(KEY_B)
    # the target's own check of a secret file's real mode, without the controller in front of it
    case("files", "secret file open to the group", {"files": [
        {"name": "docker-compose.yml", "content": "x: 1\n", "mode": "u=rw,g=u", "secret": True}]},
        ["mode: 'u=rw,g=u'", "0660"])
    nested = tmp_path / "fresh-nested"
    files.append({"case": "fresh nested dir", "project_dir": str(nested / "a" / "b"), "files": [
        {"name": "docker-compose.yml", "content": "x: 1\n", "mode": "a=u", "secret": True}]})
    expect[("files", "fresh nested dir")] = ["mode: 'a=u'", "0666"]
    fresh = tmp_path / "fresh"
    compose.append({"case": "fresh dir", "project_dir": str(fresh), "template": "openai", "mode": "a=u"})
    keys["fresh dir"] = openai_keys(KEY_B)
    expect[("compose", "fresh dir")] = ["mode: 'a=u'"]

    before = tree(cases)
    run = run_cases(ansible, tmp_path, compose=compose, env=env, files=files, keys=keys)
    after = tree(cases)
    changed = sorted({p.split("/")[0] for p in set(before) | set(after) if before.get(p) != after.get(p)})
    assert not changed, "a refused task changed files of cases %s" % [
        next(i["case"] for i in compose + env + files if i["project_dir"].endswith("/" + c)) for c in changed]
    assert not fresh.exists() and not nested.exists(), "a refused task created its project directory"
    assert not (tmp_path / "stolen.json").exists(), "a credential file was written through a link leading out"
    got = {("compose", k): v for k, v in results(run, "Compose files").items()}
    got.update({("env", k): v for k, v in results(run, "Environment stores").items()})
    got.update({("files", k): v for k, v in results(run, "Project files written directly").items()})
    assert set(got) == set(expect)
    for key, fragments in expect.items():
        one_line(got[key], *fragments)
    assert_no_marker(run, tmp_path, allowed=[relative / "docker-compose.yml"])  # made 0644 by this test


def test_backup_on_a_full_filesystem_leaves_no_file_and_names_the_cause(ansible: Ansible, tmp_path: Path) -> None:
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", str(disk)], check=True)
    try:
        project = disk / "openai"
        item = {"case": "backup", "project_dir": str(project), "template": "openai", "backup": True}
        first = run_cases(ansible, tmp_path, compose=[item], keys={"backup": openai_keys(KEY_A)})
        assert not results(first, "Compose files")["backup"].get("failed"), str(first)
        filler = disk / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 4096)
        except OSError:
            pass
        finally:
            os.close(fd)
        for free in (0, 4096):  # nothing free (the backup fails), one page (the backup fits, the new file not)
            if free:
                os.truncate(filler, filler.stat().st_size - free)
            before = tree(disk)
            run = run_cases(ansible, tmp_path, compose=[item], keys={"backup": openai_keys(KEY_B)})
            one_line(results(run, "Compose files")["backup"], "No space left on device", "docker-compose.yml")
            assert tree(disk) == before, "a failed write left or changed files (free: %d)" % free
            assert_no_marker(run, tmp_path)
        filler.unlink()
        run = run_cases(ansible, tmp_path, compose=[item], keys={"backup": openai_keys(KEY_B)})
        done = results(run, "Compose files")["backup"]
        assert done.get("changed") and not done.get("failed"), done
        backup = Path(done["backup_file"])
        assert KEY_A in backup.read_text() and stat.S_IMODE(backup.stat().st_mode) == 0o600
        assert KEY_B in (project / "docker-compose.yml").read_text()
        assert_no_marker(run, tmp_path)
    finally:
        subprocess.run(["umount", str(disk)], check=False)


HAND_WRITTEN = {
    "flow style": "services:\n  avr-llm-openai:\n    image: x\n    environment: {OPENAI_API_KEY: %s}\n" % KEY_A,
    "json": json.dumps({"services": {"avr-llm-openai": {"environment": {"OPENAI_API_KEY": KEY_A}}}}, indent=2),
    "block scalar": "services:\n  avr-llm-openai:\n    environment:\n      OPENAI_API_KEY: |\n        %s\n" % KEY_A,
    "list entries": "services:\n  avr-llm-openai:\n    environment:\n      - OPENAI_API_KEY=%s\n" % KEY_A,
    # the key given to this run, under a name no registry image reads
    "key in another variable": "services:\n  mine:\n    environment:\n      CUSTOM_TOKEN: %s\n" % KEY_B,
}


def test_diff_never_prints_an_old_key_and_common_word_keys_change_no_other_line(
        ansible: Ansible, tmp_path: Path) -> None:
    projects = tmp_path / "projects"
    switched = projects / "switched"
    run_cases(ansible, tmp_path, compose=[{"case": "anthropic", "project_dir": str(switched),
                                           "template": "anthropic"}],
              keys={"anthropic": {"anthropic": ANTHROPIC_KEY, "deepgram": DG_KEY}})
    assert ANTHROPIC_KEY in (switched / "docker-compose.yml").read_text()
    compose = [{"case": "switched template", "project_dir": str(switched), "template": "openai"}]
    keys = {"switched template": openai_keys(KEY_B)}
    for name, text in HAND_WRITTEN.items():
        project = projects / name.replace(" ", "-")
        project.mkdir(parents=True)
        (project / "docker-compose.yml").write_text(text)
        (project / "docker-compose.yml").chmod(0o600)
        compose.append({"case": name, "project_dir": str(project), "template": "openai"})
        keys[name] = openai_keys(KEY_B)
    compose.append({"case": "common words", "project_dir": str(projects / "words"), "template": "openai"})
    keys["common words"] = {"openai": "always", "deepgram": "agentvoiceresponse"}
    run = run_cases(ansible, tmp_path, compose=compose, keys=keys, diff=True)
    got = results(run, "Compose files")
    for name, result in got.items():
        assert result.get("changed") and not result.get("failed"), (name, result.get("msg"))
    before = got["switched template"]["diff"][0]["before"]
    assert "ANTHROPIC_API_KEY: ********" in before and ANTHROPIC_KEY not in before, before
    assert "OPENAI_API_KEY=********" in got["list entries"]["diff"][0]["before"]
    assert "CUSTOM_TOKEN: ********" in got["key in another variable"]["diff"][0]["before"]
    for name in ("flow style", "json", "block scalar"):
        assert HIDDEN_NOTE in got[name]["diff"][0]["before"], (name, got[name]["diff"][0]["before"])
    after = got["common words"]["diff"][0]["after"]
    written = (projects / "words" / "docker-compose.yml").read_text()
    differing = [(a, b) for a, b in zip(written.splitlines(), after.splitlines()) if a != b]
    masked_lines = sorted(b.strip() for _a, b in differing)
    assert {"OPENAI_API_KEY: ********", "DEEPGRAM_API_KEY: ********"} <= set(masked_lines), differing
    assert all(line.endswith(": ********") and line.split(":")[0].endswith(("_KEY", "_PASSWORD"))
               for line in masked_lines), differing  # only values of secret variables
    assert "restart: always" in after and "image: agentvoiceresponse/avr-core" in after
    assert_no_marker(run, tmp_path, allowed=[projects / n.replace(" ", "-") / "docker-compose.yml"
                                             for n in HAND_WRITTEN])


def test_a_secret_naming_a_service_is_written_as_given(ansible: Ansible, tmp_path: Path) -> None:
    project = tmp_path / "p"
    key = "sk-{{service:avr-ami}}-{{service:no-such}}-" + KEY_A
    run = run_cases(ansible, tmp_path, compose=[{"case": "token", "project_dir": str(project), "template": "openai",
                                                 "unsafe_keys": True}],
                    unsafe_keys={"openai": key, "deepgram": DG_KEY})
    result = results(run, "Compose files")["token"]
    assert not result.get("failed"), result.get("msg")
    env = yaml.safe_load((project / "docker-compose.yml").read_text())["services"][LLM]["environment"]
    assert env["OPENAI_API_KEY"] == key
    assert_no_marker(run, tmp_path, markers=MARKERS + ("{{service:no-such}}",))


@pytest.mark.parametrize("name", ["environment.json", "docker-compose.yml", ".credentials.json", "current",
                                  "releases/history.jsonl", "asterisk/conf/manager.conf"])
def test_a_credential_file_may_not_take_a_layout_name(ansible: Ansible, tmp_path: Path, name: str) -> None:
    base = base_project(ansible, tmp_path)
    (base / ".credentials.json").write_text('{"ami_password": "x"}\n')
    catalog = {"providers": [{"name": "google", "description": "Google, file elsewhere.", "file": name}]}
    before = tree(base)
    run = run_cases(ansible, tmp_path, compose=[{"case": "c", "project_dir": str(base), "template": "google",
                                                 "catalog": catalog}],
                    keys={"c": {"google": GOOGLE_JSON, "openrouter": OR_KEY}})
    # (a path with '/' is already refused by the catalog's own validation, naming the same field)
    one_line(results(run, "Compose files")["c"], "providers", ".file", repr(name))
    assert tree(base) == before
    assert_no_marker(run, tmp_path)


def test_temp_files_of_an_interrupted_run_are_removed(ansible: Ansible, tmp_path: Path) -> None:
    base = base_project(ansible, tmp_path)
    leftover = base / ".docker-compose.yml.k2x9_q0z"
    leftover.write_text("OPENAI_API_KEY: %s\n" % KEY_A)
    leftover.chmod(0o600)
    env_leftover = base / ".environment.json.ab12cd34"
    env_leftover.write_text("{}")
    kept = {base / ".docker-compose.yml.keep": "not ours", base / "notes.docker-compose.yml.abcdefgh": "user file"}
    for path, text in kept.items():
        path.write_text(text)
    outside = tmp_path / "outside.txt"
    outside.write_text("outside\n")
    link = base / ".docker-compose.yml.lnk12345"
    link.symlink_to(outside)
    folder = base / ".docker-compose.yml.dir12345"
    folder.mkdir()
    run = run_cases(ansible, tmp_path, compose=[{"case": "again", "project_dir": str(base), "template": "openai"}],
                    keys={"again": openai_keys()})
    assert not results(run, "Compose files")["again"].get("failed")
    assert not leftover.exists() and not env_leftover.exists()
    assert all(path.read_text() == text for path, text in kept.items())
    assert link.is_symlink() and outside.read_text() == "outside\n" and folder.is_dir()


def test_a_replaced_file_keeps_its_owner_and_a_mode_change_alone_is_one_rename(ansible: Ansible,
                                                                               tmp_path: Path) -> None:
    base = base_project(ansible, tmp_path)
    compose_file = base / "docker-compose.yml"
    os.chown(compose_file, 65534, 65534)  # nobody
    run = run_cases(ansible, tmp_path, compose=[{"case": "c", "project_dir": str(base), "template": "openai"}],
                    keys={"c": openai_keys(KEY_B)})
    assert results(run, "Compose files")["c"].get("changed"), str(run)
    st = compose_file.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534) and KEY_B in compose_file.read_text()
    content = compose_file.read_bytes()
    run = run_cases(ansible, tmp_path, compose=[{"case": "c", "project_dir": str(base), "template": "openai",
                                                 "mode": "0400"}], keys={"c": openai_keys(KEY_B)})
    result = results(run, "Compose files")["c"]
    assert result.get("changed") and not result.get("failed"), result
    assert stat.S_IMODE(compose_file.stat().st_mode) == 0o400 and compose_file.read_bytes() == content
    assert compose_file.stat().st_uid == 65534


# -- 3. a failed run changes nothing: concurrency, symlinks, stores of another template ---------------


def test_eight_concurrent_voice_env_runs_keep_every_update(ansible: Ansible, tmp_path: Path) -> None:
    base = base_project(ansible, tmp_path)
    store = json.loads((base / "environment.json").read_text())["services"]
    variables = [(service, name) for service, values in store.items() for name, value in values.items()
                 if "{{" not in value and name != "PORT"][:8]
    assert len(variables) == 8, variables
    pending = []
    for index, (service, name) in enumerate(variables):
        item = {"case": "set %d" % index, "project_dir": str(base), "template": "openai",
                "set": {service: {name: "concurrent-%d" % index}}}
        unsafe = tmp_path / ("unsafe-%d.yml" % index)
        unsafe.write_text("unsafe_keys: {}\n")
        pending.append(ansible.run("files.yml", {"env_cases": [item], "unsafe_vars": str(unsafe)}, start=True))
    for finish in pending:
        run = finish()
        assert run.rc == 0 and not any(r.get("failed") for r in results(run, "Environment stores").values()), run
    final = json.loads((base / "environment.json").read_text())["services"]
    lost = [(s, n) for index, (s, n) in enumerate(variables) if final[s][n] != "concurrent-%d" % index]
    assert not lost, "updates lost: %s" % lost


def test_symlinked_environment_json_is_followed_inside_and_refused_outside(ansible: Ansible, tmp_path: Path) -> None:
    base = base_project(ansible, tmp_path)
    inside = tmp_path / "inside"
    shutil.copytree(base, inside)
    (inside / "settings").mkdir()
    (inside / "environment.json").rename(inside / "settings" / "env.json")
    (inside / "environment.json").symlink_to("settings/env.json")
    outside = tmp_path / "outside"
    shutil.copytree(base, outside)
    elsewhere = tmp_path / "elsewhere.json"
    (outside / "environment.json").rename(elsewhere)
    (outside / "environment.json").symlink_to(elsewhere)
    other = tmp_path / "other-template"
    shutil.copytree(base, other)
    data = json.loads((other / "environment.json").read_text())
    data["template"] = "anthropic"
    (other / "environment.json").write_text(json.dumps(data))
    outside_before, other_before, elsewhere_before = tree(outside), tree(other), elsewhere.read_bytes()
    set_model = {LLM: {"OPENAI_MAX_TOKENS": "321"}}
    run = run_cases(ansible, tmp_path,
                    env=[{"case": "inside", "project_dir": str(inside), "template": "openai", "set": set_model},
                         {"case": "outside", "project_dir": str(outside), "template": "openai", "set": set_model}],
                    compose=[{"case": "inside", "project_dir": str(inside), "template": "openai"},
                             {"case": "outside", "project_dir": str(outside), "template": "openai"},
                             {"case": "other template", "project_dir": str(other), "template": "openai"}],
                    keys={"inside": openai_keys(), "outside": openai_keys(), "other template": openai_keys()})
    env, compose = results(run, "Environment stores"), results(run, "Compose files")
    assert not env["inside"].get("failed") and not env["inside"]["seeded"], env["inside"]
    assert (inside / "environment.json").is_symlink()
    assert json.loads((inside / "settings" / "env.json").read_text())["services"][LLM]["OPENAI_MAX_TOKENS"] == "321"
    assert not compose["inside"].get("failed"), compose["inside"].get("msg")
    written = yaml.safe_load((inside / "docker-compose.yml").read_text())["services"][LLM]["environment"]
    assert written["OPENAI_MAX_TOKENS"] == "321"
    for result in (env["outside"], compose["outside"]):
        one_line(result, "environment.json", "symlink", "outside the project directory")
    one_line(compose["other template"], "seeded for template 'anthropic', not 'openai'")
    assert tree(outside) == outside_before and elsewhere.read_bytes() == elsewhere_before
    assert tree(other) == other_before
    assert_no_marker(run, tmp_path)
