#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watch the services a deployment just started and judge them: stable, and ready by their probes."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: health_gate
short_description: Judge the services a deployment just (re)started, stable and ready, with Docker
version_added: 0.3.0
description:
  - The health gate of a release, for the services a run (re)started. C(docker compose up --wait)
    returns once each container ran once; an image without a health check is then only "running",
    which a process that exits a few seconds later, a crash loop, or a service that never opens its
    port all pass. This module watches each given service until it has a verdict.
  - "B(Stability): from the container's start until it has run for O(window) seconds, a container that
    exited, is restarting, was restarted by Docker (C(RestartCount) above 0, or C(State.StartedAt)
    changed while watched), was replaced, or disappeared fails at once (no waiting out the window),
    named with the reason and its last O(log_lines) log lines."
  - "B(Readiness): every probe of a service must pass within O(timeout) seconds of the gate's start. A
    C(tcp) probe connects to the container's port on its IP address in the deployment's network
    (C(network)), or on 127.0.0.1 for a container that runs with the host's network; a C(health) probe
    waits for Docker to report the container C(healthy) and fails as soon as it reports C(unhealthy).
    A container with a health check (its image's own or the compose file's) must be healthy even
    without a C(health) probe."
  - The probes come from the registry through M(voiceops.avr.voice_compose), whose C(gate) result is
    the O(services) this module takes; the role C(voiceops.avr.stack) passes the services the run
    started or restarted. A service the run did not start is not watched, so a re-run without a
    change costs nothing.
  - "Limits: the TCP probe reaches container IP addresses from the target, as on a Linux Docker host
    (user-defined bridge networks are routed from the host), or from a container on the host's network.
    Where the engine runs in a VM (Docker Desktop, a remote C(DOCKER_HOST)) container IPs are usually
    not reachable and C(tcp) probes fail (refused, no route or timeout); give such hosts images with
    health checks (C(health) probes), or set the image's C(probes) in a catalog. The window is measured against
    C(State.StartedAt), so the target's clock and the engine's must agree (the same host)."
  - Runs only the C(docker) CLI (C(docker inspect), C(docker logs)); the Docker SDK for Python is not needed.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  services:
    description:
      - "The services to judge, by deployed service name, each with C(container) (default the service
        name), C(network) (the network whose IP address C(tcp) probes connect to; default the
        container's first network) and C(probes), a list of C({type: tcp, port: <container port>}) or
        C({type: health}); a null or empty value is a container named like the service, without probes."
      - This is the C(gate) result of M(voiceops.avr.voice_compose), or part of it.
    type: dict
    required: true
  window:
    description:
      - Seconds each container must run, counted from its start, without exiting or being restarted.
      - "The stack role's default (C(stack_stability_window), 12) is a little longer than 10 s: Docker
        treats a container that ran 10 s as started successfully and resets its restart back-off, so a
        process that dies within that time is what the window is for; the first restart comes after a
        back-off of only 100 ms, so a crash within the window is seen as a restart or an exit."
    type: float
    default: 12
  timeout:
    description: Seconds from the gate's start within which every probe must pass.
    type: float
    default: 60
  interval:
    description: Seconds between two looks at the containers (and between probe tries).
    type: float
    default: 0.5
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
      - A check-mode run starts nothing, so there is nothing it started to watch; in check mode the module
        observes nothing and returns at once, with no verdict (RV(services) entries have C(passed) null).
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: voiceops.avr.voice_compose
  - module: voiceops.avr.release
"""

EXAMPLES = r"""
---
- name: Render the deployment
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/openai
  register: compose

- name: Start it
  community.docker.docker_compose_v2:
    project_src: /srv/avr/openai
  register: up

- name: Judge every service of it (12 s stability, probes within 60 s)
  voiceops.avr.health_gate:
    services: "{{ compose.gate }}"

- name: Judge one service with a probe of your own
  voiceops.avr.health_gate:
    services:
      openai-avr-core:
        container: openai-avr-core
        probes: [{type: tcp, port: 5001}]
    window: 15
    timeout: 30
"""

RETURN = r"""
---
passed:
  description: Whether every service passed (null in check mode).
  returned: always
  type: bool
failed_services:
  description: The services that failed, in the order they failed.
  returned: always
  type: list
  elements: str
elapsed:
  description: Seconds from the gate's start to its verdict.
  returned: always
  type: float
services:
  description:
    - Per service, its verdict, C(passed) (null in check mode), C(reason) (one line, null when it passed),
      C(container), C(state), C(restarts) (Docker's C(RestartCount)), C(ready_after) (seconds from the
      gate's start until its last probe passed), C(probes) (each with C(passed) and C(detail)), and for a
      failed service C(logs), its last log lines.
  returned: always
  type: dict
  sample:
    support-avr-core:
      passed: false
      reason: "container support-avr-core exited (code 1) 3.1 s after it started"
      container: support-avr-core
      state: exited
      restarts: 1
      ready_after: 0.6
      probes: [{type: tcp, port: 5001, passed: true, detail: "172.31.121.2:5001 accepts connections"}]
      logs: ["standin: exiting after 3 s (STANDIN_FAULTS: exit-after)"]
msg:
  description: The verdict in one line per failed service (service, reason), or that all passed.
  returned: always
  type: str
"""

import json
import socket
import subprocess
import time
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule

PROBE_TYPES = ("tcp", "health")


def run(docker, args, timeout=30):
    try:
        proc = subprocess.run([docker] + args, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, "", "%s: command not found" % docker
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %d s" % timeout
    return proc.returncode, proc.stdout, proc.stderr


def parse_time(text):
    """Seconds since the epoch of Docker's RFC 3339 time with nanoseconds, or None (zero time too)."""
    if not text or text.startswith("0001-"):
        return None
    text = text.rstrip("Z")
    whole, _dot, frac = text.partition(".")
    try:
        stamp = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    except ValueError:
        return None
    digits = "".join(c for c in frac if c.isdigit())[:6]
    return stamp + (int(digits) / 10 ** len(digits) if digits else 0.0)


def check_services(services):
    """The services as {name: {container, network, probes}}, or raise ValueError naming the field."""
    checked = {}
    if not services:
        raise ValueError("services: give at least one service to judge")
    for name, spec in services.items():
        where = "services.%s" % name
        spec = spec or {}
        if not isinstance(spec, dict):
            raise ValueError("%s: %r is not a mapping with container, network and probes" % (where, spec))
        unknown = sorted(set(spec) - {"container", "network", "probes"})
        if unknown:
            raise ValueError("%s: unknown key %r (known: container, network, probes)" % (where, unknown[0]))
        container = spec.get("container") or name
        if not isinstance(container, str) or not container or any(c.isspace() for c in container):
            raise ValueError("%s.container: %r is not a container name" % (where, container))
        network = spec.get("network")
        if network is not None and not isinstance(network, str):
            raise ValueError("%s.network: %r is not a network name" % (where, network))
        probes = spec.get("probes") or []
        if not isinstance(probes, list):
            raise ValueError("%s.probes: %r is not a list" % (where, probes))
        clean = []
        for index, probe in enumerate(probes):
            at = "%s.probes[%d]" % (where, index)
            if not isinstance(probe, dict) or probe.get("type") not in PROBE_TYPES:
                raise ValueError("%s: %r is not a probe ({type: tcp, port: N} or {type: health})" % (at, probe))
            port = probe.get("port")
            if probe["type"] == "tcp":
                if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
                    raise ValueError("%s.port: %r is not a TCP port (1-65535)" % (at, port))
            elif port is not None:
                raise ValueError("%s.port: %r given for a health probe, which takes none" % (at, port))
            clean.append({"type": probe["type"], "port": port if probe["type"] == "tcp" else None})
        checked[name] = {"container": container, "network": network, "probes": clean}
    return checked


def inspect(docker, containers):
    """{container name: inspect data or None} for the given names (one docker call)."""
    found = dict.fromkeys(containers)
    rc, out, _err = run(docker, ["container", "inspect"] + list(containers))
    try:
        items = json.loads(out) if out.strip() else []
    except ValueError:
        items = []
    for item in items:
        name = item.get("Name", "").lstrip("/")
        if name in found:
            found[name] = item
    if rc not in (0, 1) and not items:
        raise RuntimeError("docker container inspect failed (exit %d)" % rc)
    return found


def address(item, network):
    """The IP address a probe connects to, or (None, why not)."""
    settings = item.get("NetworkSettings") or {}
    mode = (item.get("HostConfig") or {}).get("NetworkMode", "")
    if mode == "host":
        return "127.0.0.1", None
    nets = settings.get("Networks") or {}
    if network:
        entry = nets.get(network)
        if entry is None:
            return None, "not attached to network %s (attached: %s)" % (network, ", ".join(sorted(nets)) or "none")
    else:
        entry = next((nets[key] for key in sorted(nets)), None)
        if entry is None:
            return None, "attached to no network"
    ip = entry.get("IPAddress") or entry.get("GlobalIPv6Address")
    if not ip:
        return None, "has no IP address on network %s" % (network or "its network")
    return ip, None


def tcp_ready(ip, port, timeout):
    try:
        with socket.create_connection((ip, port), timeout=timeout):
            return True, "%s:%d accepts connections" % (ip, port)
    except socket.timeout:
        return False, "%s:%d did not answer within %.1f s" % (ip, port, timeout)
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        return False, "%s:%d: %s" % (ip, port, why.lower() if why else "unreachable")


def crash(item, first):
    """One-line reason why the container failed its stability window, or None."""
    state = item.get("State") or {}
    status = state.get("Status", "unknown")
    restarts = int(item.get("RestartCount") or 0)
    started = parse_time(state.get("StartedAt"))
    finished = parse_time(state.get("FinishedAt"))
    ran = ""
    if started is not None and finished is not None and finished >= started:
        ran = " %.1f s after it started" % (finished - started)
    if status == "restarting" or state.get("Restarting"):
        return "is restarting after it exited (code %s)%s; Docker restarted it %d time(s)" % (
            state.get("ExitCode"), ran, restarts)
    if status in ("exited", "dead"):
        oom = " (OOM killed)" if state.get("OOMKilled") else ""
        return "%s (code %s)%s%s" % (status, state.get("ExitCode"), ran, oom)
    if not state.get("Running"):
        return "is %s, not running" % status
    if restarts > 0:
        return "exited and was restarted by Docker %d time(s) since it was started" % restarts
    if first is not None and state.get("StartedAt") != first:
        return "was restarted while watched (started at %s, then at %s)" % (first, state.get("StartedAt"))
    health = (state.get("Health") or {}).get("Status")
    if health == "unhealthy":
        log = (state.get("Health") or {}).get("Log") or [{}]
        lines = [line.strip() for line in str(log[-1].get("Output", "")).splitlines() if line.strip()]
        output = lines[-1][:200] if lines else ""
        return "is unhealthy (its health check failed%s)" % (": " + output if output else "")
    return None


def logs(docker, container, lines):
    rc, out, err = run(docker, ["logs", "--tail", str(lines), container])
    text = (out + err) if rc == 0 else (err or out)
    return [line for line in text.splitlines() if line.strip()][-lines:]


class Gate(object):
    """The verdicts of one gate run; `step` looks once, `done` says whether every verdict is in."""

    def __init__(self, module, services):
        self.docker = module.params["docker"]
        self.window = module.params["window"]
        self.timeout = module.params["timeout"]
        self.interval = module.params["interval"]
        self.services = services
        self.start = time.time()
        self.first = {}          # container -> (Id, StartedAt) at the first look
        self.failed = []
        self.result = {
            name: {"passed": None, "reason": None, "container": spec["container"], "state": None, "restarts": None,
                   "ready_after": None,
                   "probes": [dict(probe, passed=False, detail="not tried yet") for probe in spec["probes"]]}
            for name, spec in services.items()
        }

    def fail(self, name, reason):
        self.result[name].update(passed=False, reason=reason)
        self.failed.append(name)

    def step(self):
        now = time.time()
        pending = [n for n in self.services if self.result[n]["passed"] is None]
        seen = inspect(self.docker, [self.services[n]["container"] for n in pending])
        for name in pending:
            spec, res = self.services[name], self.result[name]
            item = seen.get(spec["container"])
            if item is None:
                self.fail(name, "container %s does not exist (removed, or never created)" % spec["container"])
                continue
            state = item.get("State") or {}
            res.update(state=state.get("Status"), restarts=int(item.get("RestartCount") or 0))
            ident = (item.get("Id"), state.get("StartedAt"))
            first = self.first.setdefault(name, ident)
            if first[0] != ident[0]:
                self.fail(name, "container %s was replaced while watched" % spec["container"])
                continue
            reason = crash(item, first[1])
            if reason:
                self.fail(name, "container %s %s" % (spec["container"], reason))
                continue
            if not self.probe(name, spec, res, item, now):
                continue
            started = parse_time(state.get("StartedAt")) or self.start
            if res["ready_after"] is not None and now - started >= self.window:
                res.update(passed=True)

    def probe(self, name, spec, res, item, now):
        """Run the probes not passed yet; False when the service failed."""
        waiting = []
        health = ((item.get("State") or {}).get("Health") or {}).get("Status")
        for probe in res["probes"]:
            if probe["passed"]:
                continue
            if probe["type"] == "health":
                if health is None:
                    probe["detail"] = "the container has no health check"
                    self.fail(name, "container %s has a health probe but no health check" % spec["container"])
                    return False
                probe.update(passed=health == "healthy", detail="Docker reports it %s" % health)
            else:
                ip, why = address(item, spec["network"])
                if ip is None:
                    probe["detail"] = why
                else:
                    probe["passed"], probe["detail"] = tcp_ready(ip, probe["port"], max(self.interval, 1.0))
            if not probe["passed"]:
                waiting.append(probe)
        if health not in (None, "healthy"):
            waiting.append({"type": "health", "detail": "Docker reports it %s" % health})
        if not waiting:
            if res["ready_after"] is None:
                res["ready_after"] = round(now - self.start, 1)
            return True
        if now - self.start >= self.timeout:
            what = waiting[0]
            label = ("port %d" % what["port"]) if what.get("port") else "health check"
            self.fail(name, "container %s is running but not ready within %g s: %s (%s)"
                      % (spec["container"], self.timeout, label, what["detail"]))
            return False
        return True

    def done(self):
        return bool(self.failed) or all(res["passed"] for res in self.result.values())


def main():
    module = AnsibleModule(
        argument_spec={
            "services": {"type": "dict", "required": True},
            "window": {"type": "float", "default": 12},
            "timeout": {"type": "float", "default": 60},
            "interval": {"type": "float", "default": 0.5},
            "log_lines": {"type": "int", "default": 30},
            "docker": {"type": "str", "default": "docker"},
        },
        supports_check_mode=True,
    )
    params = module.params
    for key in ("window", "timeout"):
        if params[key] < 0:
            module.fail_json(msg="%s: %r must be 0 or more seconds" % (key, params[key]))
    if not 0.05 <= params["interval"] <= 10:
        module.fail_json(msg="interval: %r must be between 0.05 and 10 seconds" % params["interval"])
    if params["log_lines"] < 0:
        module.fail_json(msg="log_lines: %r must be 0 or more" % params["log_lines"])
    try:
        services = check_services(params["services"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    gate = Gate(module, services)
    if module.check_mode:
        module.exit_json(changed=False, passed=None, failed_services=[], elapsed=0.0, services=gate.result,
                         msg="check mode: nothing was started, so nothing was watched")
    try:
        while True:
            gate.step()
            if gate.done():
                break
            time.sleep(params["interval"])
    except RuntimeError as exc:
        module.fail_json(msg="health gate: %s" % exc)
    elapsed = round(time.time() - gate.start, 1)
    for name in gate.failed:
        gate.result[name]["logs"] = logs(params["docker"], services[name]["container"], params["log_lines"]) \
            if params["log_lines"] else []
    if gate.failed:
        msg = "; ".join("%s: %s" % (name, gate.result[name]["reason"]) for name in gate.failed)
        module.fail_json(msg=msg, passed=False, failed_services=gate.failed, elapsed=elapsed, services=gate.result)
    module.exit_json(changed=False, passed=True, failed_services=[], elapsed=elapsed, services=gate.result,
                     msg="%d service(s) stable for %g s and ready" % (len(services), params["window"]))


if __name__ == "__main__":
    main()
