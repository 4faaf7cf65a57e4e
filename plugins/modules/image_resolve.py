#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pull image references on the target and report the digest each one resolves to."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_resolve
short_description: Pull images and resolve their tags to digests on the target
version_added: 0.2.0
description:
  - Pulls every given image reference with the target's Docker engine (from the registry the image
    comes from, with the credentials of the Docker credential store) and returns the manifest digest
    each reference resolved to, so that a deployment can pin C(repository:tag@sha256:...) and record
    what it runs.
  - A reference that already carries a digest is pulled by that digest, which proves that the registry
    serves it.
  - Every reference is tried; all failures are reported together, each naming the image, the reference
    and the reason (registry unreachable, no such tag or digest, access denied).
  - Runs only the C(docker) CLI; the Docker SDK for Python is not needed.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  images:
    description: Image references by a name of your choice (the stack role uses the registry service names).
    type: dict
    required: true
  docker:
    description: The docker CLI to run.
    type: str
    default: docker
  timeout:
    description: Seconds one pull may take.
    type: int
    default: 300
attributes:
  check_mode:
    support: partial
    details: In check mode nothing is pulled; digests come from images already on the host, others are null.
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
- name: Resolve the deployment's tags to digests
  voiceops.avr.image_resolve:
    images:
      avr-core: registry.example.org/agentvoiceresponse/avr-core:v1.4.0
      avr-asterisk: registry.example.org/agentvoiceresponse/avr-asterisk:v1.4.0
  register: resolved

- name: Render the stack pinned to those digests
  voiceops.avr.voice_compose:
    template: openai
    project_dir: /srv/avr/openai
    tag: v1.4.0
    digests: "{{ resolved.digests }}"
"""

RETURN = r"""
---
digests:
  description: The manifest digest each reference resolved to (null in check mode for an image not on the host).
  returned: always
  type: dict
  sample: {avr-core: "sha256:5b0c4f3c9a0c2b2e7d8a6f1e4c3b2a19080706050403020100ffeeddccbbaa9988"}
references:
  description: Each reference pinned to its digest (C(repository:tag@sha256:...)).
  returned: always
  type: dict
pulled:
  description: Names whose local image changed with the pull.
  returned: always
  type: list
  elements: str
"""

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule

DIGEST_LINE = re.compile(r"^Digest:\s*(sha256:[0-9a-f]{64})\s*$", re.MULTILINE)
DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")

#: (pattern in docker's error output, what it means), first match wins
REASONS = (
    (re.compile(r"connection refused|no such host|i/o timeout|network is unreachable|dial tcp|"
                r"server misbehaving|TLS handshake timeout|context deadline exceeded", re.I),
     "registry {registry} is unreachable"),
    (re.compile(r"unauthorized|authentication required|no basic auth credentials|denied|forbidden", re.I),
     "access to {registry} denied (no such repository, or log in with an account that can read it)"),
    (re.compile(r"manifest unknown|not found|does not exist|no such manifest", re.I),
     "{registry} has no {what}"),
)


def split(reference):
    """(repository, tag, digest) of a reference; tag and digest may be None."""
    rest, digest = reference.partition("@")[::2]
    tag = None
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag = rest.rsplit(":", 1)
    return rest, tag, digest or None


def registry_of(repository):
    first = repository.split("/", 1)[0]
    if "/" in repository and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def run(docker, args, timeout):
    try:
        proc = subprocess.run([docker] + args, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError:
        return 127, "", "%s: command not found" % docker
    except subprocess.TimeoutExpired:
        return 124, "", "timed out after %d s" % timeout
    return proc.returncode, proc.stdout, proc.stderr


def local_image(docker, reference, timeout):
    """(image id, repo digests) of a local image, or (None, [])."""
    rc, out, _err = run(docker, ["image", "inspect", "-f", "{{.Id}} {{join .RepoDigests \" \"}}", reference], timeout)
    if rc != 0 or not out.strip():
        return None, []
    parts = out.split()
    return parts[0], parts[1:]


def familiar(repository):
    """The name Docker keeps in RepoDigests: docker.io/library/mysql and docker.io/n8nio/n8n are mysql, n8nio/n8n."""
    for prefix in ("docker.io/", "index.docker.io/", "registry-1.docker.io/"):
        if repository.startswith(prefix):
            rest = repository[len(prefix):]
            return rest[len("library/"):] if rest.startswith("library/") else rest
    return repository


def recorded_digest(repository, repo_digests):
    """The digest of ``repository`` among an image's RepoDigests (the first one), or None."""
    for entry in repo_digests:
        name, _sep, digest = entry.partition("@")
        if familiar(name) == familiar(repository):
            return digest
    return None


def resolve(docker, name, reference, timeout, check_mode):
    """One reference -> dict(digest, pinned, changed) or dict(error)."""
    repository, tag, digest = split(reference)
    pull_ref = "%s@%s" % (repository, digest) if digest else "%s:%s" % (repository, tag or "latest")
    before, repo_digests = local_image(docker, pull_ref, timeout)
    if check_mode:
        return {"digest": digest or recorded_digest(repository, repo_digests), "changed": False}
    rc, out, err = run(docker, ["pull", pull_ref], timeout)
    if rc == 127:
        return {"error": "images.%s: cannot pull %s: the docker CLI %r is not on the target (%s)"
                         % (name, pull_ref, docker, err.strip())}
    if rc != 0:
        detail = (err or out).strip().splitlines()
        detail_text = detail[-1] if detail else "exit %d" % rc
        what = "digest %s for %s" % (digest, repository) if digest else "tag %s of %s" % (tag or "latest", repository)
        reason = "pull failed"
        for pattern, text in REASONS:
            if pattern.search(err or out):
                reason = text.format(registry=registry_of(repository), what=what)
                break
        return {"error": "images.%s: cannot pull %s: %s (%s)" % (name, pull_ref, reason, detail_text)}
    match = DIGEST_LINE.search(out)
    after, repo_digests = local_image(docker, pull_ref, timeout)
    found = digest or (match.group(1) if match else recorded_digest(repository, repo_digests))
    if not found or not DIGEST_RE.fullmatch(found):
        return {"error": "images.%s: pulled %s but Docker reports no registry digest for it" % (name, pull_ref)}
    return {"digest": found, "changed": before != after}


def main():
    module = AnsibleModule(
        argument_spec={
            "images": {"type": "dict", "required": True},
            "docker": {"type": "str", "default": "docker"},
            "timeout": {"type": "int", "default": 300},
        },
        supports_check_mode=True,
    )
    images = module.params["images"]
    for name, reference in images.items():
        if not isinstance(reference, str) or not reference or any(c.isspace() for c in reference):
            module.fail_json(msg="images.%s: %r is not an image reference" % (name, reference))
        digest = split(reference)[2]
        if digest and not DIGEST_RE.fullmatch(digest):
            module.fail_json(msg="images.%s: %r is not an image digest (sha256: and 64 hex digits)" % (name, digest))
    docker, timeout = module.params["docker"], module.params["timeout"]
    names = sorted(images)
    with ThreadPoolExecutor(max_workers=min(4, len(names) or 1)) as pool:
        results = list(pool.map(lambda n: resolve(docker, n, images[n], timeout, module.check_mode), names))
    errors = [res["error"] for res in results if "error" in res]
    if errors:
        module.fail_json(msg="; ".join(errors), errors=errors)
    digests, references, pulled = {}, {}, []
    for name, res in zip(names, results):
        digests[name] = res["digest"]
        repository, tag, _digest = split(images[name])
        references[name] = "%s%s@%s" % (repository, ":" + tag if tag else "", res["digest"]) if res["digest"] else None
        if res["changed"]:
            pulled.append(name)
    module.exit_json(changed=bool(pulled), digests=digests, references=references, pulled=pulled)


if __name__ == "__main__":
    main()
