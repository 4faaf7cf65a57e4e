# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the voiceops.avr filters share: catalog resolution, selection from the filter input."""

from __future__ import annotations

from typing import Any, Callable, Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import (
    effective_registry, plain_data, type_name,
)
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError, Template
from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import Registry


def registry(catalog: Any = None, registry_version: Any = None) -> Registry:
    """The effective registry of generation ``registry_version`` (None: the newest) with ``catalog`` (a
    mapping; None for the built-in registry only)."""
    if catalog is not None and not isinstance(catalog, Mapping):
        raise RegistryError("catalog: expected a mapping with images, providers and templates, got %s"
                            % type_name(catalog))
    return effective_registry(None if catalog is None else plain_data(catalog), registry_version)


def selection(reg: Registry, value: Any) -> Template:
    """A template id, or a mapping with ``template`` or ``stack`` and ``providers``."""
    if isinstance(value, str):
        return reg.template(value)
    if isinstance(value, Mapping):
        unknown = set(value) - {"template", "stack", "providers"}
        if unknown:
            raise RegistryError("selection: unknown key(s) %s; use template, or stack and providers"
                                % ", ".join(sorted(unknown)))
        providers = value.get("providers") or None
        if providers is not None and not isinstance(providers, Mapping):
            raise RegistryError("selection.providers: expected a mapping of role to provider name, got %s"
                                % type_name(providers))
        template = value.get("template")
        if template is not None and not isinstance(template, str):
            raise RegistryError("selection.template: %r is not a template id" % (template,))
        return reg.select(template, value.get("stack"), dict(providers) if providers else None)
    raise RegistryError("selection: expected a template id or a mapping with stack and providers, got %s"
                        % type_name(value))


def filter_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn registry and render errors into AnsibleFilterError naming the filter."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except RegistryError as exc:
            raise AnsibleFilterError("voiceops.avr.%s: %s" % (func.__name__, exc)) from exc
    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper
