# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The neutral deployment description: one deployment of a template, in no engine's vocabulary.

``render.resolve`` builds it from the registry, a template and a deployment's inputs; the emitters
(``emitters.compose``, ``emitters.swarm``, ``emitters.kubernetes``) turn it into an engine's files.
Everything an emitter needs is here, already checked: services with their images, each variable's
final value and where it came from, structured ports and mounts, health checks, resources, the
network, and secrets as references. Secret values are kept apart (``Deployment.secret_values``,
``Deployment.file_values``, never shown by ``repr``): only an emitter whose engine takes values
inline (compose) reads them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, FrozenSet, Mapping, Optional, Tuple

from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import PORT_SPEC_RE, Healthcheck, Resources

#: Where a variable's value comes from, lowest layer first.
ORIGINS = ("image", "template", "wiring", "environment.json", "env", "secret", "missing")


@dataclass(frozen=True)
class SecretRef:
    """A secret a variable (or a credential file) reads, by reference.

    ``name`` is the reference every engine uses: the provider's variable (``OPENAI_API_KEY``) or the
    secret's name (``ADMIN_PASSWORD``); ``kind`` is ``provider`` or ``secret``, ``source`` the provider
    or secret name given to the task (``openai``, ``ADMIN_PASSWORD``); ``given`` says whether this
    render had its value.
    """

    name: str
    kind: str
    source: str
    given: bool


@dataclass(frozen=True)
class Value:
    """One environment variable of a service.

    ``value`` is the final text (every layer applied, tokens resolved, not escaped for any engine);
    None for a secret (see ``secret``) and for a value left missing (``origin`` ``missing``;
    ``placeholder`` names the variable an engine may substitute).
    """

    name: str
    value: Optional[str]
    origin: str
    secret: Optional[SecretRef] = None
    format: Optional[str] = None
    placeholder: Optional[str] = None


_CONTAINER_ONLY = re.compile(r"(?P<container>[0-9]+(?:-[0-9]+)?)(?P<proto>/(?:tcp|udp|sctp))?")


def _range(text: str) -> Tuple[int, int]:
    if not text:
        return 0, -1
    start, _sep, end = text.partition("-")
    return int(start), int(end or start)


@dataclass(frozen=True)
class Port:
    """A published port or port range. ``spec`` is the compose short syntax it was given in."""

    spec: str
    host: str
    container: str
    protocol: str
    address: Optional[str] = None
    management: bool = False

    @property
    def host_range(self) -> Tuple[int, int]:
        return _range(self.host)

    @property
    def container_range(self) -> Tuple[int, int]:
        return _range(self.container)

    @property
    def size(self) -> int:
        start, end = self.container_range
        return end - start + 1

    @classmethod
    def parse(cls, spec: str, management: bool = False) -> "Port":
        """``spec`` in compose short syntax: ``[ADDRESS:]HOST:CONTAINER[/PROTO]``, or ``CONTAINER[/PROTO]``
        (published on a host port the engine picks: ``host`` is empty)."""
        match = PORT_SPEC_RE.fullmatch(spec)
        if match is None:
            only = _CONTAINER_ONLY.fullmatch(spec)
            if only is None:
                raise ValueError("%r is not a port mapping" % (spec,))
            return cls(spec=spec, host="", container=only.group("container"),
                       protocol=(only.group("proto") or "/tcp")[1:], management=management)
        address = match.group("address")
        return cls(spec=spec, host=match.group("host"), container=match.group("container"),
                   protocol=(match.group("proto") or "/tcp")[1:],
                   address=address.strip("[]") if address else None, management=management)


_MOUNT_OPTION = r"(?:ro|rw|z|Z|cached|delegated|consistent|nocopy)"
_MOUNT_MODE = re.compile(r"^%s(?:,%s)*$" % (_MOUNT_OPTION, _MOUNT_OPTION))


@dataclass(frozen=True)
class Mount:
    """A mount of a service. ``kind``: ``project`` (a path of the project directory, ``./...``),
    ``host`` (an absolute host path) or ``volume`` (a named volume). ``spec`` is the compose short
    syntax it was given in."""

    spec: str
    source: str
    target: str
    read_only: bool
    kind: str

    @property
    def path(self) -> str:
        """A project mount's path relative to the project directory (no leading ./, no trailing /)."""
        path = self.source
        while path.startswith("./"):
            path = path[2:]
        return path.rstrip("/")

    @classmethod
    def parse(cls, spec: str) -> "Mount":
        source, _sep, rest = spec.partition(":")
        target, mode = rest, ""
        if ":" in rest:
            head, _sep, tail = rest.rpartition(":")
            if _MOUNT_MODE.match(tail):
                target, mode = head, tail
        kind = "project" if source.startswith(".") else "host" if source.startswith("/") else "volume"
        return cls(spec=spec, source=source, target=target, read_only="ro" in mode.split(","), kind=kind)


@dataclass(frozen=True)
class Service:
    """One service of a deployment.

    ``name`` is the registry's service name (``avr-core``), ``deployed`` the name the engine gives it
    (service prefix applied; the name other services reach it by). ``depends_on`` holds (deployed name,
    condition) pairs in registry order.
    """

    name: str
    deployed: str
    role: str
    image_key: str
    image: str
    platform: Optional[str]
    restart: Optional[str]
    command: Tuple[str, ...]
    env: Tuple[Value, ...]
    labels: Tuple[str, ...]
    ports: Tuple[Port, ...]
    mounts: Tuple[Mount, ...]
    healthcheck: Optional[Healthcheck]
    depends_on: Tuple[Tuple[str, str], ...]
    resources: Optional[Resources] = None

    def value(self, name: str) -> Optional[Value]:
        return next((v for v in self.env if v.name == name), None)

    @property
    def secrets(self) -> Tuple[SecretRef, ...]:
        return tuple(v.secret for v in self.env if v.secret is not None)


@dataclass(frozen=True)
class NetworkSpec:
    """The deployment's network. ``key`` is its name inside the deployment, ``name`` the engine's name."""

    key: str
    name: str
    driver: str
    subnet: Optional[str]


@dataclass(frozen=True)
class CredentialFile:
    """A project file that holds a provider's credential (mode 0600), mounted by the services that read it."""

    path: str
    provider: str
    secret: SecretRef


@dataclass(frozen=True)
class Deployment:
    """One deployment of a template, resolved."""

    name: str
    template: str
    generation: str
    digest: str
    services: Tuple[Service, ...]
    network: NetworkSpec
    credential_files: Tuple[CredentialFile, ...] = ()
    #: provider -> {"required": bool, "present": bool}: the providers the deployment reads, and whether given
    providers: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    #: the names of the secret variables of the deployment's images (set or not)
    secret_names: FrozenSet[str] = frozenset()
    #: reference name (SecretRef.name) -> value, for the secrets this render was given
    secret_values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    #: credential file path -> content
    file_values: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    @property
    def secrets(self) -> Tuple[SecretRef, ...]:
        """Every secret reference of the deployment, once each, in service order."""
        seen: Dict[str, SecretRef] = {}
        for svc in self.services:
            for ref in svc.secrets:
                seen.setdefault(ref.name, ref)
        for cred in self.credential_files:
            seen.setdefault(cred.secret.name, cred.secret)
        return tuple(seen.values())
