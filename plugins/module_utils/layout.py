# -*- coding: utf-8 -*-
# Copyright: voiceops.avr contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layout of a deployment's project directory, defined once.

Shared by the target modules (``project_files``, ``release``) and the controller
(action plugins, rendering). Standard library only.

::

    <project_dir>/
      docker-compose.yml        the compose file (its name may be chosen per task)
      docker-stack.yml          the stack file, for a deployment on Docker Swarm (engine swarm)
      kubernetes/manifests.yml  the Kubernetes resources, for a deployment on Kubernetes (voice_manifests)
      swarm/                    what the stack's Swarm secrets and configs are created from (secrets/,
                                configs/, one file per version) and the key of the secret versions
      environment.json          the non-secret settings (voice_env)
      .credentials.json         the AMI/ARI credentials the role generates
      registry.json             the snapshot of the registry the compose file was rendered with
      asterisk/                 the Asterisk configuration (asterisk/conf/*.conf)
      current                   symlink to releases/<id>
      releases/<id>/            the releases, releases/history.jsonl their history
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

COMPOSE_FILE = "docker-compose.yml"
STACK_FILE = "docker-stack.yml"
KUBERNETES_DIR = "kubernetes"
MANIFESTS_FILE = KUBERNETES_DIR + "/manifests.yml"
SWARM_DIR = "swarm"
SWARM_KEY = SWARM_DIR + "/version.key"
ENV_FILE = "environment.json"
CREDENTIALS_FILE = ".credentials.json"
REGISTRY_SNAPSHOT = "registry.json"
ASTERISK_DIR = "asterisk"
ASTERISK_CONF_DIR = ASTERISK_DIR + "/conf"
RELEASES = "releases"
CURRENT = "current"
HISTORY = "history.jsonl"
RELEASE_META = "release.json"
RELEASES_LOCK = ".lock"

#: Top-level names of the project directory that the collection owns (files or directories).
RESERVED = (COMPOSE_FILE, ENV_FILE, CREDENTIALS_FILE, REGISTRY_SNAPSHOT, ASTERISK_DIR, RELEASES, CURRENT, STACK_FILE,
            SWARM_DIR)
#: The names the file a deployment is run from takes by default (per engine: compose, swarm, kubernetes); the
#: only one in a subdirectory is the manifests file.
MAIN_FILES = (COMPOSE_FILE, STACK_FILE, MANIFESTS_FILE)

#: What ``tempfile.mkstemp`` adds to a temporary file's prefix (8 characters of this alphabet).
_TEMP_SUFFIX = r"[a-z0-9_]{8}"


def temp_prefix(name):
    # type: (str) -> str
    """Prefix of the temporary files written next to ``name`` before they are renamed over it."""
    return "." + os.path.basename(name) + "."


def is_temp_of(name, candidate):
    # type: (str, str) -> bool
    """Whether the file name ``candidate`` is one of the temporary files of ``name`` (same directory)."""
    return re.match(r"\A%s%s\Z" % (re.escape(temp_prefix(name)), _TEMP_SUFFIX), candidate) is not None


def plain_relative(name):
    # type: (object) -> bool
    """Whether ``name`` is a relative path without empty, '.' or '..' parts, or control characters."""
    if not isinstance(name, str) or not name or name.startswith("/"):
        return False
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return False
    return all(part not in ("", ".", "..") for part in name.split("/"))


def reserved(name, compose_file=COMPOSE_FILE):
    # type: (str, str) -> bool
    """Whether the relative path ``name`` is (or is inside, or is a temporary file of) a name the layout uses."""
    first = name.split("/")[0]
    names = set(RESERVED) | {compose_file}
    if first in names:
        return True
    return any(is_temp_of(taken, first) for taken in names)


def inside(root, path):
    # type: (str, str) -> bool
    """Whether the absolute ``path`` is ``root`` or below it (both already resolved)."""
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def confine(project, name):
    # type: (str, str) -> str
    """The real path of ``project``/``name`` after following every symlink, when it stays inside the project.

    Raises ValueError with the reason otherwise (``name`` not a plain relative path, or a symlink
    on the way leading outside). The file itself need not exist.
    """
    if not plain_relative(name):
        raise ValueError("%r is not a relative path without '.' or '..' parts" % (name,))
    root = os.path.realpath(project)
    real = os.path.realpath(os.path.join(project, name))
    if not inside(root, real):
        raise ValueError("%r leads to %s, outside the project directory %s" % (name, real, root))
    return real
