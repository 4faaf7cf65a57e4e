# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The effective registry: built-in images, providers and templates, plus a user catalog."""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from . import images as builtin_images
from . import providers as builtin_providers
from . import templates as builtin_templates
from .tags import POLICIES, ImageReference, check_digest, check_tag, parse_reference
from .model import (
    IMAGE_CLASSES, ROLES, SLOT_ROLES, Image, Provider, RegistryError, Role, ServiceOverride,
    StackKind, Template, is_name, text_problem, volume_problem,
)

#: The roles each stack kind fills from ``providers``.
STACK_SLOTS: Mapping[str, Tuple[Role, ...]] = {"modular": ("asr", "llm", "tts"), "sts": ("sts",)}


def suggest(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, else the list of choices."""
    options = sorted(choices)
    close = difflib.get_close_matches(value, options, n=1) if isinstance(value, str) else []
    if close:
        return "; did you mean '%s'?" % close[0]
    return "; choose from: %s" % (", ".join(options) if options else "(none)")


def image_data(img: Image) -> Dict[str, Any]:
    """An image as plain data (the shape a catalog uses), for digests, filters and docs."""
    data: Dict[str, Any] = {
        "key": img.key,
        "role": img.role,
        "name": img.name,
        "service": img.service_name,
        "image": img.image,
        "description": img.description,
        "port": img.port,
        "ws_port": img.ws_port,
        "ports": list(img.ports),
        "management_ports": list(img.management_ports),
        "volumes": list(img.volumes),
        "platform": img.platform,
        "restart": img.restart,
        "command": list(img.command),
        "healthcheck": None,
        "depends_on": dict(img.depends_on),
        "companions": [c.key for c in img.companions],
        "tag_policy": img.tag_policy,
        "pinned_tag": img.pinned_tag,
        "pinned_digest": img.pinned_digest,
        "host_paths": list(img.host_paths),
        "probes": None if img.probes is None else [
            dict({"type": probe.type}, **({"port": probe.port} if probe.port is not None else {}))
            for probe in img.probes],
        "env": [
            {
                "name": v.name, "default": v.default, "required": v.required, "secret": v.secret,
                "provider": v.provider, "secret_name": v.secret_name, "description": v.description,
            }
            for v in img.env
        ],
    }
    if img.healthcheck is not None:
        hc = img.healthcheck
        data["healthcheck"] = {"test": list(hc.test), "interval": hc.interval, "timeout": hc.timeout,
                               "retries": hc.retries, "start_period": hc.start_period}
    return data


def override_data(ovr: ServiceOverride) -> Dict[str, Any]:
    return {
        "env": [[name, value] for name, value in ovr.env],
        "ports": None if ovr.ports is None else list(ovr.ports),
        "add_volumes": list(ovr.add_volumes),
        "unset": list(ovr.unset),
    }


def template_data(tpl: Template) -> Dict[str, Any]:
    """A template as plain data: images by role, overrides, network, ``functional``."""
    slots: Dict[str, Optional[str]] = {}
    for role in ("core", "asterisk", "ami") + SLOT_ROLES:
        img = tpl.slot(role)
        slots[role] = img.key if img is not None else None
    return {
        "id": tpl.id,
        "description": tpl.description,
        "stack": tpl.stack,
        "images": slots,
        "extras": [img.key for img in tpl.extras],
        "services": [img.service_name for img in tpl.images],
        "overrides": {name: override_data(ovr) for name, ovr in tpl.overrides},
        "network": {"name": tpl.network.name, "driver": tpl.network.driver, "subnet": tpl.network.subnet},
        "example": tpl.example,
        "functional": tpl.functional,
        "missing_images": list(tpl.missing_images),
    }


def provider_data(provider: Provider) -> Dict[str, Any]:
    return {"name": provider.name, "description": provider.description, "env": provider.env,
            "file": provider.file}


class Registry:
    """Images by key, templates by id, providers, and provider -> image maps per role."""

    def __init__(self, images: Sequence[Image], templates: Sequence[Template],
                 providers: Mapping[str, Provider], role_providers: Mapping[Role, Mapping[str, Image]]):
        self.images: Dict[str, Image] = {img.key: img for img in images}
        self.templates: Dict[str, Template] = {tpl.id: tpl for tpl in templates}
        self.providers: Dict[str, Provider] = dict(providers)
        self.role_providers: Dict[Role, Dict[str, Image]] = {
            role: dict(role_providers.get(role, {})) for role in SLOT_ROLES
        }
        self._digest: Optional[str] = None
        self._selections: Dict[Tuple[str, Tuple[Tuple[str, str], ...]], Template] = {}
        self.check()

    # -- consistency --------------------------------------------------------------------

    def check(self) -> None:
        """Cross-checks every image and template; raises RegistryError naming the field."""
        for key, img in self.images.items():
            where = "images[%s]" % key
            if not is_name(img.name):
                raise RegistryError("%s.name: %r is not a safe name (lower case letters, digits, '-', '_'; "
                                    "at most 63 characters)" % (where, img.name))
            if not is_name(img.service_name):
                raise RegistryError("%s.service: %r is not a safe name (lower case letters, digits, '-', '_'; "
                                    "at most 63 characters)" % (where, img.service_name))
            for index, spec in enumerate(img.volumes):
                problem = volume_problem(spec, img.host_paths)
                if problem:
                    raise RegistryError("%s.volumes[%d]: %r %s" % (where, index, spec, problem))
            seen = set()
            for var in img.env:
                if var.default is not None and text_problem(var.default):
                    raise RegistryError("%s.env.%s.default: %s%s" % (where, var.name, "" if var.secret else
                                                                     "%r " % var.default, text_problem(var.default)))
                if var.name in seen:
                    raise RegistryError("%s.env: variable %r is listed twice" % (where, var.name))
                seen.add(var.name)
                if var.secret and var.provider and var.provider not in self.providers:
                    raise RegistryError("%s.env.%s.provider: unknown provider %r%s"
                                        % (where, var.name, var.provider, suggest(var.provider, self.providers)))
                if var.secret and not (var.provider or var.secret_name):
                    raise RegistryError("%s.env.%s: a secret variable needs a provider or a secret_name"
                                        % (where, var.name))
            if img.role == "sts" and img.ws_port is None:
                raise RegistryError("%s.ws_port: an sts image needs ws_port" % where)
            if img.role in SLOT_ROLES and img.port is None:
                raise RegistryError("%s.port: a %s image needs port" % (where, img.role))
            self._check_reference(img, where)
        for tid, tpl in self.templates.items():
            self._check_template(tpl, "templates[%s]" % tid)

    @staticmethod
    def _check_reference(img: Image, where: str) -> None:
        if img.tag_policy not in POLICIES:
            raise RegistryError("%s.tag_policy: unknown tag policy %r%s"
                                % (where, img.tag_policy, suggest(img.tag_policy, POLICIES)))
        ref = parse_reference(img.image, where + ".image")
        if ref.digest:
            raise RegistryError("%s.image: %r carries a digest; set pinned_digest instead" % (where, img.image))
        if img.pinned_tag is not None:
            check_tag(img.pinned_tag, where + ".pinned_tag")
        if img.pinned_digest is not None:
            check_digest(img.pinned_digest, where + ".pinned_digest")

    def _check_template(self, tpl: Template, where: str) -> None:
        wanted: Tuple[Role, ...] = STACK_SLOTS.get(tpl.stack, ())
        for role in SLOT_ROLES:
            img = tpl.slot(role)
            if role in wanted and img is None and not tpl.missing_images:
                raise RegistryError("%s.images.%s: a %s stack needs an %s image" % (where, role, tpl.stack, role))
            if role not in wanted and img is not None:
                raise RegistryError("%s.images.%s: a %s stack has no %s image" % (where, role, tpl.stack, role))
        if tpl.stack in STACK_SLOTS and tpl.core is None and not tpl.missing_images:
            raise RegistryError("%s.images.core: a %s stack needs a core image" % (where, tpl.stack))
        for role in ROLES:
            img = tpl.slot(role)
            if img is not None and img.role != role:
                raise RegistryError("%s.images.%s: image %r has role %r, not %r"
                                    % (where, role, img.key, img.role, role))
        services = {img.service_name: img for img in tpl.images}
        if len(services) != len(tpl.images):
            raise RegistryError("%s: two images share a service name" % where)
        if not is_name(tpl.network.name):
            raise RegistryError("%s.network.name: %r is not a safe name (lower case letters, digits, '-', '_'; "
                                "at most 63 characters)" % (where, tpl.network.name))
        for name, ovr in tpl.overrides:
            img = services.get(name)
            if img is None:
                if tpl.missing_images:
                    continue
                raise RegistryError("%s.overrides.%s: no such service in the stack%s"
                                    % (where, name, suggest(name, services)))
            for index, spec in enumerate(ovr.add_volumes):
                problem = volume_problem(spec, img.host_paths)
                if problem:
                    raise RegistryError("%s.overrides.%s.add_volumes[%d]: %r %s" % (where, name, index, spec, problem))
            for var, value in ovr.env:
                if value is not None and text_problem(value):
                    raise RegistryError("%s.overrides.%s.env.%s: %r %s"
                                        % (where, name, var, value, text_problem(value)))
            for var, _value in ovr.env:
                if img.var(var) is None:
                    raise RegistryError("%s.overrides.%s.env.%s: image %r has no such variable%s"
                                        % (where, name, var, img.key, suggest(var, img.var_names)))
                if img.var(var).secret:  # type: ignore[union-attr]
                    raise RegistryError("%s.overrides.%s.env.%s: secret variables take no template value"
                                        % (where, name, var))
            for key in ovr.unset:
                if key not in ("platform", "ports", "restart", "volumes"):
                    raise RegistryError("%s.overrides.%s.unset: cannot unset %r" % (where, name, key))

    # -- lookups ------------------------------------------------------------------------

    def template(self, template_id: str) -> Template:
        tpl = self.templates.get(template_id)
        if tpl is None:
            raise RegistryError("template: unknown template %r%s" % (template_id, suggest(template_id, self.templates)))
        return tpl

    def image(self, key: str, role: Optional[Role] = None, where: str = "image") -> Image:
        img = self.images.get(key)
        if img is None:
            raise RegistryError("%s: unknown image %r%s" % (where, key, suggest(key, self.images)))
        if role is not None and img.role != role:
            raise RegistryError("%s: image %r has role %r, not %r" % (where, key, img.role, role))
        return img

    def provider_image(self, role: Role, provider: str) -> Image:
        choices = self.role_providers.get(role, {})
        img = choices.get(provider)
        if img is None:
            raise RegistryError("providers.%s: unknown %s provider %r%s"
                                % (role, role, provider, suggest(provider, choices)))
        return img

    def select(self, template: Optional[str] = None, stack: Optional[str] = None,
               providers: Optional[Mapping[str, str]] = None) -> Template:
        """The template to render: a named one, or one built from ``stack`` and ``providers``."""
        if template is not None:
            if stack is not None or providers:
                raise RegistryError("template: give either template or stack/providers, not both")
            return self.template(template)
        if stack is None:
            raise RegistryError("template: give a template, or stack (modular|sts) with providers")
        if not isinstance(stack, str) or stack not in STACK_SLOTS:
            raise RegistryError("stack: unknown stack kind %r%s" % (stack, suggest(stack, STACK_SLOTS)))
        slots = STACK_SLOTS[stack]
        if providers is not None and not isinstance(providers, Mapping):
            raise RegistryError("providers: expected a mapping of role to provider name, got %s"
                                % type(providers).__name__)
        providers = dict(providers or {})
        for role, given in providers.items():
            if not isinstance(role, str):
                raise RegistryError("providers: %r is not a role (%s)" % (role, ", ".join(slots)))
            if not isinstance(given, str):
                raise RegistryError("providers.%s: %r is not a provider name (a string)" % (role, given))
        cache_key = (stack, tuple(sorted(providers.items())))
        cached = self._selections.get(cache_key)
        if cached is not None:
            return cached
        for role in providers:
            if role not in slots:
                raise RegistryError("providers.%s: a %s stack takes providers for %s only"
                                    % (role, stack, ", ".join(slots)))
        chosen: Dict[str, Any] = {}
        for role in slots:
            name = providers.get(role)
            if not name:
                raise RegistryError("providers.%s: %s; a %s stack needs a provider for %s, one of: %s"
                                    % (role, "missing" if name is None else "%r names no provider" % (name,), stack,
                                       role, ", ".join(sorted(self.role_providers.get(role, {})))))
            chosen[role] = self.provider_image(role, name)
        ident = "%s-%s" % (stack, "-".join(providers[r] for r in slots))
        kind: StackKind = "modular" if stack == "modular" else "sts"
        base = builtin_templates.STACK_DEFAULTS[kind]
        for role, key in builtin_templates.BASE_IMAGES.items():
            chosen[role] = self.images.get(key)
        tpl = Template(id=ident, description="%s stack (%s)" % (stack, ", ".join(
            "%s=%s" % (r, providers[r]) for r in slots)), stack=kind, overrides=base, **chosen)
        self._check_template(tpl, "selection")
        self._selections[cache_key] = tpl
        return tpl

    # -- digest -------------------------------------------------------------------------

    def data(self) -> Dict[str, Any]:
        """The whole effective registry as plain, canonical data."""
        return {
            "images": {key: image_data(img) for key, img in sorted(self.images.items())},
            "templates": {tid: template_data(tpl) for tid, tpl in sorted(self.templates.items())},
            "providers": {name: provider_data(p) for name, p in sorted(self.providers.items())},
            "role_providers": {role: {name: img.key for name, img in sorted(m.items())}
                               for role, m in sorted(self.role_providers.items())},
        }

    @property
    def digest(self) -> str:
        """sha256 of the canonical JSON of the effective registry."""
        if self._digest is None:
            blob = json.dumps(self.data(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            self._digest = hashlib.sha256(blob.encode("ascii")).hexdigest()
        return self._digest


def default_reference(img: Image) -> ImageReference:
    """What ``img`` runs unless a deployment names a tag or digest: its pins over its own tag."""
    ref = parse_reference(img.image, "images[%s].image" % img.key)
    return ImageReference(ref.repository, img.pinned_tag or ref.tag, img.pinned_digest)


def _builtin_role_providers() -> Dict[Role, Mapping[str, Image]]:
    return {
        "asr": builtin_providers.ASR_PROVIDERS,
        "tts": builtin_providers.TTS_PROVIDERS,
        "llm": builtin_providers.LLM_PROVIDERS,
        "sts": builtin_providers.STS_PROVIDERS,
    }


_BUILTIN: Optional[Registry] = None


def builtin() -> Registry:
    """The registry shipped with the collection (built once per process)."""
    global _BUILTIN
    if _BUILTIN is None:
        _BUILTIN = Registry(builtin_images.ALL_IMAGES, builtin_templates.TEMPLATES,
                            builtin_providers.PROVIDERS, _builtin_role_providers())
    return _BUILTIN


def image_class(role: str) -> type:
    cls: Optional[type] = IMAGE_CLASSES.get(role)  # type: ignore[call-overload]
    if cls is None:
        raise RegistryError("role: unknown role %r%s" % (role, suggest(role, IMAGE_CLASSES)))
    return cls


def images_by_role(registry: Registry, role: Optional[str] = None) -> List[Image]:
    if role is not None and (not isinstance(role, str) or role not in IMAGE_CLASSES):
        raise RegistryError("role: unknown role %r%s" % (role, suggest(role, IMAGE_CLASSES)))
    order = {r: n for n, r in enumerate(ROLES)}
    found = [img for img in registry.images.values() if role is None or img.role == role]
    return sorted(found, key=lambda img: (order[img.role], img.key))
