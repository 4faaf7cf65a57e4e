# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render a deployment of a registry template into a docker-compose document.

Controller-side only. Everything that differs between stacks comes from the
registry data (images, templates, wiring); nothing here looks at an image or
template by name.

Environment precedence, per service: image defaults -> template/stack
overrides and core wiring -> provider keys and secrets (only where the
image's schema asks for them) -> ``environment.json`` -> task ``env``.
Variables are emitted in schema order.

Tokens in non-secret values: ``{{service:NAME}}`` becomes the deployed name of service NAME, then
``{{var:NAME}}`` the final value of variable NAME of the same service (after every layer above;
``model.derive``). A ``format: json`` variable's final value must be JSON text.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Tuple

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    DNS_LABEL_MAX, PORT_SPEC_RE, SERVICE_TOKEN_RE, EnvVar, Image, RegistryError, Template, VarCycle, derive,
    is_name, json_problem, text_problem, volume_problem,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import (
    Registry, suggest, token_reference_problem,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.tags import parse_reference
from ansible_collections.voiceops.avr.plugins.plugin_utils.deployment import (
    CredentialFile, Deployment, Mount, NetworkSpec, Port, SecretRef, Service, Value,
)
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters import compose
from ansible_collections.voiceops.avr.plugins.plugin_utils.emitters.compose import Rendered

COMPOSE_FILE = layout.COMPOSE_FILE
ENV_FILE = layout.ENV_FILE
HEADER = compose.HEADER

#: The header line naming the registry a compose file was rendered with (files rendered before
#: generations existed name no generation: they were rendered with generation 2025.09).
HEADER_REGISTRY = re.compile(r"^# registry: (?:(?P<generation>[0-9A-Za-z][0-9A-Za-z._+-]*) )?sha256:[0-9a-f]{64}$",
                             re.M)


class RenderError(RegistryError):
    """Bad input for a render; the message names the field and the value."""


def _kind(value: Any) -> str:
    for cls, name in ((bool, "a boolean"), (int, "an integer"), (float, "a float"), (list, "a list"),
                      (dict, "a mapping")):
        if isinstance(value, cls):
            return name
    return "null" if value is None else "a " + type(value).__name__


def check_text(value: Any, where: str, allow_newlines: bool = False, secret: bool = False) -> str:
    """``value`` if it is a string that passes the value rule (``model.text_problem``).

    Errors quote the value unless it is ``secret``.
    """
    shown = "" if secret else " %r" % (str(value) if isinstance(value, str) else value,)
    if not isinstance(value, str):
        raise RenderError("%s: value%s is %s, not a string (quote it)" % (where, shown, _kind(value)))
    problem = text_problem(value, allow_newlines)
    if problem:
        raise RenderError("%s: value%s %s" % (where, shown, problem))
    return value


def check_name(value: Any, where: str, allow_empty: bool = False) -> str:
    if allow_empty and value == "":
        return ""
    if not is_name(value):
        shown = str(value) if isinstance(value, str) else value
        raise RenderError("%s: %r is not a safe name (lower case letters, digits, '-' and '_', "
                          "starting with a letter or digit, at most 63 characters)" % (where, shown))
    return str(value)


def check_label(given: str, prefix: str, name: str, what: str) -> str:
    """``prefix + name`` (from service_prefix ``given`` and a registry name) if it fits in one DNS label."""
    value = prefix + name
    if len(value) > DNS_LABEL_MAX:
        raise RenderError("service_prefix: %r makes the %s %r %d characters long; Docker takes at most %d "
                          "(use a shorter prefix)" % (given, what, value, len(value), DNS_LABEL_MAX))
    return value


@dataclass
class Plan:
    """What a selection resolves to before any per-deployment input: cached per template."""

    template: Template
    images: Tuple[Image, ...]
    #: service name -> variable -> default value (tokens unresolved), in schema order
    defaults: Dict[str, Dict[str, str]]
    #: service name -> variable -> where its default comes from (``image``, ``template``, ``wiring``)
    origins: Dict[str, Dict[str, str]] = field(default_factory=dict)


_PLANS: Dict[Tuple[int, str], Plan] = {}


def plan(registry: Registry, template: Template) -> Plan:
    """Defaults per service for ``template``: image env, template overrides, core wiring."""
    cache_key = (id(registry), template.id)  # selections are cached by the registry, so identity holds
    found = _PLANS.get(cache_key)
    if found is not None and found.template is template:
        return found
    if not template.functional:
        raise RenderError("template %r is not functional: it names images the registry does not have: %s"
                          % (template.id, ", ".join(repr(key) for key in template.missing_images)))
    images = template.images
    defaults: Dict[str, Dict[str, str]] = {}
    origins: Dict[str, Dict[str, str]] = {}
    for img in images:
        values = {var.name: var.default for var in img.env if var.default is not None}
        origin = {name: "image" for name in values}
        ovr = template.override(img.service_name)
        if ovr is not None:
            for name, value in ovr.env:
                if value is None:
                    values.pop(name, None)
                else:
                    values[name] = value
                    origin[name] = "template"
        defaults[img.service_name] = values
        origins[img.service_name] = origin
    if template.core is not None:
        core = defaults[template.core.service_name]
        for role, wiring in registry.wiring.items():
            target = template.slot(role)
            if target is None:
                continue
            port = target.ws_port if wiring.use_ws_port else target.port
            core[wiring.var] = "%s://{{service:%s}}:%s%s" % (wiring.scheme, target.service_name, port, wiring.path)
            origins[template.core.service_name][wiring.var] = "wiring"
    for img in images:
        values = defaults[img.service_name]
        defaults[img.service_name] = {var.name: values[var.name] for var in img.env if var.name in values}
    result = Plan(template=template, images=images, defaults=defaults, origins=origins)
    _PLANS[cache_key] = result
    return result


def resolve_tokens(value: str, names: Mapping[str, str], where: str) -> str:
    """Replace ``{{service:NAME}}`` with the deployed service name of NAME."""
    if "{{" not in value:
        return value

    def repl(match: "re.Match[str]") -> str:
        name = match.group(1)
        real = names.get(name)
        if real is None:
            raise RenderError("%s: %s names no service of this stack%s" % (where, match.group(0), suggest(name, names)))
        return real
    return SERVICE_TOKEN_RE.sub(repl, value)


def check_json(value: str, where: str, secret: bool = False) -> str:
    """``value`` if it is JSON text; RenderError naming ``where`` (quoting the value unless ``secret``)."""
    problem = json_problem(value)
    if problem:
        shown = repr(value) if len(value) <= 200 else repr(value[:200]) + "..."  # a long value shortened
        raise RenderError("%s: %s is not JSON (%s)" % (where, "the value" if secret else "value " + shown, problem))
    return value


def _final_values(img: Image, values: Mapping[str, str], literal: Mapping[str, str], names: Mapping[str, str],
                  layered: Mapping[str, str]) -> Dict[str, Optional[str]]:
    """The final value of each variable of ``img`` (None: none): ``values`` (every layer applied, tokens
    unresolved) with ``{{service:...}}`` tokens resolved, then ``{{var:...}}`` tokens (``model.derive``);
    the values of ``literal`` (secrets given to the task) are taken as they are. ``layered`` names the
    layer (``env``, ``environment.json services``) a variable's value comes from, where it is not a default:
    a cycle is reported at a layered value of it when there is one."""
    service = img.service_name
    resolved: Dict[str, Optional[str]] = {}
    for var in img.env:
        if var.name in literal:
            resolved[var.name] = literal[var.name]
        elif var.name in values:
            resolved[var.name] = resolve_tokens(values[var.name], names, "env.%s.%s" % (service, var.name))
        else:
            resolved[var.name] = None
    try:
        return derive(resolved, tuple(literal))
    except VarCycle as exc:
        first = next((name for name in exc.cycle if name in layered), exc.cycle[0])
        at = exc.cycle.index(first)
        cycle = exc.cycle[at:-1] + exc.cycle[:at + 1]
        raise RenderError("%s.%s.%s: value %r makes a cycle of derived values (%s); a value cannot derive from itself"
                          % (layered.get(first, "env"), service, first, values[first], " -> ".join(cycle))) from None


_PORT_SPEC = PORT_SPEC_RE


@dataclass
class Published:
    """Published-port choices of one render."""

    ports: Dict[str, List[str]]
    address: Optional[str]
    management: Optional[str]

    def bind(self, spec: str, management_ports: Sequence[str]) -> str:
        match = _PORT_SPEC.fullmatch(spec)
        if match is None or match.group("address"):
            return spec
        address = self.management if match.group("container") in management_ports else self.address
        if address and ":" in address:  # IPv6: Compose reads [ADDRESS]:HOST:CONTAINER
            address = "[%s]" % address
        return "%s:%s" % (address, spec) if address else spec


def _check_address(value: Optional[str], where: str) -> Optional[str]:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise RenderError("%s: %r is not an IP address" % (where, value))
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        raise RenderError("%s: %r is not an IP address" % (where, value)) from None
    if getattr(parsed, "scope_id", None):
        raise RenderError("%s: %r has a zone index, which Docker cannot bind; give the address alone" % (where, value))
    return value


def check_ports(ports: Any, plan_: Plan, publish_address: Optional[str],
                management_address: Optional[str]) -> Published:
    """Validate the ``ports`` option (published ports per service) and the bind addresses."""
    chosen: Dict[str, List[str]] = {}
    if ports:
        if not isinstance(ports, Mapping):
            raise RenderError("ports: expected a mapping of service name to a list of port mappings")
        services = {img.service_name for img in plan_.images}
        for service, specs in ports.items():
            if service not in services:
                raise RenderError("ports.%s: unknown service %r in template %r%s"
                                  % (service, service, plan_.template.id, suggest(str(service), services)))
            if isinstance(specs, str) or not isinstance(specs, (list, tuple)):
                raise RenderError("ports.%s: expected a list of port mappings like '15001:5001'" % service)
            for index, spec in enumerate(specs):
                if not isinstance(spec, str) or not _PORT_SPEC.fullmatch(spec):
                    raise RenderError("ports.%s[%d]: %r is not a port mapping (HOST:CONTAINER[/udp], "
                                      "optionally ADDRESS:HOST:CONTAINER)" % (service, index, spec))
            chosen[service] = list(specs)
    address = _check_address(publish_address, "publish_address")
    management = _check_address(management_address, "management_address")
    return Published(chosen, address, management if management is not None else address)


def check_volumes(volumes: Any, plan_: Plan) -> Dict[str, List[str]]:
    """Validate the ``volumes`` option: mounts added per service, of project files or named volumes only."""
    chosen: Dict[str, List[str]] = {}
    if not volumes:
        return chosen
    if not isinstance(volumes, Mapping):
        raise RenderError("volumes: expected a mapping of service name to a list of mounts like "
                          "'./asterisk/conf/rtp.conf:/etc/asterisk/rtp.conf'")
    services = {img.service_name for img in plan_.images}
    for service, specs in volumes.items():
        if service not in services:
            raise RenderError("volumes.%s: unknown service %r in template %r%s"
                              % (service, service, plan_.template.id, suggest(str(service), services)))
        if isinstance(specs, str) or not isinstance(specs, (list, tuple)):
            raise RenderError("volumes.%s: expected a list of mounts (SOURCE:TARGET[:MODE])" % service)
        for index, spec in enumerate(specs):
            where = "volumes.%s[%d]" % (service, index)
            check_text(spec, where)
            problem = "holds '$'" if "$" in spec else volume_problem(spec, ())
            if problem is None and ":" not in spec:
                problem = "is not SOURCE:TARGET"
            if problem:
                raise RenderError("%s: %r %s" % (where, spec, problem))
        chosen[service] = list(specs)
    return chosen


def check_env_layer(layer: Any, plan_: Plan, where: str) -> Dict[str, Dict[str, str]]:
    """Validate a ``{service: {VAR: value}}`` layer against the plan's schema."""
    if layer is None:
        return {}
    if not isinstance(layer, Mapping):
        raise RenderError("%s: expected a mapping of service name to variables, got %s" % (where, type(layer).__name__))
    by_service = {img.service_name: img for img in plan_.images}
    schemas = {service: {var.name: var for var in img.env} for service, img in by_service.items()}
    checked: Dict[str, Dict[str, str]] = {}
    for service, values in layer.items():
        img = by_service.get(service)
        if img is None:
            raise RenderError("%s.%s: unknown service %r in template %r%s"
                              % (where, service, service, plan_.template.id, suggest(str(service), by_service)))
        if not isinstance(values, Mapping):
            raise RenderError("%s.%s: expected a mapping of variable to value" % (where, service))
        out: Dict[str, str] = {}
        for name, value in values.items():
            var = img.var(name)
            field_ = "%s.%s.%s" % (where, service, name)
            if var is None:
                raise RenderError("%s: service %r (image %r) has no variable %r%s"
                                  % (field_, service, img.key, name, suggest(str(name), img.var_names)))
            if var.secret:
                raise RenderError("%s: %s is a secret; pass it in %s, never in env"
                                  % (field_, name, var.source))
            out[name] = check_text(value, field_)
            problem = token_reference_problem(value, schemas[service])
            if problem:
                raise RenderError("%s: value %r %s" % (field_, value, problem))
        checked[service] = out
    return checked


def _secret_value(var: EnvVar, registry: Registry, provider_keys: Mapping[str, str],
                  secrets: Mapping[str, str]) -> Optional[str]:
    if var.provider and var.secret:
        provider = registry.providers.get(var.provider)
        if provider is not None and provider.env:
            return provider_keys.get(var.provider)
        return None
    if var.secret_name:
        return secrets.get(var.secret_name)
    return None


def _placeholder(var: EnvVar, registry: Registry) -> str:
    if var.provider and var.secret:
        provider = registry.providers.get(var.provider)
        if provider is not None and provider.env:
            return provider.env
    return var.secret_name or var.name


def check_credential_file(provider: str, name: str) -> str:
    """``name`` if a provider's credential file may take it: a plain relative path the project layout does not use."""
    if not layout.plain_relative(name) or layout.reserved(name):
        raise RenderError("providers.%s.file: %r is not a name a credential file may take: the project directory "
                          "uses it (%s), or it is not a plain relative path"
                          % (provider, name, ", ".join(layout.RESERVED)))
    return name


def check_secret_inputs(registry: Registry, provider_keys: Any, secrets: Any) -> Tuple[Dict[str, str], Dict[str, str]]:
    keys: Dict[str, str] = {}
    if provider_keys:
        if not isinstance(provider_keys, Mapping):
            raise RenderError("provider_keys: expected a mapping of provider name to key")
        for name, value in provider_keys.items():
            provider = registry.providers.get(name)
            if provider is None:
                raise RenderError("provider_keys.%s: unknown provider %r%s"
                                  % (name, name, suggest(str(name), registry.providers)))
            if not provider.needs_key:
                raise RenderError("provider_keys.%s: provider %r takes no key" % (name, name))
            keys[name] = check_text(value, "provider_keys.%s" % name, allow_newlines=bool(provider.file), secret=True)
    known_secrets = {var.secret_name for img in registry.images.values() for var in img.env if var.secret_name}
    named: Dict[str, str] = {}
    if secrets:
        if not isinstance(secrets, Mapping):
            raise RenderError("secrets: expected a mapping of secret name to value")
        for name, value in secrets.items():
            if name not in known_secrets:
                raise RenderError("secrets.%s: no image of the registry reads a secret named %r%s"
                                  % (name, name, suggest(str(name), known_secrets)))
            named[name] = check_text(value, "secrets.%s" % name, secret=True)
    return keys, named


@dataclass(frozen=True)
class Inputs:
    """What one deployment's render takes besides the registry and the template.

    ``ports`` replaces the published ports of services (by registry service name);
    ``publish_address`` binds every published port to one host address, and
    ``management_address`` (default: ``publish_address``) the images' management ports.
    ``references`` (service -> image reference, see ``references.image_references``) replaces
    ``image_prefix`` + the registry's image. ``stored_env`` is the services part of
    environment.json, ``env`` the task's layer above it.
    """

    deployment: str
    service_prefix: str = ""
    provider_keys: Optional[Mapping[str, str]] = None
    secrets: Optional[Mapping[str, str]] = None
    stored_env: Any = None
    env: Any = None
    allow_missing: bool = False
    subnet: Optional[str] = None
    image_prefix: str = ""
    publish_address: Optional[str] = None
    management_address: Optional[str] = None
    ports: Any = None
    references: Optional[Mapping[str, Any]] = None
    volumes: Any = None


def render(registry: Registry, template: Template, inputs: Inputs) -> Rendered:
    """The compose file (and credential files) of one deployment of ``template``."""
    return compose.emit(resolve(registry, template, inputs))


def resolve(registry: Registry, template: Template, inputs: Inputs) -> Deployment:
    """The neutral description of one deployment of ``template`` (every input checked)."""
    deployment, service_prefix, image_prefix = inputs.deployment, inputs.service_prefix, inputs.image_prefix
    references, subnet, allow_missing = inputs.references, inputs.subnet, inputs.allow_missing
    check_name(deployment, "deployment")
    check_name(service_prefix, "service_prefix", allow_empty=True)
    if not references and image_prefix:
        for img in template.images:
            check_text(image_prefix, "image_prefix")
            parse_reference(image_prefix + img.image, "image_prefix (for %s)" % img.service_name)
    given_prefix = service_prefix
    if service_prefix and not service_prefix.endswith(("-", "_")):
        service_prefix += "-"
    keys, named = check_secret_inputs(registry, inputs.provider_keys, inputs.secrets)
    plan_ = plan(registry, template)
    published = check_ports(inputs.ports, plan_, inputs.publish_address, inputs.management_address)
    added_volumes = check_volumes(inputs.volumes, plan_)
    stored = check_env_layer(inputs.stored_env, plan_, "environment.json services")
    task_env = check_env_layer(inputs.env, plan_, "env")
    names = {img.service_name: check_label(given_prefix, service_prefix, img.service_name, "container name")
             for img in plan_.images}
    check_label(given_prefix, service_prefix, template.network.name, "network name")
    by_role = {img.role: names[img.service_name] for img in plan_.images}

    secret_values: Dict[str, str] = {}
    secret_names: Set[str] = set()
    used: Dict[str, Dict[str, bool]] = {}
    missing: List[str] = []
    credentials: Dict[str, CredentialFile] = {}
    file_values: Dict[str, str] = {}
    services: List[Service] = []

    for img in plan_.images:
        service = img.service_name
        values = dict(plan_.defaults[service])
        origins = dict(plan_.origins.get(service, {}))
        layers = (stored.get(service), task_env.get(service))
        given_secrets: Dict[str, str] = {}
        layered: Dict[str, str] = {}
        for var in img.env:
            if var.secret:
                given = _secret_value(var, registry, keys, named)
                if given is not None:
                    given_secrets[var.name] = given
            else:
                for layer, layer_name in zip(layers, ("environment.json services", "env")):
                    if layer and var.name in layer:
                        values[var.name] = layer[var.name]
                        layered[var.name] = layer_name
                        origins[var.name] = "env" if layer_name == "env" else "environment.json"
        finals = _final_values(img, values, given_secrets, names, layered)
        env: List[Value] = []
        for var in img.env:
            where = "env.%s.%s" % (service, var.name)
            value: Optional[str] = finals.get(var.name)
            ref: Optional[SecretRef] = None
            if var.secret:  # a given secret is never templated (_final_values), only protected from interpolation
                secret_names.add(var.name)
                given = given_secrets.get(var.name)
                ref = _secret_ref(var, registry, given is not None)
                if var.provider:
                    used.setdefault(var.provider, {"required": var.required, "present": given is not None})
                if given is not None:
                    secret_values.setdefault(ref.name, given)
            elif var.provider:
                provider = registry.providers.get(var.provider)
                if provider is not None and provider.file:
                    check_credential_file(provider.name, provider.file)
                    present = var.provider in keys
                    used.setdefault(var.provider, {"required": True, "present": present})
                    credentials.setdefault(provider.file, CredentialFile(
                        path=provider.file, provider=provider.name,
                        secret=SecretRef(name=provider.env or var.provider, kind="provider", source=provider.name,
                                         given=present)))
                    if present:
                        file_values[provider.file] = keys[var.provider]
                    elif not allow_missing:
                        missing.append("%s (credential file %s from provider_keys.%s)"
                                       % (where[4:], provider.file, var.provider))
            if value is None:
                if not var.required:
                    continue
                if not allow_missing:
                    how = var.source or "env.%s.%s" % (service, var.name)
                    missing.append("%s (set %s)" % (where[4:], how))
                    continue
                env.append(Value(name=var.name, value=None, origin="missing", secret=ref, format=var.format,
                                 placeholder=_placeholder(var, registry)))
                continue
            if var.format == "json":
                check_json(value, where, var.secret)
            if ref is not None and ref.given:
                env.append(Value(name=var.name, value=None, origin="secret", secret=ref, format=var.format))
            else:  # a secret's default (the image's own, public) is a value like any other
                env.append(Value(name=var.name, value=value, origin=origins.get(var.name, "image"), secret=ref,
                                 format=var.format))
        image = str(references[service]) if references else image_prefix + img.image
        services.append(_service(img, template, names[service], tuple(env), by_role, image, published,
                                 added_volumes.get(service, ())))
    if missing:
        raise RenderError("template %r: missing required values: %s" % (template.id, "; ".join(missing)))

    chosen_subnet = subnet if subnet is not None else template.network.subnet
    if chosen_subnet:
        if not isinstance(chosen_subnet, str):
            raise RenderError("subnet: %r is not a network address (a string like 172.20.0.0/24)" % (chosen_subnet,))
        try:
            ipaddress.ip_network(chosen_subnet)
        except ValueError as exc:
            raise RenderError("subnet: %r is not a network address (%s)" % (chosen_subnet, exc)) from None
    network = NetworkSpec(key=template.network.name, name=service_prefix + template.network.name,
                          driver=template.network.driver, subnet=chosen_subnet or None)
    return Deployment(name=deployment, template=template.id, generation=registry.generation, digest=registry.digest,
                      services=tuple(services), network=network, credential_files=tuple(credentials.values()),
                      providers=used, secret_names=frozenset(secret_names),
                      secret_values=secret_values, file_values=file_values)


def _secret_ref(var: EnvVar, registry: Registry, given: bool) -> SecretRef:
    if var.provider:
        return SecretRef(name=_placeholder(var, registry), kind="provider", source=var.provider, given=given)
    return SecretRef(name=_placeholder(var, registry), kind="secret", source=var.secret_name or var.name, given=given)


def _service(img: Image, template: Template, deployed: str, env: Tuple[Value, ...], by_role: Mapping[str, str],
             image: str, published: "Published", added_volumes: Sequence[str] = ()) -> Service:
    ovr = template.override(img.service_name)
    unset = ovr.unset if ovr is not None else ()
    labels = img.labels + (ovr.add_labels if ovr is not None else ())
    specs: Sequence[str] = published.ports.get(img.service_name, template.published_ports(img))
    ports = []
    for spec in specs:
        bound = published.bind(spec, img.management_ports)
        match = _PORT_SPEC.fullmatch(spec)
        ports.append(Port.parse(bound, management=bool(match and match.group("container") in img.management_ports)))
    volumes = list(img.volumes + (ovr.add_volumes if ovr is not None else ())) if "volumes" not in unset else []
    volumes += [v for v in added_volumes if v not in volumes]
    depends: List[Tuple[str, str]] = []
    for role, condition in img.depends_on:
        target = by_role.get(role)
        if target is None:
            raise RenderError("template %r: image %r depends on a %s service, which the stack lacks"
                              % (template.id, img.key, role))
        depends.append((target, condition))
    return Service(name=img.service_name, deployed=deployed, role=img.role, image_key=img.key, image=image,
                   platform=img.platform if "platform" not in unset else None,
                   restart=img.restart if "restart" not in unset else None,
                   command=img.command, env=env, labels=tuple(labels), ports=tuple(ports),
                   mounts=tuple(Mount.parse(v) for v in volumes), healthcheck=img.healthcheck,
                   depends_on=tuple(depends), resources=img.resources)


def describe(document: Mapping[str, Any]) -> Dict[str, Any]:
    """What a deployment occupies on its host: published ports, container names, network, mounts."""
    published: List[Dict[str, Any]] = []
    mounts: Dict[str, List[str]] = {}
    for service, spec in document["services"].items():
        for entry in spec.get("ports", ()):
            match = _PORT_SPEC.fullmatch(entry)
            if match is None:
                continue
            proto = (match.group("proto") or "/tcp")[1:]
            published.append({"service": service, "address": (match.group("address") or "0.0.0.0").strip("[]"),
                              "host": match.group("host"), "container": match.group("container"),
                              "protocol": proto})
        local = [v.split(":", 1)[0] for v in spec.get("volumes", ()) if v.startswith("./")]
        if local:
            mounts[service] = local
    networks = [{"name": net["name"], "subnet": [c["subnet"] for c in net.get("ipam", {}).get("config", [])]}
                for net in document["networks"].values()]
    return {
        "published": published,
        "containers": [spec["container_name"] for spec in document["services"].values()],
        "networks": networks,
        "mounts": mounts,
    }


def mount_path(path: str) -> str:
    """A mounted path as a path relative to the project directory (no leading ./, no trailing /)."""
    path = str(path)
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def services_mounting(mounts: Mapping[str, Any], paths: Any) -> List[str]:
    """The services of ``mounts`` (service -> mounted project paths) that mount one of ``paths`` or a folder
    holding one, sorted."""
    changed = [mount_path(p) for p in paths]
    hits = set()
    for service, mounted in mounts.items():
        for mount in mounted:
            root = mount_path(mount)
            if any(path == root or path.startswith(root + "/") for path in changed):
                hits.add(str(service))
    return sorted(hits)
