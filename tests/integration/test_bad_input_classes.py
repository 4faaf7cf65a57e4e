"""Hostile input through the real ansible-playbook: each class fails in one line and touches no file.

The cases run through ``playbooks/bad_input.yml`` (voice_compose and voice_env in a loop, ignoring
errors): names with a final newline or too long after prefixing, an empty deployment, catalogs that
are lists, malformed, binary, not UTF-8, with duplicates, host mounts or values with newlines or NUL,
and an environment.json that is not UTF-8. Each project directory starts as a copy of one seeded
deployment and must be byte-, mode- and mtime-identical afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from test_playbooks import KEY_VARS, LLM, MISSING_IMAGE, Ansible, ok, snapshot


@pytest.fixture
def ansible(tmp_path: Path, collections_path: Path) -> Ansible:
    return Ansible(tmp_path / "ansible", collections_path)


ACME_IMAGE = {"role": "asr", "name": "acme-asr", "image": "example/acme-asr:1", "port": 6090}
ACME_TEMPLATE = {"id": "acme", "stack": "modular", "images": {
    "asr": "asr/acme-asr", "llm": "llm/avr-llm-openai", "tts": "tts/avr-tts-deepgram"}}


def acme(**image: Any) -> Dict[str, Any]:
    return {"images": [dict(ACME_IMAGE, **image)], "templates": [ACME_TEMPLATE]}


#: case -> (task arguments, fragments the one error message must contain); "@name" is a catalog file
COMPOSE_CASES: Dict[str, Tuple[Dict[str, Any], List[str]]] = {
    "empty deployment": ({"deployment": ""}, ["deployment: ''", "not a safe name"]),
    "deployment with a final newline": ({"deployment": "openai\n"}, ["deployment: 'openai\\n'", "not a safe name"]),
    "deployment too long": ({"deployment": "d" * 64}, ["deployment: '%s'" % ("d" * 64), "at most 63"]),
    "deployment look-alike": ({"deployment": "ореnai"}, ["deployment: 'ореnai'", "not a safe name"]),
    "service_prefix with a final newline": ({"service_prefix": "a\n"}, ["service_prefix: 'a\\n'"]),
    "service_prefix too long after prefixing": (
        {"service_prefix": "p" * 50},
        ["service_prefix: '%s' makes the container name '%s-avr-asr-deepgram'" % ("p" * 50, "p" * 50),
         "67 characters long; Docker takes at most 63"]),
    "env service with a newline": ({"env": {"avr-core\n": {"PORT": "1"}}},
                                   ["env.avr-core\\n: unknown service 'avr-core\\n'"]),
    "env variable with NUL": ({"env": {"avr-core": {"PORT\u0000": "1"}}},
                              ["env.avr-core.PORT\\x00: service 'avr-core'"]),
    "providers role with a newline": ({"stack": "modular", "providers": {"asr\n": "vosk", "llm": "openai",
                                                                         "tts": "deepgram"}},
                                      ["providers.asr\\n: a modular stack takes providers for"]),
    "env value read from a file that is not UTF-8": (
        {"env": {LLM: {"SYSTEM_PROMPT": "{{ lookup('ansible.builtin.file', '@latin1.txt') }}"}}},
        ["env.%s.SYSTEM_PROMPT: value 'caf\\udce9' is not valid UTF-8" % LLM]),
    "template with a final newline": ({"template": "openai\n"}, ["template: unknown template 'openai\\n'"]),
    "compose_file with a final newline": ({"compose_file": "docker-compose.yml\n"},
                                          ["compose_file: 'docker-compose.yml\\n' must be a plain file name"]),
    "compose_file with a space": ({"compose_file": "my compose.yml"}, ["compose_file: 'my compose.yml'"]),
    "catalog given as a list": ({"catalog": [ACME_IMAGE]}, ["catalog: expected a file path or a mapping, got list"]),
    "catalog given as an integer": ({"catalog": 5}, ["catalog: expected a file path or a mapping, got int"]),
    "catalog file with a list": ({"catalog": "@list.yml"}, ["catalog: expected a mapping", "got list"]),
    "catalog file malformed": ({"catalog": "@malformed.yml"}, ["catalog: '", "malformed.yml' is not valid YAML",
                                                               "line 3"]),
    "catalog file binary": ({"catalog": "@binary.yml"}, ["catalog: '", "binary.yml' is a binary file"]),
    "catalog file not UTF-8": ({"catalog": "@latin1.yml"}, ["catalog: '", "latin1.yml' is not UTF-8 text",
                                                            "byte 0xe9"]),
    "catalog file with a key twice": ({"catalog": "@twice.yml"}, ["key 'images' is given twice"]),
    "catalog file missing": ({"catalog": "@absent.yml"}, ["catalog: cannot read '", "No such file"]),
    "catalog image twice": ({"template": "acme", "catalog": {"images": [ACME_IMAGE, ACME_IMAGE],
                                                             "templates": [ACME_TEMPLATE]}},
                            ["catalog.images[1].name: 'acme-asr' (role asr) is already defined at catalog.images[0]"]),
    "catalog template twice": ({"template": "acme", "catalog": {"images": [ACME_IMAGE],
                                                                "templates": [ACME_TEMPLATE, ACME_TEMPLATE]}},
                               ["catalog.templates[1].id: 'acme' is already defined at catalog.templates[0]"]),
    "catalog provider twice": ({"catalog": {"providers": [{"name": "acme"}, {"name": "acme"}]}},
                               ["catalog.providers[1].name: 'acme' is already defined at catalog.providers[0]"]),
    "catalog mounts the docker socket": ({"template": "acme", "catalog": acme(
        volumes=["/var/run/docker.sock:/var/run/docker.sock"])},
        ["catalog.images[0].volumes[0]", "host path '/var/run/docker.sock'", "host_paths"]),
    "catalog mounts /": ({"template": "acme", "catalog": acme(volumes=["/:/host"])},
                         ["catalog.images[0].volumes[0]", "host path '/'"]),
    "catalog mounts /etc": ({"template": "acme", "catalog": acme(volumes=["/etc:/etc:ro"])},
                            ["catalog.images[0].volumes[0]", "host path '/etc'"]),
    "catalog mounts ../..": ({"template": "acme", "catalog": acme(volumes=["../../:/up"])},
                             ["catalog.images[0].volumes[0]", "host path '../../'"]),
    "catalog default with a newline": ({"template": "acme", "catalog": acme(env=[{"name": "A", "default": "x\ny"}])},
                                       ["catalog.images[0].env[0].default: 'x\\ny' contains a newline"]),
    "catalog default with NUL": ({"template": "acme", "catalog": acme(env=[{"name": "A", "default": "x\u0000y"}])},
                                 ["catalog.images[0].env[0].default: 'x\\x00y' contains a NUL"]),
    "catalog name with a final newline": ({"catalog": acme(name="acme-asr\n")},
                                          ["catalog.images[0].name", "'acme-asr\\n'"]),
    "environment.json not UTF-8": ({"store": b'{"format": 1, "template": "openai", "services": {"caf\xe9": {}}}\n'},
                                   ["environment.json: not valid UTF-8 text (bad byte at offset 53)"]),
    "environment.json value not UTF-8": (
        {"store": b'{"format": 1, "template": "openai", "services": {"%s": {"SYSTEM_PROMPT": "\\udc80"}}}\n'
         % LLM.encode()}, ["SYSTEM_PROMPT: value '\\udc80' is not valid UTF-8"]),
    # the deployment's own files: paths inside the project that are none of its layout, real secrets
    "config file outside the project": ({"config_files": {"../escape.conf": "asterisk/ari.conf.j2"}},
                                        ["config_files: '../escape.conf' must be a relative path inside"]),
    "config file over a release": ({"config_files": {"releases/x/ari.conf": "asterisk/ari.conf.j2"}},
                                   ["config_files: 'releases/x/ari.conf' must be a relative path inside"]),
    "config file with a final newline": ({"config_files": {"asterisk/conf/ari.conf\n": "ari.conf.j2"}},
                                         ["config_files: 'asterisk/conf/ari.conf\\n' must be a relative path"]),
    "mount file that is environment.json": ({"mount_files": ["environment.json"]},
                                            ["mount_files: 'environment.json' must be a relative path inside"]),
    "mount file over the current link": ({"mount_files": ["current/release.json"]},
                                         ["mount_files: 'current/release.json' must be a relative path inside"]),
    "kept secret no image reads": ({"kept_secrets": ["AMI_PASSWORD\n"]},
                                   ["kept_secrets: 'AMI_PASSWORD\\n' is not a secret any image of the registry reads"]),
    "config template that does not exist": (
        {"config_files": {"asterisk/conf/ari.conf": "no-such.conf.j2"}},
        ["config_files.asterisk/conf/ari.conf: no Jinja template 'no-such.conf.j2'"]),
}
ENV_CASES: Dict[str, Tuple[Dict[str, Any], List[str]]] = {
    "set a service with a newline": ({"set": {"avr-core\n": {"PORT": "1"}}},
                                     ["set.avr-core\\n: unknown service 'avr-core\\n'"]),
    "unset a service with a newline": ({"unset": {"avr-core\n": ["PORT"]}},
                                       ["unset.avr-core\\n: unknown service 'avr-core\\n'"]),
    "set a value with a final newline": ({"set": {LLM: {"OPENAI_MODEL": "gpt-4o\n"}}},
                                         ["set.%s.OPENAI_MODEL: value 'gpt-4o\\n' contains a newline" % LLM]),
    "catalog given as a list": ({"catalog": [ACME_IMAGE]}, ["catalog: expected a file path or a mapping, got list"]),
    "catalog file malformed": ({"catalog": "@malformed.yml"}, ["is not valid YAML"]),
    "catalog image twice": ({"template": "acme", "catalog": {"images": [ACME_IMAGE, ACME_IMAGE],
                                                             "templates": [ACME_TEMPLATE]}},
                            ["catalog.images[1].name: 'acme-asr' (role asr) is already defined"]),
    "catalog default with a newline": ({"template": "acme", "catalog": acme(env=[{"name": "A", "default": "x\ny"}])},
                                       ["catalog.images[0].env[0].default: 'x\\ny' contains a newline"]),
    "environment.json not UTF-8": ({"store": b'{"format": 1, "template": "openai", "services": {"caf\xe9": {}}}\n'},
                                   ["environment.json: not valid UTF-8 text"]),
    "environment.json value not UTF-8": (
        {"store": b'{"format": 1, "template": "openai", "services": {"%s": {"SYSTEM_PROMPT": "\\udc80"}}}\n'
         % LLM.encode()}, ["SYSTEM_PROMPT: value '\\udc80' is not valid UTF-8"]),
}

CATALOG_FILES = {
    "list.yml": b"- role: asr\n  name: x\n",
    "malformed.yml": b"images:\n  - role: asr\n name: x\n",
    "binary.yml": b"\x7fELF\x02\x01\x01\x00\x00\x00",
    "latin1.yml": b"images: []\ndescription: caf\xe9\n",
    "twice.yml": b"images: []\nproviders: []\nimages: []\n",
    "latin1.txt": b"caf\xe9",
}


def test_each_class_of_bad_input_fails_in_one_line_and_changes_nothing(ansible: Ansible, tmp_path: Path) -> None:
    base = tmp_path / "base"
    ok(ansible.run("env_seed.yml", dict(KEY_VARS, root=str(base))))
    files = tmp_path / "catalogs"
    files.mkdir()
    for name, data in CATALOG_FILES.items():
        (files / name).write_bytes(data)
    cases = tmp_path / "cases"
    loops: Dict[str, List[Dict[str, Any]]] = {"compose": [], "env": []}
    for kind, table in (("compose", COMPOSE_CASES), ("env", ENV_CASES)):
        for index, (case, (args, _expected)) in enumerate(table.items()):
            project = cases / ("%s-%02d" % (kind, index))
            shutil.copytree(base / "openai", project)
            item = dict({"case": case, "project_dir": str(project), "template": "openai"}, **args)
            if "stack" in args:
                del item["template"]
            store = item.pop("store", None)
            if store is not None:
                (project / "environment.json").write_bytes(store)
            catalog = item.get("catalog")
            if isinstance(catalog, str) and catalog.startswith("@"):
                item["catalog"] = str(files / catalog[1:])
            item = json.loads(json.dumps(item).replace("'@latin1.txt'", repr(str(files / "latin1.txt"))))
            loops[kind].append(item)
    before = snapshot(cases)
    catalogs_before = snapshot(files)

    run = ok(ansible.run("bad_input.yml", {"compose_cases": loops["compose"], "env_cases": loops["env"],
                                           "missing_catalog": MISSING_IMAGE}))
    assert snapshot(cases) == before, "a refused task changed files on disk"
    assert snapshot(files) == catalogs_before

    problems = []
    for task, table in (("Bad voice_compose input", COMPOSE_CASES), ("Bad voice_env input", ENV_CASES)):
        results = run.task(task)["results"]
        assert [r["item"]["case"] for r in results] == list(table), results
        for result in results:
            case = result["item"]["case"]
            msg = str(result.get("msg", ""))
            where = "%s / %s: %r" % (task, case, msg)
            if not result.get("failed"):
                problems.append("%s: did not fail" % where)
                continue
            if "Traceback" in msg + str(result.get("exception", "")) or "Unexpected failure" in msg \
                    or "\n" in msg or "\r" in msg:
                problems.append("%s: not one clear line (or an unexpected exception)" % where)
            if "_Ansible" in msg:
                problems.append("%s: names an internal Ansible type instead of the YAML type" % where)
            problems += ["%s: lacks %r" % (where, frag) for frag in table[case][1] if frag not in msg]
    assert not problems, "%d problems:\n%s" % (len(problems), "\n".join(problems))


HEALTH_CATALOG = {
    "images": [{"role": "app", "name": "probe", "image": "example/probe:v1.0.0", "port": 8080,
                "healthcheck": {"test": ["CMD-SHELL", "curl -f localhost:$PORT/health || exit 1"]},
                "env": [{"name": "PORT", "default": "8080"}],
                "volumes": ["/var/run/docker.sock:/var/run/docker.sock", "./data:/data"],
                "host_paths": ["/var/run/docker.sock"]}],
    "templates": [{"id": "probe", "stack": "plain", "extras": ["app/probe"]}],
}


def test_a_catalog_health_check_reaches_compose_literally(ansible: Ansible, tmp_path: Path,
                                                          docker_compose: List[str]) -> None:
    """A marked host mount is taken, and Compose sees the health check's '$PORT' as text, not as a variable."""
    project = tmp_path / "probe"
    (tmp_path / "catalog.yml").write_text(yaml.safe_dump(HEALTH_CATALOG))
    run = ok(ansible.run("bad_input.yml", {"compose_cases": [
        {"case": "good", "project_dir": str(project), "template": "probe", "catalog": str(tmp_path / "catalog.yml")}],
        "env_cases": [], "missing_catalog": MISSING_IMAGE}))
    result = run.task("Bad voice_compose input")["results"][0]
    assert not result.get("failed") and result["changed"], result.get("msg", result)
    proc = subprocess.run(docker_compose + ["--project-directory", str(project), "-f", "docker-compose.yml",
                                            "config", "--format", "json"],
                          cwd=project, capture_output=True, text=True, check=False,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PORT": ""})
    assert proc.returncode == 0, proc.stderr
    assert "PORT" not in proc.stderr, "Compose interpolated the health check: %s" % proc.stderr
    service = json.loads(proc.stdout)["services"]["probe"]
    assert service["healthcheck"]["test"][1] in ("curl -f localhost:$PORT/health || exit 1",
                                                 "curl -f localhost:$$PORT/health || exit 1"), service["healthcheck"]
    assert "localhost:/health" not in service["healthcheck"]["test"][1]
    assert [v["source"] for v in service["volumes"]] == ["/var/run/docker.sock", str(project / "data")]
