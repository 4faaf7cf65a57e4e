#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Releases of a deployment on its host: snapshots, the current pointer and an append-only history."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: release
short_description: Keep the releases of a deployment and their history on the target
version_added: 0.2.0
description:
  - A release is a snapshot of what a deployment runs, kept in the project directory under
    C(releases/<id>/) - the compose file, C(environment.json) and C(release.json) (template, registry
    digest, image references, tags and digests, and the non-secret inputs that rendered it).
  - C(current) (a symlink to C(releases/<id>)) points at the active release. C(releases/history.jsonl) gets
    one JSON record per status change (C(staged), C(active), C(failed), C(rolled_back)) with the release id,
    tags, digests, registry digest, trace id, start and finish times and who ran it. Lines are only ever
    appended.
  - Release ids sort by time - C(<UTC YYYYmmddTHHMMSSZ>-<first 8 hex digits of the compose file's SHA-1>).
  - Used by the C(voiceops.avr.stack) role, which stages a release when the rendered compose file or
    C(environment.json) differs from the current release, marks it active once the health gate passes,
    and otherwise records it failed and restores the last active release.
  - Target side, Python standard library only. Writes are atomic (temporary file or directory, then
    rename); an exclusive lock on C(releases/.lock) keeps two runs from interleaving, and one on the project
    directory keeps M(voiceops.avr.project_files) from writing meanwhile.
  - Every path it reads or writes is confined to the project directory - a C(release.json) naming a file
    outside it (C(../victim.txt)), or a symlink leading outside, is refused.
author:
  - voiceops.avr contributors (!UNKNOWN)
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  project_dir:
    description: The deployment's project directory.
    type: path
    required: true
  state:
    description:
      - V(query) changes nothing and reports the releases, the current one, the previous active one and
        the history. With O(release), fails unless that release exists (V(previous) resolves to the newest
        release older than the current one that was ever active). With O(checksum), reports in RV(match)
        the release with that compose checksum (the current one if it has it, else the newest).
      - V(staged) snapshots the project's compose file, C(environment.json) and O(files) as a new release and
        records it C(staged), unless they equal the current release (then nothing changes). With O(checksum), the
        compose file must have that checksum (another run may have written it meanwhile); in check mode
        O(checksum) stands for the file the run would have written.
      - V(active) points C(current) at O(release), records it C(active) and prunes old releases. Nothing
        changes when it is the current release and the history's last record already says it is active.
      - V(failed) and V(rolled_back) record that status for O(release).
      - V(restored) copies O(release)'s compose file, C(environment.json) and the files it recorded back into
        the project directory (atomically, keeping their modes) so that C(docker compose) runs it again;
        RV(restored_files) lists the files that changed and RV(mounts) the services' mounts the release
        recorded, to restart what mounts them.
    type: str
    choices: [query, staged, active, failed, rolled_back, restored]
    default: query
  release:
    description:
      - Release id, or V(previous) for the newest release older than the current one that was ever active
        (releases are ordered by their ids, which start with their creation time).
    type: str
  checksum:
    description:
      - SHA-1 of a compose file. O(state=query) looks it up among the releases; O(state=staged) requires the
        project's compose file to have it.
    type: str
  files:
    description:
      - Further files of the project, relative to O(project_dir), that belong to a release (O(state=staged)),
        for example the configuration files the services mount. They are part of what makes a release
        differ from the current one and are put back by O(state=restored). In check mode a missing one is
        left out. Each must be a plain relative path (no V(..), no leading V(/), no control characters such
        as a newline), outside C(releases/).
    type: list
    elements: str
    default: []
  record:
    description:
      - What O(state=staged) writes into C(release.json) and every history record of the release, for
        example C(template), C(deployment), C(registry_digest), C(images), C(tags), C(digests), C(inputs).
        Never put secrets here.
    type: dict
    default: {}
  trace_id:
    description: Identifier of the run (a pipeline id); the same on every host of one rollout.
    type: str
    default: ''
  actor:
    description: Who ran it (user, pipeline), recorded in every history record.
    type: str
    default: ''
  started:
    description: When the run started on this host (ISO 8601, UTC); defaults to now.
    type: str
  reason:
    description: Why a release failed or was rolled back, for the history.
    type: str
    default: ''
  keep:
    description:
      - Release directories to keep (O(state=active) prunes older ones). The current release and the
        previous active one are always kept. The history keeps every record.
    type: int
    default: 5
  compose_file:
    description: File name of the compose file in O(project_dir).
    type: str
    default: docker-compose.yml
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: voiceops.avr.voice_compose
  - module: voiceops.avr.image_resolve
"""

EXAMPLES = r"""
---
- name: Which releases does the deployment have?
  voiceops.avr.release:
    project_dir: /srv/avr/openai
  register: releases

- name: Resolve the release to roll back to (fails for an unknown id)
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    release: previous
  register: target

- name: Put its files back in place
  voiceops.avr.release:
    project_dir: /srv/avr/openai
    state: restored
    release: "{{ target.release }}"
"""

RETURN = r"""
---
release:
  description: The release the task acted on (the new or unchanged current one for O(state=staged)).
  returned: when a release is concerned
  type: str
  sample: 20261122T101500Z-3f1c2a9b
created:
  description: Whether O(state=staged) created a new release.
  returned: always
  type: bool
current:
  description: The current release (after the task), or null.
  returned: always
  type: str
previous:
  description: The last active release before the current one, or null.
  returned: always
  type: str
releases:
  description: Every kept release, oldest first, with its checksum, last status, tags and digests.
  returned: always
  type: list
  elements: dict
history:
  description: The last 50 history records, oldest first.
  returned: always
  type: list
  elements: dict
restored_files:
  description: Files O(state=restored) put back (relative to O(project_dir)).
  returned: when O(state=restored)
  type: list
  elements: str
mounts:
  description: The mounts of each service that O(release) recorded (C(record.mounts)), for O(state=restored).
  returned: when O(state=restored)
  type: dict
match:
  description:
    - The release whose compose checksum is O(checksum), with its last status, or null - the current release
      when it has that checksum, else the newest one.
  returned: when O(checksum) is given
  type: dict
pruned:
  description: Release directories removed by O(state=active).
  returned: always
  type: list
  elements: str
history_file:
  description: Path of the history file.
  returned: always
  type: str
"""

import fcntl
import getpass
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
from datetime import datetime, timezone

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.voiceops.avr.plugins.module_utils import layout

RELEASES = layout.RELEASES
CURRENT = layout.CURRENT
HISTORY = layout.HISTORY
ENV_FILE = layout.ENV_FILE
META = layout.RELEASE_META
ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_name():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        return "uid-%d" % os.getuid()


def fsync_path(path):
    """Flush a file or directory to disk (a release must not be visible before its files are)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_synced(src, dest):
    shutil.copy2(src, dest)
    fsync_path(dest)


def sha1_file(path):
    digest = hashlib.sha1()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
    except FileNotFoundError:
        return None
    return digest.hexdigest()


class Releases(object):
    def __init__(self, module, project_dir, compose_file):
        self.module = module
        self.project = project_dir
        self.compose_file = compose_file
        self.root = os.path.join(project_dir, RELEASES)
        self.history_file = os.path.join(self.root, HISTORY)
        self.current_link = os.path.join(project_dir, CURRENT)
        self._lock = None
        self._project_lock = None

    # -- reading ----------------------------------------------------------------------------

    def lock(self):
        if self.module.check_mode or not os.path.isdir(self.project):
            return
        os.makedirs(self.root, mode=0o750, exist_ok=True)
        self._lock = open(os.path.join(self.root, layout.RELEASES_LOCK), "a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        # and the project directory's own lock, which voiceops.avr.project_files holds while it writes
        self._project_lock = os.open(self.project, os.O_RDONLY)
        fcntl.flock(self._project_lock, fcntl.LOCK_EX)
        self.clean_leftovers()

    def unlock(self):
        """Let both locks go (the module's exit does it too)."""
        for handle in (self._project_lock, self._lock):
            if handle is None:
                continue
            if isinstance(handle, int):
                os.close(handle)
            else:
                handle.close()
        self._lock = self._project_lock = None

    def project_path(self, name, where="files"):
        """``name`` in the project directory, symlinks followed, refused when it leads outside the project."""
        try:
            return layout.confine(self.project, name)
        except ValueError as exc:
            self.module.fail_json(msg="%s: %s; refusing to read or write it" % (where, exc))

    def release_path(self, release, name, where):
        """``name`` in the directory of ``release``, refused when it leads outside it."""
        try:
            return layout.confine(os.path.join(self.root, release), name)
        except ValueError as exc:
            self.module.fail_json(msg="%s: %s; refusing to read it" % (where, exc))

    def clean_leftovers(self):
        """What an interrupted run left: half-staged or half-pruned releases, a half-made `current` link."""
        for name in os.listdir(self.root):
            if name.startswith((".staging-", ".pruning-")):
                shutil.rmtree(os.path.join(self.root, name), ignore_errors=True)
        prefix = os.path.basename(self.current_link) + "."
        for name in os.listdir(self.project):
            path = os.path.join(self.project, name)
            if name.startswith(prefix) and name.endswith(".tmp") and os.path.islink(path):
                os.unlink(path)
            elif any(layout.is_temp_of(own, name) for own in (self.compose_file, ENV_FILE)) \
                    and os.path.isfile(path) and not os.path.islink(path):
                os.unlink(path)  # a restore cut short (it holds the same lock)

    def history(self):
        """The records of the history, validated (every one a JSON object) before anything is written."""
        records = []
        try:
            with open(self.history_file, "rb") as handle:
                lines = handle.readlines()
        except FileNotFoundError:
            return records
        for number, raw in enumerate(lines, 1):
            last = number == len(lines) and not raw.endswith(b"\n")
            problem = None
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                line, problem = None, "is not UTF-8 text (bad byte at offset %d)" % exc.start
            if line is not None and not line.strip():
                continue
            if line is not None:
                try:
                    record = json.loads(line)
                except ValueError as exc:
                    problem = "is not JSON (%s)" % " ".join(str(exc).split())
                else:
                    if isinstance(record, dict):
                        records.append(record)
                        continue
                    problem = "is a JSON %s, not a record (an object)" % type(record).__name__
            if last and line is not None and problem.startswith("is not JSON"):
                # an append cut short (crash, full disk) or still being written: not a record yet
                self.module.warn("%s: ignoring its unfinished last line" % self.history_file)
                continue
            self.module.fail_json(msg="%s line %d %s; nothing was changed; the history is append-only, "
                                      "fix that line by hand" % (self.history_file, number, problem))
        return records

    def ids(self):
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if ID_RE.fullmatch(n) and os.path.isfile(os.path.join(self.root, n, META)))

    def meta(self, release):
        """The release.json of ``release``: one line naming the file when it is not a JSON object."""
        path = os.path.join(self.root, release, META)
        try:
            with open(path, "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            self._bad_meta(path, "is not UTF-8 text (bad byte at offset %d)" % exc.start)
        except ValueError as exc:
            self._bad_meta(path, "is not JSON (%s)" % " ".join(str(exc).split()))
        except OSError as exc:
            self._bad_meta(path, "cannot be read (%s)" % (os.strerror(exc.errno) if exc.errno else exc))
        if not isinstance(data, dict):
            self._bad_meta(path, "is a JSON %s, not an object" % type(data).__name__)
        return data

    def _bad_meta(self, path, problem):
        self.module.fail_json(msg="%s %s; fix or remove that release; nothing was changed" % (path, problem))

    def current(self):
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        name = os.path.basename(target.rstrip("/"))
        return name if ID_RE.fullmatch(name) else None

    def last_status(self, records):
        status = {}
        for rec in records:
            status[rec.get("release")] = rec.get("status")
        return status

    def previous(self, records, current):
        """The newest kept release older than ``current`` that was ever recorded active: two rollbacks in a
        row go back twice, never forward again to the release just left."""
        ever_active = {rec.get("release") for rec in records if rec.get("status") == "active"}
        older = [rid for rid in self.ids() if rid in ever_active and (current is None or rid < current)]
        return older[-1] if older else None

    def resolve(self, release, records, current):
        if release == "previous":
            found = self.previous(records, current)
            if found is None:
                self.module.fail_json(msg="release: 'previous' - %s has no earlier active release to go back to "
                                          "(current: %s)" % (self.project, current or "none"))
            return found
        known = self.ids()
        if release not in known:
            self.module.fail_json(msg="release: %r is not a release of %s; known releases: %s"
                                      % (release, self.project, ", ".join(known) or "none"))
        return release

    def summary(self, records):
        status = self.last_status(records)
        out = []
        for rid in self.ids():
            meta = self.meta(rid)
            out.append({"id": rid, "created": meta.get("created"), "checksum": meta.get("checksum"),
                        "status": status.get(rid), "tags": meta.get("tags", {}), "digests": meta.get("digests", {}),
                        "template": meta.get("template"), "registry_digest": meta.get("registry_digest")})
        return out

    # -- writing ----------------------------------------------------------------------------

    def append(self, release, status, params, started=None):
        meta = self.meta(release) if os.path.isfile(os.path.join(self.root, release, META)) else {}
        record = {
            "release": release,
            "status": status,
            "deployment": meta.get("deployment"),
            "template": meta.get("template"),
            "checksum": meta.get("checksum"),
            "registry_digest": meta.get("registry_digest"),
            "tags": meta.get("tags", {}),
            "digests": meta.get("digests", {}),
            "trace_id": params["trace_id"],
            "started": started or params["started"] or now(),
            "finished": now(),
            "actor": params["actor"] or actor_name(),
            "host": socket.gethostname(),
        }
        if params["reason"]:
            record["reason"] = params["reason"]
        if self.module.check_mode:
            return record
        data = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode("utf-8")
        fd = os.open(self.history_file, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                start = os.pread(fd, size, 0).rfind(b"\n") + 1
                try:
                    json.loads(os.pread(fd, size - start, start).decode("utf-8"))
                    complete = True
                except ValueError:
                    complete = False
                if complete:
                    # a complete record whose newline is missing (written by hand or by another tool): keep it
                    data = b"\n" + data
                else:
                    # an append a crashed run left unfinished (appends hold the lock, so nobody is writing it):
                    # it never was a record; cut it off rather than leave a broken line inside the history
                    os.ftruncate(fd, start)
                    self.module.warn("%s: removed the unfinished last line an interrupted run left"
                                     % self.history_file)
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def stage(self, params):
        compose = self.project_path(self.compose_file, "compose_file")
        checksum = sha1_file(compose)
        expected = params["checksum"]
        if self.module.check_mode and expected:
            checksum = expected  # the file this run would have written
        if checksum is None:
            self.module.fail_json(msg="%s: no compose file to stage as a release" % compose)
        if expected and checksum != expected:
            self.module.fail_json(msg="%s: its checksum is %s, not %s: another run changed it; run again"
                                      % (compose, checksum, expected))
        env_file = self.project_path(ENV_FILE, ENV_FILE)
        env_checksum = sha1_file(env_file)
        files = {}
        for name in params["files"]:
            files[name] = sha1_file(self.project_path(name))
            if files[name] is None:
                if not self.module.check_mode:
                    self.module.fail_json(msg="files: %s is not in %s" % (name, self.project))
                del files[name]  # not written yet: check mode on a host the deployment never reached
        current = self.current()
        if current is not None:
            meta = self.meta(current) if current in self.ids() else {}
            if meta.get("checksum") == checksum and meta.get("environment_checksum") == env_checksum \
                    and meta.get("files", {}) == files:
                return current, False
        stamp = datetime.now(timezone.utc)
        release = "%s-%s" % (stamp.strftime("%Y%m%dT%H%M%SZ"), checksum[:8])
        if self.module.check_mode:
            return release, True
        if os.path.exists(os.path.join(self.root, release)):
            self.module.fail_json(msg="release %s already exists; run again in a second" % release)
        work = tempfile.mkdtemp(prefix=".staging-", dir=self.root)
        os.chmod(work, 0o700)
        copy_synced(compose, os.path.join(work, self.compose_file))
        if env_checksum is not None:
            copy_synced(env_file, os.path.join(work, ENV_FILE))
        for name in files:
            os.makedirs(os.path.dirname(os.path.join(work, name)), mode=0o700, exist_ok=True)
            copy_synced(self.project_path(name), os.path.join(work, name))
        meta = dict(params["record"])
        meta.update({"id": release, "created": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "checksum": checksum,
                     "environment_checksum": env_checksum, "compose_file": self.compose_file, "files": files})
        with open(os.path.join(work, META), "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(os.path.join(work, META), 0o640)
        fsync_path(work)
        os.rename(work, os.path.join(self.root, release))
        fsync_path(self.root)
        self.append(release, "staged", params)
        return release, True

    def point_current(self, release):
        if self.module.check_mode:
            return
        tmp = "%s.%d.tmp" % (self.current_link, os.getpid())
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(os.path.join(RELEASES, release), tmp)
        os.replace(tmp, self.current_link)
        fsync_path(self.project)

    def restore(self, release):
        """Put the release's files back; the ones that changed (relative paths) and the mounts it recorded."""
        restored = []
        source = os.path.join(self.root, release)
        meta = self.meta(release)
        where = "%s/%s" % (source, META)
        names = [meta.get("compose_file", self.compose_file)]
        if not isinstance(names[0], str) or "/" in names[0] or not layout.plain_relative(names[0]) \
                or (names[0] != layout.COMPOSE_FILE and layout.reserved(names[0])):
            self.module.fail_json(msg="%s: compose_file %r is not a plain file name of the project; refusing to "
                                      "restore release %s" % (where, names[0], release))
        if os.path.isfile(os.path.join(source, ENV_FILE)):
            names.append(ENV_FILE)
        recorded = meta.get("files", {})
        if not isinstance(recorded, dict):
            self.module.fail_json(msg="%s: files is not a mapping; refusing to restore release %s" % (where, release))
        for name in sorted(recorded):
            if not layout.plain_relative(name) or name.split("/")[0] in (RELEASES, CURRENT) \
                    or name in (names[0], ENV_FILE):
                self.module.fail_json(msg="%s: files entry %r is not a path inside the project directory outside "
                                          "releases/; refusing to restore release %s" % (where, name, release))
            names.append(name)
        fields = dict((name, "files (%s)" % where) for name in names)
        fields.update({names[0]: "compose_file (%s)" % where, ENV_FILE: ENV_FILE})
        pairs = [(name, self.release_path(release, name, fields[name]), self.project_path(name, fields[name]))
                 for name in names]
        for name, src, dest in pairs:
            if sha1_file(src) == sha1_file(dest):
                continue
            restored.append(name)
            if self.module.check_mode:
                continue
            os.makedirs(os.path.dirname(dest), mode=0o750, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=layout.temp_prefix(dest), dir=os.path.dirname(dest))
            os.close(fd)
            copy_synced(src, tmp)
            os.replace(tmp, dest)
            fsync_path(os.path.dirname(dest))
        return restored, meta.get("mounts") or {}

    def prune(self, keep, records, current):
        protected = {current, self.previous(records, current)}
        ids = self.ids()
        doomed = [rid for rid in ids[:max(0, len(ids) - keep)] if rid not in protected]
        if not self.module.check_mode:
            for rid in doomed:
                # out of the list first: a prune cut short must not leave a listed release without its files
                gone = os.path.join(self.root, ".pruning-" + rid)
                os.rename(os.path.join(self.root, rid), gone)
                shutil.rmtree(gone)
        return doomed


def main():
    module = AnsibleModule(
        argument_spec={
            "project_dir": {"type": "path", "required": True},
            "state": {"type": "str", "default": "query",
                      "choices": ["query", "staged", "active", "failed", "rolled_back", "restored"]},
            "release": {"type": "str"},
            "checksum": {"type": "str"},
            "record": {"type": "dict", "default": {}},
            "trace_id": {"type": "str", "default": ""},
            "actor": {"type": "str", "default": ""},
            "started": {"type": "str"},
            "reason": {"type": "str", "default": ""},
            "keep": {"type": "int", "default": 5},
            "compose_file": {"type": "str", "default": layout.COMPOSE_FILE},
            "files": {"type": "list", "elements": "str", "default": []},
        },
        required_if=[("state", "active", ["release"]), ("state", "failed", ["release"]),
                     ("state", "rolled_back", ["release"]), ("state", "restored", ["release"])],
        supports_check_mode=True,
    )
    params = module.params
    if params["keep"] < 1:
        module.fail_json(msg="keep: %r must be at least 1" % params["keep"])
    if "/" in params["compose_file"] or not layout.plain_relative(params["compose_file"]):
        module.fail_json(msg="compose_file: %r must be a plain file name" % params["compose_file"])
    for name in params["files"]:
        if not layout.plain_relative(name) or name.split("/")[0] == RELEASES \
                or name in (params["compose_file"], ENV_FILE, CURRENT):
            module.fail_json(msg="files: %r must be a path inside the project directory, outside releases/, "
                                 "other than the compose file, %s and %s" % (name, ENV_FILE, CURRENT))
    store = Releases(module, params["project_dir"], params["compose_file"])
    if params["state"] != "query":
        store.lock()
    records = store.history()
    for rid in store.ids():
        store.meta(rid)  # every release.json an action may read is valid before anything is written
    current = store.current()
    state = params["state"]
    result = {"changed": False, "created": False, "pruned": [], "history_file": store.history_file}
    release = params["release"]
    if release is not None and state != "staged":
        release = store.resolve(release, records, current)
        result["release"] = release

    if state == "staged":
        result["release"], result["created"] = store.stage(params)
        result["changed"] = result["created"]
    elif state == "active":
        latest = records[-1] if records else {}
        if not (current == release and latest.get("release") == release and latest.get("status") == "active"):
            store.point_current(release)
            store.append(release, "active", params)
            result["changed"] = True
        if not module.check_mode:
            records = store.history()
        result["pruned"] = store.prune(params["keep"], records, release)
        result["changed"] = result["changed"] or bool(result["pruned"])
    elif state in ("failed", "rolled_back"):
        store.append(release, state, params)
        result["changed"] = True
    elif state == "restored":
        result["restored_files"], result["mounts"] = store.restore(release)
        result["changed"] = bool(result["restored_files"])

    records = store.history()
    result["current"] = store.current() if not module.check_mode or state != "active" else release
    result["previous"] = store.previous(records, result["current"])
    result["releases"] = store.summary(records)
    result["history"] = records[-50:]
    if params["checksum"]:
        status = store.last_status(records)
        # what runs now is never "content that failed": a change to the release's other files may have
        # failed with the same compose file
        same = [entry["id"] for entry in result["releases"] if entry["checksum"] == params["checksum"]]
        found = result["current"] if result["current"] in same else (same[-1] if same else None)
        result["match"] = {"release": found, "status": status.get(found)} if found else None
    module.exit_json(**result)


if __name__ == "__main__":
    main()
