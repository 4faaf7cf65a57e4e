"""The environment of an ansible-playbook run in the tests: this checkout's collection, nothing inherited."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

BIN = Path(sys.executable).parent


def ansible_environ(config: Path, collections_path: Path, base: Path, callback: str) -> Dict[str, str]:
    """os.environ without ANSIBLE_* settings, plus the test's config, collections, callback and tmp folders."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update({
        "ANSIBLE_CONFIG": str(config),
        "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_LOCAL_TEMP": str(base / "tmp-local"),
        "ANSIBLE_REMOTE_TMP": str(base / "tmp-remote"),
        "ANSIBLE_NOCOLOR": "1",
        "PATH": "%s:%s" % (BIN, os.environ.get("PATH", "/usr/bin:/bin")),
    })
    return environ


def run_playbook(tmp: Path, collections_path: Path, text: str, variables: Dict[str, Any], *args: str,
                 timeout: int = 900) -> "subprocess.CompletedProcess[str]":
    """ansible-playbook of playbook ``text`` (written into ``tmp``) on localhost with extra vars ``variables``:
    this checkout's collection, no ANSIBLE_* setting of the caller, no colour."""
    play = tmp / ("play-%s.yml" % hashlib.sha1(text.encode("utf-8")).hexdigest()[:8])
    play.write_text(text)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    environ.update(ANSIBLE_COLLECTIONS_PATH=str(collections_path), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_RETRY_FILES_ENABLED="0")
    return subprocess.run([str(BIN / "ansible-playbook"), "-i", "localhost,", str(play), "-e", json.dumps(variables)]
                          + list(args), capture_output=True, text=True, env=environ, check=False, timeout=timeout)
