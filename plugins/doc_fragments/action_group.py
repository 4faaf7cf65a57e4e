# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The action group `voice` of meta/runtime.yml, for the modules that belong to it.
    DOCUMENTATION = r"""
attributes:
  action_group:
    description:
      - Use C(group/voiceops.avr.voice) in C(module_defaults) to set the options the voice modules share
        (O(project_dir), the selection) once per play. A module refuses an option it does not take, so the
        group's defaults should hold only options every module of the play takes.
    support: full
    membership:
      - voiceops.avr.voice
"""
