# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Atomic replacement of one file on the target, and the clean-up of what an interrupted one left.

A file is written as a temporary file next to it (named by ``layout.temp_prefix``), with its mode
applied on the temporary file, flushed to disk, then renamed over the file and the directory flushed:
a reader sees the old bytes or the new ones, never a part. Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat
import tempfile

from ansible_collections.voiceops.avr.plugins.module_utils import layout


def fsync_path(path):
    """Flush a file or directory to disk (a rename is durable once its directory is flushed)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def _restore_times(directory, times):
    """Put back the directory's times a failed write changed by creating and removing its temporary file."""
    try:
        os.utime(directory, ns=(times.st_atime_ns, times.st_mtime_ns))
    except OSError:
        pass


def replace_file(path, data, mode):
    """Replace ``path`` by ``data`` (bytes) with permission bits ``mode``, atomically.

    The mode is set on the temporary file before the rename (the process's owner and group). On any
    failure (a full disk, a signal turned into an exception) the temporary file is removed, the
    directory's times are put back and the old file is left as it was; the error is raised again.
    """
    directory = os.path.dirname(path) or "."
    times = os.stat(directory)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=layout.temp_prefix(path))
    except BaseException:
        _restore_times(directory, times)
        raise
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, path)
    except BaseException:
        _unlink(tmp)
        _restore_times(directory, times)
        raise
    fsync_path(directory)


def remove_temps(path):
    """Remove the temporary files of ``path`` an interrupted write left (regular files only); their paths."""
    parent = os.path.dirname(path) or "."
    removed = []
    try:
        entries = os.listdir(parent)
    except OSError:
        return removed
    for entry in entries:
        if not layout.is_temp_of(path, entry):
            continue
        candidate = os.path.join(parent, entry)
        try:
            if stat.S_ISREG(os.lstat(candidate).st_mode):
                os.unlink(candidate)
                removed.append(candidate)
        except OSError:
            pass
    return removed
