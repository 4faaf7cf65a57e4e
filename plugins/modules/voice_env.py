#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This module is implemented by the action plugin of the same name; this file only documents it.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: voice_env
short_description: Manage the environment.json store of an AVR deployment
version_added: 0.1.0
description:
  - Manages C(<project_dir>/environment.json), the per-deployment store of variable values that
    M(voiceops.avr.voice_compose) applies on top of the registry defaults.
  - "On the first run (or with O(reset=true)) the store is seeded with the defaults of every image of
    the selected template or stack, including C({{service:NAME}}) tokens where a value names another
    service, so the same store works with any C(service_prefix), and C({{var:NAME}}) tokens where a value
    derives from another variable, so that it follows the task C(env) of each render."
  - Then O(unset) removes variables (the registry default applies again when rendering) and O(set)
    upserts them, per service.
  - "Every value is validated against the images' ordered env schema (a C({{var:NAME}}) token must name a
    non-secret variable of the service, values may not derive from each other in a cycle, and a C(format: json)
    variable's value, its tokens resolved from the store, must be JSON). An unknown service or variable
    fails with a suggestion; secret variables (provider keys, passwords) are refused, so the store
    never holds a secret. Required variables still without a value are listed in RV(missing)."
  - Reports which provider keys and named secrets the stack reads and whether they were passed to the
    task, without their values.
  - The file is written atomically (temporary file, then rename), only when its content changes, and only
    if it still is the file that was read (checked under a lock on the target); when another run changed it
    meanwhile, it is read and updated again, so concurrent runs setting different variables all count.
  - A symlinked C(environment.json) is followed when it leads to an existing file inside O(project_dir), and
    refused otherwise (leading outside, or dangling - its target missing, which often is an unmounted volume).
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - voiceops.avr.selection
  - voiceops.avr.project_files
  - voiceops.avr.action_group
options:
  set:
    description:
      - Values to set, keyed by registry service name, then variable. Values must be strings
        without newlines or NUL.
    type: dict
    default: {}
  unset:
    description: Variables to remove from the store, as a list per service name.
    type: dict
    default: {}
  reset:
    description: Seed the store again from the registry defaults (after a template change, for example).
    type: bool
    default: false
  provider_keys:
    description:
      - Provider keys as passed to M(voiceops.avr.voice_compose). Only their presence is reported;
        they are never written to the store.
    type: dict
    default: {}
  secrets:
    description: Named secrets as passed to M(voiceops.avr.voice_compose); only their presence is reported.
    type: dict
    default: {}
  registry_version:
    description:
      - Registry generation whose schema and defaults the store is checked against and seeded from, for example
        V(2025.09); C(docs/catalog.md) lists every generation.
      - "Default is the generation the project's compose file was rendered with, read from its header line
        C(# registry: <generation> sha256:...) (a file rendered before generations existed counts as
        V(2025.09)); without a compose file rendered by this collection, the newest generation. Give the same
        generation as to M(voiceops.avr.voice_compose) when moving a deployment to another one."
      - An unknown generation fails, naming O(registry_version) and the value.
    type: str
    version_added: 0.5.0
  mode:
    description:
      - Mode of C(environment.json), octal or symbolic. An invalid mode, or an empty symbolic clause
        (V(''), V(u=rw,)) that Ansible would read as no change, is refused before anything is written.
    type: raw
    default: '0644'
seealso:
  - module: voiceops.avr.voice_compose
"""

EXAMPLES = r"""
---
- name: Seed the store and choose a model
  voiceops.avr.voice_env:
    project_dir: /srv/avr/openai
    template: openai
    set:
      avr-llm-openai:
        OPENAI_MODEL: gpt-4o-mini
        OPENAI_TEMPERATURE: "0.2"

- name: Go back to the registry default greeting
  voiceops.avr.voice_env:
    project_dir: /srv/avr/openai
    template: openai
    unset:
      avr-core: [SYSTEM_MESSAGE]

- name: Check which keys a deployment still needs
  voiceops.avr.voice_env:
    project_dir: /srv/avr/openai
    template: openai
    provider_keys: "{{ vault_provider_keys }}"
  register: store
  check_mode: true
"""

RETURN = r"""
---
dest:
  description: Path of C(environment.json) on the target.
  returned: always
  type: str
template:
  description: Template id (or the id built from the provider selection) the store belongs to.
  returned: always
  type: str
registry_version:
  description: The registry generation whose schema and defaults the store was checked against.
  returned: always
  type: str
  sample: '2025.09'
  version_added: 0.5.0
environment:
  description: The stored values per service, after the change.
  returned: always
  type: dict
  sample: {avr-llm-openai: {PORT: "6002", OPENAI_MODEL: gpt-4o-mini}}
missing:
  description: Required non-secret variables without a value, as C(service.VARIABLE).
  returned: always
  type: list
  elements: str
  sample: [avr-sts-ultravox.ULTRAVOX_AGENT_ID]
provider_keys:
  description: Per provider the stack reads, whether its key is required and whether it was given.
  returned: always
  type: dict
  sample: {openai: {required: true, present: true}}
secrets:
  description: Per named secret the stack reads, whether it is required and whether it was given.
  returned: always
  type: dict
seeded:
  description: Whether the store was (or would be) seeded from the registry defaults by this run.
  returned: always
  type: bool
backup_file:
  description: Backup of the previous store.
  returned: when O(backup=true) and the file changed
  type: str
"""
