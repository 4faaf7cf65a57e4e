# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User catalogs: images, providers and templates added to (or replacing) the built-in ones.

A catalog is validated with pydantic; any error names the field path and the reason, always in
one form: the entry's place in its catalog list, then field names and list positions
(``catalog.images[0].env[1].default``, ``catalog.templates[2].overrides.avr-core.env.SYSTEM_MESSAGE``),
also for what the registry's own checks find in catalog content. pydantic is a controller-side
dependency, imported under a guard so that this file can be imported without it.

What a catalog may say, and how its parts combine:

- An image replaces the built-in image of the same role and name everywhere (templates, provider
  selections, companions). ``companions`` name images by key (``role/name``) in any order within the
  catalog; a cycle of companions is refused.
- ``provider: X`` makes the image serve provider X for its role. A provider that no ``providers``
  entry (and no built-in) defines is created: it takes a key when a catalog image has a secret
  variable with ``provider: X`` (the first such variable names it), and none otherwise. A secret
  variable whose provider takes no key (or supplies a credential file) is refused.
- Role ``service`` is a supporting service outside the core's wiring (a reverse proxy, a browser
  phone, a web UI); like ``app``, ``database`` and ``workflow`` it goes in a template's ``extras``,
  never in ``images`` (the slots core, asterisk, ami, asr, tts, llm, sts).
- ``labels`` (image) and ``add_labels`` (override) are compose labels ``KEY=VALUE`` on one line without
  ``$``; an override's labels come after the image's and may not repeat one of its keys.
- ``extend_env`` (override) adds variables to the image's schema for that template, under the rules
  of an image's ``env``; a name the image already has is refused (set its value in ``env``).
- An override may not set a variable of the core's wiring (``ASR_URL``, ``LLM_URL``, ``TTS_URL``,
  ``STS_URL``) for a slot the stack fills: the stack sets it from the slot's image.
- ``{{service:NAME}}`` tokens are resolved in env values only (``env[].default``,
  ``extend_env[].default``, ``overrides.*.env``); ``labels``, ``add_labels``, ``command`` and
  ``healthcheck.test`` refuse them.
- ``{{var:NAME}}`` in the same env values (and in environment.json and task ``env`` values) is
  replaced at render time by the final value of variable NAME of the same service, after every
  layer (defaults, template values, environment.json, task ``env``): ``DB_SCHEMA`` with default
  ``{{var:DEPARTMENT_ID}}_tenant`` follows ``DEPARTMENT_ID``, and a value given for ``DB_SCHEMA``
  itself wins. A derived value may name another derived one; NAME must be a non-secret variable of
  the service's schema as the template runs it (``extend_env`` included), and a cycle is refused.
  When NAME has no value the derived variable has none (a required one is then reported missing).
  The fields that refuse ``{{service:...}}`` refuse ``{{var:...}}``.
- ``format: json`` on a variable: each value it gets (after tokens are resolved) must be JSON text;
  it is emitted as written, not re-serialized.
- Both token kinds hold ``{{``, which Ansible reads as Jinja: in a playbook write such a value with
  ``!unsafe`` (a catalog FILE read by path is data and is not templated).
"""

from __future__ import annotations

import dataclasses
import hashlib
import ipaddress
import json
import re
from typing import Any, Dict, List, Literal, Optional, Set, Tuple

from .model import (
    CPUS_RE, MEMORY_RE,
    DNS_LABEL_MAX, EXTRA_ROLES, NAME_RE, PORT_SPEC_RE, ROLES, SERVICE_TOKEN_RE, SLOT_ROLES, VAR_RE, EnvVar,
    Healthcheck, Image, Network, Provider, Probe, RegistryError, Resources, ServiceOverride, Template, text_problem,
    memory_bytes, volume_problem,
)
from .registry import Registry, builtin, generation, image_class, label_problem, suggest
from .. import layout
from .stacks import merge_overrides
from .tags import DEFAULT_POLICY, DIGEST_RE, TAG_RE

try:
    from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
    HAS_PYDANTIC = True
    PYDANTIC_IMPORT_ERROR: Optional[BaseException] = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    HAS_PYDANTIC = False
    PYDANTIC_IMPORT_ERROR = exc
    BaseModel = object  # type: ignore[misc,assignment]


class FieldProblem(ValueError):
    """A model validator's problem with one of the model's fields: the error is located at that field."""

    def __init__(self, field: str, message: str) -> None:
        super(FieldProblem, self).__init__(message)
        self.field = field


class ItemProblem(ValueError):
    """A list validator's problem with one item: the error is located at that item (and its ``field``)."""

    def __init__(self, index: int, message: str, field: Optional[str] = None) -> None:
        super(ItemProblem, self).__init__(message)
        self.index = index
        self.field = field


RoleName = Literal["core", "asterisk", "ami", "asr", "tts", "llm", "sts", "app", "database", "workflow", "service"]

#: The roles a template fills in ``images``: the base services and the core's slots (other roles go in extras).
TEMPLATE_SLOTS: Tuple[str, ...] = ("core", "asterisk", "ami") + SLOT_ROLES


def _texts(values: Any, allow_newlines: bool = False) -> Any:
    """``values`` (a string, or strings in a list or mapping) if each passes the value rule (model.text_problem)."""
    items = values.values() if isinstance(values, dict) else values if isinstance(values, list) else [values]
    for item in items:
        problem = text_problem(item, allow_newlines) if isinstance(item, str) else None
        if problem:
            raise ValueError("%r %s" % (item, problem))
    return values


def _plain_specs(values: List[str]) -> List[str]:
    """Compose specs (ports, volumes, host paths) without interpolation or line breaks."""
    for item in values:
        if "$" in item or "\n" in item:
            raise ValueError("%r: '$' and newlines are not allowed" % item)
    return _texts(values)  # type: ignore[no-any-return]


_TOKEN_PROBLEM = ("holds a {{%s:...}} token, which is resolved in env values only (env defaults, extend_env "
                  "defaults, overrides env); write the %s")


def _no_tokens(values: List[str]) -> List[str]:
    """Texts of fields that never resolve ``{{service:...}}`` or ``{{var:...}}`` tokens (a token would reach
    Compose as text)."""
    for index, item in enumerate(values):
        if isinstance(item, str) and SERVICE_TOKEN_RE.search(item):
            raise ItemProblem(index, "%r %s" % (item, _TOKEN_PROBLEM % ("service", "service name")))
        if isinstance(item, str) and "{{var:" in item:
            raise ItemProblem(index, "%r %s" % (item, _TOKEN_PROBLEM % ("var", "value")))
    return values


def _labels(values: List[str]) -> List[str]:
    """Compose labels: KEY=VALUE, no interpolation, one line, each key once."""
    first: Dict[str, int] = {}
    for index, item in enumerate(values):
        problem = label_problem(item)
        if problem:
            raise ItemProblem(index, "%r %s" % (item, problem))
        key = item.partition("=")[0]
        if key in first:
            raise ItemProblem(index, "%r gives label %r a second time (first at position %d)" % (item, key, first[key]))
        first[key] = index
    return _no_tokens(values)


_INTERNAL = re.compile(r" or instance of Catalog[A-Za-z]*")
_PLATFORM = re.compile(r"[a-z0-9]+/[a-z0-9_]+(?:/[a-z0-9]+)?")
_RESTART = re.compile(r"no|always|unless-stopped|on-failure(?::[0-9]+)?")
_DRIVER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./:-]*")
_CONTAINER_PORT = re.compile(r"[0-9]+(?:-[0-9]+)?(?:/(?:tcp|udp|sctp))?")


def _ports(values: List[str]) -> List[str]:
    """Published ports: [ADDRESS:]HOST:CONTAINER[/proto], or a container port alone."""
    for item in values:
        if not (PORT_SPEC_RE.fullmatch(item) or _CONTAINER_PORT.fullmatch(item)):
            raise ValueError("%r is not a port mapping (HOST:CONTAINER[/udp], optionally ADDRESS:HOST:CONTAINER)"
                             % item)
    return values


if HAS_PYDANTIC:
    # pydantic's own regex engine applies ``pattern``: there ``$`` only matches at the very end.
    _STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, regex_engine="rust-regex")

    class CatalogVar(BaseModel):
        model_config = _STRICT
        name: str = Field(pattern=VAR_RE.pattern)
        default: Optional[str] = None
        required: bool = False
        secret: bool = False
        provider: Optional[str] = Field(default=None, pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        secret_name: Optional[str] = Field(default=None, pattern=VAR_RE.pattern)
        description: str = ""
        #: ``json``: every value the variable gets must be JSON text
        format: Optional[Literal["json"]] = None
        #: a secret variable the image also reads from a file: the variable that takes the file's path
        file_env: Optional[str] = Field(default=None, pattern=VAR_RE.pattern)

        @field_validator("description")
        @classmethod
        def _description(cls, value: str) -> str:
            return _texts(value, allow_newlines=True)  # type: ignore[no-any-return]

        @model_validator(mode="after")
        def _default(self) -> "CatalogVar":
            """The default follows the value rule; a secret variable's default is never quoted."""
            problem = None if self.default is None else text_problem(self.default)
            if problem:
                raise FieldProblem("default", "%s%s" % ("" if self.secret else "%r " % self.default, problem))
            if self.file_env is not None and not self.secret:
                raise FieldProblem("file_env", "%r is for a secret variable, and %s is not one (a plain value is "
                                   "set as it is)" % (self.file_env, self.name))
            if self.file_env == self.name:
                raise FieldProblem("file_env", "%r is the variable itself; name the variable that takes the file's "
                                   "path (such as %s_FILE)" % (self.file_env, self.name))
            return self

    class CatalogHealthcheck(BaseModel):
        model_config = _STRICT
        test: List[str] = Field(min_length=1)
        interval: Optional[str] = None
        timeout: Optional[str] = None
        retries: Optional[int] = Field(default=None, ge=0)
        start_period: Optional[str] = None

        @field_validator("test", "interval", "timeout", "start_period")
        @classmethod
        def _value(cls, value: Any) -> Any:
            return _texts(value)

        @field_validator("test")
        @classmethod
        def _test_tokens(cls, value: List[str]) -> List[str]:
            return _no_tokens(value)

    class CatalogProbe(BaseModel):
        """A readiness probe of the health gate: ``{type: tcp, port: 5001}`` or ``{type: health}``."""
        model_config = _STRICT
        type: Literal["tcp", "health"]
        port: Optional[int] = Field(default=None, ge=1, le=65535)

        @model_validator(mode="after")
        def _port_for_tcp(self) -> "CatalogProbe":
            if (self.type == "tcp") != (self.port is not None):
                raise ValueError("a tcp probe needs a port and a health probe takes none")
            return self

    class CatalogResources(BaseModel):
        """CPU and memory limits and reservations: CPUs as a decimal count (``"0.5"``), memory with Docker's
        unit suffix (``"512M"``); a reservation is at most its limit."""
        model_config = _STRICT
        cpus: Optional[str] = Field(default=None, pattern=CPUS_RE.pattern)
        memory: Optional[str] = Field(default=None, pattern=MEMORY_RE.pattern)
        reserve_cpus: Optional[str] = Field(default=None, pattern=CPUS_RE.pattern)
        reserve_memory: Optional[str] = Field(default=None, pattern=MEMORY_RE.pattern)

        @model_validator(mode="after")
        def _reservation_within_limit(self) -> "CatalogResources":
            for limit, reserve, amount in (("cpus", "reserve_cpus", float), ("memory", "reserve_memory", memory_bytes)):
                high, low = getattr(self, limit), getattr(self, reserve)
                if high is not None and low is not None and amount(low) > amount(high):
                    raise FieldProblem(reserve, "%r is more than the limit %s %r" % (low, limit, high))
            if self.cpus is not None and float(self.cpus) == 0:
                raise FieldProblem("cpus", "%r is no CPU at all; leave the limit out for none" % self.cpus)
            return self

    class CatalogImage(BaseModel):
        model_config = _STRICT
        role: RoleName
        name: str = Field(pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        image: str = Field(min_length=1, pattern=r"^[^\s$]+$")
        description: str = ""
        provider: Optional[str] = Field(default=None, pattern=NAME_RE.pattern)
        service: Optional[str] = Field(default=None, pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        port: Optional[int] = Field(default=None, ge=1, le=65535)
        ws_port: Optional[int] = Field(default=None, ge=1, le=65535)
        env: List[CatalogVar] = []
        ports: List[str] = []
        management_ports: List[str] = []
        volumes: List[str] = []
        platform: Optional[str] = "linux/x86_64"
        restart: Optional[str] = "always"
        command: List[str] = []
        healthcheck: Optional[CatalogHealthcheck] = None
        depends_on: Dict[RoleName, Literal["service_started", "service_healthy", "service_completed_successfully"]] = {}
        companions: List[str] = []
        tag_policy: str = DEFAULT_POLICY
        pinned_tag: Optional[str] = Field(default=None, pattern=TAG_RE.pattern)
        pinned_digest: Optional[str] = Field(default=None, pattern=DIGEST_RE.pattern)
        #: host paths outside the project directory that ``volumes`` mount on purpose
        host_paths: List[str] = []
        #: readiness probes of the health gate (None: derived from the image data; []: none)
        probes: Optional[List[CatalogProbe]] = None
        #: compose labels, KEY=VALUE
        labels: List[str] = []
        #: CPU and memory limits and reservations (None: the engine's defaults)
        resources: Optional[CatalogResources] = None

        @field_validator("labels")
        @classmethod
        def _labels(cls, value: List[str]) -> List[str]:
            return _labels(value)

        @field_validator("ports", "volumes", "host_paths")
        @classmethod
        def _no_interpolation(cls, value: List[str]) -> List[str]:
            return _plain_specs(value)

        @field_validator("ports")
        @classmethod
        def _port_specs(cls, value: List[str]) -> List[str]:
            return _ports(value)

        @field_validator("management_ports")
        @classmethod
        def _container_ports(cls, value: List[str]) -> List[str]:
            for item in value:
                if not _CONTAINER_PORT.fullmatch(item):
                    raise ValueError("%r is not a container port (digits, like '5038')" % item)
            return value

        @field_validator("command")
        @classmethod
        def _value(cls, value: Any) -> Any:
            return _no_tokens(_texts(value))

        @field_validator("env")
        @classmethod
        def _env_names(cls, value: List["CatalogVar"]) -> List["CatalogVar"]:
            return _unique_vars(value)

        @field_validator("platform")
        @classmethod
        def _platform(cls, value: Optional[str]) -> Optional[str]:
            if value is not None and not _PLATFORM.fullmatch(value):
                raise ValueError("%r is not a platform (OS/ARCH[/VARIANT], like linux/x86_64)" % value)
            return value

        @field_validator("restart")
        @classmethod
        def _restart(cls, value: Optional[str]) -> Optional[str]:
            if value is not None and not _RESTART.fullmatch(value):
                raise ValueError("%r is not a restart policy (no, always, unless-stopped, on-failure[:N])" % value)
            return value

        @field_validator("description")
        @classmethod
        def _description(cls, value: str) -> str:
            return _texts(value, allow_newlines=True)  # type: ignore[no-any-return]

    class CatalogProvider(BaseModel):
        model_config = _STRICT
        name: str = Field(pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        description: str = ""
        env: Optional[str] = Field(default=None, pattern=VAR_RE.pattern)
        file: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")

        @field_validator("file")
        @classmethod
        def _file(cls, value: Optional[str]) -> Optional[str]:
            if value is not None and (not layout.plain_relative(value) or layout.reserved(value)):
                raise ValueError("%r is not a name a credential file may take: the project directory uses it (%s)"
                                 % (value, ", ".join(layout.RESERVED)) if layout.reserved(value)
                                 else "%r is not a plain file name" % value)
            return value

    class CatalogOverride(BaseModel):
        model_config = _STRICT
        env: Dict[str, Optional[str]] = {}
        ports: Optional[List[str]] = None
        add_volumes: List[str] = []
        unset: List[Literal["platform", "ports", "restart", "volumes"]] = []
        #: variables added to the image's env schema for this template
        extend_env: List[CatalogVar] = []
        add_labels: List[str] = []

        @field_validator("extend_env")
        @classmethod
        def _env_names(cls, value: List[CatalogVar]) -> List[CatalogVar]:
            return _unique_vars(value)

        @field_validator("add_labels")
        @classmethod
        def _labels(cls, value: List[str]) -> List[str]:
            return _labels(value)

        @field_validator("env", "add_volumes")
        @classmethod
        def _value(cls, value: Any) -> Any:
            return _texts(value)

        @field_validator("ports")
        @classmethod
        def _port_specs(cls, value: Optional[List[str]]) -> Optional[List[str]]:
            return None if value is None else _ports(_plain_specs(value))

    class CatalogNetwork(BaseModel):
        model_config = _STRICT
        name: str = Field(default="avr", pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        driver: str = "bridge"
        subnet: Optional[str] = "172.20.0.0/24"

        @field_validator("driver")
        @classmethod
        def _driver(cls, value: str) -> str:
            if not _DRIVER.fullmatch(value):
                raise ValueError("%r is not a network driver name (like bridge)" % value)
            return value

        @field_validator("subnet")
        @classmethod
        def _subnet(cls, value: Optional[str]) -> Optional[str]:
            if value is not None:
                try:
                    ipaddress.ip_network(value)
                except ValueError as exc:
                    raise ValueError("%r is not a network address (%s)" % (value, exc)) from None
            return value

    class CatalogTemplate(BaseModel):
        model_config = _STRICT
        id: str = Field(pattern=NAME_RE.pattern, max_length=DNS_LABEL_MAX)
        description: str = ""
        stack: Literal["modular", "sts", "plain"]
        images: Dict[str, Optional[str]] = {}
        extras: List[str] = []
        overrides: Dict[str, CatalogOverride] = {}
        network: CatalogNetwork = CatalogNetwork()

        @field_validator("images")
        @classmethod
        def _slots(cls, value: Dict[str, Optional[str]]) -> Dict[str, Optional[str]]:
            for role in value:
                if role in TEMPLATE_SLOTS:
                    continue
                if role in EXTRA_ROLES:
                    raise ValueError("%r is not a slot: an image of role %r goes in extras (images takes %s)"
                                     % (role, role, ", ".join(TEMPLATE_SLOTS)))
                raise ValueError("%r is not a slot (images takes %s)" % (role, ", ".join(TEMPLATE_SLOTS)))
            return value

    class Catalog(BaseModel):
        model_config = _STRICT
        images: List[CatalogImage] = []
        providers: List[CatalogProvider] = []
        templates: List[CatalogTemplate] = []


def _unique_vars(values: List[Any]) -> List[Any]:
    """Variables of one env list, each name once (a second one is located at its ``name``)."""
    first: Dict[str, int] = {}
    for index, var in enumerate(values):
        if var.name in first:
            raise ItemProblem(index, "%r is listed twice (first at position %d)" % (var.name, first[var.name]),
                              "name")
        first[var.name] = index
    return values


def _location(loc: Tuple[Any, ...]) -> str:
    out = "catalog"
    for part in loc:
        out += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return out


def type_name(value: Any) -> str:
    """The plain YAML/Python type name of ``value`` (Ansible's tagged types named by their base)."""
    for cls in (bool, int, float, str, bytes, list, dict, tuple):
        if isinstance(value, cls):
            return cls.__name__
    return "null" if value is None else type(value).__name__


def plain_data(value: Any) -> Any:
    """Catalog data as plain dicts, lists and scalars (Ansible's tagged or lazy types unwrapped).

    Anything else (a date, bytes) is kept as it is, for validation to refuse with its location.
    """
    if isinstance(value, dict):
        return {plain_data(key): plain_data(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(item) for item in value]
    for cls in (bool, int, float, str):
        if isinstance(value, cls):
            return cls(value)
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def validate(data: Any) -> "Catalog":
    """The catalog as a pydantic model; RegistryError naming the first bad field otherwise."""
    if not HAS_PYDANTIC:
        raise RegistryError("catalog: the pydantic library is required on the controller to use a catalog "
                            "(pip install pydantic): %s" % PYDANTIC_IMPORT_ERROR)
    if not isinstance(data, dict):
        raise RegistryError("catalog: expected a mapping with images, providers and templates, got %s"
                            % type_name(data))
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors()[:5]:
            msg = _INTERNAL.sub("", err["msg"].replace("\n", " "))
            if err["type"] == "value_error":  # our own validators: the message quotes the value
                cause = (err.get("ctx") or {}).get("error")
                loc = tuple(err["loc"])
                if isinstance(cause, FieldProblem):
                    loc += (cause.field,)
                elif isinstance(cause, ItemProblem):
                    loc += (cause.index,) + ((cause.field,) if cause.field else ())
                problems.append("%s: %s" % (_location(loc), msg[len("Value error, "):]
                                            if msg.startswith("Value error, ") else msg))
            elif err["loc"] and err["loc"][-1] == "default":  # an env default may belong to a secret variable
                problems.append("%s: %s" % (_location(err["loc"]), msg))
            else:
                problems.append("%s: %s (got %s)" % (_location(err["loc"]), msg, _shown(err.get("input"))))
        raise RegistryError("; ".join(problems)) from None


def _check_unique(catalog: "Catalog") -> None:
    """Refuse an image, template or provider defined twice in one catalog (the last one would win)."""
    for section, entries, field, ident in (
            ("images", catalog.images, "name", lambda e: (e.role, e.name)),
            ("providers", catalog.providers, "name", lambda e: e.name),
            ("templates", catalog.templates, "id", lambda e: e.id)):
        first: Dict[Any, int] = {}
        for index, entry in enumerate(entries):
            key = ident(entry)
            if key in first:
                role = " (role %s)" % key[0] if section == "images" else ""
                raise RegistryError("catalog.%s[%d].%s: %r%s is already defined at catalog.%s[%d]; each may appear once"
                                    % (section, index, field, getattr(entry, field), role, section, first[key]))
            first[key] = index
    served: Dict[Tuple[str, str], int] = {}
    for index, entry in enumerate(catalog.images):
        if entry.provider:
            slot = (entry.role, entry.provider)
            if slot in served:
                raise RegistryError("catalog.images[%d].provider: %s provider %r is already served by "
                                    "catalog.images[%d]" % (index, entry.role, entry.provider, served[slot]))
            served[slot] = index


def _var(v: "CatalogVar") -> EnvVar:
    return EnvVar(v.name, v.default, v.required, v.secret, v.provider, v.secret_name, v.description, v.format,
                  v.file_env)


def _image(entry: "CatalogImage", index: int, base: Registry) -> Image:
    """The image of catalog entry ``index``, without its companions (``_with_companions`` adds them)."""
    if entry.tag_policy not in base.tag_policies:
        raise RegistryError("catalog.images[%d].tag_policy: unknown tag policy %r; choose from: %s"
                            % (index, entry.tag_policy, ", ".join(sorted(base.tag_policies))))
    for pos, spec in enumerate(entry.volumes):
        problem = volume_problem(spec, tuple(entry.host_paths))
        if problem:
            raise RegistryError("catalog.images[%d].volumes[%d]: %r %s" % (index, pos, spec, problem))
    cls = image_class(entry.role)
    hc = entry.healthcheck
    img: Image = cls(
        name=entry.name, image=entry.image, description=entry.description,
        env=tuple(_var(v) for v in entry.env),
        port=entry.port, ws_port=entry.ws_port, service=entry.service, ports=tuple(entry.ports),
        management_ports=tuple(entry.management_ports),
        volumes=tuple(entry.volumes), platform=entry.platform, restart=entry.restart,
        command=tuple(entry.command),
        healthcheck=None if hc is None else Healthcheck(tuple(hc.test), hc.interval, hc.timeout, hc.retries,
                                                        hc.start_period),
        depends_on=tuple(entry.depends_on.items()), companions=(),
        tag_policy=entry.tag_policy, pinned_tag=entry.pinned_tag, pinned_digest=entry.pinned_digest,
        host_paths=tuple(entry.host_paths),
        probes=None if entry.probes is None else tuple(Probe(p.type, p.port) for p in entry.probes),
        labels=tuple(entry.labels),
        resources=None if entry.resources is None else Resources(
            entry.resources.cpus, entry.resources.memory, entry.resources.reserve_cpus, entry.resources.reserve_memory),
    )
    return img


def _with_companions(catalog: "Catalog", images: Dict[str, Image], origin: Dict[str, int]) -> Dict[str, Image]:
    """``images`` with every image's companions taken from ``images`` itself, so that a catalog names
    companions in any order and an image whose companion the catalog replaced comes with the new one.

    ``origin`` maps the key of each catalog image to its catalog index; a catalog image lists its
    companions by key, any other image keeps the keys of its own companions. A cycle is refused.
    """
    def companion_keys(key: str) -> List[str]:
        if key in origin:
            return list(catalog.images[origin[key]].companions)
        return [c.key for c in images[key].companions]

    for key, index in origin.items():
        for pos, comp in enumerate(companion_keys(key)):
            if comp not in images:
                raise RegistryError("catalog.images[%d].companions[%d]: unknown image %r%s"
                                    % (index, pos, comp, suggest(comp, images)))
    done: Dict[str, Image] = {}

    def resolve(key: str, trail: Tuple[str, ...]) -> Image:
        found = done.get(key)
        if found is not None:
            return found
        img = images[key]
        companions = []
        for comp in companion_keys(key):
            if comp in trail + (key,):
                cycle = trail[trail.index(comp):] + (key, comp) if comp in trail else (key, comp)
                at = next(k for k in cycle if k in origin)
                pos = companion_keys(at).index(cycle[cycle.index(at) + 1])
                raise RegistryError("catalog.images[%d].companions[%d]: %r makes a cycle of companions (%s); an image "
                                    "cannot come with itself" % (origin[at], pos, cycle[cycle.index(at) + 1],
                                                                 " -> ".join(cycle)))
            companions.append(resolve(comp, trail + (key,)))
        same = len(companions) == len(img.companions) and all(a is b for a, b in zip(companions, img.companions))
        done[key] = img if same else dataclasses.replace(img, companions=tuple(companions))
        return done[key]

    for key in list(origin) + [k for k in images if k not in origin]:  # a cycle is reported at a catalog image
        resolve(key, ())
    return {key: done[key] for key in images}


def _implied_providers(catalog: "Catalog", providers: Dict[str, Provider]) -> None:
    """Create the providers that catalog images serve (``provider:``) without a ``providers`` entry.

    Such a provider takes a key when a catalog image has a secret variable with that provider (the
    first one names it, as ``env`` of a provider entry would); otherwise it takes none.
    """
    secret_vars = [var for entry in catalog.images for var in entry.env if var.secret and var.provider]
    secret_vars += [var for tentry in catalog.templates for ovr in tentry.overrides.values()
                    for var in ovr.extend_env if var.secret and var.provider]
    for entry in catalog.images:
        name = entry.provider
        if not name or name in providers:
            continue
        key_var = next((var.name for var in secret_vars if var.provider == name), None)
        providers[name] = Provider(name, "Provider of catalog image %s/%s." % (entry.role, entry.name), key_var)


def _check_secret_providers(catalog: "Catalog", providers: Dict[str, Provider]) -> None:
    """Refuse a secret variable whose provider takes no key: no provider_keys entry could ever fill it."""
    declared = {prov.name: index for index, prov in enumerate(catalog.providers)}

    def check(var: "CatalogVar", where: str) -> None:
        provider = providers.get(var.provider or "")
        if not var.secret or provider is None or provider.env:
            return  # not secret, or unknown (Registry.check names it), or it takes a key
        if provider.file:
            raise RegistryError("%s.provider: provider %r supplies a credential file (%r), not a key, so secret "
                                "variable %r could never be set; a variable that points at the file is not secret "
                                "(drop secret: true)" % (where, provider.name, provider.file, var.name))
        if provider.name in declared:
            fix = "give catalog.providers[%d] env: %s" % (declared[provider.name], var.name)
        else:
            fix = "add a providers entry {name: %s, env: %s}" % (provider.name, var.name)
        raise RegistryError("%s.provider: provider %r takes no key, so secret variable %r could never be set; %s"
                            % (where, provider.name, var.name, fix))

    for index, entry in enumerate(catalog.images):
        for pos, var in enumerate(entry.env):
            check(var, "catalog.images[%d].env[%d]" % (index, pos))
    for index, tentry in enumerate(catalog.templates):
        for service, ovr in tentry.overrides.items():
            for pos, var in enumerate(ovr.extend_env):
                check(var, "catalog.templates[%d].overrides.%s.extend_env[%d]" % (index, service, pos))


def _template(entry: "CatalogTemplate", index: int, images: Dict[str, Image], base: Registry) -> Template:
    where = "catalog.templates[%d]" % index
    refs: Dict[str, Optional[str]] = {role: key for role, key in base.base_images.items()
                                      if entry.stack != "plain" or role != "core"}
    for slot_role, slot_key in entry.images.items():
        refs[slot_role] = slot_key
    slots: Dict[str, Any] = {}
    missing: List[str] = []
    for role, key in refs.items():
        if key is None:
            continue
        img = images.get(key)
        if img is None:
            missing.append(key)
            continue
        if img.role != role:
            raise RegistryError("%s.images.%s: image %r has role %r, not %r" % (where, role, key, img.role, role))
        slots[role] = img
    extras = []
    for pos, key in enumerate(entry.extras):
        img = images.get(key)
        if img is None:
            missing.append(key)
        elif img.role not in EXTRA_ROLES:
            raise RegistryError("%s.extras[%d]: image %r has role %r, which goes in images.%s (extras takes %s)"
                                % (where, pos, key, img.role, img.role, ", ".join(EXTRA_ROLES)))
        else:
            extras.append(img)
    overrides = tuple(
        (name, ServiceOverride(env=tuple(o.env.items()), ports=None if o.ports is None else tuple(o.ports),
                               add_volumes=tuple(o.add_volumes), unset=tuple(o.unset),
                               extend_env=tuple(_var(v) for v in o.extend_env), add_labels=tuple(o.add_labels)))
        for name, o in entry.overrides.items())
    if entry.stack != "plain":
        overrides = merge_overrides(base.stack_defaults[entry.stack], overrides)
    net = entry.network
    return Template(id=entry.id, description=entry.description, stack=entry.stack, extras=tuple(extras),
                    overrides=overrides, network=Network(net.name, net.driver, net.subnet),
                    missing_images=tuple(missing), **slots)


def _rebind(tpl: Template, images: Dict[str, Image], replaced: Set[str]) -> Template:
    """A built-in template using the catalog's version of any image the catalog replaces."""
    if not replaced.intersection(img.key for img in tpl.images):
        return tpl
    changes: Dict[str, Any] = {}
    for role in ("core", "asterisk", "ami") + SLOT_ROLES:
        img = tpl.slot(role)
        if img is not None and img.key in replaced:
            changes[role] = images[img.key]
    changes["extras"] = tuple(images[img.key] if img.key in replaced else img for img in tpl.extras)
    return dataclasses.replace(tpl, **changes)


_ENTRY = re.compile(r"^(images|templates)\[([^\]]+)\](.*)$", re.S)
_VAR_PATH = re.compile(r"^\.env\.([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.S)
_EXTEND_PATH = re.compile(r"^\.overrides\.([^.:\s]+)\.extend_env\.([A-Za-z_][A-Za-z0-9_]*)(.*)$", re.S)


def _in_catalog(message: str, catalog: "Catalog", templates: Dict[str, Template], replaced: Set[str]) -> str:
    """A Registry.check message about catalog content, located in the catalog the way validation locates
    its errors (``catalog.images[3].env[1].provider``, ``catalog.templates[0].overrides...``)."""
    match = _ENTRY.match(message)
    if match is None:
        return "catalog: %s" % message
    section, key, rest = match.groups()
    if section == "images":
        index = next((i for i, e in enumerate(catalog.images) if "%s/%s" % (e.role, e.name) == key), None)
        if index is None:
            return "catalog: built-in image %r: %s" % (key, message)
        var = _VAR_PATH.match(rest)
        if var is not None:
            pos = next((p for p, v in enumerate(catalog.images[index].env) if v.name == var.group(1)), None)
            if pos is not None:
                rest = ".env[%d]%s" % (pos, var.group(2))
        return "catalog.images[%d]%s" % (index, rest)
    index = next((i for i, e in enumerate(catalog.templates) if e.id == key), None)
    if index is None:
        tpl = templates.get(key)
        used = [img for img in (tpl.images if tpl is not None else ()) if img.key in replaced]
        named = [img for img in used if rest.startswith(".overrides.%s." % img.service_name)]
        culprit: Optional[Image] = (named or used)[0] if (named or used) else None
        at = next((i for i, e in enumerate(catalog.images)
                   if culprit is not None and "%s/%s" % (e.role, e.name) == culprit.key), None)
        if culprit is None or at is None:
            return "catalog: %s" % message
        return ("catalog.images[%d]: replacing image %r breaks built-in template %r (its %s)"
                % (at, culprit.key, key, rest.lstrip(".")))
    ext = _EXTEND_PATH.match(rest)
    if ext is not None:
        service, name, tail = ext.groups()
        ovr = catalog.templates[index].overrides.get(service)
        pos = next((p for p, v in enumerate(ovr.extend_env) if v.name == name), None) if ovr else None
        if pos is not None:
            rest = ".overrides.%s.extend_env[%d]%s" % (service, pos, tail)
    return "catalog.templates[%d]%s" % (index, rest)


def catalog_digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


_CACHE: Dict[str, Registry] = {}


def effective_registry(data: Any = None, version: Optional[str] = None) -> Registry:
    """The built-in registry of generation ``version`` (default: the newest), extended or overridden by
    catalog ``data`` (cached per generation and content)."""
    base = builtin(version)
    if data is None or data == {}:
        return base
    try:
        digest = catalog_digest(data)
        cache_key = "%s %s" % (base.generation, digest)
    except (TypeError, ValueError):  # keys that are not all strings: validation names the first one
        validate(data)
        raise RegistryError("catalog: every key must be a string") from None
    found = _CACHE.get(cache_key)
    if found is not None:
        return found
    catalog = validate(data)
    _check_unique(catalog)
    images: Dict[str, Image] = dict(base.images)
    providers = dict(base.providers)
    for prov in catalog.providers:
        providers[prov.name] = Provider(prov.name, prov.description, prov.env, prov.file)
    origin: Dict[str, int] = {}
    for index, entry in enumerate(catalog.images):
        if entry.provider and entry.role not in SLOT_ROLES:
            raise RegistryError("catalog.images[%d].provider: only %s images serve a provider (this one has role %r)"
                                % (index, "/".join(SLOT_ROLES), entry.role))
        img = _image(entry, index, base)
        images[img.key] = img
        origin[img.key] = index
    images = _with_companions(catalog, images, origin)
    replaced = {key for key, img in images.items() if base.images.get(key) is not img}
    _implied_providers(catalog, providers)
    _check_secret_providers(catalog, providers)
    role_providers = {role: {name: images[img.key] for name, img in m.items()}
                      for role, m in base.role_providers.items()}
    for entry in catalog.images:
        if entry.provider:
            role_providers[entry.role][entry.provider] = images["%s/%s" % (entry.role, entry.name)]
    templates = {tid: _rebind(tpl, images, replaced) for tid, tpl in base.templates.items()}
    for index, tentry in enumerate(catalog.templates):
        templates[tentry.id] = _template(tentry, index, images, base)
    try:
        registry = Registry(list(images.values()), list(templates.values()), providers, role_providers,
                            generation=generation(base.generation), catalog=digest)
    except RegistryError as exc:
        raise RegistryError(_in_catalog(str(exc), catalog, templates, replaced)) from None
    _CACHE[cache_key] = registry
    return registry


__all__ = ["effective_registry", "validate", "plain_data", "type_name", "HAS_PYDANTIC", "ROLES"]
