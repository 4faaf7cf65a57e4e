# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: survey_spec
short_description: An AWX/AAP survey spec for a template's (or selection's) environment
version_added: 0.1.0
description:
  - Turns the ordered env schema of a template or provider selection into the survey spec of an
    AWX/AAP job template, so the job form is the env editor.
  - One question per non-secret variable, in service then schema order, with the stack's default and
    the schema's required flag; one password question per provider key and per named secret the
    stack reads. Variables the stack wires itself (the core's service URLs) are left out.
  - "Question variables: C(avr__<service>__<VARIABLE>) for values (C(-) in service names becomes C(_)),
    C(avr_key__<provider>) for provider keys and C(avr_secret__<NAME>) for secrets. The role
    voiceops.avr.stack reads them back with P(voiceops.avr.survey_answers#filter)."
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
- name: Write the survey of the openai template for an AWX job template
  ansible.builtin.copy:
    content: "{{ 'openai' | voiceops.avr.survey_spec | to_nice_json }}"
    dest: survey-openai.json
    mode: "0644"

- name: The survey for deployments that stay on generation 2025.09
  ansible.builtin.copy:
    content: "{{ 'openai' | voiceops.avr.survey_spec(registry_version='2025.09') | to_nice_json }}"
    dest: survey-openai-2025.09.json
    mode: "0644"
"""

RETURN = r"""
---
_value:
  description: A survey spec with C(name), C(description) and C(spec), the list of questions.
  type: dict
"""

from typing import Any, Dict, List, Optional

from ansible_collections.voiceops.avr.plugins.plugin_utils.filters import filter_errors, registry, selection
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import plan

VALUE_PREFIX = "avr__"
KEY_PREFIX = "avr_key__"
SECRET_PREFIX = "avr_secret__"


def variable_name(service: str, name: str) -> str:
    return "%s%s__%s" % (VALUE_PREFIX, service.replace("-", "_"), name)


@filter_errors
def survey_spec(value: Any, catalog: Any = None, registry_version: Optional[str] = None) -> Dict[str, Any]:
    reg = registry(catalog, registry_version)
    template = selection(reg, value)
    stack = plan(reg, template)
    wired = {w.var for w in reg.wiring.values()} if template.core is not None else set()
    questions: List[Dict[str, Any]] = []
    keys: Dict[str, bool] = {}
    secrets: Dict[str, bool] = {}
    for img in stack.images:
        defaults = stack.defaults[img.service_name]
        for var in img.env:
            if var.secret:
                if var.provider:
                    keys[var.provider] = keys.get(var.provider, False) or var.required
                elif var.secret_name:
                    secrets[var.secret_name] = secrets.get(var.secret_name, False) or (
                        var.required and var.default is None)
                continue
            if img.role == "core" and var.name in wired:
                continue
            provider = reg.providers.get(var.provider or "")
            if provider is not None and provider.file:
                keys[provider.name] = True
                continue
            default = defaults.get(var.name)
            questions.append({
                "question_name": "%s: %s" % (img.service_name, var.name),
                "question_description": var.description,
                "variable": variable_name(img.service_name, var.name),
                "type": "text",
                "required": bool(var.required and default is None),
                "default": default if default is not None else "",
                "min": 0,
                "max": 4096,
                "choices": "",
            })
    for provider in sorted(keys):
        questions.append({
            "question_name": "%s key" % provider,
            "question_description": reg.providers[provider].description,
            "variable": KEY_PREFIX + provider,
            "type": "password",
            "required": keys[provider],
            "default": "",
            "min": 0,
            "max": 16384,
            "choices": "",
        })
    for name in sorted(secrets):
        questions.append({
            "question_name": name,
            "question_description": "Secret %s (never stored in environment.json)." % name,
            "variable": SECRET_PREFIX + name,
            "type": "password",
            "required": secrets[name],
            "default": "",
            "min": 0,
            "max": 1024,
            "choices": "",
        })
    return {"name": "AVR deployment: %s" % template.id, "description": template.description, "spec": questions}


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"survey_spec": survey_spec}
