# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The permission bits a ``mode`` option gives a file, computed the way Ansible applies it.

Used on the controller (to refuse early) and on the target (to set the mode of a
temporary file before it is renamed into place). Standard library and Ansible's
module_utils only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import stat

from ansible.module_utils.basic import AnsibleModule

#: Permission bits no file holding a secret may have: anything for group or others.
OPEN_BITS = 0o077
NEW_FILE_MODE = 0o600
INVALID = "mode: %r is not an octal or symbolic mode (like '0600' or 'u=rw,go=')"


class _Stat(object):
    """Just enough of an ``os.stat_result`` for Ansible's symbolic mode parser."""

    def __init__(self, mode):
        self.st_mode = stat.S_IFREG | mode


def resulting_mode(mode, current=NEW_FILE_MODE):
    """The permission bits of a regular file with bits ``current`` after Ansible applies ``mode``.

    ``mode`` is what a task gives: None (keep ``current``), an integer, an octal string
    (``'0600'``, ``'0o600'``, ``' 0600'``, ``'0600\\n'``: what ``int(mode, 8)`` reads) or a symbolic
    mode (``'u=rw,go='``). Raises ValueError with one line naming the value when Ansible would refuse
    it, and also for an empty symbolic clause (``''``, ``'u=rw,'``), which Ansible reads as no change.
    """
    if mode is None:
        return current
    if isinstance(mode, bool):
        raise ValueError(INVALID % (mode,))
    if isinstance(mode, int):
        value = mode
    else:
        text = str(mode)
        try:
            value = int(text, 8)
        except ValueError:
            if "" in text.split(","):
                # Ansible's parser reads an empty clause as "no change"; it is a slip, not a mode.
                raise ValueError("mode: %r has an empty symbolic clause: give an octal mode like '0600' "
                                 "or clauses like 'u=rw,go='" % (text,)) from None
            try:
                value = AnsibleModule._symbolic_mode_to_octal(_Stat(current), text)
            except Exception:
                raise ValueError(INVALID % (text,)) from None
    if value < 0 or value != stat.S_IMODE(value):
        raise ValueError("mode: %r is not a valid mode: only permission bits (at most 07777) may be given" % (mode,))
    return value


def open_to_others(bits):
    """Whether permission ``bits`` give group or others any access."""
    return bool(bits & OPEN_BITS)
