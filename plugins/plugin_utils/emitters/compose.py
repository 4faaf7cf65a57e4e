# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The compose emitter: a deployment description as a Compose Specification file (docker compose).

Compose takes values inline: a given secret is written into the service's environment (the file is
mode 0600), a value left missing becomes ``${NAME}`` for compose to substitute, and every literal ``$``
is doubled so compose does not interpolate it. Ports and mounts keep the short syntax they were given in.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Set

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Healthcheck
from ansible_collections.voiceops.avr.plugins.plugin_utils import yaml_emit
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Deployment, Service

HEADER = ("Rendered by voiceops.avr.voice_compose; local edits are overwritten.\n"
          "deployment: {deployment}  template: {template}\n"
          "registry: {generation} sha256:{digest}")


@dataclass
class Rendered:
    content: str
    document: Dict[str, Any]
    #: extra files for the project directory: relative path -> text (all secret, mode 0600)
    files: Dict[str, str] = field(default_factory=dict)
    secret_values: List[str] = field(default_factory=list)
    secret_vars: Set[str] = field(default_factory=set)
    missing: List[str] = field(default_factory=list)
    providers: Dict[str, Dict[str, bool]] = field(default_factory=dict)
    checksum: str = ""
    #: the neutral description the content was emitted from
    deployment: Optional[Deployment] = None


def escape(value: str) -> str:
    """Protect a literal value from compose interpolation."""
    return value.replace("$", "$$") if "$" in value else value


def environment(deployment: Deployment, svc: Service) -> Dict[str, str]:
    """The service's environment as compose writes it (secrets inline)."""
    out: Dict[str, str] = {}
    for value in svc.env:
        if value.origin == "missing":
            out[value.name] = "${%s}" % value.placeholder
        elif value.origin == "secret":
            out[value.name] = escape(deployment.secret_values[value.secret.name])
        else:
            out[value.name] = escape(value.value or "")
    return out


def healthcheck(hc: Healthcheck) -> Dict[str, Any]:
    """A health check as compose (and the Swarm stack file, which shares the syntax) writes it."""
    check: Dict[str, Any] = {"test": [escape(part) for part in hc.test]}
    for key in ("interval", "timeout", "retries", "start_period"):
        if getattr(hc, key) is not None:
            value = getattr(hc, key)
            check[key] = escape(value) if isinstance(value, str) else value
    return check


def service(deployment: Deployment, svc: Service) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"image": svc.image}
    if svc.platform:
        spec["platform"] = escape(svc.platform)
    spec["container_name"] = svc.deployed
    if svc.restart:
        spec["restart"] = escape(svc.restart)
    if svc.command:
        spec["command"] = [escape(part) for part in svc.command]
    env = environment(deployment, svc)
    if env:
        spec["environment"] = env
    if svc.labels:
        spec["labels"] = list(svc.labels)
    if svc.ports:
        spec["ports"] = [port.spec for port in svc.ports]
    if svc.mounts:
        spec["volumes"] = [escape(mount.spec) for mount in svc.mounts]
    if svc.healthcheck is not None:
        spec["healthcheck"] = healthcheck(svc.healthcheck)
    if svc.depends_on:
        spec["depends_on"] = {target: {"condition": condition} for target, condition in svc.depends_on}
    spec["networks"] = [deployment.network.key]
    return spec


def document(deployment: Deployment) -> Dict[str, Any]:
    net: Dict[str, Any] = {"name": deployment.network.name, "driver": deployment.network.driver}
    if deployment.network.subnet:
        net["ipam"] = {"config": [{"subnet": deployment.network.subnet}]}
    return {"name": deployment.name,
            "services": {svc.deployed: service(deployment, svc) for svc in deployment.services},
            "networks": {deployment.network.key: net}}


def emit(deployment: Deployment) -> Rendered:
    """The compose file of ``deployment``, with its credential files and what the caller must mask."""
    doc = document(deployment)
    content = yaml_emit.dump(doc, HEADER.format(deployment=deployment.name, template=deployment.template,
                                                generation=deployment.generation, digest=deployment.digest))
    return Rendered(content=content, document=doc, files=dict(deployment.file_values),
                    secret_values=[deployment.secret_values[value.secret.name] for svc in deployment.services
                                   for value in svc.env if value.origin == "secret" and value.secret is not None],
                    secret_vars=set(deployment.secret_names),
                    missing=[], providers={k: dict(v) for k, v in deployment.providers.items()},
                    checksum=hashlib.sha1(content.encode("utf-8")).hexdigest(), deployment=deployment)
