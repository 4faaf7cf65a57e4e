"""The stack role included in a caller's loop over three deployments with different inputs, on the
host's real Docker engine (stand-in images from the local registry).

Each iteration must use only its own inputs: nothing one deployment registered may leak into the next
(its plan, digests, credentials, configuration, gate data, release). Proven by what lands on the host:
each project has its own compose project, containers, ports, credentials and Asterisk configuration, and
a release whose record names it; a second run of the same loop changes nothing; a third run that changes
only the middle deployment makes a release there and nowhere else.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from ansible_collections.voiceops.avr.plugins.module_utils.registry.generations import newest

ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
KEYS = {"openai": "sk-loop-not-real-0001", "deepgram": "dg-loop-not-real-0002", "ultravox": "ux-loop-not-real-0003"}

DEPLOYMENTS: List[Dict[str, Any]] = [
    {"stack_template": "openai", "stack_deployment": "loop-one", "stack_service_prefix": "lp1",
     "stack_subnet": "172.29.121.0/24",
     "stack_ports": {"avr-core": ["27001:5001"], "avr-asterisk": ["27060:5060"], "avr-ami": ["27006:6006"],
                     "avr-phone": ["27080:80"]}},
    {"stack_kind": "sts", "stack_providers": {"sts": "ultravox"}, "stack_deployment": "loop-two",
     "stack_service_prefix": "lp2", "stack_subnet": "172.29.122.0/24", "stack_registry_version": "2025.09",
     "stack_ports": {"avr-core": ["27101:5001"], "avr-asterisk": ["27160:5060"], "avr-ami": []},
     "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-loop-two"}}, "stack_sip_port": 5061},
    {"stack_template": "ultravox", "stack_deployment": "loop-three", "stack_service_prefix": "lp3",
     "stack_subnet": "172.29.123.0/24", "stack_ami_password": "given-ami-password-three",
     "stack_ports": {"avr-core": ["27201:5001"], "avr-asterisk": ["27260:5060"], "avr-ami": [],
                     "avr-phone": ["27280:80"]},
     "stack_env": {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-loop-three"}}},
]

PLAYBOOK = """---
- name: Three deployments through one role, in a loop
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Each deployment
      ansible.builtin.include_role:
        name: voiceops.avr.stack
      vars:
        stack_template: "{{ item.stack_template | default('') }}"
        stack_kind: "{{ item.stack_kind | default('') }}"
        stack_providers: "{{ item.stack_providers | default({}) }}"
        stack_deployment: "{{ item.stack_deployment }}"
        stack_project_dir: "{{ root }}/{{ item.stack_deployment }}"
        stack_service_prefix: "{{ item.stack_service_prefix }}"
        stack_subnet: "{{ item.stack_subnet }}"
        stack_ports: "{{ item.stack_ports }}"
        stack_registry_version: "{{ item.stack_registry_version | default('') }}"
        stack_env: "{{ item.stack_env | default({}) }}"
        stack_sip_port: "{{ item.stack_sip_port | default(5060) }}"
        stack_ami_password: "{{ item.stack_ami_password | default('') }}"
      loop: "{{ deployments }}"
      loop_control:
        label: "{{ item.stack_deployment }}"
"""


def run(tmp: Path, collections_path: Path, deployments: List[Dict[str, Any]]) -> subprocess.CompletedProcess:
    play = tmp / "loop.yml"
    play.write_text(PLAYBOOK)
    variables = {"deployments": deployments, "root": str(tmp / "projects"), "stack_provider_keys": KEYS,
                 "stack_image_prefix": "localhost:5000/", "stack_publish_address": "127.0.0.1",
                 "stack_stability_window": 3, "stack_wait_timeout": 90,
                 "ansible_python_interpreter": sys.executable, "ansible_connection": "local"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_RETRY_FILES_ENABLED="0")
    proc = subprocess.run([str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(play), "-e", json.dumps(variables)],
                          capture_output=True, text=True, env=env, check=False, timeout=900)
    for key in list(KEYS.values()) + ["given-ami-password-three"]:
        assert key not in proc.stdout + proc.stderr, "a secret leaked into the play output"
    return proc


def changed(proc: subprocess.CompletedProcess) -> int:
    for line in proc.stdout.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    raise AssertionError("no recap:\n" + proc.stdout[-4000:])


def history(project: Path) -> List[Dict[str, Any]]:
    return [json.loads(line) for line in (project / "releases" / "history.jsonl").read_text().splitlines()]


def down(root: Path) -> None:
    for dep in DEPLOYMENTS:
        project = root / dep["stack_deployment"]
        if (project / "docker-compose.yml").exists():
            subprocess.run(["docker", "compose", "--project-directory", str(project), "down", "-v",
                            "--remove-orphans"], capture_output=True, check=False)


def test_role_in_a_loop_keeps_each_deployment_to_its_own_inputs(tmp_path: Path, collections_path: Path) -> None:
    root = tmp_path / "projects"
    try:
        proc = run(tmp_path, collections_path, DEPLOYMENTS)
        assert proc.returncode == 0, proc.stdout[-8000:]
        passwords = []
        for dep in DEPLOYMENTS:
            name, project = dep["stack_deployment"], root / dep["stack_deployment"]
            compose = (project / "docker-compose.yml").read_text()
            assert "\nname: %s\n" % name in compose
            # its own registry generation (2025.09 when it asks, else the newest: with the browser phone)
            generation = dep.get("stack_registry_version") or newest()
            assert "# registry: %s sha256:" % generation in compose
            assert ("%s-avr-phone" % dep["stack_service_prefix"] in compose) == (generation != "2025.09")
            others = [d["stack_deployment"] for d in DEPLOYMENTS if d is not dep]
            assert not any(("%s-" % d["stack_service_prefix"]) in compose for d in DEPLOYMENTS if d is not dep)
            # its own containers run, in its own compose project
            ps = subprocess.run(["docker", "compose", "--project-directory", str(project), "ps", "--format",
                                 "{{.Name}} {{.State}}"], capture_output=True, text=True, check=True).stdout.split("\n")
            states = dict(line.split() for line in ps if line.strip())
            assert states and all(state == "running" for state in states.values()), states
            assert all(c.startswith(dep["stack_service_prefix"] + "-") for c in states), states
            # its own ports and SIP port in its Asterisk configuration
            host_core = dep["stack_ports"]["avr-core"][0].split(":", 1)[0]
            assert "127.0.0.1:%s:5001" % host_core in compose
            pjsip = (project / "asterisk" / "conf" / "pjsip.conf").read_text()
            assert "bind = 0.0.0.0:%d" % dep.get("stack_sip_port", 5060) in pjsip
            extensions = (project / "asterisk" / "conf" / "extensions.conf").read_text()
            assert "%s-avr-core:5001" % dep["stack_service_prefix"] in extensions
            # its own credentials: kept on its host, in its Asterisk configuration, in no other project
            credentials = json.loads((project / ".credentials.json").read_text())
            assert oct((project / ".credentials.json").stat().st_mode & 0o777) == "0o600"
            manager = (project / "asterisk" / "conf" / "manager.conf").read_text()
            assert "secret = %s" % credentials["ami_password"] in manager
            if "stack_ami_password" in dep:
                assert credentials["ami_password"] == dep["stack_ami_password"]
            passwords.append(credentials["ami_password"])
            # one release, active, recording this deployment and no other
            records = history(project)
            assert [r["status"] for r in records] == ["staged", "active"], records
            meta = json.loads((project / "current" / "release.json").read_text())
            assert meta["deployment"] == name and meta["inputs"]["deployment"] == name
            assert sorted(meta["gate"]) == sorted(states), (meta["gate"], states)
            assert not any(other in json.dumps(meta) for other in others)
        assert len(set(passwords)) == 3, "two deployments share an AMI password"

        # the same loop again changes nothing
        again = run(tmp_path, collections_path, DEPLOYMENTS)
        assert again.returncode == 0 and changed(again) == 0, again.stdout[-8000:]
        assert all(len(history(root / d["stack_deployment"])) == 2 for d in DEPLOYMENTS)

        # a change to the middle deployment only: a release there, none elsewhere
        edited = [dict(d) for d in DEPLOYMENTS]
        edited[1]["stack_env"] = {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-loop-two-b"}}
        third = run(tmp_path, collections_path, edited)
        assert third.returncode == 0, third.stdout[-8000:]
        counts = {d["stack_deployment"]: len(history(root / d["stack_deployment"])) for d in DEPLOYMENTS}
        assert counts == {"loop-one": 2, "loop-two": 4, "loop-three": 2}, counts
        assert "agent-loop-two-b" in (root / "loop-two" / "docker-compose.yml").read_text()
        assert "agent-loop-two-b" not in (root / "loop-three" / "docker-compose.yml").read_text()
    finally:
        down(root)
