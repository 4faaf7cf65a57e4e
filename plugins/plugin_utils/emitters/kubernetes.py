# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Kubernetes emitter: a deployment description as Kubernetes resources (kubernetes.core.k8s applies them).

A pure function of the deployment, the text of its project configuration files and a few options.
What it makes, in this order (each a plain mapping; the same inputs give the same resources and bytes):

* a ``Namespace`` named after the deployment (``Options.namespace``: use an existing one, make none);
* ``<deployment>-config`` ConfigMap: the configuration files that hold no secret, key = the project path
  with ``/`` as ``-`` (``asterisk/conf/pjsip.conf`` -> ``asterisk-conf-pjsip.conf``);
* ``<deployment>-project`` PersistentVolumeClaim when a service mounts a project folder (the project
  directory as a volume, each folder mounted with its ``subPath``, as compose bind-mounts it), and one
  ``<deployment>-<volume>`` claim per named volume;
* per service, in registry order: ``<service>-env`` ConfigMap (its non-secret variables), a headless
  ``Service`` (``clusterIP: None``: the deployed name resolves to the pod, every port reachable, as on a
  compose network) and a ``Deployment`` (one replica).

Never made, only named (the user creates them, the manifests never hold a value):

* ``<deployment>-secrets`` Secret: one key per secret reference (``SecretRef.name``: ``OPENAI_API_KEY``,
  ``AMI_PASSWORD`` ...), read by ``env[].valueFrom.secretKeyRef``. A secret variable whose value is its
  image's public default is still a reference (the Secret must hold the key);
* ``<deployment>-files`` Secret: credential files (``google.json``) and configuration files that hold a
  secret (the source template reads ``voice_secrets``, or the text holds a secret value of the render),
  key as for the ConfigMap, mounted file by file with ``subPath``;
* ``<deployment>-values`` ConfigMap: values left missing (``allow_missing``) that are not secrets, key =
  the variable's placeholder.

``Manifests.references`` lists each with its keys. Values reach containers only through ``valueFrom``, in
schema order; ``enableServiceLinks: false`` keeps Kubernetes' own ``<SERVICE>_PORT`` variables out.

Pods roll when what they read from the manifests changes: the pod template's ``voiceops.avr/config-sha256``
annotation hashes the env ConfigMap data and the ConfigMap files the service mounts (a Secret's content is
not known here: after changing a user-managed Secret, restart the Deployment).

Ports: each published port or range becomes container ports and Service ports (container side, name
``<protocol>-<port>``); a range becomes one entry per port only up to ``RANGE_LIMIT`` ports. A service
publishing a port that follows the host (registry purposes: SIP, the RTP range) runs with
``hostNetwork: true``, ``dnsPolicy: ClusterFirstWithHostNet`` and strategy ``Recreate``: it binds the
node's ports directly, as its configuration advertises them (a larger range is then served by the node
and only recorded in the ``voiceops.avr/host-ports`` annotation). The cost: one such pod per node and
port set (a second deployment on the same node needs other ports), no rolling update (the old pod stops
before the new one starts: calls drop), and the pod shares the node's network namespace. A range larger
than the limit on any other service is refused, never silently left out. Host ports of compose (the
host side of ``HOST:CONTAINER``) and bind addresses do not apply: expose Services with your own
Ingress, LoadBalancer or NodePort.

Not carried: ``restart`` (Deployments always restart), ``depends_on`` (no start order; readiness probes
and restarts), compose ``labels`` (read by Docker-side tools). ``platform`` becomes a node selector.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import Probe, RegistryError
from ansible_collections.voiceops.avr.plugins.module_utils.registry.purposes import BY_NAME, purpose_of
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import parse_reference
from ansible_collections.voiceops.avr.plugins.plugin_utils import yaml_emit
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import Deployment, Port, Service

HEADER = ("Rendered by voiceops.avr.voice_manifests; local edits are overwritten.\n"
          "deployment: {deployment}  template: {template}  namespace: {namespace}\n"
          "registry: {generation} sha256:{digest}")

#: A port range of at most this many ports becomes one container/Service port entry per port.
RANGE_LIMIT = 100
MANAGED_BY = "voiceops.avr"
PART_OF = "agent-voice-response"
ANNOTATION = "voiceops.avr/"

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_SERVICE_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_LABEL_VALUE = re.compile(r"^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_MEMORY = re.compile(r"^([0-9]+)([bkmgBKMG]?)$")
_CPUS = re.compile(r"^[0-9]+(?:\.[0-9]{1,3})?$")
#: Docker's spellings of an architecture -> the Go name the kubernetes.io/arch node label uses
ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm", "i386": "386"}
_STORAGE = re.compile(r"^[1-9][0-9]*(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


class EmitError(RegistryError):
    """The deployment cannot be written as Kubernetes resources; the message names the field and the value."""


@dataclass(frozen=True)
class ConfigFile:
    """A rendered project configuration file; ``secret``: it holds a secret (goes to the files Secret)."""

    path: str
    text: str
    secret: bool


@dataclass(frozen=True)
class Options:
    """``namespace``: an existing namespace to use (no Namespace resource); ``image_pull_secrets``: Secrets of
    the namespace every pod pulls with; ``probes``: readiness probes per registry service name
    (``registry.model.readiness``); ``volume_size``: the storage each PersistentVolumeClaim asks for."""

    namespace: Optional[str] = None
    image_pull_secrets: Tuple[str, ...] = ()
    probes: Mapping[str, Tuple[Probe, ...]] = field(default_factory=dict)
    volume_size: str = "1Gi"


@dataclass
class Manifests:
    resources: List[Dict[str, Any]]
    content: str
    namespace: str
    #: what the manifests name but do not make: [{kind, name, keys}]
    references: List[Dict[str, Any]]
    host_network: List[str]
    checksum: str = ""


def config_key(path: str) -> str:
    """The ConfigMap/Secret key of project file ``path``."""
    return path.replace("/", "-")


def check_dns_label(value: str, where: str, pattern: "re.Pattern[str]" = DNS_LABEL) -> str:
    if len(value) > 63 or not pattern.fullmatch(value):
        first = "a letter" if pattern is _SERVICE_NAME else "a letter or digit"
        raise EmitError("%s: %r is not a Kubernetes name (lower case letters, digits and '-', starting with %s and "
                        "ending with a letter or digit, at most 63 characters)" % (where, value, first))
    return value


def seconds(value: Optional[str], where: str) -> Optional[int]:
    """A Docker duration (``1m30s``, ``500ms``) in whole seconds, at least 1."""
    if value is None:
        return None
    text = str(value)
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise EmitError("%s: %r is not a duration like '30s' or '1m30s'" % (where, text))
    scale = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    total = sum(float(n) * scale[u] for n, u in parts)
    return max(1, int(-(-total // 1)))


def memory(value: str, where: str) -> str:
    """A Docker memory size (binary units: ``512m`` is 512 MiB) as a Kubernetes quantity."""
    match = _MEMORY.fullmatch(str(value))
    if match is None:
        raise EmitError("%s: %r is not a memory size like '512M' or '2G'" % (where, value))
    number, unit = match.group(1), match.group(2).lower()
    return number + {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi"}[unit]


def cpus(value: str, where: str) -> str:
    if not _CPUS.fullmatch(str(value)):
        raise EmitError("%s: %r is not a CPU count like '0.5' or '2'" % (where, value))
    return str(value)


def escape(value: str) -> str:
    """Protect a literal from Kubernetes' ``$(VAR)`` expansion of command arguments."""
    return value.replace("$", "$$")


def follows_host(svc: Service, port: Port) -> bool:
    return BY_NAME[purpose_of(svc.role, port.container, port.protocol)].follows_host  # type: ignore[arg-type]


def host_network(svc: Service) -> bool:
    """Whether ``svc`` publishes a port that follows the host (registry purposes): it runs on the node's network."""
    return any(follows_host(svc, port) for port in svc.ports)


def _ports(svc: Service, on_host: bool) -> Tuple[List[Tuple[int, str]], List[str]]:
    """(container port, protocol) entries of ``svc`` and, on the host network, the ranges left to the node."""
    entries: List[Tuple[int, str]] = []
    left: List[str] = []
    for index, port in enumerate(svc.ports):
        start, end = port.container_range
        if port.size > RANGE_LIMIT:
            if on_host:
                left.append("%s/%s" % (port.container, port.protocol))
                continue
            raise EmitError("ports.%s[%d]: %r is a range of %d ports; a Kubernetes Service takes at most %d per range "
                            "here (only a service on the host network, one publishing a port that follows the "
                            "host, may publish more)" % (svc.name, index, port.spec, port.size, RANGE_LIMIT))
        for number in range(start, end + 1):
            entry = (number, port.protocol.upper())
            if entry not in entries:
                entries.append(entry)
    return entries, left


def _port_name(number: int, protocol: str) -> str:
    return "%s-%d" % (protocol.lower(), number)


def _probe(svc: Service, probes: Sequence[Probe]) -> Optional[Dict[str, Any]]:
    """The readiness probe: the registry health check as an exec probe, else the first TCP probe."""
    hc = svc.healthcheck
    where = "images.%s.healthcheck" % svc.image_key
    if hc is not None and hc.test and hc.test[0] != "NONE":
        if hc.test[0] == "CMD-SHELL":
            command = ["/bin/sh", "-c", " ".join(hc.test[1:])]
        elif hc.test[0] == "CMD":
            command = list(hc.test[1:])
        else:
            command = ["/bin/sh", "-c", " ".join(hc.test)]
        probe: Dict[str, Any] = {"exec": {"command": command}}
        for key, name in (("start_period", "initialDelaySeconds"), ("interval", "periodSeconds"),
                          ("timeout", "timeoutSeconds")):
            value = seconds(getattr(hc, key), "%s.%s" % (where, key))
            if value is not None:
                probe[name] = value
        if hc.retries is not None:
            probe["failureThreshold"] = max(1, int(hc.retries))
        return probe
    for found in probes:
        if found.type == "tcp" and found.port is not None:
            return {"tcpSocket": {"port": int(found.port)}}
    return None


def _resources(svc: Service) -> Optional[Dict[str, Any]]:
    res = svc.resources
    if res is None:
        return None
    where = "images.%s.resources" % svc.image_key
    limits: Dict[str, str] = {}
    requests: Dict[str, str] = {}
    if res.cpus is not None:
        limits["cpu"] = cpus(res.cpus, where + ".cpus")
    if res.memory is not None:
        limits["memory"] = memory(res.memory, where + ".memory")
    if res.reserve_cpus is not None:
        requests["cpu"] = cpus(res.reserve_cpus, where + ".reserve_cpus")
    if res.reserve_memory is not None:
        requests["memory"] = memory(res.reserve_memory, where + ".reserve_memory")
    out: Dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out or None


def _version(image: str) -> Optional[str]:
    try:
        tag = parse_reference(image, "image").tag
    except RegistryError:
        return None
    tag = tag or "latest"
    return tag if len(tag) <= 63 and _LABEL_VALUE.fullmatch(tag) else None


class _Emitter:
    def __init__(self, deployment: Deployment, files: Mapping[str, ConfigFile], options: Options) -> None:
        self.dep = deployment
        self.files = files
        self.options = options
        check_dns_label(deployment.name, "deployment")
        self.namespace = check_dns_label(options.namespace, "namespace") if options.namespace else deployment.name
        for name in options.image_pull_secrets:
            check_dns_label(name, "image_pull_secrets")
        if not _STORAGE.fullmatch(str(options.volume_size)):
            raise EmitError("volume_size: %r is not a storage size like '1Gi' or '500Mi'" % (options.volume_size,))
        self.secrets_name = deployment.name + "-secrets"
        self.files_name = deployment.name + "-files"
        self.values_name = deployment.name + "-values"
        self.config_name = deployment.name + "-config"
        self.project_claim = deployment.name + "-project"
        self.credentials = {cred.path: cred for cred in deployment.credential_files}
        self.secret_keys: List[str] = []
        self.file_keys: List[str] = []
        self.value_keys: List[str] = []
        self.claims: List[str] = []
        keys: Dict[str, str] = {}
        for path in sorted(set(files) | set(self.credentials)):
            key = config_key(path)
            if not _KEY.fullmatch(key) or key in keys:
                raise EmitError("config_files.%s: %r cannot be a ConfigMap or Secret key (letters, digits, '-', '_' "
                                "and '.' only, one key per file)" % (path, path))
            keys[key] = path

    # -- metadata -------------------------------------------------------------------------------------------
    def annotations(self) -> Dict[str, str]:
        return {ANNOTATION + "registry-digest": "sha256:" + self.dep.digest,
                ANNOTATION + "registry-generation": self.dep.generation,
                ANNOTATION + "template": self.dep.template}

    def labels(self, svc: Optional[Service] = None) -> Dict[str, str]:
        out: Dict[str, str] = {}
        if svc is not None:
            out["app.kubernetes.io/name"] = svc.name
        out["app.kubernetes.io/instance"] = self.dep.name
        if svc is not None:
            out["app.kubernetes.io/component"] = svc.role
        out["app.kubernetes.io/part-of"] = PART_OF
        out["app.kubernetes.io/managed-by"] = MANAGED_BY
        if svc is not None:
            version = _version(svc.image)
            if version is not None:
                out["app.kubernetes.io/version"] = version
        return out

    def selector(self, svc: Service) -> Dict[str, str]:
        return {"app.kubernetes.io/name": svc.name, "app.kubernetes.io/instance": self.dep.name}

    def metadata(self, name: str, svc: Optional[Service] = None, namespaced: bool = True) -> Dict[str, Any]:
        meta: Dict[str, Any] = {"name": name}
        if namespaced:
            meta["namespace"] = self.namespace
        meta["labels"] = self.labels(svc)
        meta["annotations"] = self.annotations()
        return meta

    # -- resources ------------------------------------------------------------------------------------------
    def env(self, svc: Service) -> Tuple[List[Dict[str, Any]], Dict[str, str]]:
        entries: List[Dict[str, Any]] = []
        data: Dict[str, str] = {}
        for value in svc.env:
            if value.secret is not None:
                ref = {"secretKeyRef": {"name": self.secrets_name, "key": value.secret.name}}
                if value.secret.name not in self.secret_keys:
                    self.secret_keys.append(value.secret.name)
            elif value.origin == "missing":
                key = value.placeholder or value.name
                ref = {"configMapKeyRef": {"name": self.values_name, "key": key}}
                if key not in self.value_keys:
                    self.value_keys.append(key)
            else:
                data[value.name] = value.value or ""
                ref = {"configMapKeyRef": {"name": svc.deployed + "-env", "key": value.name}}
            entries.append({"name": value.name, "valueFrom": ref})
        return entries, data

    def mounts(self, svc: Service) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]], List[str]]:
        """(volumeMounts, volumes, ConfigMap paths mounted) of ``svc``."""
        mounts: List[Dict[str, Any]] = []
        volumes: Dict[str, Dict[str, Any]] = {}
        config_paths: List[str] = []

        def file_mount(path: str, target: str) -> None:
            secret = path in self.credentials or self.files[path].secret
            if secret:
                volumes.setdefault("files", {"name": "files", "secret": {"secretName": self.files_name}})
                if config_key(path) not in self.file_keys:
                    self.file_keys.append(config_key(path))
            else:
                volumes.setdefault("config", {"name": "config", "configMap": {"name": self.config_name}})
                config_paths.append(path)
            mounts.append({"name": "files" if secret else "config", "mountPath": target,
                           "subPath": config_key(path), "readOnly": True})

        known = sorted(set(self.files) | set(self.credentials))
        for index, mount in enumerate(svc.mounts):
            where = "volumes.%s[%d]" % (svc.name, index)
            if mount.kind == "project":
                path = mount.path
                if path in known:
                    file_mount(path, mount.target)
                    continue
                volumes.setdefault("project", {"name": "project",
                                               "persistentVolumeClaim": {"claimName": self.project_claim}})
                if self.project_claim not in self.claims:
                    self.claims.append(self.project_claim)
                mounts.append({"name": "project", "mountPath": mount.target, "subPath": path,
                               "readOnly": mount.read_only})
                for inner in known:  # files of the folder: the rendered ones, over the project volume's copy
                    if inner.startswith(path + "/"):
                        file_mount(inner, mount.target.rstrip("/") + inner[len(path):])
            elif mount.kind == "host":
                name = "host-%d" % index
                volumes[name] = {"name": name, "hostPath": {"path": mount.source}}
                mounts.append({"name": name, "mountPath": mount.target, "readOnly": mount.read_only})
            else:
                slug = re.sub(r"[^a-z0-9]+", "-", mount.source.lower()).strip("-")
                claim = check_dns_label("%s-%s" % (self.dep.name, slug), where)
                name = check_dns_label("volume-" + slug, where)
                volumes[name] = {"name": name, "persistentVolumeClaim": {"claimName": claim}}
                if claim not in self.claims:
                    self.claims.append(claim)
                mounts.append({"name": name, "mountPath": mount.target, "readOnly": mount.read_only})
        return mounts, list(volumes.values()), config_paths

    def service_resources(self, svc: Service) -> Tuple[Dict[str, Any], Dict[str, Any], Dict[str, Any]]:
        check_dns_label(svc.deployed, "service_prefix (service %s)" % svc.name, _SERVICE_NAME)
        check_dns_label(svc.name, "services.%s" % svc.name)
        on_host = host_network(svc)
        entries, left = _ports(svc, on_host)
        env, data = self.env(svc)
        volume_mounts, volumes, config_paths = self.mounts(svc)
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.metadata(svc.deployed + "-env", svc),
                      "data": data}
        service: Dict[str, Any] = {
            "apiVersion": "v1", "kind": "Service", "metadata": self.metadata(svc.deployed, svc),
            "spec": {"clusterIP": "None", "selector": self.selector(svc),
                     "ports": [{"name": _port_name(number, proto), "port": number, "targetPort": number,
                                "protocol": proto} for number, proto in entries]},
        }
        if not entries:
            del service["spec"]["ports"]
        container: Dict[str, Any] = {"name": svc.name, "image": svc.image}
        if svc.command:
            container["args"] = [escape(part) for part in svc.command]
        if entries:
            container["ports"] = [{"name": _port_name(number, proto), "containerPort": number, "protocol": proto}
                                  for number, proto in entries]
        if env:
            container["env"] = env
        probe = _probe(svc, self.options.probes.get(svc.name, ()))
        if probe is not None:
            container["readinessProbe"] = probe
        resources = _resources(svc)
        if resources is not None:
            container["resources"] = resources
        if volume_mounts:
            container["volumeMounts"] = volume_mounts
        digest = hashlib.sha256(json.dumps(
            {"env": data, "files": {path: self.files[path].text for path in sorted(set(config_paths))}},
            sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
        pod_annotations = {ANNOTATION + "config-sha256": digest}
        if left:
            pod_annotations[ANNOTATION + "host-ports"] = ",".join(left)
        pod: Dict[str, Any] = {"enableServiceLinks": False}
        if on_host:
            pod["hostNetwork"] = True
            pod["dnsPolicy"] = "ClusterFirstWithHostNet"
        if svc.platform:
            os_name, _slash, rest = svc.platform.partition("/")
            selector = {"kubernetes.io/os": os_name.lower()}
            if rest:
                arch = rest.split("/", 1)[0].lower()
                selector["kubernetes.io/arch"] = ARCH_ALIASES.get(arch, arch)
            pod["nodeSelector"] = selector
        if self.options.image_pull_secrets:
            pod["imagePullSecrets"] = [{"name": name} for name in self.options.image_pull_secrets]
        pod["containers"] = [container]
        if volumes:
            pod["volumes"] = volumes
        spec: Dict[str, Any] = {"replicas": 1, "selector": {"matchLabels": self.selector(svc)}}
        if on_host:
            spec["strategy"] = {"type": "Recreate"}
        spec["template"] = {"metadata": {"labels": self.labels(svc), "annotations": pod_annotations}, "spec": pod}
        workload = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": self.metadata(svc.deployed, svc),
                    "spec": spec}
        return config_map, service, workload

    def emit(self) -> Manifests:
        per_service = [self.service_resources(svc) for svc in self.dep.services]
        resources: List[Dict[str, Any]] = []
        if not self.options.namespace:
            resources.append({"apiVersion": "v1", "kind": "Namespace",
                              "metadata": self.metadata(self.namespace, namespaced=False)})
        plain_files = {config_key(p): f.text for p, f in sorted(self.files.items()) if not f.secret}
        if plain_files:
            resources.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.metadata(self.config_name),
                              "data": plain_files})
        for claim in sorted(self.claims):
            resources.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": self.metadata(claim),
                              "spec": {"accessModes": ["ReadWriteOnce"],
                                       "resources": {"requests": {"storage": self.options.volume_size}}}})
        for index in range(3):
            resources.extend(group[index] for group in per_service)
        references: List[Dict[str, Any]] = []
        if self.secret_keys:
            references.append({"kind": "Secret", "name": self.secrets_name, "keys": sorted(self.secret_keys)})
        if self.file_keys:
            references.append({"kind": "Secret", "name": self.files_name, "keys": sorted(self.file_keys)})
        if self.value_keys:
            references.append({"kind": "ConfigMap", "name": self.values_name, "keys": sorted(self.value_keys)})
        for name in self.options.image_pull_secrets:
            references.append({"kind": "Secret", "name": name, "keys": [".dockerconfigjson"]})
        header = HEADER.format(deployment=self.dep.name, template=self.dep.template, namespace=self.namespace,
                               generation=self.dep.generation, digest=self.dep.digest)
        content = "\n".join("# " + line for line in header.splitlines()) + "\n"
        content += "".join("---\n" + yaml_emit.dump(resource) for resource in resources)
        return Manifests(resources=resources, content=content, namespace=self.namespace, references=references,
                         host_network=[svc.deployed for svc in self.dep.services if host_network(svc)],
                         checksum=hashlib.sha1(content.encode("utf-8")).hexdigest())


def emit(deployment: Deployment, files: Optional[Mapping[str, ConfigFile]] = None,
         options: Optional[Options] = None) -> Manifests:
    """The Kubernetes resources of ``deployment``; ``files``: its rendered configuration files by project path."""
    return _Emitter(deployment, dict(files or {}), options or Options()).emit()


__all__ = ["ConfigFile", "EmitError", "Manifests", "Options", "RANGE_LIMIT", "emit", "config_key", "host_network"]
