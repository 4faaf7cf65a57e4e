# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The effective registry: one generation's images, providers and templates, plus a user catalog.

A registry is also a document: ``Registry.snapshot()`` is its canonical, versioned form (see
``registry.snapshot``), and ``Registry.digest`` is the sha256 of that document, so two registries
with one digest render the same bytes for the same inputs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from .generations import FIRST, Generation, generations, newest
from .tags import ImageReference, TagPolicy, check_digest, check_tag, parse_reference
from .model import (
    IMAGE_CLASSES, ROLES, SERVICE_TOKEN_RE, SLOT_ROLES, VAR_FORMATS, EnvVar, Image, Network, Provider, RegistryError,
    Role, ServiceOverride, StackKind, Template, VarCycle, Wiring, derive, derived_from, is_name, json_problem,
    text_problem, var_token_problem, var_tokens, volume_problem,
)
from .stacks import Overrides

#: Version of the snapshot document's layout (``Registry.snapshot``); a loader refuses other versions.
SNAPSHOT_SCHEMA = 1
#: Version of the rules that turn registry data into compose text (key order, quoting, interpolation
#: escaping, the header). Bump it whenever plugin_utils/render.py writes other bytes for equal data: a
#: snapshot recorded under another format is refused rather than re-rendered differently.
RENDERER_FORMAT = 1

#: The roles each stack kind fills from ``providers``.
STACK_SLOTS: Mapping[str, Tuple[Role, ...]] = {"modular": ("asr", "llm", "tts"), "sts": ("sts",)}


def label_problem(label: str) -> Optional[str]:
    """Why the compose label ``label`` (``KEY=VALUE``) is refused (None when it is not)."""
    key, sep, value = label.partition("=")
    if not sep or not key or any(char.isspace() for char in key):
        return "is not KEY=VALUE (a key without spaces, '=', then the value)"
    if "$" in label:
        return "contains '$' (compose would interpolate it)"
    return text_problem(label)


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
        "labels": list(img.labels),
        "probes": None if img.probes is None else [
            dict({"type": probe.type}, **({"port": probe.port} if probe.port is not None else {}))
            for probe in img.probes],
        "env": [var_data(v) for v in img.env],
    }
    if img.healthcheck is not None:
        hc = img.healthcheck
        data["healthcheck"] = {"test": list(hc.test), "interval": hc.interval, "timeout": hc.timeout,
                               "retries": hc.retries, "start_period": hc.start_period}
    if img.resources is not None:  # only when set, so that data and digests without it stay as they were
        data["resources"] = {key: getattr(img.resources, key) for key in RESOURCE_KEYS
                             if getattr(img.resources, key) is not None}
    return data


#: The fields of an image's resources, in the order data shows them.
RESOURCE_KEYS = ("cpus", "memory", "reserve_cpus", "reserve_memory")


def var_data(var: EnvVar) -> Dict[str, Any]:
    """A variable as plain data; ``format`` only when set (so data and digests without it stay as they were)."""
    data = {"name": var.name, "default": var.default, "required": var.required, "secret": var.secret,
            "provider": var.provider, "secret_name": var.secret_name, "description": var.description}
    if var.format is not None:
        data["format"] = var.format
    if var.file_env is not None:
        data["file_env"] = var.file_env
    return data


def token_reference_problem(value: str, schema: Mapping[str, EnvVar]) -> Optional[str]:
    """Why the ``{{var:NAME}}`` tokens of ``value`` are refused for a service whose variables are ``schema``
    (None when they are not): malformed, naming no variable of the service, or naming a secret one."""
    problem = var_token_problem(value)
    if problem:
        return problem
    for name in var_tokens(value):
        var = schema.get(name)
        if var is None:
            return "names {{var:%s}}, which is not a variable of this service%s" % (name, suggest(name, schema))
        if var.secret:
            return ("names {{var:%s}}, a secret variable: a derived value would copy the secret into a variable "
                    "that is printed and stored" % name)
    return None


def _json_text(value: str) -> str:
    """``value`` as the JSON check reads it: service tokens stand for their (name-safe) service names."""
    return SERVICE_TOKEN_RE.sub(lambda match: match.group(1), value)


def override_data(ovr: ServiceOverride) -> Dict[str, Any]:
    return {
        "env": [[name, value] for name, value in ovr.env],
        "ports": None if ovr.ports is None else list(ovr.ports),
        "add_volumes": list(ovr.add_volumes),
        "unset": list(ovr.unset),
        "extend_env": [var_data(v) for v in ovr.extend_env],
        "add_labels": list(ovr.add_labels),
    }


def overrides_data(overrides: Overrides) -> Dict[str, Any]:
    return {name: override_data(ovr) for name, ovr in overrides}


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
        "overrides": overrides_data(tpl.overrides),
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
                 providers: Mapping[str, Provider], role_providers: Mapping[Role, Mapping[str, Image]],
                 generation: Optional[Generation] = None, catalog: Optional[str] = None):
        gen = generation if generation is not None else generations()[FIRST]
        #: the generation this registry's data starts from (a catalog may add to it)
        self.generation: str = gen.id
        #: sha256 of the catalog data on top of the generation (None: the generation alone)
        self.catalog: Optional[str] = catalog
        self.stack_defaults: Dict[str, Overrides] = {str(kind): ovr for kind, ovr in gen.base.defaults.items()}
        #: image keys per base role (core, asterisk, ami) that provider selections and catalog templates start from
        self.base_images: Dict[str, str] = dict(gen.base.images)
        self.network: Network = gen.base.network
        self.wiring: Dict[Role, Wiring] = dict(gen.wiring)
        self.tag_policies: Dict[str, TagPolicy] = dict(gen.tag_policies)
        self.images: Dict[str, Image] = {img.key: img for img in images}
        self.templates: Dict[str, Template] = {tpl.id: tpl for tpl in templates}
        self.providers: Dict[str, Provider] = dict(providers)
        self.role_providers: Dict[Role, Dict[str, Image]] = {
            role: dict(role_providers.get(role, {})) for role in SLOT_ROLES
        }
        self._digest: Optional[str] = None
        self._snapshot_text: Optional[str] = None
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
                self._check_var(var, "%s.env.%s" % (where, var.name))
                if var.name in seen:
                    raise RegistryError("%s.env: variable %r is listed twice" % (where, var.name))
                seen.add(var.name)
            self._check_values({var.name: (var.default, "%s.env.%s.default" % (where, var.name))
                                for var in img.env if var.default is not None}, {var.name: var for var in img.env})
            for index, label in enumerate(img.labels):
                problem = label_problem(label)
                if problem:
                    raise RegistryError("%s.labels[%d]: %r %s" % (where, index, label, problem))
            if img.role == "sts" and img.ws_port is None:
                raise RegistryError("%s.ws_port: an sts image needs ws_port" % where)
            if img.role in SLOT_ROLES and img.port is None:
                raise RegistryError("%s.port: a %s image needs port" % (where, img.role))
            self._check_reference(img, where)
        for tid, tpl in self.templates.items():
            self._check_template(tpl, "templates[%s]" % tid)

    def _check_var(self, var: EnvVar, where: str) -> None:
        """One variable of an env schema (an image's, or one a template adds); ``where`` names it."""
        if var.default is not None and text_problem(var.default):
            raise RegistryError("%s.default: %s%s" % (where, "" if var.secret else "%r " % var.default,
                                                      text_problem(var.default)))
        if var.secret and var.provider and var.provider not in self.providers:
            raise RegistryError("%s.provider: unknown provider %r%s"
                                % (where, var.provider, suggest(var.provider, self.providers)))
        if var.secret and not (var.provider or var.secret_name):
            raise RegistryError("%s: a secret variable needs a provider or a secret_name" % where)
        if var.format is not None and var.format not in VAR_FORMATS:
            raise RegistryError("%s.format: %r is not a value format (choose from: %s)"
                                % (where, var.format, ", ".join(VAR_FORMATS)))

    def _check_values(self, values: Mapping[str, Tuple[str, str]], schema: Mapping[str, EnvVar],
                      prefer: str = "") -> None:
        """The env values one service starts from (variable -> (value, field naming it)), as the service's
        schema ``schema`` reads them: the ``{{var:...}}`` tokens name non-secret variables of the service, derived
        values name each other in no cycle, and a ``format: json`` variable's value (tokens resolved from these
        values) is JSON."""
        for name, (value, where) in values.items():
            problem = token_reference_problem(value, schema)
            if problem:
                shown = "" if schema[name].secret else "%r " % value
                raise RegistryError("%s: %s%s" % (where, shown, problem))
        try:
            final = derive({name: pair[0] for name, pair in values.items()})
        except VarCycle as exc:
            # located at the first value of the cycle that ``prefer`` (a template's own values) gives, if any
            at = next((n for n in exc.cycle if prefer and values[n][1].startswith(prefer)), exc.cycle[0])
            cycle = exc.cycle[exc.cycle.index(at):-1] + exc.cycle[:exc.cycle.index(at) + 1]
            raise RegistryError("%s: %s makes a cycle of derived values (%s); a value cannot derive from itself"
                                % (values[at][1], "the value" if schema[at].secret else repr(values[at][0]),
                                   " -> ".join(cycle))) from None
        for name, got in final.items():
            var = schema[name]
            if var.format == "json" and got is not None:
                problem = json_problem(_json_text(got))
                if not problem:
                    continue
                raw, where = values[name]
                cause = next((base for base in derived_from(name, {n: pair[0] for n, pair in values.items()})
                              if prefer and values[base][1].startswith(prefer)), None)
                if cause is not None and not where.startswith(prefer) and not var.secret:
                    # a template's value of a base variable breaks the image's derived default
                    raise RegistryError("%s: %r makes %s %r, which is not JSON (%s)"
                                        % (values[cause][1], values[cause][0], name, got, problem))
                shown = "the value" if var.secret else "value %r" % raw
                raise RegistryError("%s: %s is not JSON (%s)" % (where, shown, problem))

    def _check_reference(self, img: Image, where: str) -> None:
        if img.tag_policy not in self.tag_policies:
            raise RegistryError("%s.tag_policy: unknown tag policy %r%s"
                                % (where, img.tag_policy, suggest(img.tag_policy, self.tag_policies)))
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
        services = {img.service_name: img for img in tpl.registry_images}
        if len(services) != len(tpl.registry_images):
            raise RegistryError("%s: two images share a service name" % where)
        for img in tpl.registry_images:
            if not tpl.missing_images and self.images.get(img.key) != img:
                raise RegistryError("%s: image %r is not the registry's image %r (a template uses the registry's "
                                    "images)" % (where, img.key, img.key))
        wired = {w.var: role for role, w in self.wiring.items() if tpl.slot(role) is not None}
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
            own = {label.partition("=")[0] for label in img.labels}
            for index, label in enumerate(ovr.add_labels):
                problem = label_problem(label)
                if problem:
                    raise RegistryError("%s.overrides.%s.add_labels[%d]: %r %s" % (where, name, index, label, problem))
                key = label.partition("=")[0]
                if key in own:
                    raise RegistryError("%s.overrides.%s.add_labels[%d]: %r gives label %r, which image %r already "
                                        "sets; a template adds labels, it does not replace the image's (replace the "
                                        "image in the catalog to change it)"
                                        % (where, name, index, label, key, img.key))
            for extra in ovr.extend_env:
                field_ = "%s.overrides.%s.extend_env.%s" % (where, name, extra.name)
                if extra.name in img.var_names:
                    raise RegistryError("%s.name: %r: image %r already has this variable; set its value in "
                                        "overrides.%s.env instead" % (field_, extra.name, img.key, name))
                self._check_var(extra, field_)
            schema = {v.name: v for v in img.env + ovr.extend_env}
            if len(schema) != len(img.env) + len(ovr.extend_env):
                raise RegistryError("%s.overrides.%s.extend_env: a variable is listed twice" % (where, name))
            for var, value in ovr.env:
                if value is not None and text_problem(value):
                    raise RegistryError("%s.overrides.%s.env.%s: %r %s"
                                        % (where, name, var, value, text_problem(value)))
            for var, value in ovr.env:
                if var not in schema:
                    raise RegistryError("%s.overrides.%s.env.%s: image %r has no such variable%s"
                                        % (where, name, var, img.key, suggest(var, schema)))
                if schema[var].secret:
                    raise RegistryError("%s.overrides.%s.env.%s: secret variables take no template value"
                                        % (where, name, var))
                if img is tpl.core and var in wired:
                    raise RegistryError("%s.overrides.%s.env.%s: %s is refused: the stack sets %s from its %s image "
                                        "(the core's wiring), which would replace a template value; to reach another "
                                        "%s service, name its image in images.%s"
                                        % (where, name, var, "null (dropping it)" if value is None else repr(value),
                                           var, wired[var], wired[var], wired[var]))
            for key in ovr.unset:
                if key not in ("platform", "ports", "restart", "volumes"):
                    raise RegistryError("%s.overrides.%s.unset: cannot unset %r" % (where, name, key))
        if not tpl.missing_images:
            self._check_derived(tpl, where)

    def _check_derived(self, tpl: Template, where: str) -> None:
        """The values each service of ``tpl`` starts from (image defaults, then the template's extend_env
        defaults and env values) under `_check_values`, with the schema the template runs."""
        for img in tpl.images:
            ovr = tpl.override(img.service_name)
            if ovr is None:
                continue
            at = "%s.overrides.%s" % (where, img.service_name)
            values: Dict[str, Tuple[str, str]] = {
                var.name: (var.default, "images[%s].env.%s.default" % (img.key, var.name))
                for var in img.env if var.default is not None}
            for var in ovr.extend_env:
                if var.default is not None:
                    values[var.name] = (var.default, "%s.extend_env.%s.default" % (at, var.name))
            for name, value in ovr.env:
                if value is None:
                    values.pop(name, None)
                else:
                    values[name] = (value, "%s.env.%s" % (at, name))
            self._check_values(values, {var.name: var for var in img.env}, at + ".")

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
        base = self.stack_defaults[kind]
        for role, key in self.base_images.items():
            chosen[role] = self.images.get(key)
        tpl = Template(id=ident, description="%s stack (%s)" % (stack, ", ".join(
            "%s=%s" % (r, providers[r]) for r in slots)), stack=kind, overrides=base, network=self.network,
            **chosen)
        self._check_template(tpl, "selection")
        self._selections[cache_key] = tpl
        return tpl

    # -- snapshot and digest --------------------------------------------------------------

    def data(self) -> Dict[str, Any]:
        """The registry's images, templates and providers as plain, canonical data."""
        return {
            "images": {key: image_data(img) for key, img in sorted(self.images.items())},
            "templates": {tid: template_data(tpl) for tid, tpl in sorted(self.templates.items())},
            "providers": {name: provider_data(p) for name, p in sorted(self.providers.items())},
            "role_providers": {role: {name: img.key for name, img in sorted(m.items())}
                               for role, m in sorted(self.role_providers.items())},
        }

    def snapshot(self) -> Dict[str, Any]:
        """The whole registry as one canonical, versioned document that ``snapshot.load`` turns back into an
        equal registry: every image, provider and template, the stack defaults, base images, network, wiring
        and tag policies, with the versions of the document and of the renderer."""
        doc = self.data()
        for key, img in self.images.items():  # JSON objects lose their order; the rendered depends_on keeps it
            doc["images"][key]["depends_on"] = [[role, condition] for role, condition in img.depends_on]
        doc.update({
            "schema_version": SNAPSHOT_SCHEMA,
            "renderer_format": RENDERER_FORMAT,
            "generation": self.generation,
            "catalog": self.catalog,
            "stack_defaults": {kind: overrides_data(ovr) for kind, ovr in sorted(self.stack_defaults.items())},
            "base_images": dict(sorted(self.base_images.items())),
            "network": {"name": self.network.name, "driver": self.network.driver, "subnet": self.network.subnet},
            "wiring": {role: {"var": w.var, "scheme": w.scheme, "path": w.path, "use_ws_port": w.use_ws_port}
                       for role, w in sorted(self.wiring.items())},
            "tag_policies": {name: policy_data(p) for name, p in sorted(self.tag_policies.items())},
        })
        return doc

    def snapshot_text(self) -> str:
        """The snapshot as canonical JSON text (sorted keys, ASCII, one line, a final newline)."""
        if self._snapshot_text is None:
            self._snapshot_text = json.dumps(self.snapshot(), sort_keys=True, separators=(",", ":"),
                                             ensure_ascii=True) + "\n"
        return self._snapshot_text

    @property
    def digest(self) -> str:
        """sha256 of the canonical snapshot: one digest, the same bytes out."""
        if self._digest is None:
            self._digest = hashlib.sha256(self.snapshot_text().encode("ascii")).hexdigest()
        return self._digest


def policy_data(policy: TagPolicy) -> Dict[str, Any]:
    return {"name": policy.name, "description": policy.description,
            "environments": {env: [{"name": p.name, "regex": p.regex, "example": p.example, "timestamp": p.timestamp}
                                   for p in patterns] for env, patterns in policy.environments}}


def default_reference(img: Image) -> ImageReference:
    """What ``img`` runs unless a deployment names a tag or digest: its pins over its own tag."""
    ref = parse_reference(img.image, "images[%s].image" % img.key)
    return ImageReference(ref.repository, img.pinned_tag or ref.tag, img.pinned_digest)


_BUILTIN: Dict[str, Registry] = {}


def builtin(version: Optional[str] = None) -> Registry:
    """The registry of built-in generation ``version`` (default: the newest), built once per process."""
    gen_id = newest() if version is None else version
    found = _BUILTIN.get(gen_id)
    if found is None:
        gen = generation(gen_id)
        found = _BUILTIN[gen_id] = Registry(gen.images, gen.templates, gen.providers, gen.role_providers,
                                            generation=gen)
    return found


def generation(version: Any, where: str = "registry_version") -> Generation:
    """The built-in generation ``version``; RegistryError naming ``where`` for an unknown one."""
    known = generations()
    if not isinstance(version, str) or version not in known:
        raise RegistryError("%s: %r is not a registry generation of this collection%s"
                            % (where, version, suggest(str(version), known)))
    return known[version]


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
