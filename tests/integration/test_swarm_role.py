"""The stack role with ``stack_engine: swarm`` on a real single-node Swarm, stand-in images from the local registry.

One deployment (template ultravox of generation 2025.09, its core given the stand-in's STANDIN_FAULTS through a
catalog, as in test_gate.py) goes through the release machinery on Swarm:
- the first run deploys the stack file with community.docker.docker_stack and passes voiceops.avr.swarm_gate; the
  release is staged then active; provider keys and secrets are files in the containers (/run/secrets), in no stack
  file and in no output;
- an unchanged re-run changes nothing and updates no service;
- check mode with a change writes nothing and deploys nothing;
- an update to v1.1.0 whose core exits at once: Swarm rolls the update back by itself; the gate fails it, the role
  records the release failed, restores the previous one and records it active again - the release record and what
  Swarm runs agree (v1.0.0);
- an update to v1.1.0 without the fault, with a rotated AMI password, passes: the new password is a new versioned
  secret in the container, and the stack's secrets and configs no service uses any more are removed;
- absent removes the services, networks, secrets and configs of the stack.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import builtin, image_data

from ansible_env import run_playbook

STACK = "swr-ultravox"
ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: voiceops.avr.stack
"""
KEYS = {"ultravox": "ux-swarm-marker-0001"}
SECRETS = {"AMI_PASSWORD": "amipass-swarm-marker-0002"}


def catalog() -> Dict[str, Any]:
    core = image_data(builtin("2025.09").images["core/avr-core"])
    del core["key"]
    core["env"].append({"name": "STANDIN_FAULTS", "description": "stand-in faults per version"})
    return {"images": [core]}


def variables(project: Path, tag: str, faults: str = "v1.1.0=exit", **extra: Any) -> Dict[str, Any]:
    base = {
        "stack_template": "ultravox", "stack_registry_version": "2025.09", "stack_deployment": STACK,
        "stack_engine": "swarm", "stack_catalog": catalog(), "stack_project_dir": str(project),
        "stack_provider_keys": KEYS, "stack_secrets": SECRETS, "stack_image_prefix": "localhost:5000/",
        "stack_tag": tag, "stack_tag_environment": "prod", "stack_subnet": "10.232.0.0/24",
        "stack_ports": {"avr-core": ["25401:5001"], "avr-asterisk": ["25460:5060"], "avr-ami": []},
        "stack_management_address": "", "stack_stability_window": 3, "stack_wait_timeout": 90,
        "stack_env": {"avr-core": {"STANDIN_FAULTS": faults},
                      "avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-swarm"}},
    }
    base.update(extra)
    return base


def play(tmp: Path, collections_path: Path, project: Path, tag: str, *args: str, **extra: Any):
    proc = run_playbook(tmp, collections_path, ROLE_PLAY, variables(project, tag, **extra), *args)
    for value in list(KEYS.values()) + list(SECRETS.values()):
        assert value not in proc.stdout + proc.stderr, "a secret reached the play's output"
    return proc


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=True).stdout


def services() -> Dict[str, Dict[str, Any]]:
    ids = docker("service", "ls", "-q", "--filter", "label=com.docker.stack.namespace=%s" % STACK).split()
    if not ids:
        return {}
    return {item["Spec"]["Name"][len(STACK) + 1:]: item for item in json.loads(docker("service", "inspect", *ids))}


def image_tag(item: Dict[str, Any]) -> str:
    return item["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0].rsplit(":", 1)[1]


def objects(kind: str) -> List[str]:
    """The names of the stack's Swarm secrets or configs."""
    label = "label=com.docker.stack.namespace=%s" % STACK
    return docker(kind, "ls", "--filter", label, "--format", "{{.Name}}").split()


def history(project: Path) -> List[str]:
    lines = (project / "releases" / "history.jsonl").read_text().splitlines()
    return [json.loads(line)["status"] for line in lines if line.strip()]


def recap(proc) -> str:
    return next((line for line in proc.stdout.splitlines() if line.startswith("localhost") and "ok=" in line), "")


def in_container(service: str, *argv: str) -> str:
    container = docker("ps", "-q", "--filter", "label=com.docker.swarm.service.name=%s_%s" % (STACK, service)).split()
    assert container, "no running container of %s" % service
    return docker("exec", container[0], *argv)


def test_the_role_runs_releases_on_swarm(tmp_path, collections_path, swarm):
    project = tmp_path / "project"
    try:
        first = play(tmp_path, collections_path, project, "v1.0.0")
        assert first.returncode == 0, first.stdout[-6000:]
        found = services()
        assert sorted(found) == ["avr-ami", "avr-asterisk", "avr-core", "avr-sts-ultravox"], sorted(found)
        assert {image_tag(item) for item in found.values()} == {"v1.0.0"}
        assert history(project) == ["staged", "active"]
        stack_text = (project / "docker-stack.yml").read_text()
        for value in list(KEYS.values()) + list(SECRETS.values()):
            assert value not in stack_text
        # the provider key and the AMI password are Swarm secrets, files in the containers that read them
        assert in_container("avr-sts-ultravox", "cat", "/run/secrets/ULTRAVOX_API_KEY").strip() == KEYS["ultravox"]
        assert in_container("avr-ami", "cat", "/run/secrets/AMI_PASSWORD").strip() == SECRETS["AMI_PASSWORD"]
        updated = {name: item["UpdatedAt"] for name, item in found.items()}

        again = play(tmp_path, collections_path, project, "v1.0.0")
        assert again.returncode == 0 and "changed=0" in recap(again), again.stdout[-4000:]
        assert {name: item["UpdatedAt"] for name, item in services().items()} == updated

        files = sorted(str(p.relative_to(project)) for p in project.rglob("*"))
        checked = play(tmp_path, collections_path, project, "v1.1.0", "--check", "--diff")
        assert checked.returncode == 0, checked.stdout[-4000:]
        assert sorted(str(p.relative_to(project)) for p in project.rglob("*")) == files
        assert {image_tag(item) for item in services().values()} == {"v1.0.0"}

        bad = play(tmp_path, collections_path, project, "v1.1.0")
        assert bad.returncode != 0
        assert "Swarm rolled its update back" in bad.stdout and "service avr-core" in bad.stdout, bad.stdout[-6000:]
        assert "Rolled back to release" in bad.stdout, bad.stdout[-4000:]
        assert history(project) == ["staged", "active", "staged", "failed", "active"], history(project)
        after = services()
        assert {image_tag(item) for item in after.values()} == {"v1.0.0"}  # what Swarm runs = the record
        # Swarm rolled back by itself (the gate said so above); the role's redeploy of the restored release left it
        assert (after["avr-core"].get("UpdateStatus") or {}).get("State") in (None, "completed", "rollback_completed")
        record = json.loads((project / "current" / "release.json").read_text())
        assert set(record["tags"].values()) == {"v1.0.0"}

        before = set(objects("secret"))
        rotated = dict(SECRETS, AMI_PASSWORD="amipass-swarm-marker-0003")
        good = play(tmp_path, collections_path, project, "v1.1.0", faults="", stack_secrets=rotated)
        assert good.returncode == 0, good.stdout[-6000:]
        assert rotated["AMI_PASSWORD"] not in good.stdout
        now = services()
        assert {image_tag(item) for item in now.values()} == {"v1.1.0"}
        assert history(project)[-2:] == ["staged", "active"]
        assert in_container("avr-ami", "cat", "/run/secrets/AMI_PASSWORD").strip() == rotated["AMI_PASSWORD"]
        # a rotated secret is a new versioned name; the old one, which no service uses now, is gone
        used = {ref["SecretName"] for item in now.values()
                for ref in item["Spec"]["TaskTemplate"]["ContainerSpec"].get("Secrets") or []}
        assert set(objects("secret")) == used and used - before and before - used
        assert set(objects("config")) == {ref["ConfigName"] for item in now.values()
                                          for ref in item["Spec"]["TaskTemplate"]["ContainerSpec"].get("Configs") or []}
    finally:
        gone = play(tmp_path, collections_path, project, "v1.0.0", stack_state="absent")
    assert gone.returncode == 0, gone.stdout[-4000:]
    assert services() == {}
    label = "label=com.docker.stack.namespace=%s" % STACK
    assert docker("secret", "ls", "-q", "--filter", label).split() == []
    assert docker("config", "ls", "-q", "--filter", label).split() == []
    assert docker("network", "ls", "-q", "--filter", label).split() == []
