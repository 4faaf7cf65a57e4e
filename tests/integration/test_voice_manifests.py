"""voiceops.avr.voice_manifests through a real ansible-playbook run: check mode writes nothing, a real run writes
kubernetes/manifests.yml (and the configuration files, 0600), a re-run changes nothing; no provider key or secret
(unique markers, and a common word) reaches the manifests, the result or the diff; the returned resources are
the file's documents; bad input fails in one line naming the field and leaves every file as it was.
"""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Tuple

import yaml
from ansible_env import run_playbook

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "roles" / "stack" / "templates" / "asterisk"
KEYS = {"openai": "MARKER-openai-7f3a", "deepgram": "MARKER-deepgram-1c9e"}
SECRETS = {"AMI_PASSWORD": "MARKER-ami-52d1", "ARI_PASSWORD": "dialplan"}  # a word the configuration files hold
PLAYBOOK = """---
- name: Kubernetes resources
  hosts: localhost
  gather_facts: false
  vars_files:
    - %s
  vars:
    stack_deployment: support
  tasks:
    - name: Render the resources
      voiceops.avr.voice_manifests: "{{ manifests_args }}"
      register: manifests
    - name: Keep the result
      ansible.builtin.copy:
        content: "{{ manifests | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
      check_mode: false
""" % (ROOT / "roles" / "stack" / "defaults" / "main.yml")


def tree(root: Path) -> Dict[str, Tuple[int, int, float]]:
    return {str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mode, p.lstat().st_mtime)
            for p in sorted(root.rglob("*"))}


def run(tmp: Path, collections_path: Path, *args: str,
        **overrides: Any) -> Tuple["subprocess.CompletedProcess[str]", Any]:
    project = tmp / "project"
    manifests_args = {
        "template": "openai", "deployment": "support", "project_dir": str(project),
        "provider_keys": KEYS, "secrets": SECRETS, "namespace": "voice",
        "registry_accounts": [{"name": "mirror", "url": "registry.example.org", "username": "robot",
                               "credential_ref": "k8s:voice/registry-pull"},
                              {"name": "hub", "url": "docker.io", "username": "me",
                               "credential_ref": {"env": "HUB_TOKEN"}}],
        "config_files": {"asterisk/conf/%s.conf" % name: str(TEMPLATES / ("%s.conf.j2" % name))
                         for name in ("ari", "extensions", "manager", "pjsip", "queues")},
    }
    manifests_args.update(overrides)
    result_file = tmp / "result.json"
    if result_file.exists():
        result_file.unlink()
    variables = {"manifests_args": manifests_args, "result_file": str(result_file),
                 "ansible_python_interpreter": sys.executable, "ansible_connection": "local"}
    proc = run_playbook(tmp, collections_path, PLAYBOOK, variables, *args, timeout=300)
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return proc, result


def no_secret(*texts: str) -> None:
    for text in texts:
        for value in list(KEYS.values()) + [SECRETS["AMI_PASSWORD"]]:
            assert value not in text


def test_check_run_and_rerun(tmp_path: Path, collections_path: Path) -> None:
    project = tmp_path / "project"
    proc, result = run(tmp_path, collections_path, "--check", "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert not project.exists(), "check mode wrote something"
    assert result["changed"] is True and MANIFESTS_NAME in result["written"]
    no_secret(proc.stdout, proc.stderr, json.dumps(result))
    assert "kind: Deployment" in proc.stdout  # the diff shows the manifests

    proc, result = run(tmp_path, collections_path, "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert result["changed"] is True
    manifests = project / MANIFESTS_NAME
    text = manifests.read_text()
    no_secret(proc.stdout, proc.stderr, json.dumps(result), text)
    documents = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    assert documents == result["resources"]
    assert result["namespace"] == "voice" and result["dest"] == str(manifests)
    assert {"kind": "Secret", "name": "registry-pull", "keys": [".dockerconfigjson"]} in result["references"]
    assert result["host_network"] == ["avr-asterisk"]
    pods = [r["spec"]["template"]["spec"] for r in result["resources"] if r["kind"] == "Deployment"]
    assert all(pod["imagePullSecrets"] == [{"name": "registry-pull"}] for pod in pods)
    assert not any(str(SECRETS["ARI_PASSWORD"]) == value for r in result["resources"]
                   for value in (r.get("data") or {}).values())
    assert re.search(r"^# registry: 2026\.06 sha256:[0-9a-f]{64}$", text, re.M)
    assert stat.S_IMODE(manifests.stat().st_mode) == 0o644
    manager = project / "asterisk" / "conf" / "manager.conf"
    assert stat.S_IMODE(manager.stat().st_mode) == 0o600 and SECRETS["AMI_PASSWORD"] in manager.read_text()
    assert not (project / "docker-compose.yml").exists()
    configmap = next(r for r in result["resources"] if r["metadata"]["name"] == "support-config")
    assert sorted(configmap["data"]) == ["asterisk-conf-extensions.conf", "asterisk-conf-pjsip.conf",
                                         "asterisk-conf-queues.conf"]

    before = tree(project)
    proc, result = run(tmp_path, collections_path, "--diff")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert result["changed"] is False and result["written"] == []
    assert tree(project) == before

    # a changed configuration file: the manifests change, and only the pod that mounts it rolls
    old = {r["metadata"]["name"]: r for r in documents if r["kind"] == "Deployment"}
    proc, result = run(tmp_path, collections_path, "--diff", env={"avr-core": {"SYSTEM_MESSAGE": "Bonjour"}})
    assert proc.returncode == 0, proc.stdout[-4000:]
    new = {r["metadata"]["name"]: r for r in result["resources"] if r["kind"] == "Deployment"}
    rolled = [name for name in new if new[name]["spec"]["template"]["metadata"]["annotations"]
              != old[name]["spec"]["template"]["metadata"]["annotations"]]
    assert rolled == ["avr-core"]


MANIFESTS_NAME = "kubernetes/manifests.yml"


def test_bad_input_fails_in_one_line_and_changes_nothing(tmp_path: Path, collections_path: Path) -> None:
    proc, _result = run(tmp_path, collections_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    project = tmp_path / "project"
    before = tree(project)
    cases = [
        ({"deployment": "my_stack"}, "deployment: 'my_stack' is not a Kubernetes name"),
        ({"registry_accounts": [{"credential_ref": "k8s:other/pull"}]},
         "registry_accounts[0].credential_ref: the Kubernetes Secret 'other/pull' is in namespace 'other'"),
        ({"registry_accounts": [{"credential_ref": {"k8s": "voice"}}]},
         "registry_accounts[0].credential_ref: 'k8s:voice' is not k8s:<namespace>/<name>"),
        ({"ports": {"avr-core": ["20000-20200:20000-20200/udp"]}},
         "ports.avr-core[0]: '20000-20200:20000-20200/udp' is a range of 201 ports"),
        ({"compose_file": "x.yml"}, "compose_file"),
    ]
    for overrides, message in cases:
        proc, _result = run(tmp_path, collections_path, **overrides)
        assert proc.returncode != 0, (overrides, proc.stdout[-3000:])
        fatal = [line for line in proc.stdout.splitlines() if line.startswith("fatal:")]
        assert fatal and message in fatal[-1], (message, proc.stdout[-3000:])
        assert tree(project) == before, overrides
        no_secret(proc.stdout, proc.stderr)


def test_a_deployment_keeps_the_generation_its_manifests_name(tmp_path: Path, collections_path: Path) -> None:
    """The manifests file's header names the registry generation; a later task that names none keeps it."""
    proc, result = run(tmp_path, collections_path, registry_version="2025.09")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert result["registry_version"] == "2025.09" and result["registry_version_before"] is None
    proc, result = run(tmp_path, collections_path)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert result["registry_version"] == "2025.09" and result["registry_version_before"] == "2025.09"
    assert result["changed"] is False
    proc, result = run(tmp_path, collections_path, registry_version="2026.06")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert result["registry_version"] == "2026.06" and result["registry_version_before"] == "2025.09"
    assert result["changed"] is True
