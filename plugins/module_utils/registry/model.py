# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typed building blocks of the voiceops.avr registry.

Controller-side only, standard library only. Images are typed by role (one
class per role) so that a template or provider map that names an image of the
wrong role, or an image that does not exist, is a ``mypy --strict`` error.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Dict, List, Literal, Mapping, Optional, Tuple, Union

Role = Literal["core", "asterisk", "ami", "asr", "tts", "llm", "sts", "app", "database", "workflow", "service"]
StackKind = Literal["modular", "sts", "plain"]

#: Every role, in the order services appear in a rendered stack.
ROLES: Tuple[Role, ...] = (
    "core", "asr", "tts", "llm", "sts", "app", "database", "workflow", "asterisk", "ami", "service")

#: Roles that plug into the core service, one image per stack.
SLOT_ROLES: Tuple[Role, ...] = ("asr", "tts", "llm", "sts")

#: Roles that are a template's own services, outside the core's wiring (``Template.extras``): the admin app,
#: its database, a workflow engine, and ``service``: any supporting service (a reverse proxy, a browser
#: phone, a web UI, a local model server).
EXTRA_ROLES: Tuple[Role, ...] = ("app", "database", "workflow", "service")

#: Compose service keys a template may drop from an image's defaults.
UNSETTABLE = ("platform", "ports", "restart", "volumes")

#: Patterns that validate input are always applied with ``fullmatch`` (``$`` alone also matches
#: before a final newline); pydantic applies them with its own engine, where ``$`` ends the text.
NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
VAR_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SERVICE_TOKEN_RE = re.compile(r"\{\{service:([^{}]*)\}\}")
#: ``{{var:NAME}}`` in an env value: the final value of variable NAME of the same service (see render.py).
VAR_TOKEN_RE = re.compile(r"\{\{var:([^{}]*)\}\}")
#: Formats an env value may be checked against (``EnvVar.format``).
VAR_FORMATS = ("json",)

#: A published port: [ADDRESS:]HOST:CONTAINER[/proto] (ASCII digits only; apply with fullmatch).
PORT_SPEC_RE = re.compile(r"^(?:(?P<address>[0-9.]+|\[[0-9a-fA-F:]+\]):)?(?P<host>[0-9]+(?:-[0-9]+)?):"
                          r"(?P<container>[0-9]+(?:-[0-9]+)?)(?P<proto>/(?:tcp|udp|sctp))?$")

#: Longest name Docker and DNS take for a container, network or project (one DNS label).
DNS_LABEL_MAX = 63

_LINE_BREAKS = re.compile(r"[\n\r]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str, allow_newlines: bool = False) -> Optional[str]:
    """Why ``value`` cannot go into a compose file or environment.json (None when it can).

    One rule for every value a service receives (task ``env``, ``environment.json``, catalog
    defaults): no NUL, no unpaired surrogate (text that was not valid UTF-8), and no newline or
    carriage return unless ``allow_newlines``.
    """
    if "\x00" in value:
        return "contains a NUL character"
    if _SURROGATE.search(value):
        return "is not valid UTF-8 text (it holds an unpaired surrogate)"
    if not allow_newlines and _LINE_BREAKS.search(value):
        return "contains a newline or carriage return"
    return None


def var_tokens(value: str) -> Tuple[str, ...]:
    """The NAMEs of the ``{{var:NAME}}`` tokens of ``value``, in order."""
    return tuple(VAR_TOKEN_RE.findall(value)) if "{{var:" in value else ()


def var_token_problem(value: str) -> Optional[str]:
    """Why the ``{{var:...}}`` tokens of ``value`` are malformed (None when they are not): a token inside
    another one, an unclosed one, or one whose NAME is not a variable name."""
    if "{{var:" not in value:
        return None
    names = VAR_TOKEN_RE.findall(value)
    if value.count("{{var:") != len(names):
        return "holds a {{var: that does not close, or one inside another token (tokens do not nest)"
    for name in names:
        if not VAR_RE.fullmatch(name):
            return "holds {{var:%s}}, and %r is not a variable name" % (name, name)
    return None


def json_problem(value: str) -> Optional[str]:
    """Why ``value`` is not JSON text (None when it is), short and without quoting the value."""
    def constant(name: str) -> Any:
        raise ValueError("%s is not JSON" % name)
    try:
        json.loads(value, parse_constant=constant)
    except json.JSONDecodeError as exc:
        return "%s at character %d" % (exc.msg, exc.pos)
    except ValueError as exc:
        return str(exc)
    except RecursionError:
        return "nested too deeply"
    return None


class VarCycle(ValueError):
    """Derived values that name each other in a cycle; ``cycle`` lists the variables, the first one again last."""

    def __init__(self, cycle: Tuple[str, ...]) -> None:
        super(VarCycle, self).__init__(" -> ".join(cycle))
        self.cycle = cycle


def derive(values: Mapping[str, Optional[str]], literal: Tuple[str, ...] = ()) -> Dict[str, Optional[str]]:
    """The final value of every variable of ``values`` (variable -> value, None: no value).

    Each ``{{var:NAME}}`` is replaced by the final value of NAME (resolved first, so a derived value may
    name another derived one); the text put in is not read again for tokens. A value that names a
    variable without a final value has none itself. Variables in ``literal`` (secrets) are taken as they
    are. VarCycle when values name each other in a cycle; a NAME absent from ``values`` has no value
    (callers refuse unknown names before).
    """
    done: Dict[str, Optional[str]] = {}
    for start in values:
        chain = [start]  # each name is named by the one before it; resolved from the end (no recursion limit)
        while chain:
            name = chain[-1]
            value = values.get(name)
            if name in done:
                chain.pop()
                continue
            if value is None or name in literal or "{{var:" not in value:
                done[name] = value
                chain.pop()
                continue
            pending = next((ref for ref in VAR_TOKEN_RE.findall(value) if ref not in done), None)
            if pending is not None:
                if pending in chain:
                    raise VarCycle(tuple(chain[chain.index(pending):]) + (pending,))
                chain.append(pending)
                continue
            finals = [done[ref] for ref in VAR_TOKEN_RE.findall(value)]
            done[name] = None if any(got is None for got in finals) else VAR_TOKEN_RE.sub(
                lambda match: done[match.group(1)] or "", value)
            chain.pop()
    return {name: done[name] for name in values}


def derived_from(name: str, values: Mapping[str, Optional[str]]) -> Tuple[str, ...]:
    """The variables the value of ``name`` in ``values`` derives from, directly or through other derived
    values, nearest first."""
    found: List[str] = []
    pending = [name]
    while pending:
        current = pending.pop(0)
        for base in var_tokens(values.get(current) or ""):
            if base not in found and base != name:
                found.append(base)
                pending.append(base)
    return tuple(found)


def is_name(value: object) -> bool:
    """Whether ``value`` is a safe name: lower-case ASCII letters, digits, '-', '_', at most 63."""
    return isinstance(value, str) and len(value) <= DNS_LABEL_MAX and NAME_RE.fullmatch(value) is not None


def volume_problem(spec: str, host_paths: Tuple[str, ...]) -> Optional[str]:
    """Why the compose volume ``spec`` (``SOURCE:TARGET[:MODE]``) is refused (None when it is not).

    A relative source stays inside the project directory, a source without '/' is a named
    volume; any other host path (absolute, ``~``, or leaving the project with ``..``) must be
    listed in the image's ``host_paths``, which marks the mount as intended.
    """
    source, sep, target = spec.partition(":")
    if not sep:
        return None  # an anonymous volume: a path in the container only
    if not source or not target:
        return "is not SOURCE:TARGET"
    if source in host_paths:
        return None
    if source.startswith((".", "/", "~")):
        if source.startswith(("/", "~")) or posixpath.normpath(source).split("/")[0] == "..":
            return ("mounts host path %r, outside the project directory; list it in the image's host_paths "
                    "if the mount is intended" % source)
        return None
    if "/" in source:
        return "source %r is neither a relative path (./...) nor a named volume" % source
    return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every control character (newline, NUL, ...) written as its escape, so it stays one line."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


class RegistryError(ValueError):
    """Raised for registry data that is inconsistent; the message names the field.

    Its text is always one line: a key or value that reached a message unquoted has its control
    characters escaped.
    """

    def __str__(self) -> str:
        return one_line(super().__str__())


@dataclass(frozen=True)
class EnvVar:
    """One environment variable of an image, in schema order.

    ``provider`` names the provider whose key fills a secret variable (or whose
    credential a non-secret variable points at); ``secret_name`` names a task
    ``secrets`` entry that fills it. Secret variables never reach
    ``environment.json``. ``format`` ``json``: every value the variable gets must
    be JSON text (it is emitted as given, not re-serialized).
    """

    name: str
    default: Optional[str] = None
    required: bool = False
    secret: bool = False
    provider: Optional[str] = None
    secret_name: Optional[str] = None
    description: str = ""
    format: Optional[str] = None
    #: a secret variable only: the variable through which the image reads the secret from a file instead
    #: (``MYSQL_ROOT_PASSWORD_FILE``), which an engine that mounts secrets as files sets to the file's path
    file_env: Optional[str] = None

    @property
    def source(self) -> Optional[str]:
        """Where a secret value comes from, as a user would write it."""
        if self.secret and self.provider:
            return "provider_keys.%s" % self.provider
        if self.secret_name:
            return "secrets.%s" % self.secret_name
        return None


@dataclass(frozen=True)
class Healthcheck:
    test: Tuple[str, ...]
    interval: Optional[str] = None
    timeout: Optional[str] = None
    retries: Optional[int] = None
    start_period: Optional[str] = None


@dataclass(frozen=True)
class Probe:
    """How the health gate tells that a started service is ready (see `readiness`).

    ``tcp``: a TCP connection to the container's ``port`` (from inside the deployment's network)
    succeeds. ``health``: Docker reports the container ``healthy`` (the health check of the
    registry or catalog image, or the one built into the image).
    """

    type: Literal["tcp", "health"]
    port: Optional[int] = None


#: A CPU count as Docker takes it (``0.5``, ``2``); a memory size with Docker's unit suffix (``512M``, ``2g``).
CPUS_RE = re.compile(r"^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)$")
MEMORY_RE = re.compile(r"^[0-9]+[bkmgBKMG]?$")
_MEMORY_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}


def memory_bytes(text: str) -> int:
    """The bytes of a memory size of ``MEMORY_RE``."""
    unit = text[-1].lower() if text[-1].isalpha() else ""
    return int(text[:-1] if unit else text) * _MEMORY_UNITS[unit]


@dataclass(frozen=True)
class Resources:
    """CPU and memory an image's service may use (limits) and is guaranteed (reservations).

    CPUs as a decimal count (``"0.5"``), memory with a unit suffix as Docker writes it (``"512M"``,
    ``"2G"``). Engines that do not schedule (compose) ignore reservations.
    """

    cpus: Optional[str] = None
    memory: Optional[str] = None
    reserve_cpus: Optional[str] = None
    reserve_memory: Optional[str] = None


@dataclass(frozen=True)
class Image:
    """A docker image the registry knows, with everything a service needs."""

    role: ClassVar[Role]

    name: str
    image: str
    description: str
    env: Tuple[EnvVar, ...] = ()
    port: Optional[int] = None
    ws_port: Optional[int] = None
    service: Optional[str] = None
    ports: Tuple[str, ...] = ()
    #: container ports that are management interfaces (bound to ``management_address`` when given)
    management_ports: Tuple[str, ...] = ()
    volumes: Tuple[str, ...] = ()
    platform: Optional[str] = "linux/x86_64"
    restart: Optional[str] = "always"
    command: Tuple[str, ...] = ()
    healthcheck: Optional[Healthcheck] = None
    #: role -> compose depends_on condition, resolved to the stack's service of that role
    depends_on: Tuple[Tuple[Role, str], ...] = ()
    #: images that always come with this one (e.g. the workflow engine of an LLM connector)
    companions: Tuple["Image", ...] = ()
    #: name of the tag policy (registry.tags.POLICIES) the image's tags follow per environment
    tag_policy: str = "avr"
    #: tag to run unless a deployment asks for another one (replaces a tag in ``image``)
    pinned_tag: Optional[str] = None
    #: digest to run (``sha256:...``) while the image runs its own tag
    pinned_digest: Optional[str] = None
    #: host paths outside the project directory that ``volumes`` mount on purpose (e.g. the docker socket)
    host_paths: Tuple[str, ...] = ()
    #: readiness probes of the health gate; None derives them from the image data (see `readiness`)
    probes: Optional[Tuple[Probe, ...]] = None
    #: compose labels, ``KEY=VALUE`` in list form (as the AVR examples write traefik's routing rules)
    labels: Tuple[str, ...] = ()
    #: CPU and memory limits and reservations; None: the engine's defaults (no limit)
    resources: Optional[Resources] = None

    @property
    def key(self) -> str:
        return "%s/%s" % (self.role, self.name)

    @property
    def service_name(self) -> str:
        return self.service or self.name

    def var(self, name: str) -> Optional[EnvVar]:
        for var in self.env:
            if var.name == name:
                return var
        return None

    @property
    def var_names(self) -> Tuple[str, ...]:
        return tuple(var.name for var in self.env)


@dataclass(frozen=True)
class CoreImage(Image):
    role: ClassVar[Role] = "core"


@dataclass(frozen=True)
class AsteriskImage(Image):
    role: ClassVar[Role] = "asterisk"


@dataclass(frozen=True)
class AmiImage(Image):
    role: ClassVar[Role] = "ami"


@dataclass(frozen=True)
class AsrImage(Image):
    role: ClassVar[Role] = "asr"


@dataclass(frozen=True)
class TtsImage(Image):
    role: ClassVar[Role] = "tts"


@dataclass(frozen=True)
class LlmImage(Image):
    role: ClassVar[Role] = "llm"


@dataclass(frozen=True)
class StsImage(Image):
    role: ClassVar[Role] = "sts"


@dataclass(frozen=True)
class AppImage(Image):
    role: ClassVar[Role] = "app"


@dataclass(frozen=True)
class DatabaseImage(Image):
    role: ClassVar[Role] = "database"


@dataclass(frozen=True)
class WorkflowImage(Image):
    role: ClassVar[Role] = "workflow"


@dataclass(frozen=True)
class ServiceImage(Image):
    """A supporting service of a stack that the core does not call: a reverse proxy, a browser phone, a web UI."""

    role: ClassVar[Role] = "service"


IMAGE_CLASSES: Mapping[Role, type] = {
    cls.role: cls
    for cls in (CoreImage, AsteriskImage, AmiImage, AsrImage, TtsImage, LlmImage, StsImage,
                AppImage, DatabaseImage, WorkflowImage, ServiceImage)
}


@dataclass(frozen=True)
class Wiring:
    """How the core service reaches the image filling a slot role."""

    var: str
    scheme: str
    path: str = ""
    use_ws_port: bool = False


#: Core variables set from the stack's slot images (STS stacks get STS_URL only): the wiring of both
#: generations; a registry carries its own (``Registry.wiring``).
WIRING: Mapping[Role, Wiring] = {
    "asr": Wiring("ASR_URL", "http", "/speech-to-text-stream"),
    "llm": Wiring("LLM_URL", "http", "/prompt-stream"),
    "tts": Wiring("TTS_URL", "http", "/text-to-speech-stream"),
    "sts": Wiring("STS_URL", "ws", "", use_ws_port=True),
}


@dataclass(frozen=True)
class Provider:
    """A cloud provider whose key is injected where an image's schema asks for it.

    A provider with ``file`` set supplies a credential file (written mode 0600 in
    the project directory) instead of an environment variable.
    """

    name: str
    description: str
    env: Optional[str] = None
    file: Optional[str] = None

    @property
    def needs_key(self) -> bool:
        return bool(self.env or self.file)


@dataclass(frozen=True)
class ServiceOverride:
    """What a template changes on one of its services; everything else comes from the image."""

    #: (name, value) pairs; a value of None drops a default the image or stack kind sets
    env: Tuple[Tuple[str, Optional[str]], ...] = ()
    ports: Optional[Tuple[str, ...]] = None
    add_volumes: Tuple[str, ...] = ()
    unset: Tuple[str, ...] = ()
    #: variables this template adds to the image's env schema (after the image's own, in this order)
    extend_env: Tuple["EnvVar", ...] = ()
    #: compose labels added after the image's own
    add_labels: Tuple[str, ...] = ()


@dataclass(frozen=True)
class Network:
    name: str = "avr"
    driver: str = "bridge"
    subnet: Optional[str] = "172.20.0.0/24"


ImageSlot = Union[CoreImage, AsteriskImage, AmiImage, AsrImage, TtsImage, LlmImage, StsImage,
                  AppImage, DatabaseImage, WorkflowImage, ServiceImage]


@dataclass(frozen=True)
class Template:
    """A stack composed from registry images.

    ``modular`` stacks fill asr, llm and tts; ``sts`` stacks fill sts; ``plain``
    stacks have no core wiring (the admin app). ``overrides`` are keyed by the
    image's default service name.
    """

    id: str
    description: str
    stack: StackKind
    core: Optional[CoreImage] = None
    asterisk: Optional[AsteriskImage] = None
    ami: Optional[AmiImage] = None
    asr: Optional[AsrImage] = None
    tts: Optional[TtsImage] = None
    llm: Optional[LlmImage] = None
    sts: Optional[StsImage] = None
    extras: Tuple[Image, ...] = ()
    overrides: Tuple[Tuple[str, ServiceOverride], ...] = ()
    network: Network = field(default_factory=Network)
    example: Optional[str] = None
    #: image keys a catalog template names that no image has; such a template is not functional
    missing_images: Tuple[str, ...] = ()

    @property
    def functional(self) -> bool:
        return not self.missing_images

    def slot(self, role: Role) -> Optional[Image]:
        value = getattr(self, role, None)
        return value if isinstance(value, Image) else None

    @property
    def images(self) -> Tuple[Image, ...]:
        """Every image of the stack as the stack runs it (with the variables its overrides add to the
        image's schema), companions included, in service order."""
        extended = {name: ovr.extend_env for name, ovr in self.overrides if ovr.extend_env}
        images = self.registry_images
        if not extended:
            return images
        return tuple(replace(img, env=img.env + extended[img.service_name]) if img.service_name in extended
                     else img for img in images)

    @property
    def registry_images(self) -> Tuple[Image, ...]:
        """Every image of the stack as the registry holds it, companions included, in service order."""
        found = []
        for img in (self.core, self.asr, self.tts, self.llm, self.sts) + tuple(self.extras):
            if img is None:
                continue
            found.append(img)
            found.extend(img.companions)
        found.extend(img for img in (self.asterisk, self.ami) if img is not None)
        order = {role: index for index, role in enumerate(ROLES)}
        unique = []
        seen = set()
        for img in found:
            if img.key not in seen:
                seen.add(img.key)
                unique.append(img)
        return tuple(sorted(unique, key=lambda img: order[img.role]))

    def override(self, service: str) -> Optional[ServiceOverride]:
        for name, ovr in self.overrides:
            if name == service:
                return ovr
        return None

    def published_ports(self, img: Image) -> Tuple[str, ...]:
        """The ports the template publishes for ``img``: the override's ports, else the image's; none when the
        override unsets them (a deployment's ``ports`` option may still replace them)."""
        ovr = self.override(img.service_name)
        if ovr is None:
            return img.ports
        if "ports" in ovr.unset:
            return ()
        return ovr.ports if ovr.ports is not None else img.ports


_CONTAINER_TCP_PORT = re.compile(r"^(?:.*:)?(\d+)(?:/tcp)?$")


def readiness(img: Image) -> Tuple[Probe, ...]:
    """The readiness probes of ``img`` the health gate runs after the service (re)started.

    The image's own ``probes`` when it sets them (``()``: none). Otherwise derived from its data: its
    health check when it has one; else a TCP connection to ``port`` (the port its service listens on);
    else to the first single TCP container port of ``ports``; else none.
    """
    if img.probes is not None:
        return img.probes
    if img.healthcheck is not None:
        return (Probe("health"),)
    if img.port is not None:
        return (Probe("tcp", img.port),)
    for entry in img.ports:
        match = _CONTAINER_TCP_PORT.match(entry)
        if match is not None:
            return (Probe("tcp", int(match.group(1))),)
    return ()
