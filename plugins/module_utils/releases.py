# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release store of a deployment's project directory, on the target (standard library only).

::

    <project_dir>/
      current                   symlink to releases/<id>, the current release
      releases/<id>/            a release: the compose file, environment.json, the files it recorded
                                and release.json (its record: template, registry digest, tags, ...)
      releases/history.jsonl    one JSON record per status change, only ever appended
      releases/.lock            held (exclusive) while a change is made

``ReleaseStore`` reads and changes it. Its methods take and return plain data and raise one
exception type, ``ReleaseError``, whose message is one line naming the file or option and the
value; nothing has been written when it is raised for bad input or a damaged release. The
modules ``voiceops.avr.release_info`` (reading) and ``voiceops.avr.release`` (changes) build a
store, call one method and turn a ``ReleaseError`` into ``fail_json``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

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

from ansible_collections.voiceops.avr.plugins.module_utils import layout
from ansible_collections.voiceops.avr.plugins.module_utils.atomic import fsync_path

RELEASES = layout.RELEASES
CURRENT = layout.CURRENT
HISTORY = layout.HISTORY
ENV_FILE = layout.ENV_FILE
META = layout.RELEASE_META
ID_RE = re.compile(r"^[0-9]{8}T[0-9]{6}Z-[0-9a-f]{8}$")

#: The status changes ``ReleaseStore.change`` makes.
STATES = ("staged", "active", "failed", "rolled_back", "restored")
#: The history records a result carries (the newest ones).
HISTORY_SHOWN = 50
#: ``release`` values that name a release by its place rather than by its id.
PREVIOUS = "previous"
CURRENT_RELEASE = "current"


class ReleaseError(Exception):
    """A refused input or a damaged release store: one line naming the file or option and the value."""


def now():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def actor_name():
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a uid without a passwd entry (containers)
        return "uid-%d" % os.getuid()


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


def last_status(records):
    """The last recorded status of each release."""
    status = {}
    for rec in records:
        status[rec.get("release")] = rec.get("status")
    return status


class ReleaseStore(object):
    """The releases, the current link and the history of one project directory.

    ``check_mode`` makes every change a plan: the same answers, nothing written (no lock taken,
    no leftovers removed). ``warn`` receives the warnings (one line each) the store has to give.
    """

    def __init__(self, project_dir, compose_file=layout.COMPOSE_FILE, check_mode=False, warn=None):
        self.project = project_dir
        self.compose_file = compose_file
        self.check_mode = check_mode
        self.warnings = []
        self._warn = warn if warn is not None else self.warnings.append
        self.root = os.path.join(project_dir, RELEASES)
        self.history_file = os.path.join(self.root, HISTORY)
        self.current_link = os.path.join(project_dir, CURRENT)
        self._lock = None
        self._project_lock = None

    # -- the two entry points ----------------------------------------------------------------

    def info(self, release=None, checksum=None, files=()):
        """What the project holds, read only: never locks, never writes, never cleans up.

        ``release`` (an id, ``previous`` or ``current``) is resolved and its ``record`` (release.json)
        returned, with ``differs``: whether the project's compose file, environment.json, the files
        the release recorded and ``files`` differ from the release's copies. ``checksum`` (of a
        compose file) is looked up among the releases (``match``).
        """
        self.check_options(files)
        records = self.history()
        self.check_metas()
        current = self.current()
        result = dict(self.overview(records, current), changed=False)
        if release is not None:
            resolved = self.resolve(release, records, current)
            result["release"] = resolved
            result["record"] = self.meta(resolved)
            result["differs"] = bool(self.differing(resolved, files))
        if checksum:
            result["match"] = self.match(checksum, records, current)
        return result

    def change(self, state, release=None, checksum=None, files=(), record=None, trace_id="", actor="",
               started=None, reason="", keep=5):
        """Make the change ``state`` names (``staged``, ``active``, ``failed``, ``rolled_back``,
        ``restored``) under the store's lock and return what it did and what the store holds after."""
        if state not in STATES:
            raise ReleaseError("state: %r is not one of %s" % (state, ", ".join(STATES)))
        if state != "staged" and release is None:
            raise ReleaseError("release: a release is needed for state %s" % state)
        if not isinstance(keep, int) or isinstance(keep, bool) or keep < 1:
            raise ReleaseError("keep: %r must be at least 1" % (keep,))
        self.check_options(files)
        stamp = {"trace_id": trace_id or "", "actor": actor or "", "started": started, "reason": reason or ""}
        self.lock()
        try:
            return self._change(state, release, checksum, list(files), dict(record or {}), stamp, keep)
        finally:
            self.unlock()

    def _change(self, state, release, checksum, files, record, stamp, keep):
        records = self.history()
        self.check_metas()
        current = self.current()
        result = {"changed": False, "created": False, "pruned": []}
        if release is not None and state != "staged":
            release = self.resolve(release, records, current)
            result["release"] = release

        if state == "staged":
            result["release"], result["created"] = self.stage(checksum, files, record, stamp)
            result["changed"] = result["created"]
        elif state == "active":
            latest = records[-1] if records else {}
            if not (current == release and latest.get("release") == release and latest.get("status") == "active"):
                self.point_current(release)
                self.append(release, "active", stamp)
                result["changed"] = True
            if not self.check_mode:
                records = self.history()
            result["pruned"] = self.prune(keep, records, release)
            result["changed"] = result["changed"] or bool(result["pruned"])
        elif state in ("failed", "rolled_back"):
            self.append(release, state, stamp)
            result["changed"] = True
        elif state == "restored":
            result["restored_files"], result["mounts"] = self.restore(release)
            result["changed"] = bool(result["restored_files"])

        current = self.current() if not self.check_mode or state != "active" else release
        result.update(self.overview(self.history(), current))
        return result

    # -- checks of the inputs ------------------------------------------------------------------

    def check_options(self, files):
        """The compose file name and ``files`` of a task: plain paths of the project, outside releases/."""
        if not isinstance(self.compose_file, str) or not layout.plain_relative(self.compose_file) \
                or ("/" in self.compose_file and self.compose_file not in layout.MAIN_FILES):
            raise ReleaseError("compose_file: %r must be a plain file name" % (self.compose_file,))
        for name in files:
            if not layout.plain_relative(name) or name.split("/")[0] == RELEASES \
                    or name in (self.compose_file, ENV_FILE, CURRENT):
                raise ReleaseError("files: %r must be a path inside the project directory, outside releases/, "
                                   "other than the compose file, %s and %s" % (name, ENV_FILE, CURRENT))

    def check_metas(self):
        """Every release.json an action may read is valid before anything is written."""
        for rid in self.ids():
            self.meta(rid)

    # -- reading ----------------------------------------------------------------------------

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
                self._warn("%s: ignoring its unfinished last line" % self.history_file)
                continue
            raise ReleaseError("%s line %d %s; nothing was changed; the history is append-only, "
                               "fix that line by hand" % (self.history_file, number, problem))
        return records

    def ids(self):
        """The ids of the kept releases (directories named like an id, with a release.json), oldest first."""
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
            raise self._bad_meta(path, "is not UTF-8 text (bad byte at offset %d)" % exc.start) from None
        except ValueError as exc:
            raise self._bad_meta(path, "is not JSON (%s)" % " ".join(str(exc).split())) from None
        except OSError as exc:
            raise self._bad_meta(path, "cannot be read (%s)" % (os.strerror(exc.errno) if exc.errno else exc)) \
                from None
        if not isinstance(data, dict):
            raise self._bad_meta(path, "is a JSON %s, not an object" % type(data).__name__)
        return data

    @staticmethod
    def _bad_meta(path, problem):
        return ReleaseError("%s %s; fix or remove that release; nothing was changed" % (path, problem))

    def current(self):
        """The id ``current`` points at, or None."""
        try:
            target = os.readlink(self.current_link)
        except OSError:
            return None
        name = os.path.basename(target.rstrip("/"))
        return name if ID_RE.fullmatch(name) else None

    def previous(self, records, current):
        """The newest kept release older than ``current`` that was ever recorded active: two rollbacks in a
        row go back twice, never forward again to the release just left."""
        ever_active = {rec.get("release") for rec in records if rec.get("status") == "active"}
        older = [rid for rid in self.ids() if rid in ever_active and (current is None or rid < current)]
        return older[-1] if older else None

    def resolve(self, release, records, current):
        """The id ``release`` names: an id, ``previous`` or ``current``; fails naming the value otherwise."""
        if release == PREVIOUS:
            found = self.previous(records, current)
            if found is None:
                raise ReleaseError("release: 'previous' - %s has no earlier active release to go back to "
                                   "(current: %s)" % (self.project, current or "none"))
            return found
        if release == CURRENT_RELEASE:
            if current is None or current not in self.ids():
                raise ReleaseError("release: 'current' - %s has no current release" % self.project)
            return current
        known = self.ids()
        if release not in known:
            raise ReleaseError("release: %r is not a release of %s; known releases: %s"
                               % (release, self.project, ", ".join(known) or "none"))
        return release

    def summary(self, records):
        """Every kept release, oldest first, with its checksum, last status, tags and digests."""
        status = last_status(records)
        out = []
        for rid in self.ids():
            meta = self.meta(rid)
            out.append({"id": rid, "created": meta.get("created"), "checksum": meta.get("checksum"),
                        "status": status.get(rid), "tags": meta.get("tags", {}), "digests": meta.get("digests", {}),
                        "template": meta.get("template"), "registry_digest": meta.get("registry_digest")})
        return out

    def overview(self, records, current):
        """releases, current, previous, history (the newest records) and history_file."""
        return {"current": current, "previous": self.previous(records, current), "releases": self.summary(records),
                "history": records[-HISTORY_SHOWN:], "history_file": self.history_file}

    def match(self, checksum, records, current):
        """The release whose compose checksum is ``checksum`` with its last status, or None: the current
        release when it has it, else the newest one."""
        status = last_status(records)
        # what runs now is never "content that failed": a change to the release's other files may have
        # failed with the same compose file
        same = [entry["id"] for entry in self.summary(records) if entry["checksum"] == checksum]
        found = current if current in same else (same[-1] if same else None)
        return {"release": found, "status": status.get(found)} if found else None

    def project_path(self, name, where="files"):
        """``name`` in the project directory, symlinks followed, refused when it leads outside the project."""
        try:
            return layout.confine(self.project, name)
        except ValueError as exc:
            raise ReleaseError("%s: %s; refusing to read or write it" % (where, exc)) from None

    def release_path(self, release, name, where):
        """``name`` in the directory of ``release``, refused when it leads outside it."""
        try:
            return layout.confine(os.path.join(self.root, release), name)
        except ValueError as exc:
            raise ReleaseError("%s: %s; refusing to read it" % (where, exc)) from None

    def release_files(self, release):
        """(release's copy, project's file) of every file a restore of ``release`` puts back, by relative
        name: its compose file, environment.json (when it has one) and the files its release.json records."""
        source = os.path.join(self.root, release)
        meta = self.meta(release)
        where = "%s/%s" % (source, META)
        names = [meta.get("compose_file", self.compose_file)]
        if not isinstance(names[0], str) or not layout.plain_relative(names[0]) \
                or ("/" in names[0] and names[0] not in layout.MAIN_FILES) \
                or (names[0] not in layout.MAIN_FILES and layout.reserved(names[0])):
            raise ReleaseError("%s: compose_file %r is not a plain file name of the project; refusing to "
                               "restore release %s" % (where, names[0], release))
        if os.path.isfile(os.path.join(source, ENV_FILE)):
            names.append(ENV_FILE)
        recorded = meta.get("files", {})
        if not isinstance(recorded, dict):
            raise ReleaseError("%s: files is not a mapping; refusing to restore release %s" % (where, release))
        for name in sorted(recorded):
            if not layout.plain_relative(name) or name.split("/")[0] in (RELEASES, CURRENT) \
                    or name in (names[0], ENV_FILE):
                raise ReleaseError("%s: files entry %r is not a path inside the project directory outside "
                                   "releases/; refusing to restore release %s" % (where, name, release))
            names.append(name)
        fields = dict((name, "files (%s)" % where) for name in names)
        fields.update({names[0]: "compose_file (%s)" % where, ENV_FILE: ENV_FILE})
        return meta, [(name, self.release_path(release, name, fields[name]), self.project_path(name, fields[name]))
                      for name in names]

    def differing(self, release, files=()):
        """The files (relative names) in which the project differs from ``release``: those a restore would
        put back, and those of ``files`` whose content differs from the release's copy or that the
        release does not have (missing on both sides is no difference)."""
        pairs = self.release_files(release)[1]
        known = set(name for name, _src, _dest in pairs)
        for name in files:
            if name not in known:
                known.add(name)
                pairs.append((name, self.release_path(release, name, "files"), self.project_path(name)))
        return [name for name, src, dest in pairs if sha1_file(src) != sha1_file(dest)]

    # -- writing ----------------------------------------------------------------------------

    def lock(self):
        """Take releases/.lock and the project directory's own lock (that voiceops.avr.project_files holds
        while it writes), then remove what an interrupted run left. Not in check mode."""
        if self.check_mode or not os.path.isdir(self.project):
            return
        os.makedirs(self.root, mode=0o750, exist_ok=True)
        self._lock = open(os.path.join(self.root, layout.RELEASES_LOCK), "a")
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        self._project_lock = os.open(self.project, os.O_RDONLY)
        fcntl.flock(self._project_lock, fcntl.LOCK_EX)
        self.clean_leftovers()

    def unlock(self):
        """Let both locks go."""
        for handle in (self._project_lock, self._lock):
            if handle is None:
                continue
            if isinstance(handle, int):
                os.close(handle)
            else:
                handle.close()
        self._lock = self._project_lock = None

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

    def append(self, release, status, stamp):
        """Append a history record of ``release`` (its release.json's fields, ``stamp``'s trace id, actor,
        start and reason); the record, also in check mode (then nothing is written)."""
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
            "trace_id": stamp["trace_id"],
            "started": stamp["started"] or now(),
            "finished": now(),
            "actor": stamp["actor"] or actor_name(),
            "host": socket.gethostname(),
        }
        if stamp["reason"]:
            record["reason"] = stamp["reason"]
        if self.check_mode:
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
                    self._warn("%s: removed the unfinished last line an interrupted run left" % self.history_file)
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        return record

    def stage(self, checksum, files, record, stamp):
        """Snapshot the compose file, environment.json and ``files`` as a new release recorded ``staged``,
        unless they equal the current release's: (release id, whether it is new)."""
        compose = self.project_path(self.compose_file, "compose_file")
        actual = sha1_file(compose)
        if self.check_mode and checksum:
            actual = checksum  # the file this run would have written
        if actual is None:
            raise ReleaseError("%s: no compose file to stage as a release" % compose)
        if checksum and actual != checksum:
            raise ReleaseError("%s: its checksum is %s, not %s: another run changed it; run again"
                               % (compose, actual, checksum))
        env_file = self.project_path(ENV_FILE, ENV_FILE)
        env_checksum = sha1_file(env_file)
        sums = {}
        for name in files:
            sums[name] = sha1_file(self.project_path(name))
            if sums[name] is None:
                if not self.check_mode:
                    raise ReleaseError("files: %s is not in %s" % (name, self.project))
                del sums[name]  # not written yet: check mode on a host the deployment never reached
        current = self.current()
        if current is not None:
            meta = self.meta(current) if current in self.ids() else {}
            if meta.get("checksum") == actual and meta.get("environment_checksum") == env_checksum \
                    and meta.get("files", {}) == sums:
                return current, False
        moment = datetime.now(timezone.utc)
        release = "%s-%s" % (moment.strftime("%Y%m%dT%H%M%SZ"), actual[:8])
        if self.check_mode:
            return release, True
        if os.path.exists(os.path.join(self.root, release)):
            raise ReleaseError("release %s already exists; run again in a second" % release)
        work = tempfile.mkdtemp(prefix=".staging-", dir=self.root)
        os.chmod(work, 0o700)
        os.makedirs(os.path.dirname(os.path.join(work, self.compose_file)), mode=0o700, exist_ok=True)
        copy_synced(compose, os.path.join(work, self.compose_file))
        if env_checksum is not None:
            copy_synced(env_file, os.path.join(work, ENV_FILE))
        for name in sums:
            os.makedirs(os.path.dirname(os.path.join(work, name)), mode=0o700, exist_ok=True)
            copy_synced(self.project_path(name), os.path.join(work, name))
        meta = dict(record)
        meta.update({"id": release, "created": moment.strftime("%Y-%m-%dT%H:%M:%SZ"), "checksum": actual,
                     "environment_checksum": env_checksum, "compose_file": self.compose_file, "files": sums})
        with open(os.path.join(work, META), "w", encoding="utf-8") as handle:
            json.dump(meta, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(os.path.join(work, META), 0o640)
        fsync_path(work)
        os.rename(work, os.path.join(self.root, release))
        fsync_path(self.root)
        self.append(release, "staged", stamp)
        return release, True

    def point_current(self, release):
        if self.check_mode:
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
        meta, pairs = self.release_files(release)
        for name, src, dest in pairs:
            if sha1_file(src) == sha1_file(dest):
                continue
            restored.append(name)
            if self.check_mode:
                continue
            os.makedirs(os.path.dirname(dest), mode=0o750, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=layout.temp_prefix(dest), dir=os.path.dirname(dest))
            os.close(fd)
            copy_synced(src, tmp)
            os.replace(tmp, dest)
            fsync_path(os.path.dirname(dest))
        return restored, meta.get("mounts") or {}

    def prune(self, keep, records, current):
        """Remove the oldest release directories beyond ``keep``, never ``current`` nor its previous one."""
        protected = {current, self.previous(records, current)}
        ids = self.ids()
        doomed = [rid for rid in ids[:max(0, len(ids) - keep)] if rid not in protected]
        if not self.check_mode:
            for rid in doomed:
                # out of the list first: a prune cut short must not leave a listed release without its files
                gone = os.path.join(self.root, ".pruning-" + rid)
                os.rename(os.path.join(self.root, rid), gone)
                shutil.rmtree(gone)
        return doomed
