# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Owner, group and backup of the files voice_compose and voice_env write, and the
    # attributes both actions share (render on the controller, one module on the target).
    DOCUMENTATION = r"""
options:
  owner:
    description:
      - Owner of the written files, a name or a uid. An unknown user, or a uid no file can have (above
        4294967294), fails the task before any file is replaced, and so does an owner the target refuses to
        set (owner, group and mode are set on the temporary file, before it is renamed into place; the
        temporary file is removed).
    type: str
  group:
    description:
      - Group of the written files, a name or a gid. An unknown group, or a gid above 4294967294, fails the
        task before any file is replaced.
    type: str
  backup:
    description:
      - Keep a timestamped copy of a file before replacing it, next to it. The copy of a file holding
        secrets is mode 0600 from its first byte; a copy that cannot be written completely (a full
        filesystem) is removed, nothing is replaced, and the task fails naming the cause.
    type: bool
    default: false
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  idempotent:
    description: Running the task again with the same inputs reports no change.
    support: full
  platform:
    platforms: posix
"""
