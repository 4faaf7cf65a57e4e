# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # The catalog option of the filters that read the registry.
    DOCUMENTATION = r"""
options:
  catalog:
    description:
      - Catalog mapping that adds or replaces images, providers and templates of the built-in
        registry (the same format as the C(catalog) option of M(voiceops.avr.voice_compose)).
    type: dict
"""
