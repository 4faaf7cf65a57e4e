# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: compose_document
short_description: The compose document of a deployment, as data
version_added: 0.1.0
description:
  - Renders a template or provider selection exactly as M(voiceops.avr.voice_compose) does and returns
    the compose document as data (C(name), C(services), C(networks)) instead of writing it.
  - Values that nobody supplies are returned as compose interpolations (C(${OPENAI_API_KEY})) unless
    O(allow_missing=false).
  - Provider keys and secrets passed in are part of the result; do not print it in logs.
author:
  - voiceops.avr contributors
extends_documentation_fragment:
  - voiceops.avr.catalog
  - voiceops.avr.registry_version
options:
  _input:
    description: A template id, or a mapping with C(stack) and C(providers).
    type: raw
    required: true
  deployment:
    description: Deployment (compose project) name; defaults to the template id.
    type: str
  env:
    description: Per-service variable values, as for M(voiceops.avr.voice_compose).
    type: dict
  provider_keys:
    description: Provider keys, as for M(voiceops.avr.voice_compose).
    type: dict
  secrets:
    description: Named secrets, as for M(voiceops.avr.voice_compose).
    type: dict
  service_prefix:
    description: Prefix for service, container and network names.
    type: str
    default: ''
  subnet:
    description: Subnet of the stack network.
    type: str
  image_prefix:
    description: Prefix for every image reference (a registry mirror).
    type: str
    default: ''
  ports:
    description: Published ports per service name, as for M(voiceops.avr.voice_compose).
    type: dict
  publish_address:
    description: Host address every published port is bound to.
    type: str
  management_address:
    description: Host address the management ports are bound to (defaults to O(publish_address)).
    type: str
  allow_missing:
    description: Return missing required values as compose interpolations instead of failing.
    type: bool
    default: true
"""

EXAMPLES = r"""
---
- name: Services and images of the n8n template
  ansible.builtin.debug:
    msg: "{{ ('n8n' | voiceops.avr.compose_document).services | dict2items | map(attribute='value.image') }}"

- name: Services of the openai stack as generation 2025.09 renders it
  ansible.builtin.debug:
    msg: "{{ ('openai' | voiceops.avr.compose_document(registry_version='2025.09')).services | list }}"
"""

RETURN = r"""
---
_value:
  description: The compose document with C(name), C(services) and C(networks), as voice_compose writes it.
  type: dict
"""

from typing import Any, Dict, Optional

from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry, selection
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import Inputs, render


@filter_errors
def compose_document(value: Any, deployment: Optional[str] = None, env: Any = None, provider_keys: Any = None,
                     secrets: Any = None, service_prefix: str = "", subnet: Optional[str] = None,
                     image_prefix: str = "", allow_missing: bool = True, catalog: Any = None,
                     registry_version: Optional[str] = None, ports: Any = None, publish_address: Optional[str] = None,
                     management_address: Optional[str] = None) -> Dict[str, Any]:
    reg = registry(catalog, registry_version)
    template = selection(reg, value)
    deployment = template.id if deployment is None else deployment
    rendered = render(reg, template, Inputs(
        deployment=deployment, service_prefix=service_prefix, provider_keys=provider_keys, secrets=secrets, env=env,
        allow_missing=allow_missing, subnet=subnet, image_prefix=image_prefix, publish_address=publish_address,
        management_address=management_address, ports=ports))
    return rendered.document


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"compose_document": compose_document}
