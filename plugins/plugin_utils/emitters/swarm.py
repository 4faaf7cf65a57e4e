# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Swarm emitter: a deployment description as a stack file for ``docker stack deploy``.

Swarm reads the legacy compose file format 3 (``version: "3.8"``), not the Compose Specification: no
top-level ``name``, no ``container_name`` or ``platform``, ``depends_on`` as a list, restart and resources
under ``deploy``. Every service is a replicated service of one replica with a rolling update that rolls
back on failure (``update_config``) and a ``rollback_config``.

Secrets are never written inline. Every variable with a secret reference (a provider key, a named secret,
also one whose value is its image's public default) and every credential file becomes a Swarm secret,
mounted as a file: ``/run/secrets/<REFERENCE>`` for a variable, the credential file's own mount target for
a credential file. Swarm secrets are immutable, so each has a versioned name, ``<deployment>_<key>_<version>``:
a changed value is a new name. The version of a secret is an HMAC of its reference and value under
``version_key`` (a random key the deployment keeps), never a function of the value alone: anyone who may
list a swarm's secrets sees their names, and could otherwise test guesses of a weak value against them. A
secret this render was not given is an external secret of that name without version
(``<deployment>_<key>``), for the operator to create.

A variable whose image reads the value from a file (``file_env``: service -> variable -> the variable that
takes the file's path, e.g. ``MYSQL_ROOT_PASSWORD`` -> ``MYSQL_ROOT_PASSWORD_FILE``) gets that path. Any
other secret variable is not set in the stack file at all (the documented limit: such an image finds its
secret only as the file ``/run/secrets/<REFERENCE>``); ``Rendered.file_only`` lists them.

The project's configuration files (the Asterisk configuration, given as ``configs``: project path -> text)
mounted one by one become Swarm configs with versioned names (a hash of path and content), or secrets when
their text holds a secret value (``manager.conf`` holds the AMI password). Every secret and config given here
is created from a file of ``Rendered.files`` (``swarm/secrets/<key>``, ``swarm/configs/<key>``), which the
caller writes mode 0600 next to the stack file.

Published ports use the long syntax, one entry per port. A service that publishes a port which must equal
the host port (``registry.purposes``: SIP and RTP, whose numbers Asterisk advertises) publishes every port in
``mode: host`` (ingress would hide the caller's address, and a published range is slow to set up) and is
pinned to a node; so is a service that bind-mounts anything from the host or a named volume (the files are on
one node). ``placement`` names that node (``node.hostname == <placement>``); without it, a manager
(``node.role == manager``: the node the deployment is run from). Ports bound to one address are refused:
Swarm publishes on every address of a node.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets as secrets_module
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import BY_NAME, purpose_of
from ansible_collections.voiceops.avr.plugins.plugin_utils import yaml_emit
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Deployment, Service, Value
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters.compose import escape, healthcheck

VERSION = "3.8"
HEADER = ("Rendered by voiceops.avr.voice_compose (engine swarm, for docker stack deploy); local edits are "
          "overwritten.\n"
          "deployment: {deployment}  template: {template}\n"
          "registry: {generation} sha256:{digest}")

#: Where a variable's secret is mounted in the container (Swarm's own default folder).
SECRETS_DIR = "/run/secrets"
#: The project folders holding the files the stack's secrets and configs are created from (mode 0600), one per
#: reference or configuration file (``secret_file``, ``config_file``). Swarm refuses to change an existing secret
#: or config, so a stack file must be deployed with the files it was rendered with: they belong to its release.
SECRET_FILES_DIR = "swarm/secrets"
CONFIG_FILES_DIR = "swarm/configs"
#: Swarm refuses longer names of secrets and configs.
NAME_MAX = 64
#: Characters of a version: 48 bits of an HMAC (or of a hash, for a config).
VERSION_CHARS = 12

#: How a service rolls to a new version and back. ``order`` is chosen per service (see ``_order``).
UPDATE = (("parallelism", 1), ("failure_action", "rollback"), ("monitor", "30s"))
ROLLBACK = (("parallelism", 1), ("failure_action", "pause"), ("monitor", "30s"))

#: compose ``restart`` -> Swarm restart condition (no restart policy in compose means no restart).
_RESTART = {"always": "any", "unless-stopped": "any", "no": "none"}


class SwarmError(RegistryError):
    """A deployment that Swarm cannot run as described; the message names the service and the value."""


@dataclass
class Rendered:
    """A stack file and what comes with it."""

    content: str
    document: Dict[str, Any]
    #: files the stack's secrets and configs are created from: project path -> text (mode 0600)
    files: Dict[str, str] = field(default_factory=dict)
    #: every secret value of the deployment (none of them is in ``content``), for masking
    secret_values: List[str] = field(default_factory=list)
    #: Swarm secret name -> project file it is created from (None: external, not given to this render)
    secrets: Dict[str, Optional[str]] = field(default_factory=dict)
    #: Swarm config name -> project file it is created from
    configs: Dict[str, str] = field(default_factory=dict)
    #: deployed service -> secret variables the stack file cannot set (the image reads no file for them)
    file_only: Dict[str, List[str]] = field(default_factory=dict)
    checksum: str = ""
    deployment: Optional[Deployment] = None
    #: the stack file itself holds no secret value, whatever the deployment holds
    holds_secrets: bool = False


def key_text(text: str) -> str:
    """A name part from any text: lower-case letters, digits and '_'."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "x"


def object_name(deployment: str, key: str, version: Optional[str]) -> str:
    """``<deployment>_<key>[_<version>]`` within Swarm's 64 characters: a longer one keeps its version (or, without
    one, gets a hash of the whole name) after its readable part, shortened."""
    readable = "%s_%s" % (deployment, key)
    full = readable + ("_" + version if version else "")
    if len(full) <= NAME_MAX:
        return full
    tail = "_" + (version or hashlib.sha256(full.encode("utf-8")).hexdigest()[:VERSION_CHARS])
    return readable[:NAME_MAX - len(tail)].rstrip("_-.") + tail


def secret_version(version_key: bytes, key: str, value: str) -> str:
    """The version of a secret: an HMAC of its key and value under the deployment's ``version_key``."""
    digest = hmac.new(version_key, key.encode("utf-8") + b"\0" + value.encode("utf-8"), hashlib.sha256)
    return digest.hexdigest()[:VERSION_CHARS]


def config_version(path: str, text: str) -> str:
    """The version of a config: a hash of its path and content (no secret: its content is not one)."""
    return hashlib.sha256(path.encode("utf-8") + b"\0" + text.encode("utf-8")).hexdigest()[:VERSION_CHARS]


def _host_ports(svc: Service) -> bool:
    """Whether a port of ``svc`` must equal its host port (the purposes' ``follows_host``)."""
    return any(BY_NAME[purpose_of(svc.role, port.container, port.protocol)].follows_host  # type: ignore[arg-type]
               for port in svc.ports)


class _Objects:
    """The secrets and configs of a stack, by key, with the files they are created from."""

    def __init__(self, deployment: Deployment, version_key: bytes) -> None:
        self.deployment = deployment
        self.version_key = version_key
        self.secrets: Dict[str, Dict[str, Any]] = {}
        self.configs: Dict[str, Dict[str, Any]] = {}
        self.files: Dict[str, str] = {}
        self.sources: Dict[str, Optional[str]] = {}
        self.config_sources: Dict[str, str] = {}

    def secret(self, base: str, value: Optional[str]) -> str:
        """The key of the secret ``base`` holding ``value`` (None: not given, an external secret)."""
        if value is None:
            key = key_text(base)
            name = object_name(self.deployment.name, key, None)
            self.secrets.setdefault(key, {"name": name, "external": True})
            self.sources.setdefault(name, None)
            return key
        version = secret_version(self.version_key, base, value)
        key = "%s_%s" % (key_text(base), version)
        if key not in self.secrets:
            source = secret_file(base)
            if source in self.files:  # another value under the same reference (two images' defaults)
                source = "%s_%s" % (source, version)
            name = object_name(self.deployment.name, key_text(base), version)
            self.secrets[key] = {"name": name, "file": "./" + source}
            self.files[source] = value
            self.sources[name] = source
        return key

    def config(self, path: str, text: str) -> str:
        version = config_version(path, text)
        key = "%s_%s" % (key_text(path), version)
        if key not in self.configs:
            source = config_file(path)
            name = object_name(self.deployment.name, key_text(path), version)
            self.configs[key] = {"name": name, "file": "./" + source}
            self.files[source] = text
            self.config_sources[name] = source
        return key


def secret_file(base: str) -> str:
    """The project file a secret of reference (or configuration path) ``base`` is created from."""
    return "%s/%s" % (SECRET_FILES_DIR, key_text(base))


def config_file(path: str) -> str:
    """The project file the config of configuration file ``path`` is created from."""
    return "%s/%s" % (CONFIG_FILES_DIR, key_text(path))


def _holds_secret(text: str, values: Sequence[str]) -> bool:
    return any(value and value in text for value in values)


def _ports(svc: Service, host_mode: bool) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for port in svc.ports:
        if port.address:
            raise SwarmError("engine swarm: service %r publishes %r on host address %r, but Swarm publishes a port "
                             "on every address of a node; leave the address out (publish_address, management_address, "
                             "ports)" % (svc.name, port.spec, port.address))
        start, end = port.container_range
        host_start = port.host_range[0] if port.host else None
        for offset in range(end - start + 1):
            entry: Dict[str, Any] = {"target": start + offset}
            if host_start is not None:
                entry["published"] = host_start + offset
            entry["protocol"] = port.protocol
            entry["mode"] = "host" if host_mode else "ingress"
            out.append(entry)
    return out


def _restart(name: str, restart: Optional[str]) -> Dict[str, Any]:
    if restart is None:
        return {"condition": "none"}
    if restart in _RESTART:
        return {"condition": _RESTART[restart]}
    kind, _sep, count = restart.partition(":")
    if kind == "on-failure":
        policy: Dict[str, Any] = {"condition": "on-failure"}
        if count.isdigit():
            policy["max_attempts"] = int(count)
        return policy
    raise SwarmError("engine swarm: service %r has restart %r, which Swarm has no restart condition for "
                     "(always, unless-stopped, on-failure[:N], no)" % (name, restart))


def _resources(svc: Service) -> Optional[Dict[str, Any]]:
    res = svc.resources
    if res is None:
        return None
    out: Dict[str, Any] = {}
    limits = {k: v for k, v in (("cpus", res.cpus), ("memory", res.memory)) if v is not None}
    reserve = {k: v for k, v in (("cpus", res.reserve_cpus), ("memory", res.reserve_memory)) if v is not None}
    if limits:
        out["limits"] = limits
    if reserve:
        out["reservations"] = reserve
    return out or None


def _environment(svc: Service, objects: _Objects, file_env: Mapping[str, str],
                 mounted: List[Dict[str, Any]], file_only: List[str]) -> Dict[str, str]:
    env: Dict[str, str] = {}
    for value in svc.env:
        if value.secret is not None:
            ref = value.secret
            content = _secret_content(objects.deployment, value)
            key = objects.secret(ref.name, content)
            target = ref.name
            entry = {"source": key, "target": target}
            if entry not in mounted:
                mounted.append(entry)
            if value.name in file_env:
                env[file_env[value.name]] = "%s/%s" % (SECRETS_DIR, target)
            else:
                file_only.append(value.name)
        elif value.origin == "missing":
            env[value.name] = "${%s}" % value.placeholder
        else:
            env[value.name] = escape(value.value or "")
    return env


def _secret_content(deployment: Deployment, value: Value) -> Optional[str]:
    """The value of a secret variable: given, its image's public default, or None (not given)."""
    if value.origin == "secret" and value.secret is not None:
        return deployment.secret_values.get(value.secret.name)
    return value.value


def _order(host_mode: bool, binds: bool) -> str:
    """``stop-first`` where two tasks of the service cannot run side by side (host ports, data on the host),
    ``start-first`` otherwise (the new task runs before the old one stops)."""
    return "stop-first" if host_mode or binds else "start-first"


def service(deployment: Deployment, svc: Service, objects: _Objects, configs: Mapping[str, str],
            secret_texts: Sequence[str], file_env: Mapping[str, str], placement: Optional[str],
            file_only: Dict[str, List[str]]) -> Dict[str, Any]:
    spec: Dict[str, Any] = {"image": svc.image}
    if svc.command:
        spec["command"] = [escape(part) for part in svc.command]
    secret_mounts: List[Dict[str, Any]] = []
    config_mounts: List[Dict[str, Any]] = []
    only: List[str] = []
    env = _environment(svc, objects, file_env, secret_mounts, only)
    if only:
        file_only[svc.deployed] = only
    if env:
        spec["environment"] = env
    if svc.labels:
        spec["labels"] = list(svc.labels)
    host_mode = _host_ports(svc)
    if svc.ports:
        spec["ports"] = _ports(svc, host_mode)
    credentials = {cred.path: cred for cred in deployment.credential_files}
    volumes: List[str] = []
    binds = False
    for mount in svc.mounts:
        if mount.kind == "project" and mount.path in credentials:
            cred = credentials[mount.path]
            key = objects.secret(cred.secret.name, deployment.file_values.get(mount.path))
            secret_mounts.append({"source": key, "target": mount.target})
        elif mount.kind == "project" and mount.path in configs:
            text = configs[mount.path]
            if _holds_secret(text, secret_texts):
                key = objects.secret(mount.path, text)
                secret_mounts.append({"source": key, "target": mount.target})
            else:
                key = objects.config(mount.path, text)
                config_mounts.append({"source": key, "target": mount.target})
        else:
            volumes.append(escape(mount.spec))
            binds = True
    if volumes:
        spec["volumes"] = volumes
    if secret_mounts:
        spec["secrets"] = secret_mounts
    if config_mounts:
        spec["configs"] = config_mounts
    if svc.healthcheck is not None:
        spec["healthcheck"] = healthcheck(svc.healthcheck)
    if svc.depends_on:
        spec["depends_on"] = [target for target, _condition in svc.depends_on]
    spec["networks"] = [deployment.network.key]
    restart = _restart(svc.name, svc.restart)
    order = _order(host_mode, binds)
    deploy: Dict[str, Any] = {"mode": "replicated", "replicas": 1}
    if svc.labels:
        deploy["labels"] = list(svc.labels)
    deploy["restart_policy"] = restart
    resources = _resources(svc)
    if resources:
        deploy["resources"] = resources
    if host_mode or binds:
        where = "node.hostname == %s" % placement if placement else "node.role == manager"
        deploy["placement"] = {"constraints": [where]}
    deploy["update_config"] = dict(UPDATE, order=order)
    deploy["rollback_config"] = dict(ROLLBACK, order=order)
    spec["deploy"] = deploy
    return spec


def _check_placement(placement: Optional[str]) -> Optional[str]:
    if placement is None or placement == "":
        return None
    if not isinstance(placement, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}", placement):
        raise SwarmError("placement: %r is not a node's hostname (letters, digits, '.' and '-')" % (placement,))
    return placement


def emit(deployment: Deployment, configs: Optional[Mapping[str, str]] = None, version_key: Optional[bytes] = None,
         placement: Optional[str] = None, file_env: Optional[Mapping[str, Mapping[str, str]]] = None,
         secret_texts: Sequence[str] = ()) -> Rendered:
    """The stack file of ``deployment`` and the files its secrets are created from.

    ``configs``: the rendered project configuration files (project path -> text); ``version_key``: the
    deployment's key for secret versions (without one a random key is drawn, so names change every call);
    ``placement``: the hostname of the node to pin services to; ``file_env``: per registry service name, the
    secret variables its image reads from a file (variable -> variable taking the path); ``secret_texts``:
    secret values beyond the deployment's own (kept secrets) that make a configuration file a secret.
    """
    placement = _check_placement(placement)
    key = version_key if version_key is not None else secrets_module.token_bytes(32)
    configs = dict(configs or {})
    values = [v for v in list(deployment.secret_values.values()) + list(secret_texts) if v]
    values += [v.value for svc in deployment.services for v in svc.env if v.secret is not None and v.value]
    objects = _Objects(deployment, key)
    file_only: Dict[str, List[str]] = {}
    services = {svc.deployed: service(deployment, svc, objects, configs, values, (file_env or {}).get(svc.name, {}),
                                      placement, file_only)
                for svc in deployment.services}
    net: Dict[str, Any] = {"driver": "overlay", "attachable": True}
    if deployment.network.subnet:
        net["ipam"] = {"config": [{"subnet": deployment.network.subnet}]}
    doc: Dict[str, Any] = {"version": VERSION, "services": services, "networks": {deployment.network.key: net}}
    volumes = sorted({m.source for svc in deployment.services for m in svc.mounts if m.kind == "volume"})
    if volumes:
        doc["volumes"] = {name: {} for name in volumes}
    if objects.secrets:
        doc["secrets"] = {k: objects.secrets[k] for k in sorted(objects.secrets)}
    if objects.configs:
        doc["configs"] = {k: objects.configs[k] for k in sorted(objects.configs)}
    content = yaml_emit.dump(doc, HEADER.format(deployment=deployment.name, template=deployment.template,
                                                generation=deployment.generation, digest=deployment.digest))
    return Rendered(content=content, document=doc, files=dict(sorted(objects.files.items())),
                    secret_values=sorted(set(values)), secrets=dict(sorted(objects.sources.items())),
                    configs=dict(sorted(objects.config_sources.items())), file_only=file_only,
                    checksum=hashlib.sha1(content.encode("utf-8")).hexdigest(), deployment=deployment)


__all__ = ["emit", "Rendered", "SwarmError", "HEADER", "VERSION", "SECRET_FILES_DIR", "CONFIG_FILES_DIR", "secret_file",
           "config_file", "secret_version"]
