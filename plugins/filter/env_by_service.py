# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: env_by_service
short_description: Values per service for every service whose schema has the variable
version_added: 0.1.0
description:
  - Takes an env schema (the output of P(voiceops.avr.env_schema#filter)) and a mapping of variable
    to value, and returns the per-service mapping that M(voiceops.avr.voice_compose) and
    M(voiceops.avr.voice_env) take, with each value set on every service whose schema has that variable.
  - Secret variables are refused; pass them as provider keys or secrets.
author:
  - voiceops.avr contributors
options:
  _input:
    description: An env schema, as returned by P(voiceops.avr.env_schema#filter).
    type: list
    elements: dict
    required: true
  values:
    description: Variable name to value.
    type: dict
    required: true
"""

EXAMPLES = r"""
---
- name: Use one AMI user name wherever a service reads it
  voiceops.avr.voice_env:
    template: app
    project_dir: /srv/avr/app
    set: "{{ 'app' | voiceops.avr.env_schema | voiceops.avr.env_by_service({'AMI_USERNAME': 'ops'}) }}"
"""

RETURN = r"""
---
_value:
  description: Service name to a mapping of variable to value.
  type: dict
  sample: {avr-ami: {AMI_USERNAME: ops}}
"""

from typing import Any, Dict, List, Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import type_name


def env_by_service(schema: List[Mapping[str, Any]], values: Mapping[str, Any]) -> Dict[str, Dict[str, Any]]:
    if isinstance(schema, (str, Mapping)) or not isinstance(schema, Sequence) \
            or not all(isinstance(entry, Mapping) and "service" in entry for entry in schema):
        raise AnsibleFilterError("voiceops.avr.env_by_service: expected an env schema (a list of entries from "
                                 "voiceops.avr.env_schema), got %s" % type_name(schema))
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("voiceops.avr.env_by_service: values: expected a mapping of variable to value, got %s"
                                 % type_name(values))
    out: Dict[str, Dict[str, Any]] = {}
    for entry in schema:
        name = entry.get("name")
        if name not in values:
            continue
        if entry.get("secret"):
            raise AnsibleFilterError("voiceops.avr.env_by_service: %s is a secret of service %s; pass it in %s"
                                     % (name, entry.get("service"), entry.get("source")))
        out.setdefault(str(entry["service"]), {})[str(name)] = values[name]
    return out


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"env_by_service": env_by_service}
