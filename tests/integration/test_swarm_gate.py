"""voiceops.avr.swarm_gate on a real single-node Swarm, with stand-in images from the local registry.

Each case deploys a small stack with community.docker.docker_stack (as the role does) and runs the gate:
a healthy stack passes; an update to a version that exits at once is rolled back by Swarm itself
(failure_action rollback), which converges - the gate fails it, after Swarm's rollback finished, naming the
service and Swarm's reason; a first deployment that crashes (Swarm rolls back only updates) fails on its
failed task; a service that runs another image than the stack file asks for fails; check mode judges nothing.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from ansible_env import run_playbook

CORE = "localhost:5000/agentvoiceresponse/avr-core:%s"
PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
  tasks:
    - name: Deploy
      community.docker.docker_stack:
        name: "{{ stack }}"
        compose: ["{{ file }}"]
      when: file | length > 0
    - name: Gate
      voiceops.avr.swarm_gate:
        stack: "{{ stack }}"
        images: "{{ images }}"
        window: 3
        timeout: 90
      register: gate
      ignore_errors: true
    - name: Keep the verdict
      ansible.builtin.copy:
        content: "{{ gate | to_json }}"
        dest: "{{ out }}"
      check_mode: false
"""


def stack_file(path: Path, version: str, faults: str = "v1.1.0=exit") -> str:
    path.write_text("""version: "3.8"
services:
  core:
    image: %s
    environment:
      STANDIN_FAULTS: "%s"
      PORT: "5001"
    deploy:
      replicas: 1
      update_config: {failure_action: rollback, monitor: 5s, order: stop-first}
      rollback_config: {order: stop-first}
      restart_policy: {condition: any, delay: 1s}
""" % (CORE % version, faults))
    return str(path)


def gate(tmp: Path, collections_path: Path, stack: str, file: str, images: dict, *args: str) -> dict:
    out = tmp / ("verdict-%s.json" % len(list(tmp.glob("verdict-*"))))
    proc = run_playbook(tmp, collections_path, PLAY, {"stack": stack, "file": file, "images": images,
                                                      "out": str(out)}, *args)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    return json.loads(out.read_text())


def spec_image(service: str) -> str:
    proc = subprocess.run(["docker", "service", "inspect", service, "--format",
                           "{{.Spec.TaskTemplate.ContainerSpec.Image}}"], capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def remove(*stacks: str) -> None:
    subprocess.run(["docker", "stack", "rm"] + list(stacks), capture_output=True, check=False)


def test_the_gate_passes_a_converged_stack_and_fails_what_swarm_rolled_back(tmp_path, collections_path, swarm):
    stack = "sg-roll"
    try:
        good = gate(tmp_path, collections_path, stack, stack_file(tmp_path / "v1.yml", "v1.0.0"),
                    {"core": CORE % "v1.0.0"})
        assert good["passed"] is True and good["failed_services"] == [], good["msg"]
        assert good["services"]["core"]["running"] == 1 and good["services"]["core"]["reason"] is None

        checked = gate(tmp_path, collections_path, stack, "", {"core": CORE % "v1.0.0"}, "--check")
        assert checked["passed"] is None and checked["services"] == {}

        other = gate(tmp_path, collections_path, stack, "", {"core": CORE % "v1.1.0"})
        assert other["passed"] is False and "the stack file asks for %s" % (CORE % "v1.1.0") in other["msg"]

        bad = gate(tmp_path, collections_path, stack, stack_file(tmp_path / "v2.yml", "v1.1.0"),
                   {"core": CORE % "v1.1.0"})
        assert bad["passed"] is False and bad["failed_services"] == ["core"]
        core = bad["services"]["core"]
        assert core["update_state"] == "rollback_completed", core
        assert "Swarm rolled its update back" in bad["msg"] and "service core" in bad["msg"]
        assert any("exits at once" in line for line in core["logs"]), core["logs"]
        # Swarm's own rollback happened before the verdict: the old version runs, as the gate reports
        assert spec_image(stack + "_core").startswith(CORE % "v1.0.0")
        assert core["image"].startswith(CORE % "v1.0.0")
    finally:
        remove(stack)


def test_a_first_deployment_that_crashes_fails_on_its_failed_task(tmp_path, collections_path, swarm):
    stack = "sg-crash"
    try:
        verdict = gate(tmp_path, collections_path, stack, stack_file(tmp_path / "v2.yml", "v1.1.0"),
                       {"core": CORE % "v1.1.0"})
        assert verdict["passed"] is False and verdict["failed_services"] == ["core"]
        assert "non-zero exit (1)" in verdict["msg"], verdict["msg"]
        # judged on the failed task, not after the timeout
        assert verdict["services"]["core"]["reason"].startswith("task %s_core.1 failed: " % stack), verdict["msg"]
        assert verdict["services"]["core"]["update_state"] is None
        # a task that runs, then exits within the stability window, fails too (without the window it would pass)
        flap = gate(tmp_path, collections_path, stack + "-flap",
                    stack_file(tmp_path / "flap.yml", "v1.0.0", "v1.0.0=exit-after:2"), {"core": CORE % "v1.0.0"})
        assert flap["passed"] is False and flap["failed_services"] == ["core"], flap["msg"]
    finally:
        remove(stack, stack + "-flap")
