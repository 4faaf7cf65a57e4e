# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-deployment ``environment.json`` store: seeded from defaults, edited per service.

The store holds every non-secret variable value of a deployment, keyed by
registry service name, with ``{{service:...}}`` and ``{{var:...}}`` tokens kept
unresolved so the same file works with any ``service_prefix`` and a derived value
follows the task ``env`` of each render. Secret variables are refused.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry, suggest
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import (
    SERVICE_TOKEN_RE, VarCycle, derive, derived_from, json_problem,
)
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import (
    Plan, RenderError, check_env_layer, check_text, resolve_tokens,
)

FORMAT = 1


def seed(stack: Plan) -> Dict[str, Dict[str, str]]:
    """Defaults of every non-secret variable, per service, in schema order."""
    services: Dict[str, Dict[str, str]] = {}
    for img in stack.images:
        defaults = stack.defaults[img.service_name]
        services[img.service_name] = {var.name: defaults[var.name] for var in img.env
                                      if not var.secret and var.name in defaults}
    return services


def load(text: Optional[str], where: str) -> Optional[Dict[str, Any]]:
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RenderError("%s: not valid JSON (%s)" % (where, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise RenderError("%s: expected an object with a 'services' mapping" % where)
    return data


def dump(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _ordered(stack: Plan, services: Mapping[str, Mapping[str, str]]) -> Dict[str, Dict[str, str]]:
    out: Dict[str, Dict[str, str]] = {}
    for img in stack.images:
        values = services.get(img.service_name)
        if values is None:
            continue
        out[img.service_name] = {var.name: values[var.name] for var in img.env if var.name in values}
    return out


def update(registry: Registry, stack: Plan, current: Optional[Dict[str, Any]], set_: Any, unset: Any,
           reset: bool = False, where: str = layout.ENV_FILE) -> Dict[str, Any]:
    """The new store content: current (or seeded) values, then ``unset``, then ``set``."""
    names = {img.service_name: img.service_name for img in stack.images}
    if current is None or reset:
        services = seed(stack)
    else:
        recorded = current.get("template")
        if recorded and recorded != stack.template.id:
            raise RenderError("%s: seeded for template %r, not %r; use reset=true to seed it again"
                              % (where, recorded, stack.template.id))
        services = check_env_layer(current.get("services"), stack, where + " services")
        seeded = seed(stack)
        for service, values in seeded.items():
            services.setdefault(service, values)
    services = {service: dict(values) for service, values in services.items()}
    if unset:
        if not isinstance(unset, Mapping):
            raise RenderError("unset: expected a mapping of service name to a list of variables")
        by_service = {img.service_name: img for img in stack.images}
        for service, variables in unset.items():
            img = by_service.get(service)
            if img is None:
                raise RenderError("unset.%s: unknown service %r in template %r%s"
                                  % (service, service, stack.template.id, suggest(str(service), by_service)))
            if isinstance(variables, str) or not isinstance(variables, list):
                raise RenderError("unset.%s: expected a list of variable names" % service)
            for name in variables:
                if img.var(name) is None:
                    raise RenderError("unset.%s: service %r (image %r) has no variable %r%s"
                                      % (service, service, img.key, name, suggest(str(name), img.var_names)))
                services.get(service, {}).pop(name, None)
    given = check_env_layer(set_, stack, "set")
    for service, values in given.items():
        for name, value in values.items():
            resolve_tokens(value, names, "set.%s.%s" % (service, name))
            services.setdefault(service, {})[name] = value
    for service, values in services.items():
        for name, value in values.items():
            check_text(value, "%s.%s.%s" % (where, service, name))
            resolve_tokens(value, names, "%s.%s.%s" % (where, service, name))
    for img in stack.images:
        _check_derived(img, stack.defaults[img.service_name], services.get(img.service_name, {}),
                       given.get(img.service_name, {}), where)
    return {"format": FORMAT, "template": stack.template.id, "services": _ordered(stack, services)}


def _finals(img: Any, defaults: Mapping[str, str], values: Mapping[str, str]) -> Dict[str, Optional[str]]:
    """The final non-secret values of ``img`` from its defaults and the store's ``values`` (no task env)."""
    merged: Dict[str, Optional[str]] = {}
    for var in img.env:
        value = values.get(var.name, defaults.get(var.name))
        if not var.secret and value is not None:  # service tokens stand for their (name-safe) service names
            merged[var.name] = SERVICE_TOKEN_RE.sub(lambda match: match.group(1), value)
    return derive(merged)


def _check_derived(img: Any, defaults: Mapping[str, str], values: Mapping[str, str], given: Mapping[str, str],
                   where: str) -> None:
    """The store's values of ``img`` derive in no cycle, and each ``format: json`` value (tokens resolved from
    the defaults and the store) is JSON; an error names ``set.<service>.<VAR>`` for a value this task sets."""
    def field_(name: str) -> str:
        return "%s.%s.%s" % ("set" if name in given else where + " services", img.service_name, name)
    try:
        finals = _finals(img, defaults, values)
    except VarCycle as exc:
        first = next((n for n in exc.cycle if n in given), exc.cycle[0])
        at = exc.cycle.index(first)
        cycle = exc.cycle[at:-1] + exc.cycle[:at + 1]
        raise RenderError("%s: value %r makes a cycle of derived values (%s); a value cannot derive from itself"
                          % (field_(first), values.get(first, defaults.get(first)), " -> ".join(cycle))) from None
    for var in img.env:
        value = finals.get(var.name)
        if var.format == "json" and value is not None and var.name in values:
            problem = json_problem(value)
            if not problem:
                continue
            merged = {var_.name: values.get(var_.name, defaults.get(var_.name)) for var_ in img.env}
            cause = next((name for name in derived_from(var.name, merged) if name in given), None)
            if var.name not in given and cause is not None:  # a base value this task sets breaks a derived one
                raise RenderError("%s: value %r makes %s %s, which is not JSON (%s)"
                                  % (field_(cause), values[cause], var.name, _shown(value), problem))
            raise RenderError("%s: value %s is not JSON (%s)" % (field_(var.name), _shown(values[var.name]), problem))


def _shown(value: str) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def missing(stack: Plan, data: Mapping[str, Any]) -> List[str]:
    """``service.VAR`` of each required non-secret variable without a value (a derived value naming a
    variable without one has none)."""
    out = []
    services = data.get("services", {})
    for img in stack.images:
        finals = _finals(img, stack.defaults[img.service_name], services.get(img.service_name, {}))
        for var in img.env:
            if var.required and not var.secret and not (var.provider and not var.secret) \
                    and finals.get(var.name) is None:
                out.append("%s.%s" % (img.service_name, var.name))
    return out


def secrets_report(registry: Registry, stack: Plan, provider_keys: Mapping[str, Any],
                   secrets: Mapping[str, Any]) -> Dict[str, Dict[str, Dict[str, bool]]]:
    """Which provider keys and named secrets the stack reads, and which were given (never values)."""
    keys: Dict[str, Dict[str, bool]] = {}
    named: Dict[str, Dict[str, bool]] = {}
    for img in stack.images:
        for var in img.env:
            if var.provider and var.provider in registry.providers and registry.providers[var.provider].needs_key:
                entry = keys.setdefault(var.provider, {"required": False, "present": var.provider in provider_keys})
                entry["required"] = entry["required"] or var.required or not var.secret
            elif var.secret_name:
                entry = named.setdefault(var.secret_name, {"required": False, "present": var.secret_name in secrets})
                entry["required"] = entry["required"] or (var.required and var.default is None)
    return {"provider_keys": keys, "secrets": named}
