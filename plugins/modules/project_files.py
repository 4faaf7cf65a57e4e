#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: project_files
short_description: Inspect or atomically write the files of a deployment's project directory
version_added: 0.1.0
description:
  - The target-side half of M(voiceops.avr.voice_compose) and M(voiceops.avr.voice_env).
    Those action plugins render on the controller and call this module once per host,
    either to read the current state of the project directory or to write files.
  - Without O(files), reports for each name in O(inspect) whether the file exists, its
    SHA-1 checksum, mode and owner, and (for names in O(read)) its text.
  - With O(files), writes each file atomically (temporary file in the same directory,
    then rename) only when its content differs, then applies mode, owner and group.
  - Direct use is possible but rarely useful; prefer the two modules above.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description: The project directory. Created (with O(directory_mode)) when files are written.
    type: path
    required: true
  inspect:
    description: File names, relative to O(path), to report on.
    type: list
    elements: str
    default: []
  read:
    description: File names, relative to O(path), whose text is returned (masked, see O(mask_vars)).
    type: list
    elements: str
    default: []
  mask_vars:
    description:
      - Variable names whose values are masked in any text returned, so that secrets never
        leave the target.
    type: list
    elements: str
    default: []
  files:
    description: Files to write.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: File name relative to O(path); no C(..) components.
        type: str
        required: true
      content:
        description: The full text of the file.
        type: str
        required: true
      mode:
        description: Mode of the file, octal string or symbolic.
        type: raw
      owner:
        description: Owner of the file.
        type: str
      group:
        description: Group of the file.
        type: str
  expect_absent:
    description:
      - File names, relative to O(path), that must not exist for O(files) to be written. When one
        exists, nothing is written and RV(precondition_failed) is true, so the caller can render
        again with that file's content (O(inspect) and O(read) are still reported).
    type: list
    elements: str
    default: []
  backup:
    description: Keep a timestamped copy of a file before it is replaced.
    type: bool
    default: false
  directory_mode:
    description: Mode of the project directory when this module creates it.
    type: raw
    default: '0755'
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
    details: The calling action plugins build the diff from O(read).
  idempotent:
    description: Running the task again with the same inputs reports no change.
    support: full
  platform:
    platforms: posix
"""

EXAMPLES = r"""
---
- name: Report on a deployment's compose file and environment store
  voiceops.avr.project_files:
    path: /srv/avr/openai
    inspect: [docker-compose.yml, environment.json]
    read: [environment.json]
"""

RETURN = r"""
---
directory_exists:
  description: Whether O(path) existed when the module started.
  returned: always
  type: bool
files:
  description:
    - Per inspected file name, what was found.
    - For a file of O(read) that is not UTF-8 text, C(invalid_utf8) is the offset of its first bad byte
      (C(content) then holds replacement characters there).
  returned: when O(inspect) is set
  type: dict
  sample:
    environment.json: {exists: true, checksum: 3c1b..., mode: '0644', owner: root, group: root, content: '{}'}
written:
  description: Names of the files whose content was replaced (or would be, in check mode).
  returned: when O(files) is set
  type: list
  elements: str
precondition_failed:
  description: Whether a file of O(expect_absent) existed, so that nothing was written.
  returned: when O(expect_absent) is set
  type: bool
backup_files:
  description: Backup file path per replaced file name.
  returned: when O(backup) is true and a file was replaced
  type: dict
"""

import grp
import hashlib
import os
import pwd
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.voiceops.avr.plugins.module_utils.masking import mask_env_lines


def _safe_name(module, name):
    parts = name.split("/")
    if not name or name.startswith("/") or any(part in ("", ".", "..") for part in parts):
        module.fail_json(msg="files.name: %r must be a relative path without '.' or '..' parts" % name)
    return name


def _describe(path, want_content, mask):
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False}
    info = {"exists": True, "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid}
    try:
        info["owner"] = pwd.getpwuid(st.st_uid).pw_name
    except KeyError:
        info["owner"] = str(st.st_uid)
    try:
        info["group"] = grp.getgrgid(st.st_gid).gr_name
    except KeyError:
        info["group"] = str(st.st_gid)
    if stat.S_ISREG(st.st_mode):
        with open(path, "rb") as handle:
            data = handle.read()
        info["checksum"] = hashlib.sha1(data).hexdigest()
        if want_content:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                info["invalid_utf8"] = exc.start
                text = data.decode("utf-8", "replace")
            info["content"] = mask_env_lines(text, mask)
    return info


def _write(module, directory, spec, backup):
    name = _safe_name(module, spec["name"])
    dest = os.path.join(directory, name)
    data = to_bytes(spec["content"], errors="surrogate_or_strict")
    result = {"changed": False}
    try:
        with open(dest, "rb") as handle:
            same = hashlib.sha1(handle.read()).digest() == hashlib.sha1(data).digest()
        exists = True
    except (IOError, OSError):
        same, exists = False, False
    if not same:
        result["changed"] = True
        if not module.check_mode:
            parent = os.path.dirname(dest)
            if not os.path.isdir(parent):
                os.makedirs(parent)
            if backup and exists:
                result["backup_file"] = module.backup_local(dest)
            fd, tmp = tempfile.mkstemp(dir=parent, prefix="." + os.path.basename(name) + ".")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                mode = spec.get("mode")
                if isinstance(mode, str) and mode.isdigit():
                    os.chmod(tmp, int(mode, 8))
                elif isinstance(mode, int):
                    os.chmod(tmp, mode)
                elif exists:
                    os.chmod(tmp, stat.S_IMODE(os.stat(dest).st_mode))
                os.rename(tmp, dest)
            except Exception:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
    file_args = module.load_file_common_arguments(
        {"path": dest, "mode": spec.get("mode"), "owner": spec.get("owner"), "group": spec.get("group")})
    if exists or not module.check_mode:
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            inspect=dict(type="list", elements="str", default=[]),
            read=dict(type="list", elements="str", default=[]),
            mask_vars=dict(type="list", elements="str", default=[], no_log=False),
            files=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                content=dict(type="str", required=True, no_log=True),
                mode=dict(type="raw"),
                owner=dict(type="str"),
                group=dict(type="str"),
            )),
            expect_absent=dict(type="list", elements="str", default=[]),
            backup=dict(type="bool", default=False),
            directory_mode=dict(type="raw", default="0755"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    directory = params["path"]
    result = {"changed": False, "directory_exists": os.path.isdir(directory)}
    if params["inspect"]:
        read = set(params["read"])
        result["files"] = dict(
            (name, _describe(os.path.join(directory, _safe_name(module, name)), name in read, params["mask_vars"]))
            for name in params["inspect"])
    if params["expect_absent"]:
        result["precondition_failed"] = any(
            os.path.lexists(os.path.join(directory, _safe_name(module, name))) for name in params["expect_absent"])
    if params["files"] and not result.get("precondition_failed"):
        if not result["directory_exists"] and not module.check_mode:
            mode = params["directory_mode"]
            try:
                os.makedirs(directory, int(mode, 8) if isinstance(mode, str) else mode)
            except OSError as exc:
                module.fail_json(msg="path: cannot create %s: %s" % (directory, to_native(exc)))
        written, backups = [], {}
        for spec in params["files"]:
            try:
                outcome = _write(module, directory, spec, params["backup"])
            except (IOError, OSError) as exc:
                module.fail_json(msg="cannot write %s in %s: %s" % (spec["name"], directory, to_native(exc)),
                                 written=written)
            if outcome["changed"]:
                written.append(spec["name"])
                result["changed"] = True
            if "backup_file" in outcome:
                backups[spec["name"]] = outcome["backup_file"]
        result["written"] = written
        if backups:
            result["backup_files"] = backups
    module.exit_json(**result)


if __name__ == "__main__":
    main()
