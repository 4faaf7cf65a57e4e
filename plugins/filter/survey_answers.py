# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: survey_answers
short_description: Turn the answers of a P(voiceops.avr.survey_spec#filter) survey into env, keys and secrets
version_added: 0.1.0
description:
  - Maps survey variables (C(avr__<service>__<VARIABLE>), C(avr_key__<provider>), C(avr_secret__<NAME>))
    back to the C(env), C(provider_keys) and C(secrets) options of M(voiceops.avr.voice_compose), using the
    same template's schema. Empty answers are left out, so the stack's defaults apply.
author:
  - voiceops.avr contributors
extends_documentation_fragment:
  - voiceops.avr.catalog
  - voiceops.avr.registry_version
options:
  _input:
    description: Survey variable name to answer (other names are ignored).
    type: dict
    required: true
  selection:
    description: The template id, or a mapping with C(stack) and C(providers), the survey was made for.
    type: raw
    required: true
"""

EXAMPLES = r"""
---
- name: Read the job form's answers
  ansible.builtin.set_fact:
    answers: >-
      {{ dict(names | zip(query('ansible.builtin.vars', *names))) | voiceops.avr.survey_answers('openai') }}
  vars:
    names: "{{ query('ansible.builtin.varnames', '^avr_') }}"

- name: Answers of a survey made for generation 2025.09 (give the generation the survey was made for)
  ansible.builtin.set_fact:
    answers: >-
      {{ dict(names | zip(query('ansible.builtin.vars', *names)))
      | voiceops.avr.survey_answers('openai', registry_version='2025.09') }}
  vars:
    names: "{{ query('ansible.builtin.varnames', '^avr_') }}"
"""

RETURN = r"""
---
_value:
  description: A mapping with C(env) (per service), C(provider_keys) and C(secrets).
  type: dict
"""

from typing import Any, Dict, Mapping, Optional

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import type_name
from ansible_collections.voiceops.avr.plugins.module_utils.registry.model import RegistryError
from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry, selection
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import plan
from ansible_collections.voiceops.avr.plugins.filter.survey_spec import KEY_PREFIX, SECRET_PREFIX, variable_name


@filter_errors
def survey_answers(answers: Mapping[str, Any], selection_: Any, catalog: Any = None,
                   registry_version: Optional[str] = None) -> Dict[str, Any]:
    reg = registry(catalog, registry_version)
    stack = plan(reg, selection(reg, selection_))
    names = {variable_name(img.service_name, var.name): (img.service_name, var.name)
             for img in stack.images for var in img.env if not var.secret}
    out: Dict[str, Any] = {"env": {}, "provider_keys": {}, "secrets": {}}
    if answers is not None and not isinstance(answers, Mapping):
        raise RegistryError("answers: expected the mapping of survey answers, got %s" % type_name(answers))
    for key, value in (answers or {}).items():
        if not isinstance(key, str):
            raise RegistryError("answers: %r is not a survey variable name" % (key,))
        if value is None or value == "":
            continue
        if key.startswith(KEY_PREFIX):
            out["provider_keys"][key[len(KEY_PREFIX):]] = value
        elif key.startswith(SECRET_PREFIX):
            out["secrets"][key[len(SECRET_PREFIX):]] = value
        elif key in names:
            service, var = names[key]
            out["env"].setdefault(service, {})[var] = value
        elif key.startswith("avr__"):
            raise RegistryError("survey answer %s names no variable of %s" % (key, stack.template.id))
    return out


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"survey_answers": survey_answers}
