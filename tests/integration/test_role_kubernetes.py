"""The stack role with ``stack_engine: kubernetes``: kubernetes.core.k8s, through the real Python client, against the
in-process fake API server of tests/fake_k8s.py (kmock), whose controller step makes a Deployment available only
when every image of its pods is tagged v1.0.0.

One deployment goes through the release machinery:
- the first run writes kubernetes/manifests.yml, applies it (every resource stored as rendered), waits for the
  Deployments and records the release staged then active (its main file kubernetes/manifests.yml);
- an unchanged re-run changes nothing (changed=0) and sends the server no write;
- check mode with a change writes no file and sends the server no write;
- a template change (openai-realtime -> ultravox: the service avr-sts-openai is gone) is applied and the resources
  of this deployment the new release no longer has are deleted, a planted stale one included; another
  deployment's resource and an unlabelled one stay;
- an update to v1.1.0 (the fake never makes its Deployments available) fails its gate, is recorded failed, and the
  previous release is re-applied (the cluster holds v1.0.0 again) and recorded active;
- the rollback entry point goes back to the openai-realtime release: re-applied, avr-sts-ultravox pruned;
- absent deletes the deployment's resources by label, and nothing else.
No provider key or secret value is in any request the server received, in the output or in any file of the
project readable by group or others.

What the fake proves: the role's task flow (plan, stage, gate, prune, rollback, absent) against a real client:
discovery, apply's three-way merge computing no patch for an unchanged resource, waits reading a Deployment's
status, label selectors, deletes. What it cannot: a real API server's validation, defaulting, admission and
finalizers; scheduling, pods, images being pulled, probes, a rollout progressing over time (the status is set
at once); dry-run; server-side apply; Namespaces (kmock 0.8 cannot serve /api/v1/namespaces: the resources go
into an existing namespace, stack_kubernetes_namespace, and the namespace deletion of absent is not exercised).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, Dict, List

import yaml
from ansible_env import run_playbook
from fake_k8s import FakeCluster

DEPLOYMENT = "k8r-support"
NAMESPACE = "voice"
KEYS = {"openai": "MARKER-k8r-openai-5e1a", "ultravox": "MARKER-k8r-ultravox-77b3"}
SECRETS = {"AMI_PASSWORD": "MARKER-k8r-ami-0c4d", "ARI_PASSWORD": "MARKER-k8r-ari-19fe"}
LABELS = {"app.kubernetes.io/instance": DEPLOYMENT, "app.kubernetes.io/managed-by": "voiceops.avr"}
ROLE_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  roles:
    - role: voiceops.avr.stack
"""
ROLLBACK_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Roll back
      ansible.builtin.include_role:
        name: voiceops.avr.stack
        tasks_from: rollback
"""


def v1_only(obj: Dict[str, Any]) -> bool:
    containers = obj["spec"]["template"]["spec"]["containers"]
    return all(c["image"].split("@")[0].endswith(":v1.0.0") for c in containers)


def variables(project: Path, kubeconfig: Path, template: str, tag: str, **extra: Any) -> Dict[str, Any]:
    base = {"stack_engine": "kubernetes", "stack_template": template, "stack_registry_version": "2025.09",
            "stack_deployment": DEPLOYMENT, "stack_project_dir": str(project),
            "stack_kubernetes_namespace": NAMESPACE, "stack_kubernetes_kubeconfig": str(kubeconfig),
            "stack_provider_keys": KEYS, "stack_secrets": SECRETS, "stack_tag": tag,
            "stack_tag_environment": "prod", "stack_wait_timeout": 4}
    if template == "ultravox":
        base["stack_env"] = {"avr-sts-ultravox": {"ULTRAVOX_AGENT_ID": "agent-k8r"}}
    base.update(extra)
    return base


def recap(proc: Any) -> str:
    return next((line for line in proc.stdout.splitlines() if line.startswith("localhost") and "ok=" in line), "")


def history(project: Path) -> List[str]:
    lines = (project / "releases" / "history.jsonl").read_text().splitlines()
    return [json.loads(line)["status"] for line in lines if line.strip()]


def writes(cluster: FakeCluster) -> List[str]:
    assert cluster.emulator is not None
    changing = ("POST", "PUT", "PATCH", "DELETE")
    return ["%s %s" % (r.method, r.url) for r in cluster.emulator._requests if r.method in changing]


def images(cluster: FakeCluster) -> Dict[str, str]:
    return {name: obj["spec"]["template"]["spec"]["containers"][0]["image"]
            for name, obj in cluster.objects("apps/v1/deployments", NAMESPACE).items()}


def names(cluster: FakeCluster) -> Dict[str, List[str]]:
    return {plural: sorted(cluster.objects(plural, NAMESPACE))
            for plural in ("apps/v1/deployments", "v1/services", "v1/configmaps")}


def labelled(kind: str, name: str, labels: Dict[str, str]) -> Dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
            "data": {"a": "b"}}


def test_the_role_runs_releases_on_kubernetes(tmp_path: Path, collections_path: Path) -> None:
    project = tmp_path / "project"
    kubeconfig = tmp_path / "kubeconfig"
    outputs: List[str] = []

    def play(cluster: FakeCluster, template: str, tag: str, *args: str, **extra: Any) -> Any:
        proc = run_playbook(tmp_path, collections_path, ROLE_PLAY,
                            variables(project, kubeconfig, template, tag, **extra), *args, timeout=600)
        outputs.append(proc.stdout + proc.stderr)
        return proc

    with FakeCluster(available=v1_only) as cluster:
        kubeconfig.write_text(yaml.safe_dump(cluster.kubeconfig()))
        kubeconfig.chmod(0o600)

        first = play(cluster, "openai-realtime", "v1.0.0")
        assert first.returncode == 0, first.stdout[-6000:]
        manifests = list(yaml.safe_load_all((project / "kubernetes" / "manifests.yml").read_text()))
        rendered = {(r["kind"], r["metadata"]["name"]) for r in manifests if r}
        held = names(cluster)
        assert held["apps/v1/deployments"] == sorted(n for k, n in rendered if k == "Deployment")
        assert held["v1/services"] == sorted(n for k, n in rendered if k == "Service")
        assert held["v1/configmaps"] == sorted(n for k, n in rendered if k == "ConfigMap")
        assert "avr-sts-openai" in held["apps/v1/deployments"]
        assert set(images(cluster).values()) == {i for i in images(cluster).values() if ":v1.0.0" in i}
        assert history(project) == ["staged", "active"]
        current = json.loads((project / "current" / "release.json").read_text())
        assert current["compose_file"] == "kubernetes/manifests.yml"
        assert (project / "current" / "kubernetes" / "manifests.yml").read_text() == \
            (project / "kubernetes" / "manifests.yml").read_text()

        before = len(writes(cluster))
        again = play(cluster, "openai-realtime", "v1.0.0")
        assert again.returncode == 0 and "changed=0" in recap(again), again.stdout[-4000:]
        assert writes(cluster)[before:] == [], "an unchanged re-run wrote to the cluster"
        assert "Apply the resources" not in again.stdout, "an unchanged re-run went through the gate again"
        assert history(project) == ["staged", "active"]

        # a template change (environment.json is seeded per template: the user seeds it again, here by removing it)
        (project / "environment.json").unlink()
        text = (project / "kubernetes" / "manifests.yml").read_bytes()
        checked = play(cluster, "ultravox", "v1.0.0", "--check", "--diff")
        assert checked.returncode == 0, checked.stdout[-4000:]
        assert (project / "kubernetes" / "manifests.yml").read_bytes() == text
        assert not (project / "environment.json").exists()
        assert writes(cluster)[before:] == [], "check mode wrote to the cluster"
        assert "avr-sts-ultravox" in checked.stdout, "check mode showed no diff of the manifests"

        # a resource an older release had (labelled as this deployment's), another deployment's, an unlabelled one
        cluster.create("v1/configmaps", labelled("ConfigMap", "k8r-stale", LABELS))
        cluster.create("v1/configmaps", labelled("ConfigMap", "k8r-other",
                                                 dict(LABELS, **{"app.kubernetes.io/instance": "other"})))
        cluster.create("v1/configmaps", labelled("ConfigMap", "k8r-user", {}))
        changed = play(cluster, "ultravox", "v1.0.0")
        assert changed.returncode == 0, changed.stdout[-6000:]
        held = names(cluster)
        assert "avr-sts-openai" not in held["apps/v1/deployments"] and "avr-sts-openai" not in held["v1/services"]
        assert "avr-sts-openai-env" not in held["v1/configmaps"]
        assert "avr-sts-ultravox" in held["apps/v1/deployments"]
        assert "k8r-stale" not in held["v1/configmaps"]
        assert {"k8r-other", "k8r-user"} <= set(held["v1/configmaps"])
        assert history(project) == ["staged", "active", "staged", "active"]
        good = images(cluster)
        good_release = json.loads((project / "current" / "release.json").read_text())["id"]

        broken = play(cluster, "ultravox", "v1.1.0")
        assert broken.returncode != 0
        assert "failed the health gate" in broken.stdout and "Rolled back to release %s" % good_release \
            in broken.stdout, broken.stdout[-6000:]
        # every Deployment of the release was applied (not only the first one kubernetes.core waited for), and is named
        named = broken.stdout.split("Deployments not available within 4 s (namespace voice): ", 1)[1].split(";", 1)[0]
        assert sorted(named.split(", ")) == sorted(good), broken.stdout[-6000:]
        assert history(project) == ["staged", "active", "staged", "active", "staged", "failed", "active"]
        assert json.loads((project / "current" / "release.json").read_text())["id"] == good_release
        assert images(cluster) == good, "the previous release was not re-applied"

        # the rollback entry point: back to the openai-realtime release, re-applied, the ultravox service pruned
        back = run_playbook(tmp_path, collections_path, ROLLBACK_PLAY,
                            {"stack_engine": "kubernetes", "stack_deployment": DEPLOYMENT,
                             "stack_project_dir": str(project), "stack_kubernetes_kubeconfig": str(kubeconfig),
                             "stack_wait_timeout": 4}, timeout=600)
        outputs.append(back.stdout + back.stderr)
        assert back.returncode == 0, back.stdout[-6000:]
        held = names(cluster)
        assert "avr-sts-openai" in held["apps/v1/deployments"] and "avr-sts-ultravox" not in held["apps/v1/deployments"]
        assert history(project)[-2:] == ["rolled_back", "active"]

        gone = play(cluster, "ultravox", "v1.0.0", "-e", "stack_state=absent")
        assert gone.returncode == 0, gone.stdout[-4000:]
        held = names(cluster)
        assert held["apps/v1/deployments"] == [] and held["v1/services"] == []
        assert held["v1/configmaps"] == ["k8r-other", "k8r-user"]

        sent = cluster.bodies()
    markers = list(KEYS.values()) + list(SECRETS.values())
    for value in markers:
        assert value not in sent, "a secret value reached the API server"
        for out in outputs:
            assert value not in out, "a secret value reached the play's output"
    for root, _dirs, files in os.walk(project):
        for name in files:
            path = Path(root) / name
            if path.is_symlink() or path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO) == 0:
                continue
            content = path.read_text(errors="replace")
            for value in markers:
                assert value not in content, "%s is readable by others and holds a secret value" % path
