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
    SHA-1 checksum, mode and owner, and (for names in O(read) and O(read_masked)) its text.
  - With O(files), writes each file whose content differs atomically - a temporary file in the same
    directory, with its mode, owner and group already applied, then a rename. Every file is prepared
    (and backed up) before the first rename, so a file that cannot be written, an unknown owner or group
    or an invalid mode replaces nothing and leaves no new file. Writes hold an exclusive lock on the
    project directory, and remove the temporary files an interrupted run left next to the inspected or
    written files.
  - A symlink in the project directory is followed when it leads to a path inside the project, and refused
    when it leads outside. A file to write that is a dangling symlink (its target missing) is refused, as
    C(cp) refuses - a missing target is more often an unmounted volume or a slip than a file to create.
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
    description: File names, relative to O(path), whose text is returned as it is (files that hold no secret).
    type: list
    elements: str
    default: []
  read_masked:
    description:
      - File names, relative to O(path), of compose files whose text is returned with the value of every
        variable of O(mask_vars) masked, found by the file's block-style YAML structure. A file not in a
        shape that can be masked with certainty (flow style, JSON, block scalars, anchors, comments) is
        returned as a note that its content is hidden.
    type: list
    elements: str
    default: []
  read_header:
    description:
      - File names, relative to O(path), whose header is returned as C(header) in RV(files), that is the
        comment lines (C(#) first) the file starts with, at most 8, each cut at 200 characters. A rendered
        compose file names there the registry generation and digest it was rendered with.
    type: list
    elements: str
    default: []
  mask_vars:
    description:
      - Variable names whose values are masked in the text of O(read_masked), so that secrets never
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
        description:
          - Mode of the file, octal or symbolic, applied as Ansible applies it (a symbolic mode relative to
            the existing file's mode, or 0600 for a new file). Without it, an existing file keeps its mode
            and a new one gets 0600.
        type: raw
      owner:
        description: Owner of the file (name or uid).
        type: str
      group:
        description: Group of the file (name or gid).
        type: str
      secret:
        description:
          - The file holds secrets - refused when its mode (the temporary file's real mode, checked before
            the rename) gives group or others any permission; its backup is mode 0600.
        type: bool
        default: false
  containers:
    description:
      - Container names of the compose project O(compose_project) to report on in RV(docker) (status,
        health, configured image reference, image id, compose project), with every container name of the
        project. Reads only; runs the C(docker) CLI.
    type: list
    elements: str
    default: []
  images:
    description: Image references whose image id on the host RV(docker) reports (with O(containers)).
    type: list
    elements: str
    default: []
  compose_project:
    description: The compose project name of O(containers).
    type: str
  directories:
    description:
      - Directories, relative to O(path), that must exist (the folders a stack mounts). A missing one is
        created with mode 0750 (its missing parents too), before any file is written; an existing one is left
        as it is. A path that exists and is not a directory is refused.
    type: list
    elements: str
    default: []
  expect_absent:
    description:
      - File names, relative to O(path), that must not exist for O(files) to be written. When one
        exists, nothing is written and RV(precondition_failed) is true, so the caller can render
        again with that file's content (O(inspect) and O(read) are still reported).
    type: list
    elements: str
    default: []
  expect_checksums:
    description:
      - File name (relative to O(path)) to the SHA-1 checksum it must still have for O(files) to be
        written, or null for a file that must not exist; checked under the lock. When one differs, nothing
        is written and RV(precondition_failed) is true, so the caller can read the file again and retry.
    type: dict
    default: {}
  backup:
    description:
      - Keep a timestamped copy of a file before it is replaced, mode 0600 from its first byte (then the
        file's own mode, unless the file holds secrets). A backup that cannot be written completely is
        removed, and nothing is replaced.
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
    - For a file of O(read_header), C(header) is the list of its leading comment lines.
  returned: when O(inspect) is set
  type: dict
  sample:
    environment.json: {exists: true, type: file, checksum: 3c1b..., mode: '0644', owner: root, group: root,
                       content: '{}'}
written:
  description: Names of the files whose content was replaced (or would be, in check mode).
  returned: when O(files) is set
  type: list
  elements: str
docker:
  description:
    - What Docker has of O(compose_project) - C(containers) (per name in O(containers) that exists, its
      C(status), C(health), C(image), C(image_id), C(project)), C(images) (reference to image id),
      C(project_containers) (every container name of the project), and C(error) when Docker could not
      be asked.
  returned: when O(containers) is set
  type: dict
made_directories:
  description: Names of the directories of O(directories) that were created (or would be, in check mode).
  returned: when O(directories) is set
  type: list
  elements: str
precondition_failed:
  description:
    - Whether a file of O(expect_absent) existed or one of O(expect_checksums) differed, so that nothing
      was written.
  returned: when O(expect_absent) or O(expect_checksums) is set
  type: bool
backup_files:
  description: Backup file path per replaced file name.
  returned: when O(backup) is true and a file was replaced
  type: dict
"""

import fcntl
import grp
import hashlib
import os
import pwd
import re
import stat
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.atomic import fsync_path, remove_temps
from ansible_collections.voiceops.avr.plugins.module_utils.containers import observe
from ansible_collections.voiceops.avr.plugins.module_utils.filemode import (
    NEW_FILE_MODE, open_to_others, resulting_mode,
)
from ansible_collections.voiceops.avr.plugins.module_utils.masking import masked_or_hidden


class Refused(Exception):
    """Bad input or a file that cannot be written: one line, nothing changed."""


def _safe_name(module, name, field="files.name"):
    if not layout.plain_relative(name):
        module.fail_json(msg="%s: %r must be a relative path without '.' or '..' parts" % (field, name))
    return name


def _real(directory, name):
    """The path to read or write for ``name``: symlinks followed, confined to the project."""
    try:
        return layout.confine(directory, name)
    except ValueError as exc:
        raise Refused("%s: %s; refusing to follow it" % (name, exc)) from None


def _describe(directory, name, want_content, mask, header=False):
    path = os.path.join(directory, name)
    try:
        st = os.lstat(path)
    except OSError:
        return {"exists": False}
    info = {"exists": True}
    if stat.S_ISLNK(st.st_mode):
        info["symlink"] = os.readlink(path)
        try:
            real = layout.confine(directory, name)
        except ValueError as exc:
            info["outside"] = str(exc)
            return info
        try:
            st = os.stat(real)
        except OSError:
            info["exists"] = False  # a dangling link inside the project: refused by a write
            return info
        path = real
    info.update({"mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
                 "type": "file" if stat.S_ISREG(st.st_mode) else "directory" if stat.S_ISDIR(st.st_mode) else "other"})
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
        if header:
            info["header"] = _header(data[:_HEADER_LINES * 201].decode("utf-8", "replace"))
        if want_content:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                info["invalid_utf8"] = exc.start
                text = data.decode("utf-8", "replace")
            info["content"] = text if want_content == "raw" else masked_or_hidden(text, mask)
    return info


#: At most this many leading comment lines are a file's header (O(read_header)).
_HEADER_LINES = 8


def _header(text):
    """The leading comment lines of ``text`` (at most _HEADER_LINES, each at most 200 characters)."""
    lines = []
    for line in text.split("\n", _HEADER_LINES)[:_HEADER_LINES]:
        if not line.startswith("#"):
            break
        lines.append(line[:200])
    return lines


#: The largest id chown can set: (uid_t)-1 (4294967295) means "leave unchanged", beyond it overflows.
_MAX_ID = 2 ** 32 - 2
_DIGITS = re.compile(r"[0-9]+\Z")


def _numeric_id(field, value, kind):
    """The id a numeric ``value`` of ``field`` names; refuses one no file can have."""
    number = int(value)
    if number > _MAX_ID:
        raise Refused("%s: %r is not a %s id this host can set (at most %d)" % (field, value, kind, _MAX_ID))
    return number


def _uid(owner):
    if owner is None:
        return -1
    if _DIGITS.match(owner):
        return _numeric_id("owner", owner, "user")
    try:
        return pwd.getpwnam(owner).pw_uid
    except (KeyError, ValueError):
        raise Refused("owner: %r is not a user on this host" % owner) from None


def _gid(group):
    if group is None:
        return -1
    if _DIGITS.match(group):
        return _numeric_id("group", group, "group")
    try:
        return grp.getgrnam(group).gr_gid
    except (KeyError, ValueError):
        raise Refused("group: %r is not a group on this host" % group) from None


def _clean_temps(directory, names):
    """Remove the temporary files an interrupted run left next to ``names`` (regular files only)."""
    removed = []
    for name in names:
        try:
            real = layout.confine(directory, name)
        except ValueError:
            continue
        removed.extend(remove_temps(real))
    return removed


def _make_directories(module, directory, names, created):
    """Create the missing directories of ``names`` (0750, parents too); the ones made are added to ``created``."""
    made = []
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(_real(directory, name)):
            continue
        if os.path.lexists(path) and not os.path.islink(path):
            raise Refused("directories: %r exists and is not a directory" % name)
        made.append(name)
        if module.check_mode:
            continue
        missing = []
        parent = path
        while not os.path.isdir(parent):
            missing.append(parent)
            parent = os.path.dirname(parent)
        for one in reversed(missing):
            _real(directory, os.path.relpath(one, directory))  # a link on the way may not lead outside
            os.mkdir(one, 0o750)
            os.chmod(one, 0o750)
            created.insert(0, one)
    return made


class Writer(object):
    """Prepares every file (content, mode, owner, backup) before anything is renamed into place."""

    def __init__(self, module, directory):
        self.module = module
        self.directory = directory
        self.temps = []      # (temp path, destination)
        self.backups = []    # paths of backups made by this run
        self.made_dirs = []  # directories this run created
        self.dir_times = {}  # directory -> (atime_ns, mtime_ns) before this run created a file in it

    def plan(self, index, spec):
        """What ``spec`` changes (content, attributes), validated; nothing is written yet."""
        name = spec["name"]
        dest = _real(self.directory, name)
        data = to_bytes(spec["content"], errors="surrogate_or_strict")
        try:
            st = os.stat(dest)
        except FileNotFoundError:
            st = None
            link = os.path.join(self.directory, name)
            if os.path.islink(link):
                raise Refused("%s: a symlink to %r, which does not exist; refusing to write through a dangling link "
                              "(point it at an existing file or remove it)" % (name, os.readlink(link))) from None
        except OSError as exc:
            raise Refused("%s: cannot read %s: %s" % (name, dest, to_native(exc))) from None
        if st is not None and not stat.S_ISREG(st.st_mode):
            raise Refused("%s: %s is a %s, not a regular file; nothing was written"
                          % (name, dest, "directory" if stat.S_ISDIR(st.st_mode) else "special file"))
        current = stat.S_IMODE(st.st_mode) if st is not None else NEW_FILE_MODE
        try:
            mode = resulting_mode(spec.get("mode"), current)
        except ValueError as exc:
            raise Refused("%s (files[%d], %s)" % (exc, index, name)) from None
        if spec.get("secret") and open_to_others(mode):
            raise Refused("mode: %r would make %s mode %04o, letting other users read the secrets it holds; use 0600"
                          % (spec.get("mode"), name, mode))
        uid, gid = _uid(spec.get("owner")), _gid(spec.get("group"))
        same = False
        if st is not None:
            with open(dest, "rb") as handle:
                same = hashlib.sha1(handle.read()).digest() == hashlib.sha1(data).digest()
        attrs_differ = st is not None and (stat.S_IMODE(st.st_mode) != mode or uid not in (-1, st.st_uid)
                                           or gid not in (-1, st.st_gid))
        # without owner/group, a replaced file keeps its owner and group (where this user may set them)
        keep = (st.st_uid if uid == -1 else uid, st.st_gid if gid == -1 else gid) if st is not None else None
        return {"name": name, "dest": dest, "data": data, "exists": st is not None, "same": same,
                "mode": mode, "uid": uid, "gid": gid, "owner": spec.get("owner"), "group": spec.get("group"),
                "keep": keep, "attrs_differ": attrs_differ,
                "secret": bool(spec.get("secret")), "changed": not same or attrs_differ}

    def _touching(self, directory):
        """Remember ``directory``'s times before a file is created in it, to put them back on undo."""
        if directory not in self.dir_times and os.path.isdir(directory):
            st = os.stat(directory)
            self.dir_times[directory] = (st.st_atime_ns, st.st_mtime_ns)

    def _makedirs(self, path):
        missing = []
        while path and not os.path.isdir(path):
            missing.append(path)
            path = os.path.dirname(path)
        if missing:
            self._touching(path)
        for parent in reversed(missing):
            os.mkdir(parent, 0o750)
            self.made_dirs.append(parent)

    def prepare(self, item, backup):
        """A temporary file next to the destination with the content, mode, owner and group (also for a
        change of attributes only, so that every change is a rename)."""
        if item["same"] and not item["attrs_differ"]:
            return
        dest = item["dest"]
        parent = os.path.dirname(dest)
        self._makedirs(parent)
        self._touching(parent)
        if backup and item["exists"] and not item["same"]:
            item["backup_file"] = self._backup(dest, item["secret"])
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=layout.temp_prefix(dest))
        self.temps.append((tmp, dest))
        with os.fdopen(fd, "wb") as handle:
            handle.write(item["data"])
            handle.flush()
            owner = item["keep"] or (item["uid"], item["gid"])
            if owner != (-1, -1):
                try:
                    os.fchown(handle.fileno(), *owner)
                except (OSError, OverflowError) as exc:
                    if item["uid"] != -1 or item["gid"] != -1:  # asked for; only keeping the old owner is best effort
                        field = "owner" if item["uid"] != -1 else "group"
                        cause = os.strerror(exc.errno) if getattr(exc, "errno", None) else to_native(exc)
                        raise Refused("%s: %r cannot be applied to %s: %s; nothing was written"
                                      % (field, item[field], item["name"], cause)) from None
            os.fchmod(handle.fileno(), item["mode"])  # after the owner: a change of owner may clear set-id bits
            os.fsync(handle.fileno())
            real = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if item["secret"] and open_to_others(real):
            raise Refused("%s: its temporary file got mode %04o, which lets other users read its secrets"
                          % (item["name"], real))

    def _backup(self, dest, secret):
        """A copy of ``dest`` next to it, mode 0600 from its first byte (its own mode after, unless secret)."""
        st = os.stat(dest)
        path = "%s.%d.%s" % (dest, os.getpid(), time.strftime("%Y-%m-%d@%H:%M:%S~"))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.backups.append(path)
        with os.fdopen(fd, "wb") as out, open(dest, "rb") as src:
            os.fchmod(out.fileno(), 0o600)
            for block in iter(lambda: src.read(65536), b""):
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
            if not secret:
                os.fchmod(out.fileno(), stat.S_IMODE(st.st_mode))
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        return path

    def undo(self):
        for tmp, _dest in self.temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        for path in self.backups:
            try:
                os.unlink(path)
            except OSError:
                pass
        for path in reversed(self.made_dirs):
            try:
                os.rmdir(path)
            except OSError:
                pass
        for path, times in self.dir_times.items():
            try:
                os.utime(path, ns=times)
            except OSError:
                pass

    def commit(self):
        for tmp, dest in self.temps:
            os.rename(tmp, dest)
        for parent in sorted({os.path.dirname(dest) for _tmp, dest in self.temps}):
            fsync_path(parent)


def _lock(directory):
    """An exclusive lock on the project directory itself (flock on its descriptor; no lock file)."""
    fd = os.open(directory, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def _failed(module, msg, **extra):
    module.fail_json(msg=" ".join(str(msg).split()), **extra)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            inspect=dict(type="list", elements="str", default=[]),
            read=dict(type="list", elements="str", default=[]),
            read_masked=dict(type="list", elements="str", default=[]),
            read_header=dict(type="list", elements="str", default=[]),
            mask_vars=dict(type="list", elements="str", default=[], no_log=False),
            files=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str", required=True),
                content=dict(type="str", required=True, no_log=True),
                mode=dict(type="raw"),
                owner=dict(type="str"),
                group=dict(type="str"),
                secret=dict(type="bool", default=False, no_log=False),
            )),
            directories=dict(type="list", elements="str", default=[]),
            containers=dict(type="list", elements="str", default=[]),
            images=dict(type="list", elements="str", default=[]),
            compose_project=dict(type="str"),
            expect_absent=dict(type="list", elements="str", default=[]),
            expect_checksums=dict(type="dict", default={}),
            backup=dict(type="bool", default=False),
            directory_mode=dict(type="raw", default="0755"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    directory = params["path"]
    for field in ("inspect", "read", "read_masked", "read_header", "directories", "expect_absent", "expect_checksums"):
        for name in params[field]:
            _safe_name(module, name, field)
    for spec in params["files"]:
        _safe_name(module, spec["name"])
    result = {"changed": False, "directory_exists": os.path.isdir(directory)}
    lock = None
    created = []
    writer = Writer(module, directory)

    def abort(msg):
        writer.undo()
        for path in created:
            try:
                os.rmdir(path)
            except OSError:
                break
        _failed(module, msg, written=[])

    try:
        if (params["files"] or params["directories"]) and not module.check_mode:
            # validate everything that needs no directory before creating one
            for spec in params["files"]:
                resulting_mode(spec.get("mode"), NEW_FILE_MODE)
                _uid(spec.get("owner"))
                _gid(spec.get("group"))
            if not result["directory_exists"]:
                mode = params["directory_mode"]
                parent = directory
                while parent and not os.path.isdir(parent):
                    created.append(parent)  # removed again if the run fails
                    parent = os.path.dirname(parent)
                try:
                    os.makedirs(directory, int(mode, 8) if isinstance(mode, str) else mode)
                except OSError as exc:
                    if os.path.lexists(directory):
                        _failed(module, "path: %r exists and is not a directory" % directory)
                    cause = os.strerror(exc.errno) if exc.errno else to_native(exc)
                    _failed(module, "path: cannot create the directory %r: %s" % (directory, cause))
        if result["directory_exists"] or created:
            if not module.check_mode:
                lock = _lock(directory)
                _clean_temps(directory, sorted(set(params["inspect"]) | {s["name"] for s in params["files"]}))
        if params["inspect"]:
            want = dict((name, "raw") for name in params["read"])
            want.update((name, "masked") for name in params["read_masked"])
            result["files"] = dict((name, _describe(directory, name, want.get(name), params["mask_vars"],
                                                    name in params["read_header"]))
                                   for name in params["inspect"])
        failed_precondition = False
        if params["expect_absent"]:
            failed_precondition = any(os.path.lexists(os.path.join(directory, name))
                                      for name in params["expect_absent"])
        for name, checksum in params["expect_checksums"].items():
            found = _describe(directory, name, None, ()).get("checksum")
            if (found or None) != (checksum or None):
                failed_precondition = True
        if params["expect_absent"] or params["expect_checksums"]:
            result["precondition_failed"] = failed_precondition
        if params["containers"]:
            result["docker"] = observe(params["compose_project"] or "", params["containers"], params["images"])
        if params["directories"] and not failed_precondition:
            result["made_directories"] = _make_directories(module, directory, params["directories"], created)
            result["changed"] = bool(result["made_directories"])
        if params["files"] and not failed_precondition:
            items = [writer.plan(index, spec) for index, spec in enumerate(params["files"])]
            if not module.check_mode:
                for item in items:
                    try:
                        writer.prepare(item, params["backup"])
                    except (IOError, OSError) as exc:
                        cause = os.strerror(exc.errno) if exc.errno else exc
                        raise Refused("cannot write %s in %s: %s; nothing was written"
                                      % (item["name"], directory, cause)) from None
                writer.commit()
            result["written"] = [item["name"] for item in items if item["changed"]]
            result["changed"] = result["changed"] or bool(result["written"])
            backups = dict((item["name"], item["backup_file"]) for item in items if "backup_file" in item)
            if backups:
                result["backup_files"] = backups
    except (Refused, ValueError) as exc:
        abort(exc)
    except (IOError, OSError) as exc:
        abort("cannot write the files of %s: %s" % (directory, to_native(exc)))
    except Exception as exc:  # pylint: disable=broad-except  # no temp file or backup may outlive a failure
        abort("cannot write the files of %s: %s: %s" % (directory, type(exc).__name__, to_native(exc)))
    finally:
        if lock is not None:
            os.close(lock)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
