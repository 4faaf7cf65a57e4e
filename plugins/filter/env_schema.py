# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: env_schema
short_description: The ordered environment schema of a template or provider selection
version_added: 0.1.0
description:
  - Returns every variable of every service of a stack, in service order then schema order, with the
    default the stack gives it (template values and core wiring included, C({{service:...}}) tokens
    unresolved), and whether it is required or secret and what supplies it.
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
"""

EXAMPLES = r"""
---
- name: Variables a user must fill for the ultravox template
  ansible.builtin.debug:
    msg: "{{ 'ultravox' | voiceops.avr.env_schema | selectattr('required') | map(attribute='name') }}"

- name: Schema of a provider selection
  ansible.builtin.debug:
    msg: >-
      {{ {'stack': 'modular', 'providers': {'asr': 'vosk', 'llm': 'openai', 'tts': 'google'}}
      | voiceops.avr.env_schema }}

- name: Defaults of the OpenAI LLM service of the openai template in generation 2025.09
  ansible.builtin.debug:
    msg: >-
      {{ 'openai' | voiceops.avr.env_schema(registry_version='2025.09')
      | selectattr('service', 'eq', 'avr-llm-openai') | items2dict('name', 'default') }}
"""

RETURN = r"""
---
_value:
  description:
    - One entry per variable with C(service), C(image), C(role), C(name), C(default) (null when none),
      C(required), C(secret), C(provider), C(secret_name), C(source) (where a secret comes from),
      C(format) (V(json) for a variable whose value must be JSON, else null) and C(description).
  type: list
  elements: dict
"""

from typing import Any, Dict, List, Optional

from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry, selection
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import plan


@filter_errors
def env_schema(value: Any, catalog: Any = None, registry_version: Optional[str] = None) -> List[Dict[str, Any]]:
    reg = registry(catalog, registry_version)
    stack = plan(reg, selection(reg, value))
    out = []
    for img in stack.images:
        defaults = stack.defaults[img.service_name]
        for var in img.env:
            out.append({
                "service": img.service_name, "image": img.key, "role": img.role, "name": var.name,
                "default": defaults.get(var.name), "required": var.required, "secret": var.secret,
                "provider": var.provider, "secret_name": var.secret_name, "source": var.source,
                "format": var.format, "description": var.description,
            })
    return out


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"env_schema": env_schema}
