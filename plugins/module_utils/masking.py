# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Masking of secret values in rendered files before they are shown (diffs, results).

Used on the target (to mask the current file before it leaves the host) and on
the controller (to mask the new file and any known secret value). Standard
library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

MASK = "********"


def mask_env_lines(text, names):
    """``text`` with the value of every ``NAME: value`` line whose NAME is in ``names`` masked.

    Works on block-style YAML as voice_compose writes it, and on ``NAME=value``
    list entries as hand-written compose files have them.
    """
    if not text or not names:
        return text
    alternatives = "|".join(re.escape(name) for name in sorted(names))
    pattern = re.compile(
        r"^(\s*(?:-\s*)?[\"']?(?:%s)[\"']?\s*(?::|=))[ \t]*\S.*$" % alternatives, re.MULTILINE)
    return pattern.sub(lambda m: m.group(1) + " " + MASK if m.group(1).endswith(":") else m.group(1) + MASK, text)


def mask_values(text, values):
    """``text`` with every occurrence of a secret value replaced by the mask."""
    if not text:
        return text
    for value in sorted((v for v in values if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
