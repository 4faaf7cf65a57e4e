#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: preflight
short_description: Check that a host can run an AVR deployment before anything starts
version_added: 0.1.0
description:
  - Checks, on the target, that the Docker engine answers, that Docker Compose v2 is installed,
    and that the deployment would not collide with anything else on the host. It changes nothing.
  - A host port the deployment publishes must be free, or held by the deployment's own containers.
    A port published by another compose project, or bound by any other process, fails the check.
  - A container name the deployment uses must be free or belong to the same compose project.
  - The deployment's network subnets must not overlap a network of another project.
  - All problems are reported at once, in one message.
  - Feed it the RV(voiceops.avr.voice_compose#module:published), RV(voiceops.avr.voice_compose#module:containers)
    and RV(voiceops.avr.voice_compose#module:networks) results (from a check-mode run, so nothing is written first).
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  project:
    description: Compose project name of the deployment (its C(deployment)).
    type: str
    required: true
  published:
    description: Published ports, each with C(address), C(host) (a port or a C(first-last) range) and C(protocol).
    type: list
    elements: dict
    default: []
  containers:
    description: Container names the deployment uses.
    type: list
    elements: str
    default: []
  networks:
    description: Networks the deployment creates, each with C(name) and a C(subnet) list.
    type: list
    elements: dict
    default: []
  docker:
    description: The docker command line client to use.
    type: path
    default: docker
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  idempotent:
    description: Running the task again with the same inputs reports no change.
    support: full
  platform:
    platforms: posix
requirements:
  - The docker CLI with the compose plugin (v2) on the target.
"""

EXAMPLES = r"""
---
- name: Render without writing, to learn what the deployment occupies
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/openai
    allow_missing: true
  check_mode: true
  register: plan

- name: Fail early if the host cannot take it
  voiceops.avr.preflight:
    project: "{{ plan.deployment }}"
    published: "{{ plan.published }}"
    containers: "{{ plan.containers }}"
    networks: "{{ plan.networks }}"
"""

RETURN = r"""
---
docker_version:
  description: Version of the Docker engine.
  returned: success
  type: str
compose_version:
  description: Version of Docker Compose.
  returned: success
  type: str
running:
  description: Containers of this project that exist already.
  returned: success
  type: list
  elements: str
problems:
  description: Every problem found (also in C(msg) when the check fails).
  returned: always
  type: list
  elements: str
"""

import errno
import ipaddress
import json
import socket

from ansible.module_utils.basic import AnsibleModule


def _run(module, args):
    rc, out, err = module.run_command([module.params["docker"]] + args)
    return rc, out, err


def _ports(spec):
    first, _sep, last = str(spec).partition("-")
    return range(int(first), int(last or first) + 1)


def _bindable(address, port, protocol):
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
    sock = socket.socket(family, kind)
    try:
        if kind == socket.SOCK_STREAM:
            # as Docker's proxy does: connections in TIME_WAIT do not make a port busy, a listener does
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
        return True
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        raise
    finally:
        sock.close()


def _inspect(module, kind, names):
    if not names:
        return []
    rc, out, err = _run(module, [kind, "inspect"] + list(names))
    if rc != 0 and not out.strip():
        return []
    try:
        return json.loads(out)
    except ValueError:
        return []


def main():
    module = AnsibleModule(
        argument_spec=dict(
            project=dict(type="str", required=True),
            published=dict(type="list", elements="dict", default=[]),
            containers=dict(type="list", elements="str", default=[]),
            networks=dict(type="list", elements="dict", default=[]),
            docker=dict(type="path", default="docker"),
        ),
        supports_check_mode=True,
    )
    project = module.params["project"]
    result = {"changed": False, "problems": []}

    rc, out, err = _run(module, ["version", "--format", "{{.Server.Version}}"])
    if rc != 0:
        module.fail_json(msg="Docker engine not reachable with '%s version': %s"
                         % (module.params["docker"], (err or out).strip()), **result)
    result["docker_version"] = out.strip()
    rc, out, err = _run(module, ["compose", "version", "--short"])
    if rc != 0 or not out.strip().lstrip("v").startswith("2"):
        module.fail_json(msg="Docker Compose v2 is required ('docker compose version' said: %s)"
                         % (err or out).strip(), **result)
    result["compose_version"] = out.strip()

    problems = result["problems"]
    rc, out, err = _run(module, ["ps", "-a", "--format", "{{.Names}}"])
    all_containers = [line.strip() for line in out.splitlines() if line.strip()]
    details = _inspect(module, "container", all_containers)
    own_ports = set()
    foreign_ports = {}
    running = []
    for item in details:
        name = item.get("Name", "").lstrip("/")
        labels = (item.get("Config") or {}).get("Labels") or {}
        owner = labels.get("com.docker.compose.project")
        bindings = (item.get("HostConfig") or {}).get("PortBindings") or {}
        held = set()
        for key, binds in bindings.items():
            proto = key.partition("/")[2] or "tcp"
            for bind in binds or []:
                if bind.get("HostPort"):
                    for port in _ports(bind["HostPort"]):
                        held.add((port, proto))
        if owner == project:
            running.append(name)
            if item.get("State", {}).get("Running"):
                own_ports |= held
        else:
            for key in held:
                foreign_ports[key] = owner or name
        if name in module.params["containers"] and owner != project:
            problems.append("container name %s is taken by %s" % (
                name, "deployment %r" % owner if owner else "a container outside compose"))
    result["running"] = sorted(running)

    rc, out, err = _run(module, ["network", "ls", "--format", "{{.Name}}"])
    networks = _inspect(module, "network", [n for n in out.split() if n])
    for wanted in module.params["networks"]:
        subnets = [ipaddress.ip_network(s, strict=False) for s in wanted.get("subnet") or []]
        for net in networks:
            labels = net.get("Labels") or {}
            owner = labels.get("com.docker.compose.project")
            same = owner == project and net.get("Name") == wanted.get("name")
            if same:
                continue
            if net.get("Name") == wanted.get("name"):
                problems.append("network name %s is taken by %s" % (
                    net.get("Name"), "deployment %r" % owner if owner else "another network"))
            for conf in ((net.get("IPAM") or {}).get("Config") or []):
                if not conf.get("Subnet"):
                    continue
                other = ipaddress.ip_network(conf["Subnet"], strict=False)
                for mine in subnets:
                    if mine.version == other.version and mine.overlaps(other):
                        problems.append("subnet %s of network %s overlaps %s of network %s%s" % (
                            mine, wanted.get("name"), other, net.get("Name"),
                            " (deployment %r)" % owner if owner else ""))

    for entry in module.params["published"]:
        address = entry.get("address") or "0.0.0.0"
        protocol = entry.get("protocol") or "tcp"
        taken = []
        for port in _ports(entry.get("host")):
            key = (port, protocol)
            if key in own_ports:
                continue
            if key in foreign_ports:
                problems.append("port %d/%s (service %s) is published by %s" % (
                    port, protocol, entry.get("service"), "deployment %r" % foreign_ports[key]))
                continue
            if not _bindable(address, port, protocol):
                taken.append(port)
        if taken:
            ports = ", ".join(str(p) for p in taken[:10]) + (" ..." if len(taken) > 10 else "")
            problems.append("port %s/%s on %s (service %s) is already in use on the host"
                            % (ports, protocol, address, entry.get("service")))
    if problems:
        module.fail_json(msg="deployment %r cannot start on this host: %s" % (project, "; ".join(problems)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
