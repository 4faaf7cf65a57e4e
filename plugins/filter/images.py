# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: images
short_description: List the registry's images, optionally of one role
version_added: 0.1.0
description:
  - Returns every image of the effective registry (built-in plus an optional catalog) as data,
    in role order, or only the images of one role.
author:
  - voiceops.avr contributors
extends_documentation_fragment:
  - voiceops.avr.catalog
  - voiceops.avr.registry_version
options:
  _input:
    description:
      - A role (V(core), V(asterisk), V(ami), V(asr), V(tts), V(llm), V(sts), V(app), V(database),
        V(workflow), V(service)), or V(all).
    type: str
    required: true
"""

EXAMPLES = r"""
---
- name: Speech-to-text images
  ansible.builtin.debug:
    msg: "{{ 'asr' | voiceops.avr.images | map(attribute='key') }}"

- name: Speech-to-text images of generation 2025.09
  ansible.builtin.debug:
    msg: "{{ 'asr' | voiceops.avr.images(registry_version='2025.09') | map(attribute='key') }}"
"""

RETURN = r"""
---
_value:
  description:
    - One entry per image with C(key), C(role), C(name), C(service), C(image), C(description), C(port),
      C(ws_port), C(ports), C(volumes), C(platform), C(restart), C(command), C(healthcheck),
      C(depends_on), C(companions), C(labels) and the ordered C(env) schema (name, default, required, secret,
      provider, secret_name, description), of the generation O(registry_version).
  type: list
  elements: dict
"""

from typing import Any, Dict, List, Optional

from ansible_collections.voiceops.avr.plugins.module_utils.registry.registry import image_data, images_by_role
from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry


@filter_errors
def images(role: str, catalog: Any = None, registry_version: Optional[str] = None) -> List[Dict[str, Any]]:
    reg = registry(catalog, registry_version)
    return [image_data(img) for img in images_by_role(reg, None if role == "all" else role)]


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"images": images}
