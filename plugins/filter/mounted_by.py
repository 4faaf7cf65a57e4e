# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
name: mounted_by
short_description: The services that bind-mount any of the given project files
version_added: 0.1.0
description:
  - Takes the RV(voiceops.avr.voice_compose#module:mounts) result (service to mounted paths relative to
    the project directory) and a list of changed paths, and returns the services that mount one of them
    (or a folder containing one), so a play restarts exactly those services.
author:
  - voiceops.avr contributors
options:
  _input:
    description: Service name to a list of mounted paths (C(./asterisk/conf/pjsip.conf) or C(asterisk/conf/pjsip.conf)).
    type: dict
    required: true
  paths:
    description: Changed paths, relative to the project directory.
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
---
- name: Restart what reads the changed Asterisk files
  community.docker.docker_compose_v2:
    project_src: /srv/avr/openai
    state: restarted
    services: "{{ compose.mounts | voiceops.avr.mounted_by(['asterisk/conf/pjsip.conf']) }}"
"""

RETURN = r"""
---
_value:
  description: Service names, sorted.
  type: list
  elements: str
"""

from typing import Any, Dict, List, Mapping, Sequence

from ansible.errors import AnsibleFilterError

from ansible_collections.voiceops.avr.plugins.module_utils.registry.catalog import type_name
from ansible_collections.voiceops.avr.plugins.plugin_utils.render import services_mounting


def _paths(value: Any, where: str) -> List[str]:
    if isinstance(value, (str, Mapping)) or not isinstance(value, Sequence) \
            or not all(isinstance(item, str) for item in value):
        raise AnsibleFilterError("voiceops.avr.mounted_by: %s: expected a list of paths, got %r" % (where, value))
    return list(value)


def mounted_by(mounts: Mapping[str, Sequence[str]], paths: Sequence[str]) -> List[str]:
    if mounts is not None and not isinstance(mounts, Mapping):
        raise AnsibleFilterError("voiceops.avr.mounted_by: expected a mapping of service to mounted paths, got %s"
                                 % type_name(mounts))
    checked = {service: _paths(mounted, "mounts.%s" % service) for service, mounted in (mounts or {}).items()}
    return services_mounting(checked, _paths(paths, "paths"))


class FilterModule(object):
    def filters(self) -> Dict[str, Any]:
        return {"mounted_by": mounted_by}
