# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: template_info
short_description: Describe a registry template, or all of them
version_added: 0.1.0
description:
  - Returns a template as data, including whether it is C(functional) (every image it names exists
    in the effective registry).
author:
  - voiceops.avr contributors
extends_documentation_fragment:
  - voiceops.avr.catalog
  - voiceops.avr.registry_version
options:
  _input:
    description:
      - A template id, V(all) for every template, or a mapping with C(stack) and C(providers)
        describing a provider selection.
    type: raw
    required: true
"""

EXAMPLES = r"""
---
- name: Is the vosk template usable?
  ansible.builtin.assert:
    that: ("vosk" | voiceops.avr.template_info).functional

- name: Every template id
  ansible.builtin.debug:
    msg: "{{ 'all' | voiceops.avr.template_info | map(attribute='id') }}"

- name: Services the openai template has in the newest generation and not in 2025.09
  ansible.builtin.debug:
    msg: >-
      {{ ('openai' | voiceops.avr.template_info).services
         | difference(('openai' | voiceops.avr.template_info(registry_version='2025.09')).services) }}
"""

RETURN = r"""
---
_value:
  description:
    - C(id), C(description), C(stack) (modular, sts or plain), C(images) (image key per role),
      C(extras), C(services) (in stack order), C(overrides), C(network), C(example) (the AVR example it
      reproduces), C(functional) and C(missing_images). A list of these for V(all).
  type: raw
"""

from typing import Any, Dict, Optional

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import template_data
from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry, selection


@filter_errors
def template_info(value: Any, catalog: Any = None, registry_version: Optional[str] = None) -> Any:
    reg = registry(catalog, registry_version)
    if value == "all":
        return [template_data(tpl) for _tid, tpl in sorted(reg.templates.items())]
    return template_data(selection(reg, value))


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"template_info": template_info}
