# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The registry_version option of the filters that read the registry.
    DOCUMENTATION = r"""
options:
  registry_version:
    description:
      - Registry generation whose data the filter reads, for example V(2025.09) (the stacks of the 2025-09 AVR
        examples); C(docs/catalog.md) lists every generation and what changed between them.
      - Default is the newest generation, what a new deployment gets. A filter sees no deployment, so to match
        one, give the generation its compose file was rendered with
        (RV(voiceops.avr.voice_compose#module:registry_version) of its last render).
      - An unknown generation fails, naming O(registry_version) and the value.
    type: str
"""
