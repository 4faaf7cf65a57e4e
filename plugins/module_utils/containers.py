# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Docker runs of a deployment, compared with what its compose file asks for (target side).

voiceops.avr.project_files observes (target side, in the same module execution as the project's files)
and voiceops.avr.voice_compose compares (controller side, once it has rendered) whether ``docker compose
up`` would change anything: every container exists, runs (healthy where it has a health check) the image
reference it was rendered with (and, for a reference without a digest, the image the tag names on the
host now), belongs to the compose project, and the project has no other container. Only the ``docker``
CLI is used; Python standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import subprocess

PROJECT_LABEL = "com.docker.compose.project"


def _docker(docker, args, timeout=30):
    try:
        proc = subprocess.run([docker] + args, capture_output=True, text=True, timeout=timeout, check=False)
    except OSError as exc:
        return 127, "", "%s: %s" % (docker, exc)
    except subprocess.TimeoutExpired:
        return 124, "", "%s %s: no answer within %d s" % (docker, args[0], timeout)
    return proc.returncode, proc.stdout, proc.stderr


def _json_lines(text):
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line:
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
    return found


def observe(project, names, images, docker="docker"):
    """What Docker has of ``project``: per container of ``names`` its status, health, configured image
    reference, image id and compose project (absent when there is no such container); the image id of each
    reference of ``images`` on the host; the names of every container of the project. ``error`` says why
    Docker could not be asked."""
    seen = {"containers": {}, "images": {}, "project_containers": []}
    _rc, out, err = _docker(docker, ["inspect", "--type", "container", "--format", "{{json .}}"] + sorted(names))
    for data in _json_lines(out):
        if isinstance(data, dict) and isinstance(data.get("Name"), str):
            state = data.get("State") or {}
            config = data.get("Config") or {}
            seen["containers"][data["Name"].lstrip("/")] = {
                "status": state.get("Status"), "health": (state.get("Health") or {}).get("Status"),
                "image": config.get("Image"), "image_id": data.get("Image"),
                "project": (config.get("Labels") or {}).get(PROJECT_LABEL)}
    if not seen["containers"] and err.strip() and "No such" not in err:
        seen["error"] = err.strip().splitlines()[-1]
        return seen
    for ref in sorted(set(images)):
        _rc, out, _err = _docker(docker, ["image", "inspect", "--format", "{{json .Id}}", ref])
        ids = _json_lines(out)
        if ids:
            seen["images"][ref] = ids[0]
    rc, out, err = _docker(docker, ["ps", "--all", "--filter", "label=%s=%s" % (PROJECT_LABEL, project),
                                    "--format", "{{.Names}}"])
    if rc != 0:
        seen["error"] = "docker ps: %s" % (err.strip() or "exit %d" % rc)
    else:
        seen["project_containers"] = sorted(out.split())
    return seen


def differences(seen, project, expected):
    """The reasons ``docker compose up`` of ``project`` would change something, one line each, from what
    :func:`observe` saw; empty when Docker runs exactly ``expected`` (container name -> image reference)."""
    if seen.get("error"):
        return ["docker: %s" % seen["error"]]
    reasons = []
    for name in sorted(expected):
        container = seen.get("containers", {}).get(name)
        if container is None:
            reasons.append("%s: no such container" % name)
            continue
        if container.get("status") != "running":
            reasons.append("%s: %s" % (name, container.get("status")))
        elif container.get("health") not in (None, "healthy"):
            reasons.append("%s: %s" % (name, container.get("health")))
        ref = expected[name]
        if container.get("image") != ref:
            reasons.append("%s: runs %s, not %s" % (name, container.get("image"), ref))
        elif "@" not in ref and seen.get("images", {}).get(ref) != container.get("image_id"):
            reasons.append("%s: runs another image than %s names on this host" % (name, ref))
        if container.get("project") != project:
            reasons.append("%s: not a container of compose project %s" % (name, project))
    for other in sorted(set(seen.get("project_containers", [])) - set(expected)):
        reasons.append("%s: a container of the project that the compose file does not have" % other)
    return reasons
