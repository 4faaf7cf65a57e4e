# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""User catalogs: images, providers and templates added to (or replacing) the built-in ones.

A catalog is validated with pydantic; any error names the field path
(``catalog.images[0].port``) and the reason. pydantic is a controller-side
dependency, imported under a guard so that this file can be imported without it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Dict, List, Literal, Optional, Set, Tuple

from .model import (
    NAME_RE, ROLES, SLOT_ROLES, VAR_RE, EnvVar, Healthcheck, Image, Network, Provider, RegistryError,
    ServiceOverride, Template,
)
from .model import Probe
from .registry import Registry, builtin, image_class
from .tags import DEFAULT_POLICY, DIGEST_RE, POLICIES, TAG_RE
from . import templates as builtin_templates

try:
    from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
    HAS_PYDANTIC = True
    PYDANTIC_IMPORT_ERROR: Optional[BaseException] = None
except ImportError as exc:  # pragma: no cover - exercised by the sanity import test
    HAS_PYDANTIC = False
    PYDANTIC_IMPORT_ERROR = exc
    BaseModel = object  # type: ignore[misc,assignment]

RoleName = Literal["core", "asterisk", "ami", "asr", "tts", "llm", "sts", "app", "database", "workflow"]

if HAS_PYDANTIC:
    _STRICT = ConfigDict(extra="forbid", strict=True, frozen=True)

    class CatalogVar(BaseModel):
        model_config = _STRICT
        name: str = Field(pattern=VAR_RE.pattern)
        default: Optional[str] = None
        required: bool = False
        secret: bool = False
        provider: Optional[str] = None
        secret_name: Optional[str] = Field(default=None, pattern=VAR_RE.pattern)
        description: str = ""

    class CatalogHealthcheck(BaseModel):
        model_config = _STRICT
        test: List[str] = Field(min_length=1)
        interval: Optional[str] = None
        timeout: Optional[str] = None
        retries: Optional[int] = Field(default=None, ge=0)
        start_period: Optional[str] = None

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

    class CatalogImage(BaseModel):
        model_config = _STRICT
        role: RoleName
        name: str = Field(pattern=NAME_RE.pattern, max_length=63)
        image: str = Field(min_length=1, pattern=r"^[^\s$]+$")
        description: str = ""
        provider: Optional[str] = Field(default=None, pattern=NAME_RE.pattern)
        service: Optional[str] = Field(default=None, pattern=NAME_RE.pattern, max_length=63)
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
        #: readiness probes of the health gate (None: derived from the image data; []: none)
        probes: Optional[List[CatalogProbe]] = None

        @field_validator("tag_policy")
        @classmethod
        def _known_policy(cls, value: str) -> str:
            if value not in POLICIES:
                raise ValueError("unknown tag policy %r; choose from: %s" % (value, ", ".join(sorted(POLICIES))))
            return value

        @field_validator("ports", "volumes")
        @classmethod
        def _no_interpolation(cls, value: List[str]) -> List[str]:
            for item in value:
                if "$" in item or "\n" in item:
                    raise ValueError("%r: '$' and newlines are not allowed" % item)
            return value

    class CatalogProvider(BaseModel):
        model_config = _STRICT
        name: str = Field(pattern=NAME_RE.pattern)
        description: str = ""
        env: Optional[str] = Field(default=None, pattern=VAR_RE.pattern)
        file: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")

    class CatalogOverride(BaseModel):
        model_config = _STRICT
        env: Dict[str, Optional[str]] = {}
        ports: Optional[List[str]] = None
        add_volumes: List[str] = []
        unset: List[Literal["platform", "ports", "restart", "volumes"]] = []

    class CatalogNetwork(BaseModel):
        model_config = _STRICT
        name: str = Field(default="avr", pattern=NAME_RE.pattern)
        driver: str = "bridge"
        subnet: Optional[str] = "172.20.0.0/24"

    class CatalogTemplate(BaseModel):
        model_config = _STRICT
        id: str = Field(pattern=NAME_RE.pattern, max_length=63)
        description: str = ""
        stack: Literal["modular", "sts", "plain"]
        images: Dict[RoleName, Optional[str]] = {}
        extras: List[str] = []
        overrides: Dict[str, CatalogOverride] = {}
        network: CatalogNetwork = CatalogNetwork()

    class Catalog(BaseModel):
        model_config = _STRICT
        images: List[CatalogImage] = []
        providers: List[CatalogProvider] = []
        templates: List[CatalogTemplate] = []


def _location(loc: Tuple[Any, ...]) -> str:
    out = "catalog"
    for part in loc:
        out += "[%d]" % part if isinstance(part, int) else ".%s" % part
    return out


def validate(data: Any) -> "Catalog":
    """The catalog as a pydantic model; RegistryError naming the first bad field otherwise."""
    if not HAS_PYDANTIC:
        raise RegistryError("catalog: the pydantic library is required on the controller to use a catalog "
                            "(pip install pydantic): %s" % PYDANTIC_IMPORT_ERROR)
    if not isinstance(data, dict):
        raise RegistryError("catalog: expected a mapping with images, providers and templates, got %s"
                            % type(data).__name__)
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        problems = ["%s: %s (got %r)" % (_location(err["loc"]), err["msg"], err.get("input"))
                    for err in exc.errors()[:5]]
        raise RegistryError("; ".join(problems)) from None


def _image(entry: "CatalogImage", index: int, images: Dict[str, Image]) -> Image:
    companions = []
    for pos, key in enumerate(entry.companions):
        comp = images.get(key)
        if comp is None:
            raise RegistryError("catalog.images[%d].companions[%d]: unknown image %r" % (index, pos, key))
        companions.append(comp)
    cls = image_class(entry.role)
    hc = entry.healthcheck
    img: Image = cls(
        name=entry.name, image=entry.image, description=entry.description,
        env=tuple(EnvVar(v.name, v.default, v.required, v.secret, v.provider, v.secret_name, v.description)
                  for v in entry.env),
        port=entry.port, ws_port=entry.ws_port, service=entry.service, ports=tuple(entry.ports),
        management_ports=tuple(entry.management_ports),
        volumes=tuple(entry.volumes), platform=entry.platform, restart=entry.restart,
        command=tuple(entry.command),
        healthcheck=None if hc is None else Healthcheck(tuple(hc.test), hc.interval, hc.timeout, hc.retries,
                                                        hc.start_period),
        depends_on=tuple(entry.depends_on.items()), companions=tuple(companions),
        tag_policy=entry.tag_policy, pinned_tag=entry.pinned_tag, pinned_digest=entry.pinned_digest,
        probes=None if entry.probes is None else tuple(Probe(p.type, p.port) for p in entry.probes),
    )
    return img


def _template(entry: "CatalogTemplate", index: int, images: Dict[str, Image]) -> Template:
    where = "catalog.templates[%d]" % index
    refs: Dict[str, Optional[str]] = {role: key for role, key in builtin_templates.BASE_IMAGES.items()
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
        elif img.role in SLOT_ROLES or img.role in ("core", "asterisk", "ami"):
            raise RegistryError("%s.extras[%d]: image %r has role %r, which goes in images.%s"
                                % (where, pos, key, img.role, img.role))
        else:
            extras.append(img)
    overrides = tuple(
        (name, ServiceOverride(env=tuple(o.env.items()), ports=None if o.ports is None else tuple(o.ports),
                               add_volumes=tuple(o.add_volumes), unset=tuple(o.unset)))
        for name, o in entry.overrides.items())
    if entry.stack != "plain":
        overrides = builtin_templates.merge_overrides(builtin_templates.STACK_DEFAULTS[entry.stack], overrides)
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


def catalog_digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


_CACHE: Dict[str, Registry] = {}


def effective_registry(data: Any = None) -> Registry:
    """The built-in registry, extended or overridden by catalog ``data`` (cached per content)."""
    base = builtin()
    if not data:
        return base
    cache_key = catalog_digest(data)
    found = _CACHE.get(cache_key)
    if found is not None:
        return found
    catalog = validate(data)
    images: Dict[str, Image] = dict(base.images)
    providers = dict(base.providers)
    for prov in catalog.providers:
        providers[prov.name] = Provider(prov.name, prov.description, prov.env, prov.file)
    role_providers = {role: dict(m) for role, m in base.role_providers.items()}
    replaced: Set[str] = set()
    for index, entry in enumerate(catalog.images):
        img = _image(entry, index, images)
        images[img.key] = img
        replaced.add(img.key)
        if entry.provider:
            if img.role not in SLOT_ROLES:
                raise RegistryError("catalog.images[%d].provider: only %s images serve a provider"
                                    % (index, "/".join(SLOT_ROLES)))
            role_providers[img.role][entry.provider] = img
            if entry.provider not in providers:
                providers[entry.provider] = Provider(entry.provider, "Provider of catalog image %s." % img.key)
    # Images whose companions the catalog replaced take the new companions (until nothing changes).
    pending = True
    while pending:
        pending = False
        for image_key, img in list(images.items()):
            if any(images[c.key] is not c for c in img.companions):
                images[image_key] = dataclasses.replace(img, companions=tuple(images[c.key] for c in img.companions))
                replaced.add(image_key)
                pending = True
    # Provider maps follow replaced images.
    for mapping in role_providers.values():
        for name, img in list(mapping.items()):
            if img.key in replaced:
                mapping[name] = images[img.key]
    templates = {tid: _rebind(tpl, images, replaced) for tid, tpl in base.templates.items()}
    for index, tentry in enumerate(catalog.templates):
        templates[tentry.id] = _template(tentry, index, images)
    try:
        registry = Registry(list(images.values()), list(templates.values()), providers, role_providers)
    except RegistryError as exc:
        raise RegistryError("catalog: %s" % exc) from None
    _CACHE[cache_key] = registry
    return registry


__all__ = ["effective_registry", "validate", "HAS_PYDANTIC", "ROLES"]
