#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Judge a Docker Swarm stack after a deploy: every service converged to what was asked, and stable."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: swarm_gate
short_description: Judge a Docker Swarm stack after a deploy, by each service's update state and tasks
version_added: 0.6.0
description:
  - The health gate of a release on Docker Swarm. C(docker stack deploy) returns before anything ran, and
    waiting for convergence (C(--detach=false)) is no verdict either - a service whose update failed and
    that Swarm rolled back on its own (C(failure_action=rollback)) converges too, to the old version. This
    module watches every service of the stack until it has a verdict.
  - "A service B(fails) when Swarm paused its update or rolled it back (C(UpdateStatus.State) C(paused),
    C(rollback_started), C(rollback_paused), C(rollback_completed)): the module waits for Swarm's rollback
    to finish (up to O(timeout)), so that what runs afterwards is the old version, then fails naming the
    service and Swarm's message; when it runs another image than O(images) asks for (a rollback that
    happened before the gate looked); when a task that the gate did not see at its start failed or was
    rejected while no update was in progress (a first deployment whose container exits: Swarm only rolls
    back updates); or when it has not converged within O(timeout) (the reason says how many tasks run of
    how many asked, and the last task error)."
  - "A service B(passes) when its update is complete (or it had none), as many tasks run as its mode asks
    for (replicas, or one per node for a global service), and the set of its running tasks stayed the same
    for O(window) seconds. Swarm reports a task running only once its container is healthy, for an image
    with a health check, so a failing health check is a task that never runs, or is replaced."
  - Runs only the C(docker) CLI (C(docker service ls), C(docker service inspect), C(docker service ps),
    C(docker service logs)) on a Swarm manager; the Docker SDK for Python is not needed.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  stack:
    description: The stack's name (C(docker stack deploy)'s namespace, the deployment's name).
    type: str
    required: true
  images:
    description:
      - Service name (without the stack prefix) -> the image reference the stack file asks for. A service
        that runs another image fails. Swarm adds C(@sha256:...) to a reference it resolved; that suffix is
        ignored unless the reference names a digest itself.
      - Services of the stack not named here are judged without this check; a name here that the stack
        lacks fails.
    type: dict
    default: {}
  restoring:
    description:
      - The deploy put an earlier release back (a rollback). Swarm may have rolled a failed update back to that
        release on its own already; its update state then stays C(rollback_completed) until the next update, and
        such a service is judged like one whose update completed (its tasks must run and be stable), not failed.
    type: bool
    default: false
  window:
    description: Seconds the running tasks of each service must stay the same (none replaced, none failed).
    type: float
    default: 12
  timeout:
    description: Seconds from the gate's start within which every service must pass.
    type: float
    default: 120
  interval:
    description: Seconds between two looks at the services.
    type: float
    default: 1
  log_lines:
    description: Log lines of a failed service to return (and to quote in the failure message).
    type: int
    default: 30
  docker:
    description: The docker CLI to run.
    type: str
    default: docker
attributes:
  check_mode:
    support: full
    details:
      - A check-mode run deploys nothing, so there is nothing to judge; the module observes nothing and returns
        at once with RV(passed) null.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: voiceops.avr.health_gate
  - module: community.docker.docker_stack
"""

EXAMPLES = r"""
---
- name: Deploy the stack file
  community.docker.docker_stack:
    name: openai
    compose:
      - /srv/avr/openai/docker-stack.yml
    with_registry_auth: true

- name: Judge it (12 s stable, within 2 minutes; a service Swarm rolled back fails)
  voiceops.avr.swarm_gate:
    stack: openai
    images:
      avr-core: agentvoiceresponse/avr-core:1.4.0
"""

RETURN = r"""
---
passed:
  description: Whether every service passed (null in check mode).
  returned: always
  type: bool
failed_services:
  description: The services that failed, by name without the stack prefix, sorted.
  returned: always
  type: list
  elements: str
elapsed:
  description: Seconds from the gate's start to its verdict.
  returned: always
  type: float
services:
  description:
    - Per service (name without the stack prefix) its verdict C(passed), C(reason) (one line, null when it
      passed), C(update_state) (Swarm's, null when the service had no update), C(image) (what its spec runs),
      C(running) and C(desired) task counts, and for a failed service C(logs), its last log lines.
  returned: always
  type: dict
  sample:
    avr-core:
      passed: false
      reason: "Swarm rolled its update back (rollback_completed: update rolled back due to failure of task x)"
      update_state: rollback_completed
      image: agentvoiceresponse/avr-core:1.3.0@sha256:d5812b...
      running: 1
      desired: 1
      logs: ["standin: version 1.4.0 exits at once (STANDIN_FAULTS: exit)"]
secrets_in_use:
  description: The Swarm secrets the stack's services use (names, never values), as last seen; what is not here
    of the stack's secrets is no longer used.
  returned: unless check mode
  type: list
  elements: str
configs_in_use:
  description: The Swarm configs the stack's services use, as last seen.
  returned: unless check mode
  type: list
  elements: str
msg:
  description: The verdict, one line per failed service, or that all passed.
  returned: always
  type: str
"""

import calendar
import json
import re
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule

NAMESPACE = "com.docker.stack.namespace"
ROLLED_BACK = ("paused", "rollback_started", "rollback_paused", "rollback_completed")
ROLLBACK_DONE = ("paused", "rollback_paused", "rollback_completed")
TASK_FAILED = ("failed", "rejected")


def run(docker, args, timeout=60):
    try:
        proc = subprocess.run([docker] + args, capture_output=True, text=True, timeout=timeout, check=False)
    except OSError:
        return 127, "", "%s: command not found" % docker
    except subprocess.TimeoutExpired:
        return 124, "", "%s %s: timed out" % (docker, " ".join(args[:2]))
    return proc.returncode, proc.stdout, proc.stderr


def lines_of_json(text):
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def parse_time(text):
    """Seconds since the epoch of Docker's RFC 3339 time (nanoseconds, Z or an offset), or None."""
    match = re.match(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$", text or "")
    if match is None:
        return None
    base = calendar.timegm(time.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S"))
    fraction = float("0." + match.group(2)) if match.group(2) else 0.0
    zone = match.group(3)
    offset = 0 if zone == "Z" else (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60) * (1 if zone[0] == "+" else -1)
    return base + fraction - offset


def without_resolved_digest(reference, asked):
    """``reference`` as Swarm runs it, less the ``@sha256:...`` Swarm adds when ``asked`` names no digest."""
    if "@" in reference and "@" not in asked:
        return reference.split("@", 1)[0]
    return reference


class Gate(object):
    def __init__(self, module):
        params = module.params
        self.docker = params["docker"]
        self.stack = params["stack"]
        self.images = params["images"]
        self.window = params["window"]
        self.restoring = params["restoring"]
        self.started = time.time()
        self.created = {}  # task id -> CreatedAt
        self.why = {}  # service -> Swarm's first message about its rollback
        self.seen = {}  # service -> inspect data, of the last look
        self.running_since = {}  # service -> (frozenset of running task ids, since)
        self.result = {}

    def look(self):
        """(services inspect data by name, tasks by service name) of the stack right now."""
        rc, out, err = run(self.docker, ["service", "ls", "--filter", "label=%s=%s" % (NAMESPACE, self.stack),
                                         "--format", "{{.ID}}"])
        if rc != 0:
            raise RuntimeError("docker service ls failed (exit %d): %s" % (rc, err.strip().splitlines()[-1:]))
        ids = out.split()
        if not ids:
            return {}, {}
        rc, out, err = run(self.docker, ["service", "inspect"] + ids)
        if rc != 0:  # a service went away between the two calls: look again next time
            return None, None
        prefix = self.stack + "_"
        services = {}
        for item in json.loads(out):
            name = item["Spec"]["Name"]
            services[name[len(prefix):] if name.startswith(prefix) else name] = item
        rc, out, err = run(self.docker, ["service", "ps", "--no-trunc", "--format", "{{json .}}"] + ids)
        if rc != 0:
            return None, None
        tasks = {name: [] for name in services}
        for task in lines_of_json(out):
            service = task["Name"].rsplit(".", 1)[0]  # stack_service.slot (or stack_service.node id)
            service = service[len(prefix):] if service.startswith(prefix) else service
            if service in tasks:
                tasks[service].append(task)
        return services, tasks

    def judge(self, name, item, tasks, now):
        """(verdict, reason): verdict True (passed), False (failed) or None (not yet)."""
        status = item.get("UpdateStatus") or {}
        state = status.get("State")
        image = item["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        mode = item["Spec"].get("Mode", {})
        running = [t for t in tasks if t.get("DesiredState") == "Running"
                   and str(t.get("CurrentState", "")).startswith("Running")]
        if "Replicated" in mode:
            desired = int(mode["Replicated"].get("Replicas", 1))
        else:
            desired = len([t for t in tasks if t.get("DesiredState") == "Running"]) or 1
        entry = self.result.setdefault(name, {})
        entry.update(update_state=state, image=image, running=len(running), desired=desired)
        if self.restoring and state == "rollback_completed":
            state = "completed"  # Swarm went back to the spec this deploy restores
        if state in ROLLED_BACK:
            # Swarm's message says why while it rolls back; once done it only says "rollback completed"
            why = self.why.setdefault(name, status.get("Message") or state)
            if state not in ROLLBACK_DONE:
                return None, "Swarm is rolling its update back (%s)" % why
            return False, "Swarm rolled its update back (%s: %s)" % (state, why)
        asked = self.images.get(name)
        if asked is not None and state != "updating" and without_resolved_digest(image, asked) != asked:
            return False, "runs %s, the stack file asks for %s (Swarm rolled it back, or another deploy changed it)" \
                % (image, asked)
        fresh = self.failed_since(tasks, item.get("UpdatedAt") or item.get("CreatedAt") or "")
        if fresh and state != "updating":
            task = fresh[0]
            state_word = str(task.get("CurrentState", "")).split(" ", maxsplit=1)[0].lower()
            return False, "task %s %s: %s" % (task["Name"], state_word, task.get("Error") or "no error given")
        if state not in (None, "completed") or len(running) != desired:
            errors = [t.get("Error") for t in tasks if t.get("Error")]
            return None, "%d of %d tasks running%s" % (len(running), desired,
                                                       ("; last error: %s" % errors[0]) if errors else "")
        ids = frozenset(t["ID"] for t in running)
        seen, since = self.running_since.get(name, (None, now))
        if seen != ids:
            self.running_since[name] = (ids, now)
            since = now
        if now - since < self.window:
            return None, "running, not yet stable for %g s" % self.window
        return True, None

    def failed_since(self, tasks, updated):
        """The tasks that failed or were rejected and were created after the service's spec last changed
        (``updated``, Docker's RFC 3339 time): failures of what the service runs now, not of older versions."""
        failed = [t for t in tasks if str(t.get("CurrentState", "")).lower().startswith(TASK_FAILED)]
        unknown = [t["ID"] for t in failed if t["ID"] not in self.created]
        if unknown:
            rc, out, _err = run(self.docker, ["inspect", "--type", "task"] + unknown)
            if rc == 0:
                for item in json.loads(out):
                    self.created[item["ID"]] = item.get("CreatedAt", "")
        since = parse_time(updated)
        return [t for t in failed if since is None or (parse_time(self.created.get(t["ID"], "")) or 0) >= since]

    def in_use(self):
        """(secret names, config names) the stack's services use, as of the last look."""
        secrets, configs = set(), set()
        for item in self.seen.values():
            spec = item["Spec"]["TaskTemplate"]["ContainerSpec"]
            secrets.update(ref["SecretName"] for ref in spec.get("Secrets") or [])
            configs.update(ref["ConfigName"] for ref in spec.get("Configs") or [])
        return sorted(secrets), sorted(configs)

    def step(self):
        services, tasks = self.look()
        if services is None:
            return False
        self.seen = services
        now = time.time()
        missing = sorted(set(self.images) - set(services))
        for name in missing:
            self.result[name] = {"passed": False, "reason": "the stack has no service %s" % name}
        done = bool(services) or bool(missing)
        for name in sorted(services):
            if self.result.get(name, {}).get("passed") is not None:
                continue
            verdict, reason = self.judge(name, services[name], tasks[name], now)
            self.result[name]["reason"] = reason
            if verdict is None:
                done = False
            else:
                self.result[name]["passed"] = verdict
        return done

    def logs(self, name, lines):
        rc, out, err = run(self.docker, ["service", "logs", "--no-task-ids", "--tail", str(lines),
                                         "%s_%s" % (self.stack, name)])
        text = out + err if rc == 0 else ""
        return text.splitlines()[-lines:] if lines else []


def main():
    module = AnsibleModule(
        argument_spec={
            "stack": {"type": "str", "required": True},
            "images": {"type": "dict", "default": {}},
            "restoring": {"type": "bool", "default": False},
            "window": {"type": "float", "default": 12},
            "timeout": {"type": "float", "default": 120},
            "interval": {"type": "float", "default": 1},
            "log_lines": {"type": "int", "default": 30},
            "docker": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    params = module.params
    if module.check_mode:
        module.exit_json(changed=False, passed=None, failed_services=[], elapsed=0.0, services={},
                         msg="check mode: nothing was deployed, so nothing was judged")
    for key in ("window", "timeout", "interval"):
        if params[key] < 0 or (key == "interval" and params[key] == 0):
            module.fail_json(msg="%s: %r must be a positive number of seconds" % (key, params[key]))
    gate = Gate(module)
    try:
        while not gate.step():
            if time.time() - gate.started > params["timeout"]:
                break
            time.sleep(params["interval"])
    except RuntimeError as exc:
        module.fail_json(msg="stack %s: %s" % (params["stack"], exc))
    elapsed = round(time.time() - gate.started, 1)
    if not gate.result:
        module.fail_json(msg="stack %s: no service of it is deployed (docker stack ls names it?)" % params["stack"],
                         passed=False, failed_services=[], elapsed=elapsed, services={})
    for name, entry in gate.result.items():
        if entry.get("passed") is None:
            entry["passed"] = False
            entry["reason"] = "not converged within %g s: %s" % (params["timeout"], entry.get("reason"))
        if not entry["passed"]:
            entry["logs"] = gate.logs(name, params["log_lines"])
        else:
            entry["reason"] = None
    failed = sorted(name for name, entry in gate.result.items() if not entry["passed"])
    secrets, configs = gate.in_use()
    out = dict(changed=False, passed=not failed, failed_services=failed, elapsed=elapsed, services=gate.result,
               secrets_in_use=secrets, configs_in_use=configs)
    if failed:
        lines = ["service %s: %s%s" % (name, gate.result[name]["reason"],
                                       (" | last log lines: %s" % " / ".join(gate.result[name]["logs"][-3:]))
                                       if gate.result[name].get("logs") else "")
                 for name in failed]
        module.fail_json(msg="stack %s failed its health gate:\n%s" % (params["stack"], "\n".join(lines)), **out)
    module.exit_json(msg="stack %s: every service converged and was stable for %g s"
                     % (params["stack"], params["window"]), **out)


if __name__ == "__main__":
    main()
