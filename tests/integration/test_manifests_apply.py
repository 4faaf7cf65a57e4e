"""The resources voice_manifests writes, applied by kubernetes.core.k8s (apply: true) through a real API client
to an in-process fake API server (tests/fake_k8s.py, kmock): apply creates every resource as rendered, a re-apply
changes nothing, a delete by label removes the deployment's Deployments and nothing else; no secret value is
ever sent to the server.

What it proves: the resources are well-formed for the client path (discovery finds every kind, kubernetes.core's
apply computes no patch for unchanged resources), and the labels select what they should. What it cannot: how a
real API server validates, defaults or admits them, scheduling, that pods start or get ready (no controllers, so
no wait on a Deployment's status), dry-run, server-side apply, and the Namespace (kmock 0.8 cannot serve
/api/v1/namespaces, so the resources go into an existing namespace). Strict schema validation is
tests/unit/plugins/plugin_utils/test_kubernetes_emitter.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml
from ansible_env import run_playbook
from fake_k8s import FakeCluster

ROOT = Path(__file__).resolve().parents[2]
KEYS = {"openai": "MARKER-openai-a4b2", "deepgram": "MARKER-deepgram-9d0c"}
SECRETS = {"AMI_PASSWORD": "MARKER-ami-77e1", "ARI_PASSWORD": "MARKER-ari-3f02"}
SELECTOR = ["app.kubernetes.io/instance=support", "app.kubernetes.io/managed-by=voiceops.avr"]
PLAYBOOK = """---
- name: Apply the Kubernetes resources of a deployment
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
    - name: Apply them
      kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: present
        apply: true
        definition: "{{ manifests.resources }}"
      register: applied
    - name: Apply them again
      kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: present
        apply: true
        definition: "{{ manifests.resources }}"
      register: again
    - name: Keep what the server holds now
      ansible.builtin.copy:
        content: "{{ {'manifests': manifests, 'applied': applied.changed, 'again': again.changed,
                      'again_each': again.result.results | map(attribute='changed') | list} | to_json }}"
        dest: "{{ result_file }}"
        mode: "0600"
    - name: Delete the deployment's Deployments by label
      kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: absent
        api_version: apps/v1
        kind: Deployment
        namespace: voice
        label_selectors: %s
        delete_all: true
      register: deleted
""" % (ROOT / "roles" / "stack" / "defaults" / "main.yml", json.dumps(SELECTOR))


def test_apply_reapply_and_delete_by_label(tmp_path: Path, collections_path: Path) -> None:
    with FakeCluster() as cluster:
        kubeconfig = tmp_path / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(cluster.kubeconfig()))
        # another deployment's Deployment in the same namespace: the delete by label must leave it
        other = {"apiVersion": "apps/v1", "kind": "Deployment",
                 "metadata": {"name": "other", "namespace": "voice",
                              "labels": {"app.kubernetes.io/instance": "other",
                                         "app.kubernetes.io/managed-by": "voiceops.avr"}},
                 "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
                                                                                "spec": {"containers": []}}}}
        cluster.create("apps/v1/deployments", other)
        args = {"template": "openai", "deployment": "support", "project_dir": str(tmp_path / "project"),
                "namespace": "voice", "provider_keys": KEYS, "secrets": SECRETS,
                "config_files": {"asterisk/conf/%s.conf" % name:
                                 str(ROOT / "roles" / "stack" / "templates" / "asterisk" / ("%s.conf.j2" % name))
                                 for name in ("ari", "manager", "pjsip")}}
        result_file = tmp_path / "result.json"
        proc = run_playbook(tmp_path, collections_path, PLAYBOOK,
                            {"manifests_args": args, "kubeconfig": str(kubeconfig), "result_file": str(result_file),
                             "ansible_python_interpreter": sys.executable, "ansible_connection": "local"},
                            timeout=300)
        assert proc.returncode == 0, proc.stdout[-5000:]
        result = json.loads(result_file.read_text())
        resources = result["manifests"]["resources"]
        assert result["applied"] is True
        assert result["again"] is False and result["again_each"] == [False] * len(resources)

        def plural(kind: str) -> str:
            return "apps/v1/deployments" if kind == "Deployment" else "v1/%ss" % kind.lower()
        assert sorted(cluster.objects("apps/v1/deployments", "voice")) == ["other"], \
            "the delete by label left a Deployment of the deployment, or deleted another deployment's"
        for resource in resources:
            if resource["kind"] == "Deployment":
                continue
            held = cluster.objects(plural(resource["kind"]), "voice")[resource["metadata"]["name"]]
            for key in ("metadata", "spec", "data"):
                if key == "metadata":
                    assert held[key]["labels"] == resource[key]["labels"]
                elif key in resource:
                    assert held[key] == resource[key], (resource["kind"], resource["metadata"]["name"])
        sent = cluster.bodies()
        for value in list(KEYS.values()) + list(SECRETS.values()):
            assert value not in sent
        assert "kind" in sent and "Deployment" in sent  # the requests were recorded
